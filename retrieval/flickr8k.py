"""Reader for Flickr8k: images, their 5 captions each, and the standard splits.

Expected folder (``$W2VX_HOME/data/flickr8k``)::

    images/<image>.jpg
    Flickr8k.token.txt          <image>.jpg#<k><TAB><caption>, k = 0..4
    Flickr_8k.trainImages.txt   one image file name per line (6,000)
    Flickr_8k.devImages.txt     (1,000)
    Flickr_8k.testImages.txt    (1,000)

Known quirks of the release are reported in :attr:`Flickr8k.anomalies` (and by one
:class:`Flickr8kAnomalyWarning`), not raised: a caption id without an image
(``2258277193_586949ec62.jpg.1``) and images that belong to no split.
"""

import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CAPTIONS_PER_IMAGE = 5
CAPTION_FILE = "Flickr8k.token.txt"
SPLIT_FILES = {
    "train": "Flickr_8k.trainImages.txt",
    "dev": "Flickr_8k.devImages.txt",
    "test": "Flickr_8k.testImages.txt",
}
_CAPTION_LINE = re.compile(r"(?P<image>[^\s#]+)#(?P<number>[0-4])\t(?P<text>.*\S.*)")
_IMAGE_NAME = re.compile(r"[^\s#/\\]+\.jpg")


class Flickr8kAnomalyWarning(UserWarning):
    """A quirk of the data that the reader works around (see ``Flickr8k.anomalies``)."""


@dataclass(frozen=True)
class Flickr8kSplit:
    """The images of one split and their captions, 5 per image, image by image.

    Attributes
    ----------
    name : str
    image_ids : list of str
        Image file names in split-file order (``n_images``).
    image_paths : list of Path
    captions : list of str
        ``5 * n_images`` captions: those of image ``i`` are ``captions[5 i : 5 i + 5]``
        (caption numbers 0..4 in order).
    caption_image : ndarray of shape (5 * n_images,), int
        Index into ``image_ids`` of the image each caption describes
        (``[0, 0, 0, 0, 0, 1, ...]``), as :mod:`retrieval.metrics` expects.
    """

    name: str
    image_ids: list
    image_paths: list
    captions: list
    caption_image: np.ndarray

    def __len__(self):
        return len(self.image_ids)


def first_images(split, n_images):
    """The first ``n_images`` images of a split with their captions (for fast runs)."""
    keep = split.caption_image < n_images  # (n_captions,)
    return Flickr8kSplit(
        name=f"{split.name}[:{n_images}]",
        image_ids=split.image_ids[:n_images],
        image_paths=split.image_paths[:n_images],
        captions=[caption for caption, kept in zip(split.captions, keep, strict=True) if kept],
        caption_image=split.caption_image[keep],
    )


class Flickr8k:
    """Flickr8k captions and splits, validated on construction.

    Parameters
    ----------
    root : str or Path, optional
        The Flickr8k folder; default ``$W2VX_HOME/data/flickr8k``.

    Attributes
    ----------
    root : Path
    captions_by_image : dict of str to list of str
        Every caption id of the caption file, with its captions in caption-number order.
    anomalies : list of str
        Human-readable notes on what does not fit the split protocol (caption ids
        without an image file, images in no split); also issued as one warning.

    Raises
    ------
    FileNotFoundError
        The folder, ``images/``, the caption file or a split file is missing.
    ValueError
        A malformed line or bytes that are not UTF-8, a caption number given twice, a
        split image listed twice or in two splits, or a split image without its file
        or without exactly 5 captions; the message names the file and line.
    """

    def __init__(self, root=None):
        self.root = _resolve_root(root)
        image_dir = self.root / "images"
        if not image_dir.is_dir():
            raise FileNotFoundError(f"Flickr8k image folder {image_dir} does not exist")
        self._image_files = {entry.name for entry in os.scandir(image_dir) if entry.is_file()}
        self.captions_by_image = _read_captions(self.root / CAPTION_FILE)
        self._split_ids = {
            name: _read_split(self.root / file) for name, file in SPLIT_FILES.items()
        }
        self._check_splits()
        self.anomalies = self._find_anomalies()
        if self.anomalies:
            warnings.warn(
                f"Flickr8k at {self.root}: " + "; ".join(self.anomalies),
                Flickr8kAnomalyWarning,
                stacklevel=2,
            )

    def split(self, name):
        """The images and captions of ``"train"``, ``"dev"`` or ``"test"``.

        Returns
        -------
        Flickr8kSplit
        """
        if name not in SPLIT_FILES:
            raise ValueError(f"unknown split {name!r}; choose one of {sorted(SPLIT_FILES)}")
        image_ids = self._split_ids[name]
        captions = [text for image in image_ids for text in self.captions_by_image[image]]
        return Flickr8kSplit(
            name=name,
            image_ids=list(image_ids),
            image_paths=[self.root / "images" / image for image in image_ids],
            captions=captions,
            caption_image=np.repeat(np.arange(len(image_ids)), CAPTIONS_PER_IMAGE),
        )

    def all_captions(self, split="train"):
        """All caption texts of a split (default train), for word-vector training."""
        return self.split(split).captions

    def _check_splits(self):
        """ValueError naming the split file and line of the first image that does not fit."""
        seen = {}
        for name, line_of_image in self._split_ids.items():
            path = self.root / SPLIT_FILES[name]
            for image, line_number in line_of_image.items():
                where = f"{path}:{line_number}"
                if image in seen:
                    first_name, first_where = seen[image]
                    raise ValueError(
                        f"{where}: image {image} is listed in both {first_name} and {name}"
                        f" (first at {first_where})"
                    )
                seen[image] = name, where
                if image not in self._image_files:
                    raise ValueError(
                        f"{where}: {name} image {image} has no file in {self.root / 'images'}"
                    )
                n_captions = len(self.captions_by_image.get(image, []))
                if n_captions != CAPTIONS_PER_IMAGE:
                    raise ValueError(
                        f"{where}: {name} image {image} has {n_captions} captions in"
                        f" {CAPTION_FILE}, expected {CAPTIONS_PER_IMAGE}"
                    )

    def _find_anomalies(self):
        anomalies = []
        for image in sorted(set(self.captions_by_image) - self._image_files):
            anomalies.append(
                f"caption id {image} has {len(self.captions_by_image[image])} captions but no"
                " image file (skipped)"
            )
        in_split = {image for image_ids in self._split_ids.values() for image in image_ids}
        no_split = sorted(self._image_files - in_split)
        if no_split:
            anomalies.append(
                f"{len(no_split)} images are in no split (first: {no_split[0]}; unused)"
            )
        return anomalies


def _resolve_root(root):
    if root is None:
        home = os.environ.get("W2VX_HOME")
        if not home:
            raise ValueError(
                "pass root=... or set W2VX_HOME (Flickr8k is read from $W2VX_HOME/data/flickr8k)"
            )
        root = Path(home) / "data" / "flickr8k"
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"Flickr8k folder {root} does not exist")
    return root


def _lines(path):
    """Lines of a text file with their 1-based numbers (a final newline is optional).

    ValueError naming the line and byte offset if the file is not UTF-8.
    """
    if not path.is_file():
        raise FileNotFoundError(f"Flickr8k file {path} does not exist")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line_number = data[: error.start].count(b"\n") + 1
        raise ValueError(
            f"{path}:{line_number}: byte offset {error.start}: not valid UTF-8 ({error.reason});"
            " re-encode the file as UTF-8"
        ) from None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the empty string after a trailing newline is not a line
    return enumerate(lines, start=1)


def _read_captions(path):
    """``{image id: [caption 0, ..., caption 4]}`` from the caption file."""
    numbered = {}
    for line_number, line in _lines(path):
        match = _CAPTION_LINE.fullmatch(line.rstrip("\r"))
        if match is None:
            raise ValueError(
                f"{path}:{line_number}: malformed caption line {line[:80]!r}"
                " (expected '<image>.jpg#<k><TAB><caption>')"
            )
        image, number = match["image"], int(match["number"])
        captions = numbered.setdefault(image, {})
        if number in captions:
            raise ValueError(f"{path}:{line_number}: caption #{number} of {image} given twice")
        captions[number] = match["text"].strip()
    return {image: [captions[k] for k in sorted(captions)] for image, captions in numbered.items()}


def _read_split(path):
    """``{image id: line number}`` of a split file, in file order."""
    first_line = {}
    for line_number, line in _lines(path):
        image = line.strip()
        if _IMAGE_NAME.fullmatch(image) is None:
            raise ValueError(
                f"{path}:{line_number}: malformed split line {line[:80]!r}"
                " (expected one image file name '<name>.jpg')"
            )
        if image in first_line:
            raise ValueError(
                f"{path}:{line_number}: {image} already listed on line {first_line[image]}"
            )
        first_line[image] = line_number
    return first_line  # dicts keep insertion (file) order

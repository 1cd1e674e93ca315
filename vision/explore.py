"""Helpers to look at images and their features (used by notebooks/02).

- :func:`preprocess_steps` — the intermediate pictures of :func:`vision.preprocess`
  (resized, cropped) next to its tensor, and :func:`tensor_to_image` to undo the
  normalisation for display;
- :func:`image_grid` — a titled grid of pictures as a matplotlib figure;
- :func:`keyword_mentions` and :func:`keyword_labels` — label images by the words their
  captions use (the captions are plain strings: nothing here reads a data set);
- :func:`neighbour_label_agreement` — how often an item's nearest neighbours (cosine)
  share its label: a one-number summary of "similar features, similar content".

Figures are :class:`matplotlib.figure.Figure` objects built without pyplot (no GUI
backend, no global state); a notebook shows them by evaluating them.
"""

import re
from collections import namedtuple

import numpy as np
from PIL import Image

from .preprocess import IMAGENET_MEAN, IMAGENET_STD, center_crop_box, preprocess, resized_size

#: The pictures and the tensor of one :func:`preprocess` call, step by step.
PreprocessSteps = namedtuple("PreprocessSteps", ["original", "resized", "cropped", "tensor"])

_WORD = re.compile(r"[a-z]+")


def preprocess_steps(image):
    """:func:`vision.preprocess` one step at a time, keeping every intermediate picture.

    Parameters
    ----------
    image : PIL.Image.Image
        Mode ``"RGB"``, upright (as :func:`vision.load_image` returns it).

    Returns
    -------
    PreprocessSteps
        ``original`` (the input), ``resized`` (shorter side 256), ``cropped`` (the centre
        224 x 224) and ``tensor`` — float32 ``(3, 224, 224)``, equal to ``preprocess(image)``.
    """
    if image.mode != "RGB":
        raise ValueError(f"preprocess_steps expects an RGB image, got mode {image.mode!r}")
    resized = image.resize(resized_size(*image.size), Image.Resampling.BILINEAR)
    cropped = resized.crop(center_crop_box(*resized.size))
    return PreprocessSteps(image, resized, cropped, preprocess(image))


def tensor_to_image(tensor):
    """Undo the ImageNet normalisation of a ``(3, H, W)`` tensor: uint8 ``(H, W, 3)`` pixels.

    ``pixel = round(255 * (value * std + mean))``, clipped to 0..255, so
    ``tensor_to_image(preprocess(image))`` gives back the cropped picture's pixels.
    """
    tensor = np.asarray(tensor, dtype=np.float32)
    if tensor.ndim != 3 or tensor.shape[0] != 3:
        raise ValueError(f"expected a (3, H, W) tensor, got shape {tensor.shape}")
    pixels = tensor.transpose(1, 2, 0) * IMAGENET_STD + IMAGENET_MEAN  # (H, W, 3), 0..1
    return np.clip(np.rint(pixels * 255), 0, 255).astype(np.uint8)


def image_grid(images, titles=None, ncols=5, title=None, cell_size=2.4, title_fontsize=8):
    """Pictures in a grid, each with an optional title, as one figure.

    Parameters
    ----------
    images : sequence of (str, os.PathLike, PIL.Image.Image or numpy.ndarray)
        Image files, or pictures already in memory (``(H, W)`` or ``(H, W, 3)`` arrays).
    titles : sequence of str, optional
        One per image (may hold line breaks).
    ncols : int
        Pictures per row; the number of rows follows.
    title : str, optional
        The figure's title.
    cell_size : float
        Width (and height, plus room for the title) of one picture, in inches.
    title_fontsize : float

    Returns
    -------
    matplotlib.figure.Figure
        One axes per grid cell, in row order; cells past the last image are hidden.
    """
    from matplotlib.figure import Figure

    images = list(images)
    if not images:
        raise ValueError("image_grid needs at least one image")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"got {len(titles)} titles for {len(images)} images")
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1, got {ncols}")
    ncols = min(ncols, len(images))
    nrows = -(-len(images) // ncols)
    title_lines = max((t.count("\n") + 1 for t in titles), default=0) if titles else 0
    height = cell_size + 0.16 * title_lines * title_fontsize / 8
    figure = Figure(
        figsize=(cell_size * ncols, height * nrows + (0.4 if title else 0)), layout="constrained"
    )
    axes = figure.subplots(nrows, ncols, squeeze=False).ravel()
    for i, ax in enumerate(axes):
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= len(images):
            ax.set_visible(False)
            continue
        ax.imshow(_as_array(images[i]))
        if titles is not None:
            ax.set_title(titles[i], fontsize=title_fontsize)
    if title:
        figure.suptitle(title)
    return figure


def _as_array(image):
    if isinstance(image, np.ndarray):
        return image
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGB"))
    with Image.open(image) as opened:
        return np.asarray(opened.convert("RGB"))


def keyword_mentions(captions_per_image, keywords):
    """How many captions of each image mention each keyword.

    A caption mentions a keyword when one of its words (lower-cased runs of the letters
    a-z) is among the keyword's words: give plurals and synonyms explicitly, e.g.
    ``{"bike": ("bike", "bikes", "bicycle", "bicycles")}``.

    Parameters
    ----------
    captions_per_image : sequence of sequence of str
        The captions of each image (Flickr8k has 5 per image).
    keywords : dict of str to iterable of str
        Keyword name -> the words that count as mentioning it.

    Returns
    -------
    numpy.ndarray
        int, ``(n_images, n_keywords)``, columns in the order of ``keywords``.
    """
    word_sets = [frozenset(w.lower() for w in words) for words in keywords.values()]
    counts = np.zeros((len(captions_per_image), len(word_sets)), dtype=np.int64)
    for i, captions in enumerate(captions_per_image):
        for caption in captions:
            words = set(_WORD.findall(caption.lower()))
            for j, wanted in enumerate(word_sets):
                counts[i, j] += not words.isdisjoint(wanted)
    return counts


def keyword_labels(mentions, names, min_captions=2):
    """One keyword per image, or None: the keyword most of its captions mention.

    An image gets keyword ``k`` when at least ``min_captions`` of its captions mention
    ``k`` and strictly more captions mention ``k`` than any other keyword. An image whose
    two best keywords are mentioned equally often (a dog in the snow described so in
    every caption) gets None, as does an image no keyword reaches ``min_captions`` for.

    Parameters
    ----------
    mentions : array-like of int, shape (n_images, n_keywords)
        From :func:`keyword_mentions`.
    names : sequence of str
        The keyword names, one per column.
    min_captions : int

    Returns
    -------
    list of (str or None)
    """
    mentions = np.asarray(mentions)
    if mentions.ndim != 2 or mentions.shape[1] != len(names):
        raise ValueError(f"mentions must be (n_images, {len(names)}), got {mentions.shape}")
    if len(names) == 0:
        return [None] * mentions.shape[0]
    order = np.argsort(-mentions, axis=1, kind="stable")  # (n, K) most mentioned first
    best = np.take_along_axis(mentions, order[:, :1], axis=1)[:, 0]  # (n,)
    second = (
        np.take_along_axis(mentions, order[:, 1:2], axis=1)[:, 0]
        if len(names) > 1
        else np.zeros_like(best)
    )  # (n,)
    keep = (best >= min_captions) & (best > second)
    return [names[order[i, 0]] if keep[i] else None for i in range(mentions.shape[0])]


def neighbour_label_agreement(vectors, labels, k=10):
    """Mean share of each item's ``k`` nearest neighbours (cosine) that have its label.

    Only items with a label (not None) take part, as queries and as neighbours; an item
    is never its own neighbour. Ties in similarity are broken by item order. With labels
    unrelated to the vectors the expected value is the chance level
    ``sum_c p_c (n_c - 1) / (n - 1)`` (about ``sum_c p_c**2``), ``p_c`` the share of label
    ``c``; :func:`chance_agreement` computes it.

    Parameters
    ----------
    vectors : array-like, shape (n, d)
    labels : sequence of length n (str or None)
    k : int
        Neighbours per item, ``1 <= k < number of labelled items``.

    Returns
    -------
    float
        Between 0 and 1.
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim != 2 or vectors.shape[0] != len(labels):
        raise ValueError(f"vectors must be (len(labels), d), got {vectors.shape}")
    kept = [i for i, label in enumerate(labels) if label is not None]
    if not 1 <= k < len(kept):
        raise ValueError(f"k must be between 1 and {len(kept) - 1} (labelled items - 1), got {k}")
    _, codes = np.unique(np.array([labels[i] for i in kept], dtype=object), return_inverse=True)
    unit = vectors[kept]  # (m, d)
    norms = np.linalg.norm(unit, axis=1, keepdims=True)  # (m, 1)
    unit = unit / np.where(norms > 0, norms, 1.0)
    similarity = unit @ unit.T  # (m, m)
    np.fill_diagonal(similarity, -np.inf)  # never its own neighbour
    neighbours = np.argsort(-similarity, axis=1, kind="stable")[:, :k]  # (m, k)
    return float((codes[neighbours] == codes[:, None]).mean())


def chance_agreement(labels):
    """Expected :func:`neighbour_label_agreement` of neighbours drawn at random.

    ``sum_c (n_c / n) * (n_c - 1) / (n - 1)`` over the labels ``c`` (None left out).
    """
    kept = [label for label in labels if label is not None]
    if len(kept) < 2:
        raise ValueError("chance_agreement needs at least two labelled items")
    _, counts = np.unique(np.array(kept, dtype=object), return_counts=True)
    n = len(kept)
    return float(np.sum(counts / n * (counts - 1) / (n - 1)))

"""Flickr8k reader: the real data (shared folder) and small synthetic folders."""

import warnings

import numpy as np
import pytest

from retrieval.flickr8k import Flickr8k, Flickr8kAnomalyWarning

ORPHAN = "2258277193_586949ec62.jpg.1"


@pytest.fixture(scope="module")
def real(flickr8k_dir):
    with pytest.warns(Flickr8kAnomalyWarning, match=ORPHAN):
        return Flickr8k(flickr8k_dir)


def test_real_split_sizes_and_five_captions_per_image(real):
    sizes = {name: len(real.split(name)) for name in ("train", "dev", "test")}
    assert sizes == {"train": 6000, "dev": 1000, "test": 1000}
    for name in ("train", "dev", "test"):
        split = real.split(name)
        assert len(split.captions) == 5 * len(split) == len(split.caption_image)
        np.testing.assert_array_equal(np.bincount(split.caption_image), np.full(len(split), 5))
        assert all(path.is_file() for path in split.image_paths)
        assert all(caption.strip() for caption in split.captions)


def test_real_splits_are_disjoint_and_train_captions_are_exposed(real):
    ids = [set(real.split(name).image_ids) for name in ("train", "dev", "test")]
    assert len(ids[0] | ids[1] | ids[2]) == 8000
    assert len(real.all_captions()) == 30000
    assert real.all_captions() == real.split("train").captions


def test_real_anomalies_are_reported_not_raised(real):
    assert any(ORPHAN in note for note in real.anomalies)
    assert any(note.startswith("91 images are in no split") for note in real.anomalies)
    assert len(real.captions_by_image[ORPHAN]) == 5


def test_root_defaults_to_w2vx_home(flickr8k_dir, monkeypatch):
    monkeypatch.setenv("W2VX_HOME", str(flickr8k_dir.parent.parent))
    with pytest.warns(Flickr8kAnomalyWarning):
        assert Flickr8k().root == flickr8k_dir


# ---- synthetic folders -------------------------------------------------------------------


def write_folder(root, captions, splits, images):
    """A Flickr8k-shaped folder; files are written without a trailing newline, like the real one."""
    (root / "images").mkdir(parents=True)
    for image in images:
        (root / "images" / image).write_bytes(b"")
    (root / "Flickr8k.token.txt").write_text("\n".join(captions))
    for name, file in [
        ("train", "Flickr_8k.trainImages.txt"),
        ("dev", "Flickr_8k.devImages.txt"),
        ("test", "Flickr_8k.testImages.txt"),
    ]:
        (root / file).write_text("\n".join(splits.get(name, [])))
    return root


def caption_lines(image, numbers=range(5)):
    return [f"{image}#{k}\t{image} caption {k} ." for k in numbers]


def valid_folder(root):
    # Caption lines deliberately out of order for b.jpg: the reader sorts by caption number.
    lines = (
        caption_lines("a.jpg") + caption_lines("b.jpg", [3, 1, 0, 4, 2]) + caption_lines("c.jpg")
    )
    splits = {"train": ["b.jpg", "a.jpg"], "test": ["c.jpg"]}
    return write_folder(root, lines, splits, ["a.jpg", "b.jpg", "c.jpg"])


def test_synthetic_folder_reads_in_split_and_caption_order(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a clean folder gives no anomaly warning
        data = Flickr8k(valid_folder(tmp_path))
    train = data.split("train")
    assert train.image_ids == ["b.jpg", "a.jpg"]
    assert train.image_paths == [tmp_path / "images" / "b.jpg", tmp_path / "images" / "a.jpg"]
    assert train.captions[:2] == ["b.jpg caption 0 .", "b.jpg caption 1 ."]
    assert train.captions[5] == "a.jpg caption 0 ."
    assert train.caption_image.tolist() == [0] * 5 + [1] * 5
    assert len(data.split("dev")) == 0
    assert data.anomalies == []


def test_trailing_newline_is_accepted(tmp_path):
    root = valid_folder(tmp_path)
    caption_file = root / "Flickr8k.token.txt"
    caption_file.write_text(caption_file.read_text() + "\n")
    assert len(Flickr8k(root).split("train").captions) == 10


def test_orphan_captions_and_unsplit_images_are_anomalies(tmp_path):
    lines = caption_lines("a.jpg") + caption_lines("x.jpg.1") + caption_lines("d.jpg")
    root = write_folder(tmp_path, lines, {"train": ["a.jpg"]}, ["a.jpg", "d.jpg"])
    with pytest.warns(Flickr8kAnomalyWarning) as record:
        data = Flickr8k(root)
    assert len(record) == 1
    assert data.anomalies == [
        "caption id x.jpg.1 has 5 captions but no image file (skipped)",
        "1 images are in no split (first: d.jpg; unused)",
    ]


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [
        ("a.jpg#2 no tab here", "no tab"),
        ("a.jpg#7\tcaption number out of range", "number 7"),
        ("a.jpg\tno caption number", "no number"),
        ("a.jpg#2\t   ", "empty caption"),
        ("", "blank line"),
    ],
)
def test_malformed_caption_line_names_file_and_line(tmp_path, bad_line, reason):
    lines = caption_lines("a.jpg")
    lines.insert(2, bad_line)
    root = write_folder(tmp_path, lines, {"train": ["a.jpg"]}, ["a.jpg"])
    with pytest.raises(ValueError, match=r"Flickr8k\.token\.txt:3: malformed caption line"):
        Flickr8k(root)


def test_caption_number_given_twice(tmp_path):
    lines = caption_lines("a.jpg") + ["a.jpg#1\tagain"]
    root = write_folder(tmp_path, lines, {"train": ["a.jpg"]}, ["a.jpg"])
    with pytest.raises(ValueError, match=r"token\.txt:6: caption #1 of a\.jpg given twice"):
        Flickr8k(root)


@pytest.mark.parametrize(
    ("lines", "splits", "images", "message"),
    [
        (caption_lines("a.jpg", range(4)), {"train": ["a.jpg"]}, ["a.jpg"], "has 4 captions"),
        (caption_lines("a.jpg"), {"train": ["a.jpg"]}, [], "has no file"),
        (
            caption_lines("a.jpg"),
            {"train": ["a.jpg"], "dev": ["a.jpg"]},
            ["a.jpg"],
            "both train and dev",
        ),
        (
            caption_lines("a.jpg"),
            {"test": ["a.jpg", "a.jpg"]},
            ["a.jpg"],
            "testImages.txt:2: a.jpg already",
        ),
        (
            caption_lines("a.jpg"),
            {"dev": ["a.jpg", "a b.jpg"]},
            ["a.jpg"],
            "devImages.txt:2: malformed",
        ),
    ],
)
def test_invalid_splits_are_errors(tmp_path, lines, splits, images, message):
    root = write_folder(tmp_path, lines, splits, images)
    with pytest.raises(ValueError, match=message):
        Flickr8k(root)


def test_missing_files_are_named(tmp_path):
    root = valid_folder(tmp_path)
    (root / "Flickr_8k.devImages.txt").unlink()
    with pytest.raises(FileNotFoundError, match="Flickr_8k.devImages.txt"):
        Flickr8k(root)
    (root / "Flickr8k.token.txt").unlink()
    with pytest.raises(FileNotFoundError, match="Flickr8k.token.txt"):
        Flickr8k(root)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Flickr8k(tmp_path / "nowhere")


def test_unknown_split_and_unset_home(tmp_path, monkeypatch):
    data = Flickr8k(valid_folder(tmp_path))
    with pytest.raises(ValueError, match="unknown split 'val'"):
        data.split("val")
    monkeypatch.delenv("W2VX_HOME", raising=False)
    with pytest.raises(ValueError, match="W2VX_HOME"):
        Flickr8k()

"""vision on a tiny ONNX model built here, whose outputs are computed by hand.

The tiny model takes the centre pixel of the input, then ``MatMul(W1) -> Relu`` (the
2048-d "features") ``-> MatMul(W2)`` (the 1000 "logits"). On a constant-colour image
that pixel is the colour normalised by the published ImageNet mean and std, so the
expected features are ``relu(colour @ W1)``. (It slices one pixel rather than average
all 50,176: onnxruntime's float32 GlobalAveragePool is off by ~1e-4 at that size.)
"""

import json
import os
import struct
import sys
import threading
import zlib

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

import vision
from vision import FeatureCache, ImageEncoder, ImageReadError, encode_video, load_model
from vision.__main__ import main

MEAN = np.array([0.485, 0.456, 0.406])
STD = np.array([0.229, 0.224, 0.225])
RED, GREEN, BLUE, GREY = (255, 0, 0), (0, 255, 0), (0, 0, 255), (128, 128, 128)
LABELS = [f"class_{i}" for i in range(1000)]


def write_tiny_model(
    path,
    seed=0,
    feature_name="features",
    feature_dim=2048,
    side=224,
    batch_of_one_only=False,
    poison_weights=False,
):
    """Write the tiny model (and a labels file beside it); return its weights (W1, W2)."""
    rng = np.random.default_rng(seed)
    w1 = rng.normal(size=(3, feature_dim)).astype(np.float32)
    if poison_weights:
        w1[:, :8] = np.inf
    w2 = rng.normal(size=(feature_dim, 1000)).astype(np.float32)
    shape = [1, 3] if batch_of_one_only else [-1, 3]  # [1, 3] fails at run time on N > 1
    nodes = [
        helper.make_node("Slice", ["input", "centre", "after_centre", "height_width"], ["pixel"]),
        helper.make_node("Reshape", ["pixel", "shape"], ["colour"]),
        helper.make_node("MatMul", ["colour", "w1"], ["projected"]),
        helper.make_node("Relu", ["projected"], [feature_name]),
        helper.make_node("MatMul", [feature_name, "w2"], ["logits"]),
    ]
    initializers = [
        numpy_helper.from_array(np.array([side // 2, side // 2], np.int64), "centre"),
        numpy_helper.from_array(np.array([side // 2 + 1, side // 2 + 1], np.int64), "after_centre"),
        numpy_helper.from_array(np.array([2, 3], np.int64), "height_width"),
        numpy_helper.from_array(np.array(shape, np.int64), "shape"),
        numpy_helper.from_array(w1, "w1"),
        numpy_helper.from_array(w2, "w2"),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, side, side])],
        [
            helper.make_tensor_value_info(feature_name, TensorProto.FLOAT, ["N", feature_dim]),
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 1000]),
        ],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)
    (path.parent / "imagenet_labels.json").write_text(json.dumps(LABELS))
    return w1, w2


def hand_features(colour, w1):
    """relu(normalised colour @ W1): the tiny model's features of a constant-colour image."""
    normalised = (np.array(colour) / 255 - MEAN) / STD  # (3,)
    return np.maximum(normalised @ w1.astype(np.float64), 0)  # (2048,)


def save_colour(path, colour, size=(300, 260)):
    Image.new("RGB", size, colour).save(path)
    return str(path)


class CountingSession:
    """Wraps an onnxruntime session: counts images run, can stop after some calls."""

    def __init__(self, session, interrupt_after_calls=None):
        self.session = session
        self.calls = 0
        self.images = 0
        self.interrupt_after_calls = interrupt_after_calls

    def run(self, output_names, feeds):
        if self.calls == self.interrupt_after_calls:
            raise KeyboardInterrupt
        self.calls += 1
        self.images += len(next(iter(feeds.values())))
        return self.session.run(output_names, feeds)


@pytest.fixture
def tiny(tmp_path):
    """(model path, W1, W2) of a tiny model in its own folder."""
    folder = tmp_path / "model"
    folder.mkdir()
    path = folder / "tiny.onnx"
    w1, w2 = write_tiny_model(path)
    return path, w1, w2


@pytest.fixture
def encoder(tiny):
    return ImageEncoder(tiny[0], batch_size=2, progress=False)


@pytest.fixture
def no_model_env(monkeypatch, tmp_path):
    """No W2VX_MODEL, no W2VX_HOME and an empty home folder."""
    monkeypatch.delenv("W2VX_MODEL", raising=False)
    monkeypatch.delenv("W2VX_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path


# --- model resolution and checks -------------------------------------------------------


def test_explicit_path_beats_w2vx_model(tmp_path, no_model_env, monkeypatch):
    write_tiny_model(tmp_path / "a.onnx")
    write_tiny_model(tmp_path / "b.onnx", seed=1)
    monkeypatch.setenv("W2VX_MODEL", str(tmp_path / "b.onnx"))
    assert load_model(tmp_path / "a.onnx").path == tmp_path / "a.onnx"
    assert load_model().path == tmp_path / "b.onnx"


def test_w2vx_model_beats_w2vx_home(tmp_path, no_model_env, monkeypatch):
    (tmp_path / "home" / "models").mkdir(parents=True)
    write_tiny_model(tmp_path / "home" / "models" / "resnet50-imagenet-fp16w.onnx")
    write_tiny_model(tmp_path / "mine.onnx")
    monkeypatch.setenv("W2VX_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("W2VX_MODEL", str(tmp_path / "mine.onnx"))
    assert load_model().path == tmp_path / "mine.onnx"


@pytest.mark.parametrize("where", ["w2vx_home", "user_cache"])
def test_modified_default_file_is_refused_with_the_way_out(
    tmp_path, no_model_env, monkeypatch, where
):
    folder = {
        "w2vx_home": tmp_path / "shared" / "models",
        "user_cache": tmp_path / "home" / ".cache" / "w2v-crossmodal" / "models",
    }[where]
    folder.mkdir(parents=True)
    write_tiny_model(folder / "resnet50-imagenet-fp16w.onnx")
    monkeypatch.setenv("W2VX_HOME", str(tmp_path / "shared"))
    with pytest.raises(ValueError, match="sha256") as refused:
        load_model()
    assert str(folder / "resnet50-imagenet-fp16w.onnx") in str(refused.value)
    assert "W2VX_MODEL" in str(refused.value)


def test_no_model_anywhere_says_how_to_get_one(no_model_env):
    with pytest.raises(FileNotFoundError, match="W2VX_HOME") as missing:
        load_model()
    assert "W2VX_MODEL" in str(missing.value) and "torch.onnx.export" in str(missing.value)


def test_missing_explicit_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.onnx"):
        load_model(tmp_path / "nope.onnx")


def test_not_onnx_is_a_clear_value_error(tmp_path):
    (tmp_path / "text.onnx").write_text("not a model")
    with pytest.raises(ValueError, match="text.onnx.*not ONNX"):
        load_model(tmp_path / "text.onnx")


def test_wrong_input_shape(tmp_path):
    write_tiny_model(tmp_path / "small.onnx", side=64)
    with pytest.raises(ValueError, match=r"\[N, 3, 224, 224\]"):
        load_model(tmp_path / "small.onnx")


def test_no_2048_feature_output(tmp_path):
    write_tiny_model(tmp_path / "narrow.onnx", feature_dim=512)
    with pytest.raises(ValueError, match="2048"):
        load_model(tmp_path / "narrow.onnx")


def test_feature_output_name_is_configurable(tmp_path):
    w1, _ = write_tiny_model(tmp_path / "own.onnx", feature_name="pool5")
    with pytest.raises(ValueError, match="pool5"):  # the message lists the outputs there are
        load_model(tmp_path / "own.onnx")
    model = load_model(tmp_path / "own.onnx", feature_output="pool5")
    features = ImageEncoder(model, progress=False).encode_pil([Image.new("RGB", (224, 224), RED)])
    np.testing.assert_allclose(features[0], hand_features(RED, w1), rtol=1e-5, atol=1e-5)


# --- encoding ------------------------------------------------------------------------


def test_features_are_the_hand_computed_ones_in_input_order(tmp_path, tiny, encoder):
    colours = [RED, GREEN, BLUE, GREY, RED]
    paths = [save_colour(tmp_path / f"{i}.png", c) for i, c in enumerate(colours)]
    features = encoder.encode(paths)
    assert features.shape == (5, 2048) and features.dtype == np.float32
    expected = np.stack([hand_features(c, tiny[1]) for c in colours])
    np.testing.assert_allclose(features, expected, rtol=1e-5, atol=1e-5)


def test_batched_equals_one_by_one(tmp_path, tiny):
    paths = [save_colour(tmp_path / f"{i}.png", (40 * i, 255 - 30 * i, 7 * i)) for i in range(7)]
    batched = ImageEncoder(tiny[0], batch_size=3, progress=False).encode(paths)
    single = ImageEncoder(tiny[0], batch_size=1, progress=False)
    one_by_one = np.concatenate([single.encode([p]) for p in paths])
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)


def test_encode_pil_converts_modes_like_files(tiny, encoder):
    images = [Image.new("L", (300, 300), 128), Image.new("RGBA", (300, 300), (255, 0, 0, 0))]
    features = encoder.encode_pil(images)
    expected = [hand_features(GREY, tiny[1]), hand_features((255, 255, 255), tiny[1])]
    np.testing.assert_allclose(features, np.stack(expected), rtol=1e-5, atol=1e-5)


def test_classify_gives_the_numpy_top_k(tmp_path, tiny, encoder):
    _, w1, w2 = tiny
    predictions = encoder.classify([save_colour(tmp_path / "blue.png", BLUE)], topk=3)
    logits = hand_features(BLUE, w1) @ w2  # (1000,)
    probabilities = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    best = np.argsort(-probabilities)[:3]
    assert [p.index for p in predictions[0]] == list(best)
    assert [p.label for p in predictions[0]] == [f"class_{i}" for i in best]
    np.testing.assert_allclose(
        [p.probability for p in predictions[0]], probabilities[best], rtol=1e-4
    )


def test_decoding_overlaps_inference(tmp_path, encoder, monkeypatch):
    """While the model runs batch 0, the pool must already be decoding batch 1."""
    paths = [save_colour(tmp_path / f"{i}.png", GREY) for i in range(4)]
    batch_one_started = threading.Event()
    real_load = vision.encoder.load_tensor

    def recording_load(path):
        if path in paths[2:]:
            batch_one_started.set()
        return real_load(path)

    class WaitingSession(CountingSession):
        def run(self, output_names, feeds):
            if self.calls == 0:
                assert batch_one_started.wait(timeout=10), "batch 1 was not decoding"
            return super().run(output_names, feeds)

    monkeypatch.setattr(vision.encoder, "load_tensor", recording_load)
    encoder.model_.session = WaitingSession(encoder.model_.session)
    assert encoder.encode(paths).shape == (4, 2048)


def test_progress_bar_can_be_disabled(tmp_path, tiny, capsys):
    path = save_colour(tmp_path / "a.png", RED)
    ImageEncoder(tiny[0], progress=True).encode([path])
    assert "1/1" in capsys.readouterr().err
    ImageEncoder(tiny[0], progress=False).encode([path])
    assert capsys.readouterr().err == ""


def test_on_error_must_be_known(encoder):
    with pytest.raises(ValueError, match="on_error"):
        encoder.encode([], on_error="ignore")


# --- bad input -----------------------------------------------------------------------


def png_header_only(path, width, height):
    """A PNG that declares width x height pixels (nothing behind it): the bomb check fires first."""

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))


def make_bad_files(folder):
    """{path: what its error must say} for each kind of broken input."""
    folder.mkdir(exist_ok=True)
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "text.jpg").write_text("this is not a picture\n")
    save_colour(folder / "whole.jpg", GREEN)
    (folder / "truncated.jpg").write_bytes((folder / "whole.jpg").read_bytes()[:400])
    (folder / "whole.jpg").unlink()
    png_header_only(folder / "bomb.png", 20000, 20000)
    return {
        str(folder / "empty.jpg"): "cannot identify",
        str(folder / "text.jpg"): "cannot identify",
        str(folder / "truncated.jpg"): "truncated",
        str(folder / "bomb.png"): "DecompressionBomb",
        str(folder / "missing.jpg"): "no such file",
    }


def test_each_bad_file_raises_with_its_path_and_cause(tmp_path, encoder):
    for path, cause in make_bad_files(tmp_path / "bad").items():
        with pytest.raises(ImageReadError, match=cause) as raised:
            encoder.encode([path])
        assert raised.value.path == path and path in str(raised.value)
    with pytest.raises(FileNotFoundError):
        encoder.encode([str(tmp_path / "bad" / "missing.jpg")])


def test_pillow_bomb_warning_range_is_an_error_too(tmp_path, encoder, monkeypatch):
    path = save_colour(tmp_path / "big.png", RED, size=(150, 100))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)  # 15,000 px: Pillow only warns
    with pytest.warns(Image.DecompressionBombWarning), pytest.raises(ImageReadError, match="limit"):
        encoder.encode([path])


def test_skip_reports_exactly_the_bad_files_and_encodes_the_rest(tmp_path, tiny, encoder):
    bad = make_bad_files(tmp_path / "images")
    cmyk = tmp_path / "images" / "cmyk.jpg"
    Image.new("CMYK", (300, 300), (0, 255, 255, 0)).save(cmyk, quality=95)  # red
    grey16 = tmp_path / "images" / "grey16.png"
    Image.fromarray(np.full((300, 300), 32896, np.uint16)).save(grey16)  # 128 grey
    good = {save_colour(tmp_path / "images" / "blue.png", BLUE): BLUE, str(cmyk): RED}
    good[str(grey16)] = GREY
    paths = sorted(good) + sorted(bad)
    paths.insert(1, paths.pop())  # a failure between good images
    features, failures = encoder.encode(paths, on_error="skip")
    assert set(failures) == set(bad)
    for path, error in failures.items():
        assert bad[path] in str(error) and path in str(error)
    expected = np.stack([hand_features(good[p], tiny[1]) for p in paths if p in good])
    np.testing.assert_allclose(features, expected, atol=0.2)  # JPEG colours are off by a few levels


def test_non_finite_features_are_a_clear_error(tmp_path):
    write_tiny_model(tmp_path / "poisoned.onnx", poison_weights=True)
    encoder = ImageEncoder(tmp_path / "poisoned.onnx", progress=False)
    path = save_colour(tmp_path / "red.png", RED)
    with pytest.raises(vision.NonFiniteFeaturesError, match="red.png"):
        encoder.encode([path])


def test_onnxruntime_failure_names_the_images(tmp_path):
    write_tiny_model(tmp_path / "batch1.onnx", batch_of_one_only=True)
    encoder = ImageEncoder(tmp_path / "batch1.onnx", batch_size=2, progress=False)
    paths = [save_colour(tmp_path / "first.png", RED), save_colour(tmp_path / "second.png", BLUE)]
    with pytest.raises(RuntimeError, match="first.png.*second.png.*batch1.onnx"):
        encoder.encode(paths)


# --- cache ---------------------------------------------------------------------------


def test_cache_hit_is_identical_and_runs_nothing(tmp_path, tiny, encoder):
    paths = [save_colour(tmp_path / f"{i}.png", c) for i, c in enumerate([RED, GREEN, BLUE])]
    cache = FeatureCache(tmp_path / "cache")
    first = encoder.encode(paths, cache=cache)
    counting = encoder.model_.session = CountingSession(encoder.model_.session)
    again = encoder.encode(paths, cache=cache)
    assert counting.calls == 0
    assert np.array_equal(again, first) and again.dtype == np.float32
    np.testing.assert_allclose(
        again, [hand_features(c, tiny[1]) for c in (RED, GREEN, BLUE)], atol=1e-5
    )


def test_interrupted_run_resumes_without_recomputing(tmp_path, tiny):
    paths = [save_colour(tmp_path / f"{i}.png", (20 * i, 100, 200 - 20 * i)) for i in range(6)]
    cache = FeatureCache(tmp_path / "cache")
    encoder = ImageEncoder(tiny[0], batch_size=2, progress=False)
    encoder.model_.session = CountingSession(encoder.model_.session, interrupt_after_calls=2)
    with pytest.raises(KeyboardInterrupt):
        encoder.encode(paths, cache=cache)
    resumed = ImageEncoder(tiny[0], batch_size=2, progress=False)
    counting = resumed.model_.session = CountingSession(resumed.model_.session)
    features = resumed.encode(paths, cache=cache)
    assert counting.images == 2  # 4 of 6 were done before the interruption
    uncached = ImageEncoder(tiny[0], batch_size=2, progress=False).encode(paths)
    np.testing.assert_array_equal(features, uncached)


def test_changed_file_or_other_model_is_a_miss(tmp_path, tiny, encoder):
    paths = [save_colour(tmp_path / "a.png", RED), save_colour(tmp_path / "b.png", GREEN)]
    cache = FeatureCache(tmp_path / "cache")
    encoder.encode(paths, cache=cache)
    save_colour(tmp_path / "b.png", BLUE)
    os.utime(paths[1], ns=(1_000_000_000, 1_000_000_000))  # surely a different mtime
    counting = encoder.model_.session = CountingSession(encoder.model_.session)
    features = encoder.encode(paths, cache=cache)
    assert counting.images == 1
    np.testing.assert_allclose(features[1], hand_features(BLUE, tiny[1]), atol=1e-5)
    write_tiny_model(tmp_path / "other.onnx", seed=5)
    other = ImageEncoder(tmp_path / "other.onnx", progress=False)
    counting = other.model_.session = CountingSession(other.model_.session)
    other.encode(paths, cache=cache)
    assert counting.images == 2


def test_two_writers_that_pick_the_same_chunk_number_never_mix_their_files(tmp_path, tiny,
                                                                           monkeypatch):
    """Two processes filling one cache folder: both see the same chunks and so pick the same
    next number. Each must still read back its own features (unique chunk names), and an
    older ``chunk-<n>.json`` name or a stray file must not break the folder."""
    import vision.cache

    cache = FeatureCache(tmp_path / "cache")
    model = ImageEncoder(tiny[0], progress=False).model_
    folder = cache._folder(model.sha256)
    folder.mkdir(parents=True)
    (folder / "chunk-notes.json").write_text("{}")  # not the cache's: ignored
    real_stem = vision.cache._new_chunk_stem
    frozen = real_stem(folder)  # what both writers compute from the same folder state
    monkeypatch.setattr(vision.cache, "_new_chunk_stem",
                        lambda folder: frozen[:13] + real_stem(folder)[13:])
    red, blue = save_colour(tmp_path / "red.png", RED), save_colour(tmp_path / "blue.png", BLUE)
    cache.add([red], np.full((1, 2048), 1.0, np.float32), model.sha256)
    cache.add([blue], np.full((1, 2048), 2.0, np.float32), model.sha256)
    manifests = sorted(path.name for path in folder.glob("chunk-0*.json"))
    assert len(manifests) == 2 and manifests[0][:13] == manifests[1][:13]  # same number
    found = cache.lookup([red, blue], model.sha256)
    assert found[red][0] == 1.0 and found[blue][0] == 2.0


def test_prune_removes_exactly_the_chunks_no_lookup_can_use(tmp_path, tiny):
    """Chunks whose every row was overridden by a later chunk, or describes an image that
    changed or is gone, are deleted; every lookup gives what it gave before."""
    from vision.cache import _manifest_paths

    cache = FeatureCache(tmp_path / "cache")
    sha, other_sha = "a" * 64, "b" * 64
    a, b, c, d = (save_colour(tmp_path / f"{name}.png", colour)
                  for name, colour in zip("abcd", [RED, GREEN, BLUE, RED]))

    def add(paths, value, model=sha):
        cache.add(paths, np.full((len(paths), 2048), value, np.float32), model)
        newest = _manifest_paths(cache._folder(model))[-1]
        return [newest, newest.with_suffix(".npy")]

    first = add([a, b], 1.0)  # dead at the end: a and b are both overridden below
    add([b], 2.0)
    changed = add([c], 3.0)  # dead: c changes
    gone = add([d], 4.0)  # dead: d is deleted
    add([a], 5.0)
    add([a], 6.0, model=other_sha)  # another model's chunk, still serving
    save_colour(c, GREEN)
    os.utime(c, ns=(1_000_000_000, 1_000_000_000))
    os.remove(d)
    stray = cache._folder(sha) / "chunk-notes.json"
    stray.write_text("{}")
    dead = first + changed + gone
    expected_bytes = sum(path.stat().st_size for path in dead)
    before = {model: cache.lookup([a, b, c, d], model) for model in (sha, other_sha)}

    assert cache.prune() == (3, expected_bytes)
    assert not any(path.exists() for path in dead) and stray.exists()
    for model in (sha, other_sha):
        after = cache.lookup([a, b, c, d], model)
        assert after.keys() == before[model].keys()
        assert all(np.array_equal(after[p], before[model][p]) for p in after)
    assert before[sha][a][0] == 5.0 and before[sha][b][0] == 2.0  # the newest chunks
    assert cache.prune() == (0, 0)
    assert FeatureCache(tmp_path / "nothing here").prune() == (0, 0)


def test_manifest_records_model_preprocessing_and_file_versions(tmp_path, encoder):
    path = save_colour(tmp_path / "a.png", RED)
    encoder.encode([path], cache=FeatureCache(tmp_path / "cache"))
    (manifest_path,) = (tmp_path / "cache").rglob("*.json")
    manifest = json.loads(manifest_path.read_text())
    status = os.stat(path)
    assert manifest["model_sha256"] == encoder.model_.sha256
    assert manifest["preprocess_version"] == vision.PREPROCESS_VERSION
    assert manifest["files"] == [
        {"path": os.path.abspath(path), "size": status.st_size, "mtime_ns": status.st_mtime_ns}
    ]
    assert not list((tmp_path / "cache").rglob("*.tmp"))  # temporary files were renamed


# --- command line --------------------------------------------------------------------


def run_cli(command, model_path, *args):
    """``python -m vision COMMAND --model MODEL --no-progress ARGS...`` here; the exit status."""
    return main([command, "--model", str(model_path), "--no-progress", *map(str, args)])


def test_cli_extract_folder_reports_exactly_the_corrupt_images(tmp_path, tiny, capsys):
    folder = tmp_path / "images"
    bad = make_bad_files(folder)
    bad.pop(str(folder / "missing.jpg"))  # a folder lists only files that exist
    good = {
        save_colour(folder / "red.png", RED): RED,
        save_colour(folder / "zblue.png", BLUE): BLUE,
    }
    out = tmp_path / "features.npz"
    assert run_cli("extract", tiny[0], folder, "--out", out) == 1
    lines = capsys.readouterr().err.splitlines()
    reported = [line.split(": ")[1] for line in lines if line.startswith("failed: ")]
    assert sorted(reported) == sorted(bad)
    with np.load(out, allow_pickle=False) as saved:
        assert list(saved["paths"]) == sorted(good)
        expected = [hand_features(good[p], tiny[1]) for p in sorted(good)]
        np.testing.assert_allclose(saved["features"], expected, atol=1e-5)


def test_cli_extract_list_file_relative_to_its_folder(tmp_path, tiny):
    (tmp_path / "imgs").mkdir()
    save_colour(tmp_path / "imgs" / "g.png", GREEN)
    (tmp_path / "list.txt").write_text("imgs/g.png\n\n")
    out = tmp_path / "f.npz"
    assert run_cli("extract", tiny[0], tmp_path / "list.txt", "--out", out) == 0
    with np.load(out, allow_pickle=False) as saved:
        assert list(saved["paths"]) == [str(tmp_path / "imgs" / "g.png")]
        np.testing.assert_allclose(saved["features"][0], hand_features(GREEN, tiny[1]), atol=1e-5)


def test_cli_extract_with_a_cache_prunes_what_a_changed_image_left_behind(tmp_path, tiny,
                                                                          capsys):
    folder = tmp_path / "images"
    folder.mkdir()
    red = save_colour(folder / "red.png", RED)
    args = ["extract", tiny[0], folder, "--out", tmp_path / "f.npz", "--cache", tmp_path / "c"]
    assert run_cli(*args) == 0
    save_colour(red, BLUE)
    os.utime(red, ns=(1_000_000_000, 1_000_000_000))
    assert run_cli(*args) == 0
    assert "feature cache: removed 1 chunk(s) no longer used" in capsys.readouterr().err
    assert len(list((tmp_path / "c").rglob("chunk-*.npy"))) == 1
    with np.load(tmp_path / "f.npz", allow_pickle=False) as saved:
        np.testing.assert_allclose(saved["features"][0], hand_features(BLUE, tiny[1]), atol=1e-5)


def test_cli_classify_prints_the_numpy_top_class(tmp_path, tiny, capsys):
    path = save_colour(tmp_path / "red.png", RED)
    assert run_cli("classify", tiny[0], path, "--topk", 1) == 0
    best = int(np.argmax(hand_features(RED, tiny[1]) @ tiny[2]))
    assert f"class_{best} ({best})" in capsys.readouterr().out


def test_cli_without_model_is_a_message_not_a_traceback(no_model_env, capsys):
    assert main(["classify", "x.jpg"]) == 2
    assert "W2VX_MODEL" in capsys.readouterr().err


# --- video ---------------------------------------------------------------------------


def test_gif_every_nth_frame_is_mean_pooled(tmp_path, tiny, encoder):
    colours = [RED, GREEN, BLUE, GREY, (255, 255, 0), (0, 255, 255)]
    frames = [Image.new("RGB", (240, 240), c) for c in colours]
    frames[0].save(tmp_path / "clip.gif", save_all=True, append_images=frames[1:], duration=40)
    pooled = encode_video(tmp_path / "clip.gif", every_n=2, encoder=encoder)
    expected = np.mean([hand_features(c, tiny[1]) for c in colours[::2]], axis=0)
    np.testing.assert_allclose(pooled, expected, rtol=1e-5, atol=1e-5)


def test_folder_of_frames_in_name_order(tmp_path, tiny, encoder):
    colours = [RED, GREEN, BLUE, GREY, (10, 20, 30)]
    for i, colour in enumerate(colours):
        save_colour(tmp_path / f"frame{i:03d}.png", colour)
    pooled = encode_video(tmp_path, every_n=3, encoder=encoder)
    expected = np.mean([hand_features(c, tiny[1]) for c in (RED, GREY)], axis=0)
    np.testing.assert_allclose(pooled, expected, rtol=1e-5, atol=1e-5)


def test_mp4_without_pyav_says_pip_install_av(tmp_path, encoder, monkeypatch):
    monkeypatch.setitem(sys.modules, "av", None)  # makes `import av` fail
    (tmp_path / "clip.mp4").write_bytes(b"\x00" * 16)
    with pytest.raises(ImportError, match="pip install av"):
        encode_video(tmp_path / "clip.mp4", encoder=encoder)


def test_every_n_must_be_positive(tmp_path, encoder):
    with pytest.raises(ValueError, match="every_n"):
        encode_video(tmp_path, every_n=0, encoder=encoder)

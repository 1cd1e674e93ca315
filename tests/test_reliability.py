"""Reliability and security guarantees that are not about parsing (see docs/RELIABILITY.md).

- reads are bounded by the bytes present, whatever a header announces;
- nothing in the packages can unpickle or evaluate data (a source scan), and hostile
  object arrays are refused by every .npz / .npy loader without running their payload;
- files are written atomically: a writer killed mid-file leaves the old file intact,
  and a killed feature extraction resumes from its cache;
- the published model is checked by sha256;
- images: decompression bombs fail fast, a folder with corrupt images is encoded
  with exactly those reported;
- NaN / infinity is refused where word vectors and image features enter.
"""

import ast
import gzip
import io
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

import vision
from retrieval.image_features import prepare_image_features
from retrieval.ridge import RidgeProjection
from vision import FeatureCache, ImageEncoder, ImageReadError, load_image, load_model
from vision.model import DEFAULT_MODEL_NAME, DEFAULT_MODEL_SHA256, ResNetModel
from w2v_scratch.keyedvectors import KeyedVectors
from w2v_scratch.word2vec_format import read_word2vec

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ["w2v_scratch", "vision", "retrieval"]


# ------------------------------------------------------------ no unsafe loads

#: Modules whose loaders run code from the data they read.
UNSAFE_MODULES = {"pickle", "_pickle", "cPickle", "dill", "cloudpickle", "joblib", "marshal",
                  "shelve", "torch"}
#: Calls that run code from a string.
EVALUATORS = {"eval", "exec", "compile", "__import__"}


def _dotted(node):
    """``np.lib.load`` for an attribute chain, the name for a Name, '' otherwise."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else ""
    return ""


def _is_false(node):
    return isinstance(node, ast.Constant) and node.value is False


def unsafe_uses(source, filename="<source>"):
    """``["file:line: what", ...]`` for every way ``source`` could run code from data."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        where = f"{filename}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) \
                else [node.module or ""]
            found += [f"{where}: imports {m}" for m in modules
                      if m.split(".")[0] in UNSAFE_MODULES]
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        keywords = {keyword.arg: keyword.value for keyword in node.keywords}
        root, last = name.split(".")[0], name.split(".")[-1]
        if name in EVALUATORS:
            found.append(f"{where}: calls {name}()")
        if root in UNSAFE_MODULES or last in {"read_pickle", "unsafe_load"}:
            found.append(f"{where}: calls {name}()")
        if "allow_pickle" in keywords and not _is_false(keywords["allow_pickle"]):
            found.append(f"{where}: {name}() with allow_pickle not False")
        if name in {"np.load", "numpy.load"} and not _is_false(keywords.get("allow_pickle")):
            found.append(f"{where}: {name}() without allow_pickle=False")
        if name == "yaml.load" and "Loader" not in keywords:
            found.append(f"{where}: yaml.load() without a safe Loader")
    return found


@pytest.mark.parametrize(
    "snippet",
    [
        "import pickle",
        "from joblib import load",
        "import marshal",
        "torch.load(path)",
        "pickle.loads(data)",
        "np.load(path)",
        "numpy.load(path, allow_pickle=True)",
        "np.save(path, array, allow_pickle=flag)",
        "eval(text)",
        "exec(code)",
        "pd.read_pickle(path)",
        "yaml.load(stream)",
    ],
)
def test_the_scanner_finds_each_unsafe_use(snippet):
    """The scan below can fail: each of these snippets is reported."""
    assert unsafe_uses(snippet)


def test_the_scanner_accepts_safe_loads():
    """...and it is not reporting everything: safe loads pass."""
    safe = "np.load(path, allow_pickle=False)\njson.loads(text)\nnp.save(p, a, allow_pickle=False)"
    assert unsafe_uses(safe) == []


def test_no_package_source_can_unpickle_or_evaluate_data():
    """No pickle/marshal/joblib/torch loads, np.load without allow_pickle=False, eval/exec."""
    sources = sorted(path for package in PACKAGES for path in (REPO / package).rglob("*.py"))
    assert len(sources) > 20  # the scan sees the packages
    found = [problem for path in sources
             for problem in unsafe_uses(path.read_text(encoding="utf-8"), str(path))]
    assert found == []


class PicklePayload:
    """Unpickling this creates ``marker``: proof that foreign code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def payload_array(marker):
    return np.array([PicklePayload(marker)], dtype=object)


def test_the_payload_is_live(tmp_path):
    """Control: loading the payload with pickle allowed does create the marker file."""
    marker = tmp_path / "marker"
    np.save(tmp_path / "payload.npy", payload_array(marker), allow_pickle=True)
    np.load(tmp_path / "payload.npy", allow_pickle=True)
    assert marker.exists()


@pytest.mark.parametrize("member", ["format_version", "keys", "vectors", "counts"])
def test_keyedvectors_load_refuses_a_pickle_payload(tmp_path, member):
    """An .npz with an object array in any member: ValueError, payload not run."""
    marker = tmp_path / "marker"
    members = {
        "format_version": np.array(1),
        "keys": np.array('["a"]'),
        "vectors": np.ones((1, 2), np.float32),
        member: payload_array(marker),
    }
    path = tmp_path / "hostile.npz"
    np.savez(path, allow_pickle=True, **members)
    with pytest.raises(ValueError, match=rf"{path}: member {member}: Object arrays"):
        KeyedVectors.load(path)
    assert not marker.exists()


def _one_cached_image(tmp_path):
    image = tmp_path / "a.png"
    Image.new("RGB", (8, 8)).save(image)
    cache = FeatureCache(tmp_path / "cache")
    cache.add([str(image)], np.zeros((1, 2048), np.float32), "0" * 64)
    (chunk,) = (tmp_path / "cache").rglob("chunk-*.npy")
    return cache, str(image), chunk


def test_feature_cache_refuses_a_pickle_payload(tmp_path):
    """A cache chunk that is an object array is a cache miss (with a warning); payload not run."""
    marker = tmp_path / "marker"
    cache, image, chunk = _one_cached_image(tmp_path)
    np.save(chunk, payload_array(marker), allow_pickle=True)
    with pytest.warns(UserWarning, match=rf"ignoring {chunk}: unreadable"):
        assert cache.lookup([image], "0" * 64) == {}
    assert not marker.exists()


@pytest.mark.parametrize("damage,cause", [
    (lambda chunk: np.save(chunk, np.full((1, 2048), np.nan, np.float32)), "NaN or infinite"),
    (lambda chunk: np.save(chunk, np.zeros((1, 5), np.float32)), r"expected float32 \(1, 2048\)"),
    (lambda chunk: np.save(chunk, np.zeros((0, 2048), np.float32)), r"expected float32"),
    (lambda chunk: chunk.write_bytes(chunk.read_bytes()[:100]), "unreadable"),
    (lambda chunk: chunk.unlink(), "unreadable"),
    (lambda chunk: chunk.with_suffix(".json").write_text("{not json"), "unreadable manifest"),
    (lambda chunk: chunk.with_suffix(".json").write_bytes(b"\xff\xfe"), "unreadable manifest"),
    (lambda chunk: chunk.with_suffix(".json").write_text("{}"), "unreadable manifest"),
])
def test_a_damaged_feature_cache_is_a_miss_never_wrong_features(tmp_path, damage, cause):
    """Damaged chunks or manifests are named in a warning and their images recomputed."""
    cache, image, chunk = _one_cached_image(tmp_path)
    damage(chunk)
    with pytest.warns(UserWarning, match=cause):
        assert cache.lookup([image], "0" * 64) == {}


def test_stored_retriever_refuses_a_pickle_payload(tmp_path):
    """``CrossModalRetriever.load`` with an object array: ValueError, payload not run."""
    import hashlib
    import io

    from retrieval.retriever import FORMAT_VERSION, CrossModalRetriever

    marker, folder = tmp_path / "marker", tmp_path / "model"
    folder.mkdir()
    KeyedVectors(np.ones((1, 2), np.float32), ["a"]).save(folder / "word_vectors.npz")
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=True, word_prob=payload_array(marker))
    (folder / "retriever.npz").write_bytes(buffer.getvalue())
    config = {"format_version": FORMAT_VERSION,
              "word_vectors": {"file": "word_vectors.npz", "sha256": "0" * 64},
              "arrays_sha256": hashlib.sha256(buffer.getvalue()).hexdigest()}
    (folder / "retriever.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="allow_pickle"):
        CrossModalRetriever.load(folder)
    assert not marker.exists()


# ------------------------------------------------------------- bounded reads


def _peak_bytes(function):
    """Run ``function`` and return the peak of Python-traced memory it used."""
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


HUGE_HEADERS = {
    "binary-10^12-rows": ("v.bin", b"1000000000000 300\nab " + b"\0" * 1200, True),
    "binary-gz-10^12-rows": ("v.bin.gz", b"1000000000000 300\nab " + b"\0" * 1200, True),
    "binary-gz-10^12-values": ("v.bin.gz", b"1 1000000000000\nab " + b"\0" * 40, True),
    "text-10^12-rows": ("v.txt", b"1000000000000 2\nab 1 2\n", False),
    "text-gz-10^12-values": ("v.txt.gz", b"1 1000000000000\nab 1 2\n", False),
    "text-10^12-values": ("v.txt", b"1 1000000000000\nab 1 2\n", False),
}


@pytest.mark.parametrize(("name", "data", "binary"), HUGE_HEADERS.values(), ids=HUGE_HEADERS)
def test_a_header_announcing_terabytes_fails_fast_without_allocating(
    tmp_path, name, data, binary
):
    """Reads are bounded by the data actually present, never by the header's counts."""
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)

    def read():
        with pytest.raises(ValueError, match=rf"{path}: (line|byte offset) \d+: "):
            read_word2vec(path, binary=binary)

    assert _peak_bytes(read) < 10 << 20


def test_an_npz_member_announcing_terabytes_fails_fast_without_allocating(tmp_path):
    """A 200-byte .npy member whose header says (10^6, 10^6) float32: refused before reading."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": (10**6, 10**6)}
    )
    path = tmp_path / "bomb.npz"
    np.savez(path, format_version=np.array(1), keys=np.array('["a"]'))
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("vectors.npy", header.getvalue() + b"\0" * 100)

    def load():
        refused = rf"{path}: member vectors: .* announces 4000000000000 bytes"
        with pytest.raises(ValueError, match=refused):
            KeyedVectors.load(path)

    assert _peak_bytes(load) < 10 << 20


# ------------------------------------------------------------- atomic writes

WRITER = """
import sys
import numpy as np
from w2v_scratch.keyedvectors import KeyedVectors
from w2v_scratch.word2vec_format import read_word2vec

kind, path, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
vectors = np.random.default_rng(int(sys.argv[4])).standard_normal((rows, 100), np.float32)
kv = KeyedVectors(vectors, [f"w{i}" for i in range(rows)])
if kind == "npz":
    kv.save(path)
else:
    kv.save_word2vec_format(path, binary=kind == "binary")
"""
#: (format, rows of 100 float32 in the big file); sized so writing takes well over 100 ms.
BIG_WRITES = [("text", 100_000), ("binary", 200_000), ("npz", 400_000)]


def _write(kind, path, rows, seed):
    return subprocess.Popen([sys.executable, "-c", WRITER, kind, str(path), str(rows), str(seed)])


def _temporary_files(folder):
    return [p for p in folder.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize(("kind", "rows"), BIG_WRITES, ids=[kind for kind, _ in BIG_WRITES])
def test_a_writer_killed_mid_file_leaves_the_old_file_intact(tmp_path, kind, rows):
    """SIGKILL while ``KeyedVectors`` writes a big file: the old file is untouched.

    The kill lands once the temporary file holds 1 MB, i.e. mid-write (the test
    fails if the writer finished first); the old file keeps its bytes and still loads.
    """
    path = tmp_path / f"vectors.{kind}"
    assert _write(kind, path, 3, seed=1).wait(timeout=60) == 0
    old = path.read_bytes()
    writer = _write(kind, path, rows, seed=2)
    deadline = time.monotonic() + 60
    while not any(p.stat().st_size > 1 << 20 for p in _temporary_files(tmp_path)):
        assert writer.poll() is None, "the writer finished before it could be killed"
        assert time.monotonic() < deadline, "the writer never started writing"
        time.sleep(0.001)
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=60)
    assert writer.returncode == -signal.SIGKILL
    assert path.read_bytes() == old
    if kind == "npz":
        assert len(KeyedVectors.load(path)) == 3
    else:
        assert len(KeyedVectors.load_word2vec_format(path, binary=kind == "binary")) == 3


def write_tiny_model(path, weights):
    """An ONNX model [N, 3, 224, 224] -> per-channel mean (N, 3) @ weights (3, 2048)."""
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["input"], ["colour"], axes=[2, 3], keepdims=0),
            helper.make_node("MatMul", ["colour", "weights"], ["features"]),
        ],
        "tiny",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 224, 224])],
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", 2048])],
        [numpy_helper.from_array(weights.astype(np.float32), "weights")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


@pytest.fixture
def tiny_model(tmp_path):
    weights = np.random.default_rng(0).standard_normal((3, 2048))
    return write_tiny_model(tmp_path / "tiny.onnx", weights)


SLOW_EXTRACTION = """
import sys, time
from vision import FeatureCache, ImageEncoder
from vision.model import ResNetModel

model_run = ResNetModel.run
ResNetModel.run = lambda self, *args: (time.sleep(0.2), model_run(self, *args))[1]
encoder = ImageEncoder(sys.argv[1], batch_size=2, decode_workers=1, progress=False)
encoder.encode(sys.argv[3:], cache=FeatureCache(sys.argv[2]))
"""


def test_a_killed_feature_extraction_resumes_from_its_cache(tmp_path, tiny_model, monkeypatch):
    """SIGKILL an extraction after a few batches: the next run computes only the rest.

    Every chunk left by the killed process is whole, the resumed run sends only the
    uncached images to the model, and its features equal an uncached extraction's.
    """
    paths = []
    for i in range(40):
        paths.append(str(tmp_path / f"{i}.png"))
        Image.new("RGB", (32, 32), (i * 6, 255 - i * 6, i % 7 * 30)).save(paths[-1])
    cache_dir = tmp_path / "cache"
    writer = subprocess.Popen(
        [sys.executable, "-c", SLOW_EXTRACTION, str(tiny_model), str(cache_dir), *paths]
    )
    deadline = time.monotonic() + 120
    while len(list(cache_dir.rglob("chunk-*.json"))) < 3:
        assert writer.poll() is None and time.monotonic() < deadline, "no chunks appeared"
        time.sleep(0.01)
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=60)
    assert writer.returncode == -signal.SIGKILL

    encoder = ImageEncoder(tiny_model, progress=False)
    cache = FeatureCache(cache_dir)
    n_cached = len(cache.lookup(paths, encoder.model_.sha256))
    assert 6 <= n_cached < len(paths)
    computed = []
    model_run = ResNetModel.run

    def counting_run(self, name, batch):
        computed.append(len(batch))
        return model_run(self, name, batch)

    monkeypatch.setattr(ResNetModel, "run", counting_run)
    resumed = encoder.encode(paths, cache=cache)
    assert sum(computed) == len(paths) - n_cached
    np.testing.assert_allclose(resumed, encoder.encode(paths), rtol=1e-6)


# ------------------------------------------------------------ model integrity


@pytest.mark.slow
def test_the_shared_model_is_the_published_one(resnet_path):
    """The real file's sha256 equals both the code's constant and the folder's SHA256SUMS."""
    sums = (resnet_path.parent / "SHA256SUMS").read_text().split()
    assert sums[sums.index(DEFAULT_MODEL_NAME) - 1] == DEFAULT_MODEL_SHA256
    assert vision.model.file_sha256(resnet_path) == DEFAULT_MODEL_SHA256


@pytest.mark.slow
def test_a_one_byte_change_to_the_real_model_is_refused(resnet_path, tmp_path, monkeypatch):
    """A copy of the real model with one byte flipped, found at $W2VX_HOME/models: refused.

    The message names the file and the sha256 problem and gives the way out.
    """
    copy = tmp_path / "home" / "models" / DEFAULT_MODEL_NAME
    copy.parent.mkdir(parents=True)
    shutil.copyfile(resnet_path, copy)
    with open(copy, "r+b") as file:
        file.seek(copy.stat().st_size // 2)
        byte = file.read(1)
        file.seek(-1, os.SEEK_CUR)
        file.write(bytes([byte[0] ^ 0x01]))
    monkeypatch.setenv("W2VX_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("W2VX_MODEL", raising=False)
    with pytest.raises(ValueError) as refused:
        load_model()
    message = str(refused.value)
    assert str(copy) in message and "not the published" in message
    assert "W2VX_MODEL" in message and "SHA256SUMS" in message


# -------------------------------------------------------------------- images


def png_claiming(width, height):
    """A ~100-byte PNG whose header announces ``width`` x ``height`` RGB pixels."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def test_a_decompression_bomb_fails_fast_without_allocating(tmp_path):
    """A 100-byte PNG announcing 60000 x 60000 pixels (10 GB decoded): ImageReadError at once."""
    path = tmp_path / "bomb.png"
    path.write_bytes(png_claiming(60_000, 60_000))
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(ImageReadError, match="DecompressionBombError"):
            load_image(str(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 5 and peak < 10 << 20


def test_an_image_within_the_limit_still_loads(tmp_path):
    """Control for the bomb test: the same kind of file at a sane size decodes."""
    path = tmp_path / "small.png"
    Image.new("RGB", (300, 200)).save(path)
    assert load_image(str(path)).size == (300, 200)


def _corrupt(path, how):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if how == "truncated" else b"\0" * 16 + data[16:])


@pytest.mark.slow
def test_a_folder_with_one_percent_corrupt_photos_reports_exactly_those(
    flickr8k_dir, tmp_path, tiny_model
):
    """200 Flickr8k photos, 2 of them damaged (cut in half, header zeroed): 198 encoded,
    exactly the 2 reported, each as an ImageReadError naming its file."""
    sources = sorted((flickr8k_dir / "images").glob("*.jpg"))[:200]
    folder = tmp_path / "photos"
    folder.mkdir()
    paths = []
    for source in sources:
        paths.append(str(folder / source.name))
        shutil.copyfile(source, paths[-1])
    bad = {paths[17]: "truncated", paths[151]: "header"}
    for path, how in bad.items():
        _corrupt(Path(path), how)
    encoder = ImageEncoder(tiny_model, progress=False)
    features, failures = encoder.encode(paths, on_error="skip")
    assert set(failures) == set(bad)
    assert all(isinstance(e, ImageReadError) and e.path in str(e) for e in failures.values())
    assert features.shape == (198, 2048) and np.isfinite(features).all()
    np.testing.assert_allclose(features[0], encoder.encode(paths[:1])[0], rtol=1e-6)


# ------------------------------------------------------------------ numerics

NON_FINITE = [np.nan, np.inf, -np.inf]


@pytest.mark.parametrize("value", NON_FINITE)
def test_keyedvectors_refuse_non_finite_vectors(value):
    """Word vectors entering KeyedVectors: ValueError naming the word."""
    vectors = np.ones((3, 4), np.float32)
    vectors[1, 2] = value
    with pytest.raises(ValueError, match="the vector of 'b' holds NaN or infinity"):
        KeyedVectors(vectors, ["a", "b", "c"])


@pytest.mark.parametrize("value", NON_FINITE)
def test_keyedvectors_load_refuses_a_file_with_non_finite_vectors(tmp_path, value):
    """An .npz whose vectors hold NaN or infinity: ValueError naming the file and word."""
    vectors = np.ones((2, 3), np.float32)
    vectors[0, 0] = value
    path = tmp_path / "bad.npz"
    np.savez(path, format_version=np.array(1), keys=np.array('["a", "b"]'), vectors=vectors)
    with pytest.raises(ValueError, match=rf"{path}: the vector of 'a' holds NaN or infinity"):
        KeyedVectors.load(path)


@pytest.mark.parametrize("value", NON_FINITE)
def test_image_features_entering_retrieval_refuse_non_finite_rows(value):
    """Image features into the retrieval pipeline: ValueError naming the bad row."""
    features = np.ones((4, 8))
    features[2, 5] = value
    for preprocessing in ("hellinger", "l2", "none"):
        with pytest.raises(ValueError, match=r"NaN or infinity in 1 rows \(first: \[2\]\)"):
            prepare_image_features(features, preprocessing)


@pytest.mark.parametrize("value", NON_FINITE)
def test_a_fitted_ridge_projection_refuses_non_finite_queries(value):
    """Queries entering a fitted RidgeProjection (``predict``/``transform``): ValueError.

    (Its ``fit`` inputs are covered by tests/test_ridge.py::test_non_finite_input_is_refused.)
    """
    rng = np.random.default_rng(0)
    model = RidgeProjection(alpha=1.0).fit(rng.standard_normal((20, 3)), rng.standard_normal(20))
    queries = np.ones((2, 3))
    queries[1, 0] = value
    for project in (model.predict, model.transform):
        with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
            project(queries)

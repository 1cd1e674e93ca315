"""Fuzz tests of every reader of untrusted files: bad input is refused, never a crash.

Targets: the word2vec text and binary readers (plain and gzip), ``KeyedVectors.load``
(.npz + JSON), the corpus reader and the Flickr8k caption and split parser.

Each target is fed two kinds of files:

- *mutations*: a valid file written by the project itself, with bytes flipped,
  inserted, deleted or cut off (what a bad download or a full disk does);
- *structure-aware* files: built field by field from hostile pieces (headers
  announcing 10^12 rows, NaN, deep JSON, object arrays, broken UTF-8, ...).

The guarantee checked on every case: the reader either returns a well-formed result
(equal to the original when the file was not damaged) or raises ValueError whose
message names the file and, for the text formats, the line or byte offset.  Any
other exception (UnicodeDecodeError, MemoryError, RecursionError, IndexError, ...)
fails the test, and so does a case that runs longer than hypothesis allows.

Each target runs twice: ``CI`` (150 cases, derandomized) in the default run and
``LONG`` (10,000 cases) under ``pytest -m fuzz``.
"""

import gzip
import io
import json
import re
import unittest.mock
import warnings
import zipfile
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from retrieval.flickr8k import CAPTION_FILE, SPLIT_FILES, Flickr8k
from w2v_scratch import corpus
from w2v_scratch.keyedvectors import KeyedVectors
from w2v_scratch.word2vec_format import key_problem, read_word2vec, write_word2vec

CI = settings(
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
LONG = settings(
    max_examples=10_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
#: Where a text-format error must point.
POSITION = re.compile(r"line \d+|byte offset \d+")


def two_profiles(strategy):
    """Turn ``check(case)`` into a CI test and a 10,000-case ``fuzz`` test of ``strategy``."""

    def make(check):
        quick = CI(given(strategy)(check))
        long = pytest.mark.fuzz(LONG(given(strategy)(check)))
        return quick, long

    return make


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """One folder per module: each case overwrites its file there (no per-case fixture)."""
    return tmp_path_factory.mktemp("fuzz")


# ------------------------------------------------------------------ mutations

#: One edit: (kind, position, payload); positions wrap around the file's length.
EDITS = st.lists(
    st.tuples(
        st.sampled_from(["flip", "insert", "delete", "truncate"]),
        st.integers(0, 1 << 16),
        st.binary(min_size=1, max_size=8),
    ),
    min_size=1,
    max_size=4,
)
#: Half the cases keep the valid file (round trip), half are damaged.
MAYBE_EDITS = st.one_of(st.just([]), EDITS)


def edited(data, edits):
    """``data`` after ``edits``: bit flips, inserted, deleted or cut-off bytes."""
    data = bytearray(data)
    for kind, position, payload in edits:
        at = position % (len(data) + 1)
        if kind == "flip" and at < len(data):
            data[at] ^= 1 << (payload[0] % 8)
        elif kind == "insert":
            data[at:at] = payload
        elif kind == "delete":
            del data[at : at + len(payload)]
        elif kind == "truncate":
            del data[at:]
    return bytes(data)


# ------------------------------------------------------- word2vec text / binary

WORDS = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters=" \t\n\r\f\v"),
    min_size=1,
    max_size=6,
)
FLOATS = st.floats(width=32, allow_nan=False, allow_infinity=False)


@st.composite
def keyed_vectors(draw):
    """Unique valid words and a finite float32 (V, d) matrix, V in 0..5, d in 1..4."""
    keys = draw(st.lists(WORDS, max_size=5, unique=True))
    dim = draw(st.integers(1, 4))
    rows = draw(st.lists(st.lists(FLOATS, min_size=dim, max_size=dim),
                         min_size=len(keys), max_size=len(keys)))
    return keys, np.array(rows, dtype=np.float32).reshape(len(keys), dim)


def word2vec_cases():
    """(keys and vectors, gzip or not, edits) of a file that the project's writer makes."""
    return st.tuples(keyed_vectors(), st.booleans(), MAYBE_EDITS)


HEADER_NUMBERS = st.sampled_from(["0", "1", "2", "3", "10", "1000000000000", "-1", "x", "2.5"])
BAD_VALUES = st.sampled_from(
    ["nan", "inf", "-inf", "1e39", "", "1,5", "--1", "0x10", "1_0", "\u0661"]
)


def header(n_rows, dim):
    """``"V d"``: mostly the true counts, sometimes hostile ones (10^12, -1, 2.5, ...)."""
    return st.tuples(
        st.one_of(st.just(str(n_rows)), HEADER_NUMBERS),
        st.one_of(st.just(str(dim)), HEADER_NUMBERS),
    ).map(" ".join)


@st.composite
def structured_text_files(draw):
    """A text file built line by line from hostile headers, words, values and line ends."""
    n_rows, dim = draw(st.integers(0, 5)), draw(st.integers(1, 3))
    lines = [draw(header(n_rows, dim))]
    for _ in range(n_rows):
        word = draw(st.one_of(WORDS, st.sampled_from(["", "a b", "dup", "a\tb", "\x00"])))
        n_values = draw(st.one_of(st.just(dim), st.integers(0, 4)))
        values = draw(st.lists(FLOATS.map(repr), min_size=n_values, max_size=n_values))
        if values and draw(st.booleans()):  # one hostile value
            values[draw(st.integers(0, len(values) - 1))] = draw(BAD_VALUES)
        lines.append(" ".join([word, *values]) + draw(st.sampled_from(["", " ", "\r", "  "])))
    text = "\n".join(lines) + draw(st.sampled_from(["\n", "", "\n\n", "\n \n"]))
    data = text.encode("utf-8")
    return edited(data, draw(st.one_of(st.just([]), st.just([("insert", 1 << 16, b"\xff")]),
                                       EDITS)))


@st.composite
def structured_binary_files(draw):
    """A binary file from hostile headers, raw word bytes and raw float bytes."""
    n_rows, dim = draw(st.integers(0, 4)), draw(st.integers(1, 3))
    rows = [(draw(header(n_rows, dim)) + "\n").encode()]
    for _ in range(n_rows):
        word = draw(st.one_of(WORDS.map(str.encode), st.binary(max_size=6)))
        n_bytes = draw(st.one_of(st.just(4 * dim), st.integers(0, 16)))
        end = draw(st.sampled_from([b"\n", b""]))
        rows.append(word + b" " + draw(st.binary(min_size=n_bytes, max_size=n_bytes)) + end)
    data = b"".join(rows)
    gz = draw(st.booleans())
    return ("case.bin.gz" if gz else "case.bin"), (gzip.compress(data, mtime=0) if gz else data)


def assert_reads_or_refuses(path, binary, original=None):
    """The reader's contract on any file; ``original`` (keys, vectors) if the file is valid."""
    try:
        keys, vectors = read_word2vec(path, binary=binary)
    except ValueError as error:
        event("refused")
        assert original is None, f"a valid file was refused: {error}"
        assert str(path) in str(error) and POSITION.search(str(error)), str(error)
        return
    event("round trip" if original is not None else "damaged but readable")
    assert vectors.dtype == np.float32 and vectors.ndim == 2 and len(vectors) == len(keys)
    assert np.isfinite(vectors).all()
    assert len(set(keys)) == len(keys) and not any(key_problem(key) for key in keys)
    if original is not None:
        assert keys == original[0]
        np.testing.assert_array_equal(vectors.view(np.uint32), original[1].view(np.uint32))


def _check_edited_file(workdir, case, binary):
    (keys, vectors), gz, edits = case
    path = workdir / f"case.{'bin' if binary else 'txt'}{'.gz' if gz else ''}"
    write_word2vec(path, keys, vectors, binary=binary)
    valid = path.read_bytes()
    path.write_bytes(edited(valid, edits))
    undamaged = path.read_bytes() == valid
    assert_reads_or_refuses(path, binary, (keys, vectors) if undamaged else None)


def check_text_reader_mutations(workdir, case):
    """Text reader on its own files, damaged or not (round trip of the undamaged ones)."""
    _check_edited_file(workdir, case, binary=False)


def check_binary_reader_mutations(workdir, case):
    """Binary reader on its own files, damaged or not (round trip of the undamaged ones)."""
    _check_edited_file(workdir, case, binary=True)


def check_text_reader_structured(workdir, data):
    """Text reader on hostile hand-built files: a result or a ValueError with a line."""
    path = workdir / "structured.txt"
    path.write_bytes(data)
    assert_reads_or_refuses(path, binary=False)


def check_binary_reader_structured(workdir, case):
    """Binary reader on hostile hand-built files (header counts up to 10^12 rows)."""
    name, data = case
    path = workdir / name
    path.write_bytes(data)
    assert_reads_or_refuses(path, binary=True)


test_text_reader_mutations, test_text_reader_mutations_fuzz = two_profiles(
    word2vec_cases()
)(check_text_reader_mutations)
test_binary_reader_mutations, test_binary_reader_mutations_fuzz = two_profiles(
    word2vec_cases()
)(check_binary_reader_mutations)
test_text_reader_structured, test_text_reader_structured_fuzz = two_profiles(
    structured_text_files()
)(check_text_reader_structured)
test_binary_reader_structured, test_binary_reader_structured_fuzz = two_profiles(
    structured_binary_files()
)(check_binary_reader_structured)


# ------------------------------------------------------------ KeyedVectors .npz


def npz_bytes(members, allow_pickle=False):
    """An .npz archive of ``members`` (name -> array) as bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, array in members.items():
            member = io.BytesIO()
            np.save(member, array, allow_pickle=allow_pickle)
            archive.writestr(f"{name}.npy", member.getvalue())
    return buffer.getvalue()


def npz_cases():
    """(keys and vectors, with counts or not, edits) of a file ``KeyedVectors.save`` makes."""
    return st.tuples(keyed_vectors(), st.booleans(), MAYBE_EDITS)


JSON_KEYS = st.one_of(
    st.lists(WORDS, max_size=4, unique=True).map(json.dumps),
    st.recursive(st.none() | st.integers() | st.text(max_size=3), st.lists, max_leaves=5).map(
        json.dumps
    ),
    st.sampled_from(['["a", "a"]', '["a b"]', '[""]', "[", "[" * 5_000, '{"a": 1}', "\ud800"]),
)
ARRAYS = st.sampled_from([
    np.zeros((2, 3), np.float32),
    np.zeros((1, 2), np.float32),
    np.zeros((0, 2), np.float32),
    np.zeros((2, 0), np.float32),
    np.zeros((2, 3), np.float64),
    np.array([[np.nan, 1.0]], np.float32),
    np.array([[np.inf, 1.0]], np.float32),
    np.zeros(3, np.float32),
    np.array(1),
    np.array(2),
    np.array([1, 2]),
    np.array([-1, 2]),
    np.array([1.5, 2.0]),
    np.array("text"),
    np.array(["a", "b"]),
    np.array([b"a", b"b"]),
    np.array([{"object": 1}], dtype=object),
])


@st.composite
def structured_npz_files(draw):
    """An .npz with the right member names but any contents, or members missing or extra."""
    members = {
        "format_version": draw(st.one_of(st.just(np.array(1)), ARRAYS)),
        "keys": draw(st.one_of(st.just(np.array('["a", "b"]')), JSON_KEYS.map(np.array), ARRAYS)),
        "vectors": draw(st.one_of(st.just(np.ones((2, 3), np.float32)), ARRAYS)),
    }
    if draw(st.booleans()):
        members["counts"] = draw(ARRAYS)
    for name in draw(st.lists(st.sampled_from(sorted(members)), max_size=2, unique=True)):
        del members[name]
    if draw(st.booleans()):
        members["extra"] = draw(ARRAYS)
    return npz_bytes(members, allow_pickle=True)


def assert_loads_or_refuses(path, original=None):
    """``KeyedVectors.load``'s contract; ``original`` (keys, vectors, counts) if valid."""
    try:
        kv = KeyedVectors.load(path)
    except ValueError as error:
        event("refused")
        assert original is None, f"a valid file was refused: {error}"
        assert str(path) in str(error), str(error)
        return
    event("round trip" if original is not None else "damaged but readable")
    assert kv.vectors.dtype == np.float32 and kv.vectors.shape == (len(kv), kv.vector_size)
    assert np.isfinite(kv.vectors).all()
    assert not any(key_problem(key) for key in kv.index_to_key)
    if original is not None:
        keys, vectors, counts = original
        assert kv.index_to_key == keys
        np.testing.assert_array_equal(kv.vectors.view(np.uint32), vectors.view(np.uint32))
        assert (kv.counts is None) == (counts is None)
        if counts is not None:
            np.testing.assert_array_equal(kv.counts, counts)


def check_npz_mutations(workdir, case):
    """``KeyedVectors.load`` on saved archives, damaged or not (round trip if not)."""
    (keys, vectors), with_counts, edits = case
    counts = np.arange(len(keys), dtype=np.int64) if with_counts else None
    path = workdir / "case.npz"
    KeyedVectors(vectors, keys, counts=counts).save(path)
    valid = path.read_bytes()
    path.write_bytes(edited(valid, edits))
    undamaged = path.read_bytes() == valid
    assert_loads_or_refuses(path, (keys, vectors, counts) if undamaged else None)


def check_npz_structured(workdir, data):
    """``KeyedVectors.load`` on archives of hostile members (objects, NaN, deep JSON, ...)."""
    path = workdir / "structured.npz"
    path.write_bytes(data)
    assert_loads_or_refuses(path)


test_npz_mutations, test_npz_mutations_fuzz = two_profiles(npz_cases())(
    check_npz_mutations
)
test_npz_structured, test_npz_structured_fuzz = two_profiles(structured_npz_files())(
    check_npz_structured
)


# ----------------------------------------------------------------------- corpus

CORPUS_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from("ab é東\n \t\r\x0b\x0c\x1c\x85\u2028\u3000"),
        st.characters(blacklist_categories=["Cs"]),
    ),
    max_size=60,
)


@st.composite
def corpus_files(draw):
    """(file bytes, sentence cap, read chunk size): small caps and chunks reach every seam."""
    data = edited(draw(CORPUS_TEXT).encode("utf-8"), draw(MAYBE_EDITS))
    if draw(st.booleans()):
        data = edited(gzip.compress(data, mtime=0), draw(MAYBE_EDITS))
    return data, draw(st.integers(1, 4)), draw(st.integers(1, 9))


def expected_sentences(text, cap):
    """What gensim's LineSentence gives: each line's tokens, cut every ``cap`` tokens."""
    sentences = []
    for line in text.split("\n"):
        tokens = line.split()
        sentences += [tokens[i : i + cap] for i in range(0, len(tokens), cap)]
    return sentences


def check_corpus_reader(workdir, case):
    """``read_corpus`` of a file equals a whole-file split, or names the bad byte exactly.

    Text: the sentences of :func:`expected_sentences` (the ids map back to them).
    Not UTF-8: ValueError naming the file, the line and the byte offset of the first bad
    byte, as ``bytes.decode`` finds them.  Damaged gzip: ValueError naming the file.
    """
    data, cap, chunk_bytes = case
    path = workdir / "corpus.txt"
    path.write_bytes(data)
    try:
        raw = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    except (OSError, EOFError, zlib.error):
        raw = None
    with (
        unittest.mock.patch.object(corpus, "MAX_SENTENCE_LENGTH", cap),
        unittest.mock.patch.object(corpus, "_CHUNK_BYTES", chunk_bytes),
    ):
        try:
            encoded = corpus.read_corpus(path)
        except ValueError as error:
            event("refused")
            message = str(error)
            assert str(path) in message, message
            if raw is not None:
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError as truth:
                    line = raw[: truth.start].count(b"\n") + 1
                    assert f"line {line}, byte offset {truth.start}:" in message, message
                else:
                    raise AssertionError(f"valid UTF-8 refused: {message}") from None
            return
    event("read")
    assert raw is not None, "a damaged gzip file was read without error"
    words = np.array(encoded.words, dtype=object)
    got = [list(words[encoded.ids[a:b]]) for a, b in zip(encoded.bounds, encoded.bounds[1:])]
    assert got == expected_sentences(raw.decode("utf-8"), cap)


test_corpus_reader, test_corpus_reader_fuzz = two_profiles(corpus_files())(check_corpus_reader)


# -------------------------------------------------------------------- Flickr8k

IMAGES = [f"{n}_a.jpg" for n in range(6)]
CAPTIONS = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\n\r"),
    min_size=1,
    max_size=12,
).map(str.strip).filter(bool)


@st.composite
def flickr8k_folders(draw):
    """(caption file, {split: split file}, expected captions or None), maybe damaged.

    Every image of a split gets 5 captions; images are shared out between the splits.
    """
    owners = draw(st.lists(st.sampled_from(["train", "dev", "test", None]),
                           min_size=len(IMAGES), max_size=len(IMAGES)))
    captions = {image: draw(st.lists(CAPTIONS, min_size=5, max_size=5)) for image in IMAGES}
    caption_text = "".join(
        f"{image}#{k}\t{caption}\n"
        for image in IMAGES
        for k, caption in enumerate(captions[image])
    ).encode()
    splits = {
        name: "".join(f"{image}\n" for image, owner in zip(IMAGES, owners) if owner == name)
        for name in SPLIT_FILES
    }
    splits = {name: text.encode() for name, text in splits.items()}
    damaged = draw(st.sampled_from([None, CAPTION_FILE, *SPLIT_FILES]))
    if damaged == CAPTION_FILE:
        caption_text = edited(caption_text, draw(EDITS))
    elif damaged is not None:
        splits[damaged] = edited(splits[damaged], draw(EDITS))
    expected = {
        name: [c for image, owner in zip(IMAGES, owners) if owner == name for c in captions[image]]
        for name in SPLIT_FILES
    }
    return caption_text, splits, (expected if damaged is None else None)


@pytest.fixture(scope="module")
def flickr8k_root(workdir):
    """A Flickr8k folder whose images/ holds empty files named like :data:`IMAGES`."""
    root = workdir / "flickr8k"
    (root / "images").mkdir(parents=True)
    for image in IMAGES:
        (root / "images" / image).touch()
    return root


def check_flickr8k_parser(flickr8k_root, case):
    """``Flickr8k(root)`` reads its captions back, or refuses with file and line named."""
    caption_text, splits, expected = case
    (flickr8k_root / CAPTION_FILE).write_bytes(caption_text)
    for name, data in splits.items():
        (flickr8k_root / SPLIT_FILES[name]).write_bytes(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dataset = Flickr8k(flickr8k_root)
    except ValueError as error:
        event("refused")
        assert expected is None, f"a valid folder was refused: {error}"
        assert re.search(rf"{re.escape(str(flickr8k_root))}/[\w.]+:\d+: ", str(error)), str(error)
        return
    event("read back" if expected is not None else "damaged but readable")
    for name in SPLIT_FILES:
        split = dataset.split(name)
        assert len(split.captions) == 5 * len(split) == len(split.caption_image)
        if expected is not None:
            assert split.captions == expected[name]


test_flickr8k_parser, test_flickr8k_parser_fuzz = two_profiles(flickr8k_folders())(
    check_flickr8k_parser
)

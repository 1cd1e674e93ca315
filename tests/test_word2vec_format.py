"""The word2vec file format: exact round trips, interop with gensim, and bad files.

gensim (a dev dependency) is the independent truth for the format: it must read
what we write, and we must read what it writes, to the bit.
"""

import gzip
import os
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from w2v_scratch.keyedvectors import KeyedVectors
from w2v_scratch.word2vec_format import read_word2vec, write_word2vec

gensim_models = pytest.importorskip("gensim.models")

KEYS = ["the", "café", "naïve", "東京", "Straße", "x", "don't", "a_b"]
FORMATS = [
    pytest.param(False, "vecs.txt", id="text"),
    pytest.param(True, "vecs.bin", id="binary"),
    pytest.param(False, "vecs.txt.gz", id="text-gz"),
    pytest.param(True, "vecs.bin.gz", id="binary-gz"),
]


@pytest.fixture
def awkward_kv():
    """Values that are hard to round-trip: tiny, huge, subnormal, negative zero."""
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((len(KEYS), 5)).astype(np.float32)
    vectors *= np.float32(10.0) ** rng.integers(-30, 30, size=vectors.shape)
    vectors[0] = [np.float32(1e-45), -0.0, np.finfo(np.float32).max, np.float32(0.1), 1.0]
    return KeyedVectors(vectors, KEYS)


def _save_ours(path, vectors, binary):
    KeyedVectors(vectors, KEYS).save_word2vec_format(path, binary=binary)


def _save_gensim(path, vectors, binary):
    kv = gensim_models.KeyedVectors(vectors.shape[1])
    kv.add_vectors(KEYS, vectors)
    kv.save_word2vec_format(str(path), binary=binary)


def _load_ours(path, binary, limit=None):
    kv = KeyedVectors.load_word2vec_format(path, binary=binary, limit=limit)
    return kv.index_to_key, kv.vectors


def _load_gensim(path, binary, limit=None):
    kv = gensim_models.KeyedVectors.load_word2vec_format(str(path), binary=binary, limit=limit)
    return kv.index_to_key, kv.vectors


# ------------------------------------------------------------------- round trips


@pytest.mark.parametrize(("binary", "name"), FORMATS)
@pytest.mark.parametrize(
    ("save", "load"),
    [(_save_ours, _load_ours), (_save_ours, _load_gensim), (_save_gensim, _load_ours)],
    ids=["ours-to-ours", "ours-to-gensim", "gensim-to-ours"],
)
def test_files_round_trip_exactly(tmp_path, awkward_kv, save, load, binary, name):
    save(tmp_path / name, awkward_kv.vectors, binary)
    keys, vectors = load(tmp_path / name, binary)
    assert keys == KEYS
    assert np.array_equal(vectors, awkward_kv.vectors)


@pytest.mark.parametrize(("binary", "name"), FORMATS)
def test_limit_reads_the_first_vectors_as_gensim(tmp_path, awkward_kv, binary, name):
    _save_ours(tmp_path / name, awkward_kv.vectors, binary)
    our_keys, our_vectors = _load_ours(tmp_path / name, binary, limit=3)
    their_keys, their_vectors = _load_gensim(tmp_path / name, binary, limit=3)
    assert our_keys == their_keys == KEYS[:3]
    assert np.array_equal(our_vectors, their_vectors)


def test_text_rows_are_nine_significant_digits(tmp_path):
    kv = KeyedVectors(np.array([[0.1, -2.5]], dtype=np.float32), ["w"])
    kv.save_word2vec_format(tmp_path / "v.txt")
    assert (tmp_path / "v.txt").read_text() == "1 2\nw 0.100000001 -2.5\n"


def test_binary_rows_are_little_endian_float32_then_newline(tmp_path):
    kv = KeyedVectors(np.array([[1.0, -2.0]], dtype=np.float32), ["w"])
    kv.save_word2vec_format(tmp_path / "v.bin", binary=True)
    assert (tmp_path / "v.bin").read_bytes() == b"1 2\nw " + struct.pack("<2f", 1, -2) + b"\n"


_WORDS = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters=" \t\n\r\v\f"),
    min_size=1,
    max_size=8,
)


@settings(max_examples=25, deadline=None)
@given(
    keys=st.lists(_WORDS, min_size=1, max_size=6, unique=True),
    binary=st.booleans(),
    data=st.data(),
)
def test_any_vectors_round_trip_exactly(tmp_path_factory, keys, binary, data):
    finite = hnp.from_dtype(np.dtype(np.float32), allow_nan=False, allow_infinity=False)
    vectors = data.draw(hnp.arrays(np.float32, (len(keys), 3), elements=finite))
    path = tmp_path_factory.mktemp("prop") / "v.w2v"
    write_word2vec(path, keys, vectors, binary=binary)
    read_keys, read_vectors = read_word2vec(path, binary=binary)
    assert read_keys == keys
    assert np.array_equal(read_vectors, vectors)


# --------------------------------------------------------------- safe writing


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("old content")
    with pytest.raises(ValueError, match="whitespace"):
        write_word2vec(path, ["good", "bad key"], np.zeros((2, 2), dtype=np.float32))
    assert path.read_text() == "old content"
    assert os.listdir(tmp_path) == ["v.txt"]


def test_written_files_follow_the_umask(tmp_path):
    umask = os.umask(0o022)
    try:
        write_word2vec(tmp_path / "v.txt", ["w"], np.zeros((1, 2), dtype=np.float32))
    finally:
        os.umask(umask)
    assert (tmp_path / "v.txt").stat().st_mode & 0o777 == 0o644


# ------------------------------------------------------------------ bad files

BAD_TEXT_FILES = {
    "not a header": (b"hello world\n", "line 1: expected a 'V d' header"),
    "empty file": (b"", "line 1: expected a 'V d' header"),
    "negative size": (b"-1 2\n", "line 1: expected a 'V d' header"),
    "zero dimensions": (b"1 0\nw\n", "line 1: the header's vector size is 0"),
    "fewer rows": (b"3 2\na 1 2\nb 3 4\n", "line 4: the file ends after 2 of the 3 vectors"),
    "more rows": (b"1 2\na 1 2\n\nb 3 4\n", "line 4: more rows than the 1"),
    "too few values": (b"2 3\na 1 2 3\nb 1 2\n", "line 3: expected a word and 3 values, found 2"),
    "too many values": (b"1 2\na 1 2 3\n", "line 2: expected a word and 2 values, found 3"),
    "truncated row": (b"2 2\na 1 2\nb 3", "line 3: expected a word and 2 values, found 1"),
    "not a number": (b"2 2\na 1 2\nb 3 x4\n", "line 3: value 'x4' of 'b' is not a number"),
    "not finite": (b"1 2\na nan 2\n", "line 2: the vector of 'a' holds NaN or infinity"),
    "overflow": (b"1 2\na 1e39 2\n", "line 2: the vector of 'a' holds NaN or infinity"),
    "not UTF-8": (b"1 2\n\xff\xfe 1 2\n", "line 2: not UTF-8"),
    "duplicate": (b"2 2\na 1 2\na 3 4\n", "line 3: duplicate word 'a' (first at line 2)"),
    "empty word": (b"1 2\n 1 2\n", "line 2: empty key"),
    "tab in word": (b"1 2\na\tb 1 2\n", "line 2: key 'a\\tb' contains whitespace"),
}


def test_trailing_blank_lines_and_crlf_are_accepted(tmp_path):
    path = tmp_path / "ok.txt"
    path.write_bytes(b"2 2\r\na 1 2 \r\nb 3 4\r\n\n\n")
    kv = KeyedVectors.load_word2vec_format(path)
    assert kv.index_to_key == ["a", "b"]
    assert np.array_equal(kv.vectors, [[1, 2], [3, 4]])


def _binary_row(word, values):
    return word + b" " + struct.pack(f"<{len(values)}f", *values)


HEADER = b"3 2\n"  # 4 bytes
ROWS = [_binary_row(b"ab", [1, 2]), _binary_row(b"c", [3, 4]), _binary_row(b"d", [5, 6])]
ROW_STARTS = [4, 4 + 11 + 1, 4 + 11 + 1 + 10 + 1]  # each row is followed by b"\n"
GOOD_BINARY = HEADER + b"\n".join(ROWS) + b"\n"

BAD_BINARY_FILES = {
    "truncated vector": (
        GOOD_BINARY[:-5],
        f"byte offset 4: the header announces 3 vectors of 2 float32 values, which take at least"
        f" 30 bytes, but only {len(GOOD_BINARY) - 9} bytes follow the header",
    ),
    "truncated last vector": (
        GOOD_BINARY[:-2],
        f"byte offset {ROW_STARTS[2]}: the file ends inside the vector of 'd'",
    ),
    "header larger than file": (
        b"1000000000 300\n" + ROWS[0],
        "byte offset 15: the header announces 1000000000 vectors",
    ),
    "more data": (GOOD_BINARY + b"e", f"byte offset {len(GOOD_BINARY)}: more data than the 3"),
    "not UTF-8": (
        HEADER + b"\n".join([ROWS[0], _binary_row(b"\xff", [3, 4]), ROWS[2]]) + b"\n",
        f"byte offset {ROW_STARTS[1]}: word not UTF-8",
    ),
    "duplicate": (
        HEADER + b"\n".join([ROWS[0], ROWS[1], _binary_row(b"c", [5, 6])]) + b"\n",
        f"byte offset {ROW_STARTS[2]}: duplicate word 'c' (first at byte offset {ROW_STARTS[1]})",
    ),
    "not finite": (
        HEADER + b"\n".join([ROWS[0], _binary_row(b"c", [3, float("inf")]), ROWS[2]]) + b"\n",
        f"byte offset {ROW_STARTS[1]}: the vector of 'c' holds NaN or infinity",
    ),
    "no space": (b"1 2\n" + b"w" * 20_000, "byte offset 4: no space within 10000 bytes"),
    "no header newline": (b"3 2", "line 1: expected a 'V d' header"),
}


BAD_FILES = [
    *(
        pytest.param(False, "bad.txt", content, message, id=f"text-{case}")
        for case, (content, message) in BAD_TEXT_FILES.items()
    ),
    *(
        pytest.param(True, "bad.bin", content, message, id=f"binary-{case}")
        for case, (content, message) in BAD_BINARY_FILES.items()
    ),
    # A .gz size cannot be checked up front: the short row is found when read.
    pytest.param(
        False,
        "bad.txt.gz",
        gzip.compress(b"2 2\na 1 2\n"),
        "line 3: the file ends after 1 of the 2",
        id="text-gz-short",
    ),
    pytest.param(
        True,
        "bad.bin.gz",
        gzip.compress(GOOD_BINARY[:-5]),
        f"byte offset {ROW_STARTS[2]}: the file ends inside",
        id="binary-gz-short",
    ),
]


@pytest.mark.parametrize(("binary", "name", "content", "message"), BAD_FILES)
def test_bad_files_name_the_line_or_byte_offset_and_cause(tmp_path, binary, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValueError) as caught:
        KeyedVectors.load_word2vec_format(path, binary=binary)
    assert str(caught.value).startswith(f"{path}: {message}")


def test_good_binary_fixture_is_valid(tmp_path):
    """The bad cases above are mutations of a file that does load."""
    path = tmp_path / "good.bin"
    path.write_bytes(GOOD_BINARY)
    kv = KeyedVectors.load_word2vec_format(path, binary=True)
    assert kv.index_to_key == ["ab", "c", "d"]
    assert np.array_equal(kv.vectors, [[1, 2], [3, 4], [5, 6]])


@pytest.mark.parametrize(("binary", "where"), [(False, "line 3"), (True, "byte offset 409")])
def test_a_cut_gzip_stream_names_where_it_ends(tmp_path, binary, where):
    """Cut in the middle: in row 2, which is line 3 or starts at byte 6 + 403."""
    kv = KeyedVectors(np.arange(300, dtype=np.float32).reshape(3, 100), ["a", "b", "c"])
    kv.save_word2vec_format(tmp_path / "v.gz", binary=binary)
    compressed = (tmp_path / "v.gz").read_bytes()
    (tmp_path / "v.gz").write_bytes(compressed[: len(compressed) // 2])
    with pytest.raises(ValueError, match=f"{where}: Compressed file ended"):
        KeyedVectors.load_word2vec_format(tmp_path / "v.gz", binary=binary)


def test_gzip_is_recognised_by_content_not_by_name(tmp_path):
    (tmp_path / "v.txt.gz").write_bytes(b"1 2\na 1 2\n")
    kv = KeyedVectors.load_word2vec_format(tmp_path / "v.txt.gz")
    assert kv.index_to_key == ["a"] and kv.vectors.tolist() == [[1.0, 2.0]]

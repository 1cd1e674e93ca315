"""KeyedVectors: the same answers as gensim on the same vectors, and safe storage.

The independent truth is gensim's KeyedVectors (a dev dependency) built from the
very same matrix; our class never imports gensim.  The analogy and word-pair
benchmarks are tested in ``tests/test_evaluation.py``.
"""

import json
import time
from pathlib import Path

import numpy as np
import pytest

from w2v_scratch.keyedvectors import KeyedVectors

gensim_models = pytest.importorskip("gensim.models")

GENSIM_DATA = Path(gensim_models.__file__).parent.parent / "test" / "test_data"
ANALOGIES = GENSIM_DATA / "questions-words.txt"
DIM = 24


def _random_vocabulary(seed=0):
    """Keys and random vectors: every word of Google's analogy questions and fillers, shuffled."""
    rng = np.random.default_rng(seed)
    lines = [line for line in ANALOGIES.read_text().splitlines() if not line.startswith(":")]
    words = [word for line in lines for word in line.split()]
    keys = list(dict.fromkeys(words + [f"filler{i}" for i in range(300)]))
    keys = [keys[i] for i in rng.permutation(len(keys))]
    return keys, rng.standard_normal((len(keys), DIM)).astype(np.float32)


@pytest.fixture(scope="module")
def pair():
    """(ours, gensim's) over the same random vectors."""
    keys, vectors = _random_vocabulary()
    theirs = gensim_models.KeyedVectors(DIM)
    theirs.add_vectors(keys, vectors)
    return KeyedVectors(vectors, keys), theirs


def _assert_same_ranking(ours, theirs):
    assert [word for word, _ in ours] == [word for word, _ in theirs]
    assert np.allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)


# ------------------------------------------------------------- construction


def test_constructor_rejects_a_repeated_key():
    with pytest.raises(ValueError, match=r"index_to_key\[2\]: 'a' repeats index_to_key\[0\]"):
        KeyedVectors(np.zeros((3, 2), dtype=np.float32), ["a", "b", "a"])


@pytest.mark.parametrize(
    ("keys", "message"),
    [(["a", ""], "empty key"), (["a b", "c"], "contains whitespace"), (["a", 3], "not a str")],
)
def test_constructor_rejects_keys_the_format_cannot_hold(keys, message):
    with pytest.raises(ValueError, match=message):
        KeyedVectors(np.zeros((2, 2), dtype=np.float32), keys)


def test_constructor_names_the_first_word_with_a_non_finite_vector():
    vectors = np.zeros((3, 2), dtype=np.float32)
    vectors[1, 1] = np.nan
    vectors[2, 0] = np.inf
    with pytest.raises(ValueError, match="'b' holds NaN or infinity"):
        KeyedVectors(vectors, ["a", "b", "c"])


@pytest.mark.parametrize("shape", [(3,), (2, 2), (3, 0)])
def test_constructor_rejects_shapes_that_do_not_fit_the_keys(shape):
    with pytest.raises(ValueError, match="shape"):
        KeyedVectors(np.zeros(shape, dtype=np.float32), ["a", "b", "c"])


def test_float32_vectors_are_shared_not_copied():
    """The trainer writes into the array it passed in; the vectors must see it."""
    vectors = np.zeros((2, 3), dtype=np.float32)
    kv = KeyedVectors(vectors, ["a", "b"])
    vectors[0, 0] = 5.0
    assert kv["a"][0] == 5.0


def test_lookup_methods():
    vectors = np.arange(6, dtype=np.float32).reshape(3, 2)
    kv = KeyedVectors(vectors, ["a", "b", "c"], counts=[30, 20, 10])
    assert (len(kv), kv.vector_size, kv.get_index("c")) == (3, 2, 2)
    assert "b" in kv and "z" not in kv
    assert kv.key_to_index == {"a": 0, "b": 1, "c": 2}
    assert np.array_equal(kv["b"], [2, 3])
    assert np.array_equal(kv[["c", "a"]], [[4, 5], [0, 1]])
    assert kv[[]].shape == (0, 2)
    assert np.allclose(kv.get_vector("b", norm=True), np.array([2, 3]) / np.sqrt(13))
    assert kv.get_vecattr("b", "count") == 20
    kv.get_vector("a")[0] = 99  # a copy: the stored vector is unchanged
    assert kv["a"][0] == 0


def test_zero_vectors_normalise_to_zero_and_the_cache_follows_new_vectors():
    kv = KeyedVectors(np.array([[0, 0], [3, 4]], dtype=np.float32), ["zero", "b"])
    assert np.allclose(kv.get_normed_vectors(), [[0, 0], [0.6, 0.8]])  # no NaN
    kv.vectors = np.array([[1, 0], [0, 2]], dtype=np.float32)
    assert np.array_equal(kv.get_normed_vectors(), [[1, 0], [0, 1]])
    kv.vectors[1] = [5, 0]
    kv.fill_norms(force=True)
    assert np.array_equal(kv.get_normed_vectors(), [[1, 0], [1, 0]])


def test_unknown_word_error_names_the_word_and_a_close_match(pair):
    ours, _ = pair
    with pytest.raises(KeyError) as caught:
        ours.most_similar("Athnes")
    message = str(caught.value)
    assert "'Athnes' is not in the vocabulary" in message
    assert "'Athens'" in message


def test_close_matches_stay_fast_on_a_large_vocabulary():
    rng = np.random.default_rng(3)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    keys = list(dict.fromkeys("".join(rng.choice(letters, 8)) for _ in range(70_000)))
    keys = ["s" + key for key in keys]  # every word shares the first letter: the worst case
    kv = KeyedVectors(np.zeros((len(keys), 1), dtype=np.float32), keys)
    unknown = keys[100] + "x"  # a frequent word, so it is in the pool compared
    start = time.perf_counter()
    with pytest.raises(KeyError) as caught:
        kv.get_index(unknown)
    message = str(caught.value)  # the close matches are looked up here
    assert time.perf_counter() - start < 0.25
    assert f"close matches: {keys[100]!r}" in message


# ---------------------------------------------------- similarities vs gensim


@pytest.mark.parametrize(
    "query",
    [
        {"positive": "Athens"},
        {"positive": ["Greece", "Baghdad"], "negative": ["Athens"]},
        {"positive": ["king", "woman"], "negative": ["man"], "topn": 4},
        {"negative": ["king"], "topn": 3},
        {"positive": ["brother", "sister"], "restrict_vocab": 500},
        {"positive": ["filler0", "Paris"]},
        {"positive": ["Paris", "Paris"], "negative": ["Paris"]},
    ],
)
def test_most_similar_matches_gensim(pair, query):
    ours, theirs = pair
    _assert_same_ranking(ours.most_similar(**query), theirs.most_similar(**query))


def test_most_similar_accepts_raw_vectors_as_gensim(pair):
    ours, theirs = pair
    raw = 3 * ours["king"] - ours["man"]
    mixed = {"positive": [raw, "woman"], "negative": ["queen"], "topn": 5}
    _assert_same_ranking(ours.most_similar(**mixed), theirs.most_similar(**mixed))
    _assert_same_ranking(ours.similar_by_vector(raw), theirs.similar_by_vector(raw))


def test_most_similar_without_topn_returns_every_cosine(pair):
    ours, theirs = pair
    all_cosines = ours.most_similar("man", topn=None)
    assert np.allclose(all_cosines, theirs.most_similar("man", topn=None), rtol=0, atol=1e-6)
    assert ours.most_similar("man", topn=0) == []


@pytest.mark.parametrize(
    "query",
    [
        {"positive": ["Greece", "Baghdad"], "negative": ["Athens"]},
        {"positive": "walking", "topn": 5},
        {"positive": ["he", "she", "boy"], "negative": ["girl", "man"]},
    ],
)
def test_most_similar_cosmul_matches_gensim(pair, query):
    ours, theirs = pair
    _assert_same_ranking(ours.most_similar_cosmul(**query), theirs.most_similar_cosmul(**query))


def test_similarity_and_doesnt_match_match_gensim(pair):
    ours, theirs = pair
    for a, b in [("king", "queen"), ("Athens", "Greece"), ("filler0", "man"), ("he", "he")]:
        assert ours.similarity(a, b) == pytest.approx(theirs.similarity(a, b), abs=1e-6)
    for words in [["Athens", "Greece", "Baghdad", "Iraq", "walking"], ["he", "she", "it", "nope"]]:
        assert ours.doesnt_match(words) == theirs.doesnt_match(words)


# ------------------------------------------------------------------ save / load


def test_save_and_load_round_trip_exactly(tmp_path, pair):
    ours, _ = pair
    counts = np.arange(len(ours), 0, -1)
    original = KeyedVectors(ours.vectors, ours.index_to_key, counts=counts)
    original.save(tmp_path / "kv.npz")
    loaded = KeyedVectors.load(tmp_path / "kv.npz")
    assert loaded.index_to_key == original.index_to_key
    assert np.array_equal(loaded.vectors, original.vectors)
    assert np.array_equal(loaded.counts, counts)
    with np.load(tmp_path / "kv.npz", allow_pickle=False) as archive:
        assert set(archive.files) == {"format_version", "keys", "vectors", "counts"}


def test_save_without_counts(tmp_path):
    KeyedVectors(np.ones((1, 2), dtype=np.float32), ["w"]).save(tmp_path / "kv.npz")
    assert KeyedVectors.load(tmp_path / "kv.npz").counts is None


def _members(**changes):
    members = {
        "format_version": np.array(1),
        "keys": np.array(json.dumps(["a", "b"])),
        "vectors": np.ones((2, 3), dtype=np.float32),
    }
    members.update(changes)
    return {name: value for name, value in members.items() if value is not None}


BAD_NPZ = {
    "object array": (_members(keys=np.array(["a", "b"], dtype=object)), "Object arrays"),
    "missing member": (_members(vectors=None), "missing member(s) ['vectors']"),
    "wrong version": (_members(format_version=np.array(2)), "format_version"),
    "keys not a string": (_members(keys=np.array(["a", "b"])), "keys must be one unicode"),
    "keys not JSON": (_members(keys=np.array("a b")), "Expecting value"),
    "too few keys": (_members(keys=np.array('["a"]')), "shape (1, d)"),
    "float64 vectors": (_members(vectors=np.ones((2, 3))), "vectors must be float32"),
    "wrong counts": (_members(counts=np.array([1.5, 2])), "counts must be 2 integers"),
}


@pytest.mark.parametrize(("members", "message"), BAD_NPZ.values(), ids=BAD_NPZ)
def test_malformed_npz_is_refused_naming_file_and_cause(tmp_path, members, message):
    path = tmp_path / "bad.npz"
    with open(path, "wb") as stream:
        np.savez(stream, **members)
    with pytest.raises(ValueError) as caught:
        KeyedVectors.load(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


@pytest.mark.parametrize("content", [b"", b"not an archive", b"PK\x03\x04truncated"])
def test_a_file_that_is_not_an_npz_is_refused(tmp_path, content):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=f"{path}: not a KeyedVectors .npz file"):
        KeyedVectors.load(path)

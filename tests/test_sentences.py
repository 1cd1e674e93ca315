"""SentenceEncoder against hand computations on a 5-word, 2-d vocabulary."""

from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from retrieval.sentences import SentenceEncoder
from w2v_scratch.text import STOP_WORDS

WORDS = ["dog", "runs", "a", "cat", "the"]
VECTORS = np.array([[1, 0], [0, 1], [1, 1], [2, 0], [0, 2]], dtype=np.float32)


def make_kv(counts=None):
    """The two attributes SentenceEncoder uses (plus optional corpus counts)."""
    kv = SimpleNamespace(vectors=VECTORS, key_to_index={w: i for i, w in enumerate(WORDS)})
    if counts is not None:
        kv.counts = np.asarray(counts)
    return kv


def vec(word):
    return VECTORS[WORDS.index(word)].astype(np.float64)


def test_mean_pooling_by_hand():
    encoder = SentenceEncoder(make_kv(), remove_pc=False)
    vectors = encoder.encode(["A dog runs!", ["dog", "dog", "cat"]])
    assert vectors.dtype == np.float32 and vectors.shape == (2, 2)
    np.testing.assert_allclose(vectors[0], (vec("a") + vec("dog") + vec("runs")) / 3, rtol=1e-6)
    np.testing.assert_allclose(vectors[1], (2 * vec("dog") + vec("cat")) / 3, rtol=1e-6)


def test_stop_words_are_dropped():
    encoder = SentenceEncoder(make_kv(), remove_pc=False, stop_words=STOP_WORDS)
    np.testing.assert_allclose(encoder.encode(["a dog runs"])[0], [0.5, 0.5], rtol=1e-6)


def test_unknown_words_are_skipped_and_reported():
    encoder = SentenceEncoder(make_kv(), remove_pc=False)
    vectors, report = encoder.encode(["the zebra", "zebra quagga zebra", "dog"], return_report=True)
    np.testing.assert_allclose(vectors[0], vec("the"))  # "zebra" skipped, not averaged in
    np.testing.assert_array_equal(vectors[1], [0.0, 0.0])
    assert report.empty.tolist() == [False, True, False]
    assert report.n_tokens == 6 and report.n_unknown == 4
    assert report.unknown_words == {"zebra": 3, "quagga": 1}


def test_empty_sentence_warns_when_no_report_is_asked():
    encoder = SentenceEncoder(make_kv(), remove_pc=False)
    with pytest.warns(UserWarning, match=r"1 of 2 sentences have no known word .* \[1\]"):
        vectors = encoder.encode(["dog", "zebra"])
    assert np.isfinite(vectors).all()


# Fit sentences: a dog runs zebra | a cat | a dog -> 8 tokens (the unknown "zebra" counts in
# the total); a: 3, dog: 2, runs: 1, cat: 1.
FIT = ["a dog runs zebra", "a cat", "a dog"]
PROB = {"a": 3 / 8, "dog": 2 / 8, "runs": 1 / 8, "cat": 1 / 8, "the": 0.0}
# SIF weight a / (a + p) with a = 0.5: a -> 0.5 / 0.875 = 4/7, dog -> 0.5 / 0.75 = 2/3,
# runs and cat -> 0.5 / 0.625 = 4/5, the (never seen) -> 1.
WEIGHT = {"a": 4 / 7, "dog": 2 / 3, "runs": 4 / 5, "cat": 4 / 5, "the": 1.0}


def test_sif_word_probabilities_and_weights_by_hand():
    encoder = SentenceEncoder(make_kv(), pooling="sif", sif_a=0.5, remove_pc=False).fit(FIT)
    np.testing.assert_allclose(encoder.word_prob_, [PROB[w] for w in WORDS])
    assert encoder.components_ is None
    vectors = encoder.encode(["a dog", "the cat"])
    np.testing.assert_allclose(
        vectors[0], (WEIGHT["a"] * vec("a") + WEIGHT["dog"] * vec("dog")) / 2, rtol=1e-6
    )
    np.testing.assert_allclose(
        vectors[1], (WEIGHT["the"] * vec("the") + WEIGHT["cat"] * vec("cat")) / 2, rtol=1e-6
    )


def test_sif_falls_back_to_corpus_counts_for_words_absent_from_fit():
    counts = [40, 10, 100, 20, 30]  # total 200: "the" (absent from FIT) gets 30 / 200
    encoder = SentenceEncoder(make_kv(counts), pooling="sif", remove_pc=False).fit(FIT)
    expected = [PROB[w] for w in WORDS[:4]] + [30 / 200]
    np.testing.assert_allclose(encoder.word_prob_, expected)


def test_works_with_the_project_keyedvectors():
    keyedvectors = pytest.importorskip("w2v_scratch.keyedvectors")
    counts = [40, 10, 100, 20, 30]
    kv = keyedvectors.KeyedVectors(VECTORS, WORDS, counts=counts)
    ours = SentenceEncoder(kv, pooling="sif", remove_pc=False).fit(FIT)
    stand_in = SentenceEncoder(make_kv(counts), pooling="sif", remove_pc=False).fit(FIT)
    np.testing.assert_array_equal(ours.word_prob_, stand_in.word_prob_)
    np.testing.assert_array_equal(ours.encode(["the cat runs"]), stand_in.encode(["the cat runs"]))


def random_kv_and_sentences(seed=0):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(40)]
    kv = SimpleNamespace(
        vectors=(rng.normal(size=(40, 6)) + 1.0).astype(np.float32),
        key_to_index={w: i for i, w in enumerate(words)},
    )
    sentences = [list(rng.choice(words, size=rng.integers(1, 8))) for _ in range(60)]
    return kv, sentences


@pytest.mark.parametrize("pooling", ["mean", "sif"])
def test_pc_removal_makes_the_fit_set_orthogonal_to_the_component(pooling):
    kv, sentences = random_kv_and_sentences()
    encoder = SentenceEncoder(kv, pooling=pooling).fit(sentences)
    u = encoder.components_
    assert u.shape == (1, 6) and np.linalg.norm(u) == pytest.approx(1.0)
    encoded = encoder.encode(sentences)
    assert np.abs(encoded @ u.T).max() < 1e-5 * np.abs(encoded).max()

    # u is the first right singular vector of the pooled vectors before removal.
    plain = SentenceEncoder(kv, pooling=pooling, remove_pc=False).fit(sentences)
    pooled = plain.encode(sentences).astype(np.float64)
    first_direction = np.linalg.svd(pooled)[2][0]
    assert abs(first_direction @ u[0]) == pytest.approx(1.0, abs=1e-6)
    expected = pooled - np.outer(pooled @ first_direction, first_direction)
    np.testing.assert_allclose(encoded, expected, atol=1e-5)


def test_encode_query():
    encoder = SentenceEncoder(make_kv(), remove_pc=False, stop_words=STOP_WORDS)
    np.testing.assert_allclose(encoder.encode_query("dog and zebra"), vec("dog"))
    with pytest.raises(ValueError, match=r"unknown words: \['quagga', 'zebra'\]"):
        encoder.encode_query("a zebra, the quagga")
    with pytest.raises(ValueError, match="has no words"):
        encoder.encode_query("the a")


def test_misuse_is_refused():
    with pytest.raises(NotFittedError, match="needs fit"):
        SentenceEncoder(make_kv(), pooling="sif", remove_pc=False).encode(["dog"])
    with pytest.raises(NotFittedError, match="needs fit"):
        SentenceEncoder(make_kv()).encode(["dog"])
    with pytest.raises(ValueError, match="pooling"):
        SentenceEncoder(make_kv(), pooling="max")
    with pytest.raises(ValueError, match="sif_a"):
        SentenceEncoder(make_kv(), sif_a=0)
    with pytest.raises(ValueError, match="without any token"):
        SentenceEncoder(make_kv()).fit(["", "!!"])
    with pytest.raises(TypeError, match="not one string"):
        SentenceEncoder(make_kv(), remove_pc=False).encode("dog runs")

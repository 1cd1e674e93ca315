"""CosineIndex against a brute-force full sort, CSLS on a hand-checked case, bad input."""

import sys
import types

import numpy as np
import pytest

from retrieval.index import CosineIndex, inverted_softmax_penalty, l2_normalize, top_k


def brute_force(database, queries, k):
    """Full cosine matrix, then a stable descending sort (ties: lower position first)."""
    unit_db = database / np.linalg.norm(database, axis=1, keepdims=True)
    unit_q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    cosine = unit_q @ unit_db.T
    order = np.argsort(-cosine, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(cosine, order, axis=1), order


def test_search_equals_brute_force_sort():
    rng = np.random.default_rng(0)
    database, queries = rng.normal(size=(200, 16)), rng.normal(size=(37, 16))
    scores, ids = CosineIndex(database, batch_size=8).search(queries, k=10)
    expected_scores, expected_ids = brute_force(database, queries, 10)
    np.testing.assert_array_equal(ids, expected_ids)
    np.testing.assert_allclose(scores, expected_scores, rtol=0, atol=1e-12)


def test_ties_are_broken_by_lower_position_like_a_stable_sort():
    # Small integer vectors give many exactly equal cosines (and duplicate items).
    rng = np.random.default_rng(1)
    database = rng.integers(0, 2, size=(60, 3)).astype(float) + np.array([1.0, 0.0, 0.0])
    queries = rng.integers(0, 2, size=(25, 3)).astype(float) + np.array([0.0, 1.0, 0.0])
    for k in (1, 4, 17, 60):
        scores, ids = CosineIndex(database, batch_size=6).search(queries, k=k)
        expected_scores, expected_ids = brute_force(database, queries, k)
        np.testing.assert_array_equal(ids, expected_ids)
        np.testing.assert_allclose(scores, expected_scores, rtol=0, atol=1e-12)


def test_duplicate_items_come_out_in_position_order():
    database = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])
    _, ids = CosineIndex(database, ids=["w", "x", "y", "z"]).search([[1.0, 0.0]], k=3)
    assert ids.tolist() == [["x", "y", "z"]]


def test_top_k_keeps_only_the_first_tied_columns():
    scores = np.array([[0.5, 0.9, 0.5, 0.5, 0.1]])
    values, columns = top_k(scores, 3)
    assert columns.tolist() == [[1, 0, 2]]
    assert values.tolist() == [[0.9, 0.5, 0.5]]


def test_zero_vectors_never_give_nan():
    database = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 2.0]])
    scores, ids = CosineIndex(database).search([[0.0, 1.0], [0.0, 0.0]], k=3)
    assert np.isfinite(scores).all()
    assert ids[0].tolist() == [2, 0, 1] and scores[0].tolist() == [1.0, 0.0, 0.0]
    assert ids[1].tolist() == [0, 1, 2] and scores[1].tolist() == [0.0, 0.0, 0.0]
    np.testing.assert_array_equal(l2_normalize(np.zeros((2, 3))), np.zeros((2, 3)))


def unit(degrees):
    radians = np.deg2rad(degrees)
    return np.stack([np.cos(radians), np.sin(radians)], axis=-1)


def test_csls_on_a_hand_checked_case():
    """Items at 0, 90 and 45 degrees; reference queries at 0, 90 and 180 degrees; K = 2.

    r_x = mean cos of item x to its 2 most similar reference queries:
    r_0 = (1 + 0) / 2 = 0.5 (not cos 180 = -1), r_90 = (1 + 0) / 2 = 0.5,
    r_45 = (cos 45 + cos 45) / 2 = cos 45 (not cos 135).
    For a query at 30 degrees plain cosine prefers the "hub" at 45 (cos 15 > cos 30),
    but CSLS = 2 cos - r_x prefers 0 degrees: 2 cos 30 - 0.5 = 1.2320 > 2 cos 15 - cos 45
    = 1.2247, and the item at 90 degrees scores 2 cos 60 - 0.5 = 0.5.
    """
    database = unit(np.array([0.0, 90.0, 45.0]))
    query = unit(np.array([30.0]))
    cos15, cos30, cos45, cos60 = (np.sqrt(6) + np.sqrt(2)) / 4, np.sqrt(3) / 2, np.sqrt(0.5), 0.5

    _, plain_ids = CosineIndex(database).search(query, k=3)
    assert plain_ids.tolist() == [[2, 0, 1]]

    index = CosineIndex(database, csls_k=2).fit_csls(unit(np.array([0.0, 90.0, 180.0])))
    np.testing.assert_allclose(index.penalty_, [0.5, 0.5, cos45], atol=1e-12)
    scores, ids = index.search(query, k=3)
    assert ids.tolist() == [[0, 2, 1]]
    expected = [2 * cos30 - 0.5, 2 * cos15 - cos45, 2 * cos60 - 0.5]
    np.testing.assert_allclose(scores[0], expected, atol=1e-12)


def test_csls_without_fit_uses_the_searched_queries_as_reference():
    rng = np.random.default_rng(2)
    database, queries = rng.normal(size=(50, 8)), rng.normal(size=(30, 8))
    implicit = CosineIndex(database, csls_k=5, batch_size=7).search(queries, k=6)
    explicit = CosineIndex(database, csls_k=5).fit_csls(queries).search(queries, k=6)
    np.testing.assert_array_equal(implicit[1], explicit[1])
    np.testing.assert_allclose(implicit[0], explicit[0], rtol=0, atol=1e-12)


def test_inverted_softmax_penalty_by_hand_and_by_brute_force():
    """Item at 0 degrees, queries at 0 and 90 degrees: r = (1/b) log(e^b + e^0)."""
    from scipy.special import logsumexp

    penalty = inverted_softmax_penalty(unit(np.array([0.0])), unit(np.array([0.0, 90.0])), 2.0)
    np.testing.assert_allclose(penalty, [np.log(np.exp(2.0) + 1.0) / 2.0], rtol=1e-12)
    rng = np.random.default_rng(4)
    items, queries = rng.normal(size=(23, 6)), rng.normal(size=(31, 6))
    cosine = (items / np.linalg.norm(items, axis=1, keepdims=True)) @ (
        queries / np.linalg.norm(queries, axis=1, keepdims=True)).T
    for beta in (0.5, 10.0, 1000.0):  # 1000: the shifted log-sum-exp must not overflow
        np.testing.assert_allclose(
            inverted_softmax_penalty(items, queries, beta, batch_size=5),
            logsumexp(beta * cosine, axis=1) / beta, rtol=1e-12,
        )
    with pytest.raises(ValueError, match="beta must be finite and > 0"):
        inverted_softmax_penalty(items, queries, 0.0)
    with pytest.raises(ValueError, match=r"reference_queries must be a non-empty \(n, 6\)"):
        inverted_softmax_penalty(items, queries[:, :5], 1.0)


def test_float32_input_stays_float32():
    rng = np.random.default_rng(3)
    index = CosineIndex(rng.normal(size=(20, 4)).astype(np.float32))
    scores, _ = index.search(rng.normal(size=(3, 4)), k=2)
    assert index.vectors.dtype == np.float32 and scores.dtype == np.float32


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: CosineIndex([[1.0, np.nan]]), "vectors contain NaN"),
        (lambda: CosineIndex([[1.0, 0.0]]).search([[np.inf, 0.0]]), "queries contain NaN"),
        (
            lambda: CosineIndex(np.ones((4, 3))).search(np.ones((2, 5))),
            "dimension 5 .* dimension 3",
        ),
        (lambda: CosineIndex(np.ones((4, 3))).search(np.ones((2, 3)), k=5), "k must be"),
        (lambda: CosineIndex(np.ones((4, 3)), ids=[1, 2]), "one entry per vector"),
        (lambda: CosineIndex(np.ones(3)), "2-D"),
        (lambda: CosineIndex(np.ones((4, 3)), csls_k=0), "csls_k"),
        (lambda: CosineIndex(np.ones((4, 3)), csls_k=3).fit_csls(np.ones((2, 3))), "exceeds"),
        (lambda: CosineIndex(np.ones((4, 3))).fit_csls(np.ones((2, 3))), "needs csls_k"),
        (lambda: CosineIndex(np.ones((4, 3)), backend="annoy"), "backend"),
    ],
)
def test_bad_input_raises_value_error(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_faiss_backend_without_faiss_raises_a_clear_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "faiss", None)  # makes `import faiss` fail
    with pytest.raises(ImportError, match="pip install faiss-cpu"):
        CosineIndex(np.eye(3), backend="faiss")


class _FlatInnerProduct:
    """Stand-in for faiss.IndexFlatIP: exact inner-product search in numpy."""

    def __init__(self, dim):
        self.database = np.zeros((0, dim), np.float32)

    def add(self, vectors):
        self.database = np.vstack([self.database, vectors])

    def search(self, queries, k):
        products = queries @ self.database.T
        order = np.argsort(-products, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(products, order, axis=1), order.astype(np.int64)


def test_faiss_backend_gives_the_numpy_results(monkeypatch):
    monkeypatch.setitem(sys.modules, "faiss", types.SimpleNamespace(IndexFlatIP=_FlatInnerProduct))
    rng = np.random.default_rng(4)
    database, queries = rng.normal(size=(40, 6)), rng.normal(size=(9, 6))
    for csls_k in (None, 3):
        numpy_result = CosineIndex(database, csls_k=csls_k).search(queries, k=5)
        faiss_result = CosineIndex(database, csls_k=csls_k, backend="faiss").search(queries, k=5)
        np.testing.assert_array_equal(faiss_result[1], numpy_result[1])
        np.testing.assert_allclose(faiss_result[0], numpy_result[0], atol=1e-5)

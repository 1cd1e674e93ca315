"""Exact cosine-similarity search, with optional CSLS hubness correction.

Cosine similarity of unit vectors is a dot product, so searching ``Q`` queries over ``n``
items is one matrix product ``(Q, d) @ (d, n)`` followed by a top-k selection per row.
Queries are processed in chunks of ``batch_size`` so that memory stays
``O(batch_size * n)`` however many queries there are.
"""

import numpy as np

BACKENDS = ("numpy", "faiss")


def l2_normalize(vectors):
    """Scale every row to unit L2 norm; all-zero rows stay zero (never NaN).

    ``x / ||x||`` for ``||x|| > 0``, else ``0``.

    Parameters
    ----------
    vectors : ndarray of shape (n, d) or (d,)

    Returns
    -------
    ndarray of the same shape, float
    """
    vectors = np.asarray(vectors)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)  # (n, 1)
    return vectors / np.where(norms > 0, norms, 1.0)


class CosineIndex:
    """Exact k-nearest-neighbour search by cosine similarity.

    Plain score: ``cos(q, x) = <q, x> / (||q|| ||x||)`` (0 when either vector is zero).

    CSLS score (cross-domain similarity local scaling, Conneau et al. 2018, "Word
    translation without parallel data"), with ``K = csls_k``::

        CSLS(q, x) = 2 cos(q, x) - r_x - r_q
        r_x = mean of cos(x, q') over the K queries q' of a reference query set
              most similar to x
        r_q = mean of cos(q, x') over the K database items x' most similar to q

    An item that is close to many queries at once (a "hub") gets a large ``r_x`` and is
    pushed down. ``r_q`` is a constant per query, so it cannot change the ranking of a
    query's results and is left out: :meth:`search` returns ``2 cos(q, x) - r_x``.
    The reference query set is the one given to :meth:`fit_csls`, or, when that was not
    called, all the queries of the :meth:`search` call.

    Parameters
    ----------
    vectors : array-like of shape (n_items, d)
        The database. Rows are L2-normalised on construction (zero rows stay zero).
    ids : sequence of length n_items, optional
        What :meth:`search` returns for each item; default ``0 .. n_items - 1``.
    csls_k : int, optional
        Apply CSLS with this neighbourhood size ``K``; ``None`` for plain cosine.
    backend : {"numpy", "faiss"}
        ``"faiss"`` uses ``faiss.IndexFlatIP`` (exact inner-product search; install
        ``faiss-cpu``); ties may then come in a different order.
    batch_size : int
        Queries per matrix product.

    Attributes
    ----------
    vectors : ndarray of shape (n_items, d)
        The L2-normalised database (float32 or float64, as given; other types -> float64).
    ids : ndarray of shape (n_items,)
    penalty_ : ndarray of shape (n_items,)
        ``r_x`` of every item, set by :meth:`fit_csls`.
    """

    def __init__(self, vectors, ids=None, csls_k=None, backend="numpy", batch_size=1024):
        vectors = _check_finite_2d(vectors, "vectors")
        if vectors.shape[0] == 0:
            raise ValueError("vectors must hold at least one item")
        if ids is None:
            ids = np.arange(vectors.shape[0])
        ids = np.asarray(ids)
        if ids.shape != (vectors.shape[0],):
            raise ValueError(
                f"ids must have one entry per vector: expected shape ({vectors.shape[0]},),"
                f" got {ids.shape}"
            )
        if csls_k is not None and (not isinstance(csls_k, int | np.integer) or csls_k < 1):
            raise ValueError(f"csls_k must be a positive int or None, got {csls_k!r}")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.vectors = l2_normalize(vectors)  # (n_items, d)
        self.ids = ids
        self.csls_k = csls_k
        self.backend = backend
        self.batch_size = batch_size
        self._faiss = _import_faiss() if backend == "faiss" else None

    def __len__(self):
        return self.vectors.shape[0]

    def fit_csls(self, reference_queries):
        """Compute the hubness penalty ``r_x`` of every item from a reference query set.

        ``r_x = (1/K) * sum of the K largest cos(x, q') over reference queries q'``

        Parameters
        ----------
        reference_queries : array-like of shape (n_reference, d)

        Returns
        -------
        self
        """
        if self.csls_k is None:
            raise ValueError("fit_csls needs csls_k: create the index with csls_k=<int>")
        self.penalty_ = self._item_penalty(self._check_queries(reference_queries))
        return self

    def search(self, queries, k=10):
        """The ``k`` best items of every query, best first.

        Parameters
        ----------
        queries : array-like of shape (n_queries, d)
        k : int
            1 <= k <= n_items.

        Returns
        -------
        scores : ndarray of shape (n_queries, k)
            Cosine similarity (or ``2 cos - r_x`` with CSLS), decreasing along each row;
            equal scores are ordered by item position (numpy backend).
        ids : ndarray of shape (n_queries, k)
        """
        queries = self._check_queries(queries)
        if not 1 <= k <= len(self):
            raise ValueError(f"k must be between 1 and the {len(self)} items, got {k}")
        penalty = self._penalty_for(queries)  # (n_items,)
        if self._faiss is not None:
            scores, positions = self._search_faiss(queries, k, penalty)
        else:
            scores, positions = self._search_numpy(queries, k, penalty)
        return scores, self.ids[positions]

    def _search_numpy(self, queries, k, penalty):
        scores = np.empty((len(queries), k), dtype=self.vectors.dtype)
        positions = np.empty((len(queries), k), dtype=np.intp)
        for start in range(0, len(queries), self.batch_size):
            chunk = slice(start, start + self.batch_size)
            similarity = queries[chunk] @ self.vectors.T  # (batch, n_items)
            if penalty is not None:
                similarity = 2.0 * similarity - penalty  # (batch, n_items)
            scores[chunk], positions[chunk] = top_k(similarity, k)
        return scores, positions

    def _search_faiss(self, queries, k, penalty):
        # 2<q, x> - r_x = <[q, 1], [2x, -r_x]>: CSLS is an inner product of augmented vectors.
        database = self.vectors.astype(np.float32)  # (n_items, d)
        queries = queries.astype(np.float32)  # (n_queries, d)
        if penalty is not None:
            database = np.hstack([2.0 * database, -penalty[:, None]]).astype(np.float32)
            queries = np.hstack([queries, np.ones((len(queries), 1), np.float32)])
        index = self._faiss.IndexFlatIP(database.shape[1])
        index.add(database)
        scores, positions = index.search(queries, k)  # (n_queries, k) each
        return scores, positions.astype(np.intp)

    def _penalty_for(self, queries):
        if self.csls_k is None:
            return None
        if hasattr(self, "penalty_"):
            return self.penalty_
        return self._item_penalty(queries)

    def _item_penalty(self, reference):
        if self.csls_k > len(reference):
            raise ValueError(f"csls_k={self.csls_k} exceeds the {len(reference)} reference queries")
        penalty = np.empty(len(self), dtype=self.vectors.dtype)
        for start in range(0, len(self), self.batch_size):
            chunk = slice(start, start + self.batch_size)
            similarity = self.vectors[chunk] @ reference.T  # (batch, n_reference)
            nearest, _ = top_k(similarity, self.csls_k)  # (batch, csls_k)
            penalty[chunk] = nearest.mean(axis=1)
        return penalty

    def _check_queries(self, queries):
        queries = _check_finite_2d(queries, "queries")
        if queries.shape[1] != self.vectors.shape[1]:
            raise ValueError(
                f"queries have dimension {queries.shape[1]} but the index holds vectors of"
                f" dimension {self.vectors.shape[1]}"
            )
        return l2_normalize(queries.astype(self.vectors.dtype, copy=False))


def inverted_softmax_penalty(items, reference_queries, beta, batch_size=1024):
    """Log-normaliser of the inverted softmax (Smith et al. 2017) for every item.

    Smith, Turban, Hamblin, Hammerla (2017), "Offline bilingual word vectors, orthogonal
    transformations and the inverted softmax", normalise the probability of retrieving
    item ``x`` for query ``q`` over the *queries* instead of over the items::

        P(x | q) = exp(beta cos(x, q)) / sum_q' exp(beta cos(x, q'))
        log P(x | q) / beta = cos(x, q) - r_x,   r_x = (1/beta) log sum_q' exp(beta cos(x, q'))

    so an item close to many queries at once (a hub) is demoted, like CSLS but with a
    soft maximum over all reference queries instead of the mean of the ``K`` nearest
    (``beta -> inf`` gives ``r_x -> max_q' cos(x, q')``). Ranking the items of a query by
    ``cos(x, q) - r_x`` ranks them by ``P(x | q)``.

    Parameters
    ----------
    items : array-like of shape (n_items, d)
    reference_queries : array-like of shape (n_reference, d)
        The queries ``q'`` of the normaliser (both sides are L2-normalised here).
    beta : float > 0
        Inverse temperature.
    batch_size : int
        Items per matrix product (memory ``O(batch_size * n_reference)``).

    Returns
    -------
    ndarray of shape (n_items,), float64
    """
    if not (np.isfinite(beta) and beta > 0):
        raise ValueError(f"beta must be finite and > 0, got {beta!r}")
    items = l2_normalize(_check_finite_2d(items, "items"))  # (n_items, d)
    reference = l2_normalize(_check_finite_2d(reference_queries, "reference_queries"))
    if reference.shape[0] == 0 or reference.shape[1] != items.shape[1]:
        raise ValueError(
            f"reference_queries must be a non-empty (n, {items.shape[1]}) array, got shape"
            f" {reference.shape}"
        )
    penalty = np.empty(len(items))
    for start in range(0, len(items), batch_size):
        chunk = slice(start, start + batch_size)
        scaled = beta * (items[chunk] @ reference.T).astype(np.float64)  # (batch, n_ref)
        largest = scaled.max(axis=1, keepdims=True)  # (batch, 1): log-sum-exp shift
        penalty[chunk] = (largest[:, 0] + np.log(np.exp(scaled - largest).sum(axis=1))) / beta
    return penalty


def top_k(scores, k):
    """The ``k`` largest entries of every row, in decreasing order; ties by lower column.

    ``np.partition`` finds the k-th largest value ``t`` of a row in O(n). Every entry
    ``> t`` is kept, and so are the first (lowest-column) entries ``== t`` until ``k``
    are kept; only these ``k`` are then sorted. The result equals the first ``k``
    columns of ``np.argsort(-scores, kind="stable")``.

    Parameters
    ----------
    scores : ndarray of shape (n_rows, n_columns)
    k : int

    Returns
    -------
    values : ndarray of shape (n_rows, k)
    columns : ndarray of shape (n_rows, k), int
    """
    n_rows = scores.shape[0]
    kth_largest = -np.partition(-scores, k - 1, axis=1)[:, k - 1 : k]  # (n_rows, 1)
    above = scores > kth_largest  # (n_rows, n_columns)
    tied = scores == kth_largest  # (n_rows, n_columns)
    free_slots = k - above.sum(axis=1, keepdims=True)  # (n_rows, 1)
    keep = above | (tied & (np.cumsum(tied, axis=1) <= free_slots))  # exactly k per row
    columns = np.nonzero(keep)[1].reshape(n_rows, k)  # (n_rows, k), increasing per row
    values = np.take_along_axis(scores, columns, axis=1)  # (n_rows, k)
    order = np.argsort(-values, axis=1, kind="stable")  # (n_rows, k)
    return np.take_along_axis(values, order, axis=1), np.take_along_axis(columns, order, axis=1)


def _check_finite_2d(array, name):
    array = np.asarray(array)
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n, d), got shape {array.shape}")
    if array.dtype not in (np.float32, np.float64):
        array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contain NaN or infinity")
    return array


def _import_faiss():
    try:
        import faiss
    except ImportError as error:
        raise ImportError(
            "backend='faiss' needs the faiss package (pip install faiss-cpu);"
            " use backend='numpy' for the exact numpy search"
        ) from error
    return faiss

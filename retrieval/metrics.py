"""Ranking metrics for cross-modal retrieval: ranks, Recall@K, median and mean rank.

The standard Flickr8k protocol (Hodosh et al. 2013) uses the 1,000 test images and
their 5,000 captions (5 per image):

* **text -> image**: each caption is a query; its one relevant item is its own image.
* **image -> text**: each image is a query; it counts as found at the best rank of any
  of its 5 captions.

A *rank* is 1-based: rank 1 means the first retrieved item is relevant. Ties in the
similarity are broken by item position (the lower index first), the same rule as
:class:`retrieval.index.CosineIndex`, so both routes give the same ranks.

**Hubness** (Radovanović, Nanopoulos, Ivanović 2010, "Hubs in space"): in high
dimensions a few items, *hubs*, are among the nearest neighbours of very many queries
while many others are nobody's neighbour. The k-occurrence ``N_k(x)`` counts the queries
that have item ``x`` in their top ``k`` (:func:`k_occurrence`); its distribution is
right-skewed when there are hubs, and its :func:`skewness` measures how much.
"""

import numpy as np

from retrieval.index import top_k

#: The recall cut-offs of the Flickr8k protocol.
RECALL_KS = (1, 5, 10)


def rank_of_first_match(ranked_ids, relevant_ids):
    """1-based rank of the first relevant item in each row of a ranked list.

    Parameters
    ----------
    ranked_ids : array-like of shape (n_queries, k)
        Retrieved item ids, best first (for example the ids from
        :meth:`CosineIndex.search`).
    relevant_ids : array-like of shape (n_queries,) or (n_queries, m)
        The relevant id of each query, or ``m`` relevant ids per query.

    Returns
    -------
    ranks : ndarray of shape (n_queries,), float
        ``min{r : ranked_ids[q, r - 1] is relevant}``, or ``inf`` when no relevant item
        is among the ``k`` retrieved (only full rankings, ``k = n_items``, give finite
        mean and median ranks).
    """
    ranked_ids = np.asarray(ranked_ids)
    relevant_ids = np.asarray(relevant_ids)
    if ranked_ids.ndim != 2:
        raise ValueError(f"ranked_ids must be 2-D (n_queries, k), got shape {ranked_ids.shape}")
    if relevant_ids.ndim == 1:
        relevant_ids = relevant_ids[:, None]  # (n_queries, 1)
    if relevant_ids.ndim != 2 or relevant_ids.shape[0] != ranked_ids.shape[0]:
        raise ValueError(
            f"relevant_ids must have shape ({ranked_ids.shape[0]},) or ({ranked_ids.shape[0]}, m),"
            f" got {relevant_ids.shape}"
        )
    is_match = (ranked_ids[:, :, None] == relevant_ids[:, None, :]).any(axis=2)  # (n_queries, k)
    found = is_match.any(axis=1)  # (n_queries,)
    first = is_match.argmax(axis=1) + 1.0  # (n_queries,) 1-based position of the first True
    return np.where(found, first, np.inf)


def image_to_text_ranks(scores, caption_image):
    """Rank of the best-ranked own caption of every image (image -> text retrieval).

    An image's row sorted by decreasing score, ties by lower column, puts its best own
    caption at

        rank_i = 1 + #{j : S_ij > b_i} + #{j < j_i : S_ij = b_i}

    with ``b_i`` the best own-caption score and ``j_i`` the first own caption scoring it:
    counted in one pass over the matrix, without sorting it.

    Parameters
    ----------
    scores : array-like of shape (n_images, n_captions)
        ``scores[i, j]`` is the similarity of image ``i`` and caption ``j``.
    caption_image : array-like of shape (n_captions,), int
        The image index (row of ``scores``) each caption describes.

    Returns
    -------
    ndarray of shape (n_images,), float
        ``inf`` for an image without any caption.
    """
    scores, caption_image = _check_protocol(scores, caption_image)
    own = caption_image[None, :] == np.arange(len(scores))[:, None]  # (n_images, n_captions)
    best_own = np.where(own, scores, -np.inf).max(axis=1, keepdims=True)  # (n_images, 1)
    ties = scores == best_own  # (n_images, n_captions)
    first_best = np.argmax(own & ties, axis=1)[:, None]  # (n_images, 1): j_i
    before = np.arange(scores.shape[1])[None, :] < first_best  # (n_images, n_captions)
    ranks = 1.0 + np.sum(scores > best_own, axis=1) + np.sum(ties & before, axis=1)
    return np.where(own.any(axis=1), ranks, np.inf)  # an image without captions: never found


def text_to_image_ranks(scores, caption_image):
    """Rank of the own image of every caption (text -> image retrieval).

    ``rank_j = 1 + #{i : S_ij > S_own} + #{i < own : S_ij = S_own}`` with ``own`` the
    caption's image: its position in column ``j`` sorted by decreasing score, ties by
    lower row.

    Parameters
    ----------
    scores : array-like of shape (n_images, n_captions)
        ``scores[i, j]`` is the similarity of image ``i`` and caption ``j`` (the same
        matrix as for :func:`image_to_text_ranks`).
    caption_image : array-like of shape (n_captions,), int
        The image index each caption describes.

    Returns
    -------
    ndarray of shape (n_captions,), float
    """
    scores, caption_image = _check_protocol(scores, caption_image)
    own = scores[caption_image, np.arange(scores.shape[1])][None, :]  # (1, n_captions)
    above = np.arange(len(scores))[:, None] < caption_image[None, :]  # (n_images, n_captions)
    return 1.0 + np.sum(scores > own, axis=0) + np.sum((scores == own) & above, axis=0)


def retrieval_metrics(image_query_scores, caption_query_scores, caption_image, ks=RECALL_KS):
    """R@K, medR and meanR in both directions from image-by-caption score matrices.

    Parameters
    ----------
    image_query_scores : array-like of shape (n_images, n_captions)
        Scores that rank the captions of each image query (row).
    caption_query_scores : array-like of shape (n_images, n_captions)
        Scores that rank the images of each caption query (column); the same matrix
        as ``image_query_scores`` unless a hubness penalty depends on the direction.
    caption_image : array-like of shape (n_captions,), int
    ks : sequence of int

    Returns
    -------
    dict
        ``{"image_to_text": {"R@1", "R@5", "R@10", "medR", "meanR"}, "text_to_image":
        {...}}``; recalls in percent.
    """
    ranks = {
        "image_to_text": image_to_text_ranks(image_query_scores, caption_image),
        "text_to_image": text_to_image_ranks(caption_query_scores, caption_image),
    }
    return {
        direction: {
            **{f"R@{k}": value for k, value in recall_at_k(r, ks).items()},
            "medR": median_rank(r),
            "meanR": mean_rank(r),
        }
        for direction, r in ranks.items()
    }


def recall_at_k(ranks, ks=(1, 5, 10)):
    """Recall@K in percent: the share of queries whose rank is at most K.

    ``R@K = 100 * |{q : rank_q <= K}| / n_queries``

    Parameters
    ----------
    ranks : array-like of shape (n_queries,)
    ks : sequence of int

    Returns
    -------
    dict of int to float
    """
    ranks = _check_ranks(ranks)
    return {int(k): float(100.0 * np.mean(ranks <= k)) for k in ks}


def median_rank(ranks):
    """Median of the 1-based ranks (``medR``; lower is better)."""
    return float(np.median(_check_ranks(ranks)))


def mean_rank(ranks):
    """Mean of the 1-based ranks (``meanR``; lower is better)."""
    return float(np.mean(_check_ranks(ranks)))


def k_occurrence(scores, k=10):
    """How often each item is among the ``k`` best items of a query: ``N_k(x)``.

    ``N_k(x) = |{q : x is in the top k of query q}|``; ``sum_x N_k(x) = n_queries * k``,
    so the mean of ``N_k`` is always ``n_queries * k / n_items``. Ties are broken by
    the lower item position, as everywhere in this package.

    Parameters
    ----------
    scores : array-like of shape (n_queries, n_items)
        Higher is better (cosine, CSLS, ...): row ``q`` ranks the items for query ``q``.
    k : int
        ``1 <= k <= n_items``.

    Returns
    -------
    ndarray of shape (n_items,), int64
    """
    scores = np.asarray(scores)
    if scores.ndim != 2 or scores.size == 0:
        raise ValueError(
            f"scores must be a non-empty 2-D array (n_queries, n_items), got shape {scores.shape}"
        )
    if not np.issubdtype(scores.dtype, np.floating):
        scores = scores.astype(np.float64)
    if not np.isfinite(scores).all():
        raise ValueError("scores contain NaN or infinity")
    if not (isinstance(k, int | np.integer) and 1 <= k <= scores.shape[1]):
        raise ValueError(f"k must be an int between 1 and the {scores.shape[1]} items, got {k!r}")
    _, top = top_k(scores, int(k))  # (n_queries, k)
    return np.bincount(top.ravel(), minlength=scores.shape[1]).astype(np.int64)  # (n_items,)


def skewness(values):
    """Skewness ``E[(x - mu)^3] / sigma^3`` (population moments; ``scipy.stats.skew``).

    0 for a symmetric distribution, positive when a long tail of large values (hubs, for
    the k-occurrence) exists. A constant sample (every item equally often a neighbour,
    no hubs at all) gives 0.

    Parameters
    ----------
    values : array-like of shape (n,)

    Returns
    -------
    float
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"values must be a non-empty 1-D array, got shape {values.shape}")
    if not np.isfinite(values).all():
        raise ValueError("values contain NaN or infinity")
    centred = values - values.mean()  # (n,)
    variance = np.mean(centred**2)
    if variance <= 1e-24 * max(1.0, float(np.mean(values**2))):
        return 0.0
    return float(np.mean(centred**3) / variance**1.5)


def _check_ranks(ranks):
    ranks = np.asarray(ranks, dtype=np.float64)
    if ranks.ndim != 1 or ranks.size == 0:
        raise ValueError(f"ranks must be a non-empty 1-D array, got shape {ranks.shape}")
    if np.isnan(ranks).any() or (ranks < 1).any():
        raise ValueError("ranks are 1-based: every rank must be >= 1 (or inf for not found)")
    return ranks


def _check_protocol(scores, caption_image):
    scores = np.asarray(scores, dtype=np.float64)
    caption_image = np.asarray(caption_image)
    if scores.ndim != 2:
        raise ValueError(f"scores must be 2-D (n_images, n_captions), got shape {scores.shape}")
    if not np.isfinite(scores).all():
        raise ValueError("scores contain NaN or infinity")
    if caption_image.shape != (scores.shape[1],):
        raise ValueError(
            f"caption_image must have one entry per caption (column of scores): expected shape"
            f" ({scores.shape[1]},), got {caption_image.shape}"
        )
    if not np.issubdtype(caption_image.dtype, np.integer):
        raise ValueError(
            f"caption_image must hold integer image indices, got {caption_image.dtype}"
        )
    if caption_image.min() < 0 or caption_image.max() >= scores.shape[0]:
        raise ValueError(f"caption_image values must be image indices in [0, {scores.shape[0]})")
    return scores, caption_image

"""How items are ranked for a query: cosine, or cosine less a hubness penalty.

Mapped into one space, a few items sit in the top 10 of very many queries (*hubs*;
Radovanović et al. 2010). A scoring subtracts from each item's similarity a penalty
``r_x`` that grows with its closeness to many reference queries ``q'``:

* ``"inverted_softmax"`` (Smith et al. 2017): ``cos(q, x) - r_x`` with
  ``r_x = (1/beta) log sum_q' exp(beta cos(x, q'))``, i.e. ``P(x | q)`` normalised over
  the queries (:func:`retrieval.index.inverted_softmax_penalty`);
* ``"csls"`` (Conneau et al. 2018): ``2 cos(q, x) - r_x``, ``r_x`` the mean cosine of
  ``x`` to its ``csls_k`` nearest reference queries;
* ``"cosine"``: plain cosine, no penalty.

The reference queries ``q'`` of the penalties (``reference``) are, with ``"split"``,
the other modality of the split being evaluated or indexed: its captions give the image
penalties and its images the caption penalties. This is how CSLS and the inverted
softmax are used in the papers that introduced them (the penalty of a target word comes
from the whole set of source words being translated): it uses the *set* of queries and
the gallery, never which caption belongs to which image, and each query's ranking still
depends on nothing else of that query. With ``"dev"`` the penalties come from the dev
split given to :meth:`retrieval.CrossModalRetriever.fit` (or the training split without one), a
fixed set independent of the queries.
"""

from dataclasses import dataclass

import numpy as np

from retrieval.index import CosineIndex, inverted_softmax_penalty, l2_normalize

SCORINGS = ("inverted_softmax", "csls", "cosine")


@dataclass(frozen=True)
class Scoring:
    """One of :data:`SCORINGS` with its parameter.

    Parameters
    ----------
    name : {"inverted_softmax", "csls", "cosine"}
    beta : float
        Inverse temperature of the inverted softmax.
    csls_k : int
        CSLS neighbourhood size ``K``.
    """

    name: str = "inverted_softmax"
    beta: float = 10.0
    csls_k: int = 10

    def __post_init__(self):
        if self.name not in SCORINGS:
            raise ValueError(f"scoring must be one of {SCORINGS}, got {self.name!r}")
        if self.name == "csls" and (
            isinstance(self.csls_k, bool) or not isinstance(self.csls_k, int | np.integer)
            or self.csls_k < 1
        ):
            raise ValueError(f"scoring='csls' needs a positive int csls_k, got {self.csls_k!r}")
        if self.name == "inverted_softmax" and not (
            isinstance(self.beta, int | float) and np.isfinite(self.beta) and self.beta > 0
        ):
            raise ValueError(
                f"scoring='inverted_softmax' needs a finite beta > 0, got {self.beta!r}"
            )

    @property
    def has_penalty(self):
        """Whether items get a penalty (every scoring but plain cosine)."""
        return self.name != "cosine"

    def penalty(self, items, reference_queries):
        """``r_x`` of every item from reference queries of the other modality.

        Parameters
        ----------
        items : ndarray of shape (n_items, k)
        reference_queries : ndarray of shape (n_reference, k)

        Returns
        -------
        ndarray of shape (n_items,), float32
        """
        if self.name == "inverted_softmax":
            return inverted_softmax_penalty(items, reference_queries, self.beta).astype(
                np.float32)
        return CosineIndex(items, csls_k=self.csls_k).fit_csls(reference_queries).penalty_

    def rescore(self, similarity, penalty, axis=1):
        """``2 cos - r`` (CSLS), ``cos - r`` (inverted softmax, ``log P / beta``) or ``cos``.

        Parameters
        ----------
        similarity : ndarray of shape (n_a, n_b)
        penalty : ndarray of shape (n_b,) or (n_a,), or None (plain cosine)
            ``r`` of the items along ``axis``: the columns (``axis=1``) or the rows (0).
        axis : {0, 1}
        """
        if penalty is None:
            return similarity
        penalty = penalty[None, :] if axis == 1 else penalty[:, None]  # (1, n_b) or (n_a, 1)
        if self.name == "csls":
            return 2.0 * similarity - penalty
        return similarity - penalty


def cosine_matrix(a, b):
    """``cos(a_i, b_j)`` for all pairs: ``(n_a, n_b)``."""
    return l2_normalize(a) @ l2_normalize(b).T

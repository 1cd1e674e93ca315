"""Late fusion of a text vector and an image vector into one query or item vector.

Both functions L2-normalise each part first, so that neither modality dominates just
because its vectors are longer (ResNet features and word vectors have very different
norms):

* ``concat``:   v = [t / ||t|| ; i / ||i||]                   (dimension d_t + d_i)
* ``weighted``: v = alpha t / ||t|| + (1 - alpha) i / ||i||   (both in one shared space,
  e.g. after :class:`retrieval.ridge.RidgeProjection`; dimension d)

``alpha_sweep`` measures Recall@K of weighted queries for a grid of alphas, and
``plot_alpha_sweep`` draws it.
"""

from dataclasses import dataclass

import numpy as np

from retrieval.index import l2_normalize
from retrieval.metrics import rank_of_first_match, recall_at_k


def concat(v_text, v_image):
    """Concatenate the L2-normalised text and image vectors.

    Parameters
    ----------
    v_text : array-like of shape (n, d_t) or (d_t,)
    v_image : array-like of shape (n, d_i) or (d_i,)

    Returns
    -------
    ndarray of shape (n, d_t + d_i) or (d_t + d_i,)
    """
    v_text, v_image = _check_finite(v_text, "v_text"), _check_finite(v_image, "v_image")
    if v_text.shape[:-1] != v_image.shape[:-1]:
        raise ValueError(
            f"v_text and v_image must hold the same number of vectors, got shapes"
            f" {v_text.shape} and {v_image.shape}"
        )
    return np.concatenate([l2_normalize(v_text), l2_normalize(v_image)], axis=-1)


def weighted(v_text, v_image, alpha):
    """Weighted sum ``alpha t/||t|| + (1 - alpha) i/||i||`` of vectors in one shared space.

    Parameters
    ----------
    v_text, v_image : array-like of shape (n, d) or (d,)
        The same shape: the two modalities must already live in one space.
    alpha : float in [0, 1]
        Weight of the text part (1: text only, 0: image only).

    Returns
    -------
    ndarray of shape (n, d) or (d,)
    """
    v_text, v_image = _check_finite(v_text, "v_text"), _check_finite(v_image, "v_image")
    if v_text.shape != v_image.shape:
        raise ValueError(
            f"weighted fusion needs vectors in one shared space (same shape), got {v_text.shape}"
            f" and {v_image.shape}; project one modality first (RidgeProjection) or use concat"
        )
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
    return alpha * l2_normalize(v_text) + (1.0 - alpha) * l2_normalize(v_image)


@dataclass(frozen=True)
class AlphaSweep:
    """Recall@K of fused queries for every alpha.

    Attributes
    ----------
    alphas : ndarray of shape (n_alphas,)
    ks : tuple of int
    recall : ndarray of shape (n_alphas, len(ks))
        Recall@K in percent; column ``j`` is for ``ks[j]``.
    """

    alphas: np.ndarray
    ks: tuple
    recall: np.ndarray

    def best_alpha(self, k):
        """The alpha with the highest Recall@k (the first one on ties)."""
        return float(self.alphas[np.argmax(self.recall[:, self.ks.index(k)])])


def alpha_sweep(index, v_text, v_image, relevant_ids, alphas=None, ks=(1, 5, 10)):
    """Recall@K of ``weighted(v_text, v_image, alpha)`` queries against ``index``.

    Parameters
    ----------
    index : CosineIndex
        The items searched.
    v_text, v_image : array-like of shape (n_queries, d)
        The two parts of every query, in the index's space.
    relevant_ids : array-like of shape (n_queries,) or (n_queries, m)
        The relevant item id(s) of every query (see :func:`rank_of_first_match`).
    alphas : array-like of shape (n_alphas,), optional
        Default ``np.linspace(0, 1, 11)``.
    ks : sequence of int

    Returns
    -------
    AlphaSweep
    """
    alphas = np.linspace(0.0, 1.0, 11) if alphas is None else np.asarray(alphas, dtype=float)
    ks = tuple(int(k) for k in ks)
    recall = np.empty((len(alphas), len(ks)))  # (n_alphas, n_ks)
    for a, alpha in enumerate(alphas):
        _, ranked_ids = index.search(weighted(v_text, v_image, alpha), k=max(ks))
        recall_by_k = recall_at_k(rank_of_first_match(ranked_ids, relevant_ids), ks)
        recall[a] = [recall_by_k[k] for k in ks]
    return AlphaSweep(alphas=alphas, ks=ks, recall=recall)


def plot_alpha_sweep(sweep, title="Recall@K of fused queries against the text weight alpha"):
    """A line per K of Recall@K against alpha.

    Parameters
    ----------
    sweep : AlphaSweep
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global state

    figure = Figure(figsize=(6, 4), layout="constrained")
    axes = figure.add_subplot()
    for j, k in enumerate(sweep.ks):
        axes.plot(sweep.alphas, sweep.recall[:, j], marker="o", label=f"R@{k}")
    axes.set_title(title)
    axes.set_xlabel("alpha (weight of the text vector; 1 - alpha for the image vector)")
    axes.set_ylabel("recall (%)")
    axes.set_xlim(0, 1)
    axes.legend(title="Recall@K")
    axes.grid(alpha=0.3)
    return figure


def _check_finite(vectors, name):
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim not in (1, 2):
        raise ValueError(f"{name} must be 1-D (d,) or 2-D (n, d), got shape {vectors.shape}")
    if not np.isfinite(vectors).all():
        raise ValueError(f"{name} contain NaN or infinity")
    return vectors

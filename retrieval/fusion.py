"""Late fusion of a text vector and an image vector into one query or item vector.

Both functions L2-normalise each part first, so that neither modality dominates just
because its vectors are longer (ResNet features and word vectors have very different
norms):

* ``concat``:   v = [t / ||t|| ; i / ||i||]                   (dimension d_t + d_i)
* ``weighted``: v = w t / ||t|| + (1 - w) i / ||i||   (w = ``text_weight``; both in one
  shared space, e.g. after :class:`retrieval.ridge.RidgeProjection`; dimension d)

``text_weight_sweep`` measures Recall@K of weighted queries for a grid of text weights,
and ``plot_text_weight_sweep`` draws it.
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


def weighted(v_text, v_image, text_weight):
    """Weighted sum ``w t/||t|| + (1 - w) i/||i||`` of vectors in one shared space.

    Parameters
    ----------
    v_text, v_image : array-like of shape (n, d) or (d,)
        The same shape: the two modalities must already live in one space.
    text_weight : float in [0, 1]
        Weight ``w`` of the text part (1: text only, 0: image only).

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
    if not 0.0 <= text_weight <= 1.0:
        raise ValueError(f"text_weight must be in [0, 1], got {text_weight!r}")
    return text_weight * l2_normalize(v_text) + (1.0 - text_weight) * l2_normalize(v_image)


@dataclass(frozen=True)
class TextWeightSweep:
    """Recall@K of fused queries for every text weight.

    Attributes
    ----------
    text_weights : ndarray of shape (n_weights,)
    ks : tuple of int
    recall : ndarray of shape (n_weights, len(ks))
        Recall@K in percent; column ``j`` is for ``ks[j]``.
    """

    text_weights: np.ndarray
    ks: tuple
    recall: np.ndarray

    def best_text_weight(self, k):
        """The text weight with the highest Recall@k (the first one on ties)."""
        return float(self.text_weights[np.argmax(self.recall[:, self.ks.index(k)])])


def text_weight_sweep(index, v_text, v_image, relevant_ids, text_weights=None, ks=(1, 5, 10)):
    """Recall@K of ``weighted(v_text, v_image, w)`` queries against ``index``, for every w.

    Parameters
    ----------
    index : CosineIndex
        The items searched.
    v_text, v_image : array-like of shape (n_queries, d)
        The two parts of every query, in the index's space.
    relevant_ids : array-like of shape (n_queries,) or (n_queries, m)
        The relevant item id(s) of every query (see :func:`rank_of_first_match`).
    text_weights : array-like of shape (n_weights,), optional
        Default ``np.linspace(0, 1, 11)``.
    ks : sequence of int

    Returns
    -------
    TextWeightSweep
    """
    if text_weights is None:
        text_weights = np.linspace(0.0, 1.0, 11)
    text_weights = np.asarray(text_weights, dtype=float)
    ks = tuple(int(k) for k in ks)
    recall = np.empty((len(text_weights), len(ks)))  # (n_weights, n_ks)
    for row, text_weight in enumerate(text_weights):
        _, ranked_ids = index.search(weighted(v_text, v_image, text_weight), k=max(ks))
        recall_by_k = recall_at_k(rank_of_first_match(ranked_ids, relevant_ids), ks)
        recall[row] = [recall_by_k[k] for k in ks]
    return TextWeightSweep(text_weights=text_weights, ks=ks, recall=recall)


def plot_text_weight_sweep(sweep, title="Recall@K of fused queries against the text weight"):
    """A line per K of Recall@K against the text weight.

    Parameters
    ----------
    sweep : TextWeightSweep
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global state

    figure = Figure(figsize=(6, 4), layout="constrained")
    axes = figure.add_subplot()
    for j, k in enumerate(sweep.ks):
        axes.plot(sweep.text_weights, sweep.recall[:, j], marker="o", label=f"R@{k}")
    axes.set_title(title)
    axes.set_xlabel("text weight w (weight of the text vector; 1 - w for the image vector)")
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

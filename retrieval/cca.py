"""Regularised canonical correlation analysis (CCA): both modalities into one shared space.

CCA finds directions ``a_k`` (for ``X``) and ``b_k`` (for ``Y``) whose projections are as
correlated as possible. With centred ``X`` (n, d_x), ``Y`` (n, d_y) and the regularised
covariances

    C_xx = X^T X / n + λ m_x I,   C_yy = Y^T Y / n + λ m_y I,   C_xy = X^T Y / n

(``λ`` = ``regularization``, ``m`` = mean eigenvalue of the unregularised covariance,
so ``λ`` is scale-free),
the solution is the SVD of the whitened cross-covariance

    C_xx^{-1/2} C_xy C_yy^{-1/2} = A diag(rho) B^T,    a_k = C_xx^{-1/2} A_k,  b_k = C_yy^{-1/2} B_k

with canonical correlations ``rho_1 >= rho_2 >= ...``. Following Gong et al. (2014, "A
multi-view embedding space for modeling internet images, tags, and their semantics"),
which Klein et al. (2015) use for Flickr8k, the embedding scales each dimension by
``rho_k ** power`` so that well-correlated directions dominate the cosine.

Computation: from the thin SVDs ``X = U_x diag(s_x) V_x^T`` and ``Y = U_y diag(s_y) V_y^T``
(done once in :meth:`CCA.fit`), ``C_xx^{-1/2} = V_x diag(w_x) V_x^T`` with
``w_x = (s_x^2 / n + λ m_x)^{-1/2}`` on the row space of ``X``, and

    C_xx^{-1/2} C_xy C_yy^{-1/2} = V_x [diag(w_x s_x) U_x^T U_y diag(s_y w_y) / n] V_y^T,

so every ``λ`` costs one SVD of the small ``(r_x, r_y)`` core: :meth:`CCA.set_regularization`.

**Repeated rows** (``fit(X, Y, y_index=...)``): the training pairs are ``(X_j, Y_{g(j)})``,
for example every caption ``j`` with the features of its image ``g(j)``, so the
``(N, d_y)`` matrix ``Y[g]`` repeats each image ``n_i`` times. Its centred SVD comes from
the small one, without forming ``Y[g]``: with ``P`` (N, n) the 0/1 indicator of ``g`` and
``D = diag(n_i) = P^T P``, the weighted mean is ``mu = sum_i n_i Y_i / N``, and if
``D^{1/2} (Y - mu) = U' diag(s) V^T`` then

    Y[g] - mu = P D^{-1/2} U' diag(s) V^T,   (P D^{-1/2} U')^T (P D^{-1/2} U') = I,

so ``U_y = P D^{-1/2} U'`` and the core ``U_x^T U_y = (P^T U_x)^T D^{-1/2} U'`` costs one
``(r_x, n) @ (n, r_y)`` product.
"""

from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted, validate_data

from retrieval.linalg import thin_svd


class CCA(BaseEstimator):
    """Regularised CCA with correlation-weighted embeddings.

    Parameters
    ----------
    n_components : int, optional
        Dimension ``k`` of the shared space; default ``min(r_x, r_y)``.
    regularization : float > 0
        Relative ridge ``λ`` added to both covariances (see the module docstring).
    power : float
        Exponent of the canonical correlations that scale the embedding dimensions.

    Attributes
    ----------
    x_weights_ : ndarray of shape (d_x, k)
        ``C_xx^{-1/2} A_k diag(rho^power)``; ``transform_x(X) = (X - x_mean_) x_weights_``.
    y_weights_ : ndarray of shape (d_y, k)
    correlations_ : ndarray of shape (k,)
        ``rho_1 .. rho_k`` (regularised canonical correlations).
    x_mean_ : ndarray of shape (d_x,)
    y_mean_ : ndarray of shape (d_y,)
    regularization_ : float
        The ``λ`` the weights were solved for.
    x_singular_values_, x_components_ : ndarray of shape (r_x,), (r_x, d_x)
        ``s_x`` and ``V_x^T`` of the centred ``X`` (``y_...`` likewise): with ``core_``,
        ``n_samples_`` and the views' mean eigenvalues, what :meth:`set_regularization`
        re-solves from.
    core_ : ndarray of shape (r_x, r_y)
        ``U_x^T U_y``.
    """

    def __init__(self, n_components=None, regularization=0.1, power=4.0):
        self.n_components = n_components
        self.regularization = regularization
        self.power = power

    def fit(self, X, Y, y_index=None):
        """Centre both views, take their thin SVDs and solve for ``regularization``.

        Parameters
        ----------
        X : array-like of shape (n_samples, d_x)
        Y : array-like of shape (n_samples, d_y), or (n_y, d_y) with ``y_index``
        y_index : array-like of int, shape (n_samples,), optional
            The pairs are ``(X[j], Y[y_index[j]])``: the same fit as ``fit(X, Y[y_index])``
            without forming the repeated matrix (see the module docstring). Every row of
            ``Y`` must be used at least once.

        Returns
        -------
        self
        """
        if y_index is None:
            X, Y = validate_data(self, X, Y, dtype=np.float64, multi_output=True,
                                 y_numeric=True)
            if Y.ndim != 2:
                raise ValueError(f"Y must be 2-D (n_samples, d_y), got shape {Y.shape}")
            self.x_mean_, self.y_mean_ = X.mean(axis=0), Y.mean(axis=0)  # (d_x,), (d_y,)
            U_x, x_view = _centred_view(X - self.x_mean_)  # X = U_x diag(s_x) V_x^T; (n, r_x)
            U_y, y_view = _centred_view(Y - self.y_mean_)
            self._keep_factorisation(x_view, y_view, U_x.T @ U_y)  # core: (r_x, r_y)
            return self.set_regularization(self.regularization)
        X = validate_data(self, X, dtype=np.float64)  # (N, d_x)
        Y = np.asarray(Y, dtype=np.float64)
        y_index = np.asarray(y_index)
        if Y.ndim != 2 or not np.isfinite(Y).all():
            raise ValueError(f"Y must be a finite 2-D array (n_y, d_y), got shape {Y.shape}")
        if y_index.shape != (len(X),) or not np.issubdtype(y_index.dtype, np.integer):
            raise ValueError(
                f"y_index must hold one int row of Y per row of X: expected shape"
                f" ({len(X)},), got {y_index.shape} of dtype {y_index.dtype}"
            )
        if len(y_index) and (y_index.min() < 0 or y_index.max() >= len(Y)):
            raise ValueError(f"y_index must lie in [0, {len(Y)}), the rows of Y")
        counts = np.bincount(y_index, minlength=len(Y)).astype(np.float64)  # (n_y,): n_i
        if not (counts > 0).all():
            raise ValueError(
                f"every row of Y must be paired at least once (y_index misses"
                f" {int(np.sum(counts == 0))} of the {len(Y)} rows)"
            )
        self.x_mean_ = X.mean(axis=0)  # (d_x,)
        self.y_mean_ = counts @ Y / len(X)  # (d_y,): mean of Y[y_index]
        U_x, x_view = _centred_view(X - self.x_mean_)  # (N, r_x)
        root = np.sqrt(counts)[:, None]  # (n_y, 1)
        U_small, y_small = _centred_view(root * (Y - self.y_mean_))  # D^1/2 (Y - mu): (n_y, r_y)
        y_view = _View(y_small.s, y_small.Vt, len(X), float(np.sum(y_small.s**2) / len(X)
                                                             / Y.shape[1]))
        summed = np.zeros((len(Y), U_x.shape[1]))  # (n_y, r_x): P^T U_x
        np.add.at(summed, y_index, U_x)
        self._keep_factorisation(x_view, y_view, summed.T @ (U_small / root))  # (r_x, r_y)
        return self.set_regularization(self.regularization)

    def set_regularization(self, regularization):
        """Re-solve for another ``λ`` from the SVDs kept by :meth:`fit` (no new SVD of the views).

        Returns
        -------
        self
        """
        if not (np.isfinite(regularization) and regularization > 0):
            raise ValueError(f"regularization must be finite and > 0, got {regularization!r}")
        check_is_fitted(self)
        x_view = _View(self.x_singular_values_, self.x_components_, self.n_samples_,
                       self.x_mean_eigenvalue_)
        y_view = _View(self.y_singular_values_, self.y_components_, self.n_samples_,
                       self.y_mean_eigenvalue_)
        x_whiten = x_view.whitening(regularization)  # (r_x,)
        y_whiten = y_view.whitening(regularization)  # (r_y,)
        scaled_core = (x_whiten * x_view.s)[:, None] * self.core_ * (y_view.s * y_whiten)
        A, rho, Bt = thin_svd(scaled_core / x_view.n_samples)  # (r_x, r), (r,), (r, r_y)
        k = len(rho) if self.n_components is None else min(self.n_components, len(rho))
        scale = rho[:k] ** self.power  # (k,)
        self.x_weights_ = x_view.Vt.T @ (x_whiten[:, None] * A[:, :k]) * scale  # (d_x, k)
        self.y_weights_ = y_view.Vt.T @ (y_whiten[:, None] * Bt[:k].T) * scale  # (d_y, k)
        self.correlations_ = rho[:k]
        self.regularization_ = float(regularization)
        return self

    def _keep_factorisation(self, x_view, y_view, core):
        """Keep what :meth:`set_regularization` needs as fitted attributes."""
        self.x_singular_values_, self.x_components_ = x_view.s, x_view.Vt
        self.y_singular_values_, self.y_components_ = y_view.s, y_view.Vt
        self.x_mean_eigenvalue_ = x_view.mean_eigenvalue
        self.y_mean_eigenvalue_ = y_view.mean_eigenvalue
        self.n_samples_ = x_view.n_samples
        self.core_ = core

    def transform_x(self, X):
        """Embed ``X`` (n, d_x) into the shared space: ``(n, k)``."""
        check_is_fitted(self)
        return (np.asarray(X, dtype=np.float64) - self.x_mean_) @ self.x_weights_

    def transform_y(self, Y):
        """Embed ``Y`` (n, d_y) into the shared space: ``(n, k)``."""
        check_is_fitted(self)
        return (np.asarray(Y, dtype=np.float64) - self.y_mean_) @ self.y_weights_


@dataclass(frozen=True)
class _View:
    """What :meth:`CCA.set_regularization` needs of one centred view ``M = U diag(s) V^T``."""

    s: np.ndarray  # (r,)
    Vt: np.ndarray  # (r, d)
    n_samples: int
    mean_eigenvalue: float  # trace(M^T M / n) / d

    def whitening(self, regularization):
        """``(s^2 / n + λ m)^{-1/2}``: the diagonal of ``C^{-1/2}`` in the V basis."""
        return 1.0 / np.sqrt(self.s**2 / self.n_samples + regularization * self.mean_eigenvalue)


def _centred_view(M):
    """``U`` (n, r) of the thin SVD of a centred view ``M`` (n, d), and its :class:`_View`."""
    U, s, Vt = thin_svd(M)  # (n, r), (r,), (r, d)
    n_samples, n_features = M.shape
    return U, _View(s, Vt, n_samples, float(np.sum(s**2) / n_samples / n_features))

"""Closed-form ridge regression from one SVD, with exact leave-one-out choice of alpha.

Ridge regression maps inputs ``X`` (n, d) to targets ``Y`` (n, t), for example sentence
vectors to image features, by

    W = argmin ||Y - X W||^2 + alpha ||W||^2 = (X^T X + alpha I)^{-1} X^T Y.

With the thin SVD ``X = U diag(s) V^T`` (``r = min(n, d)`` singular values) this is

    W = V diag(s / (s^2 + alpha)) U^T Y,

so one SVD serves every alpha. The same factorisation gives the *dual* (kernel) form
``W = X^T (X X^T + alpha I)^{-1} Y``, which is the cheaper one when n < d: with
``n < d`` the thin SVD has only ``n`` singular values and costs ``O(n^2 d)``, like
forming the ``n x n`` Gram matrix ``X X^T``, so no separate dual solver is needed.

The hat matrix ``H = X (X^T X + alpha I)^{-1} X^T = U diag(s^2 / (s^2 + alpha)) U^T``
gives the exact leave-one-out (LOO) residual of every sample without refitting:

    e_i^LOO = (y_i - yhat_i) / (1 - h_ii),   h_ii = sum_k U_ik^2 s_k^2 / (s_k^2 + alpha).

With an intercept, ``X`` and ``Y`` are centred first; the unpenalised intercept adds
``1/n`` to every ``h_ii`` (the hat matrix of the column of ones). This is what
scikit-learn's ``RidgeCV(gcv_mode="svd")`` computes (its "gcv" is this exact LOO
formula, not the trace approximation of generalised cross-validation), and the chosen
alpha minimises the LOO squared error averaged over samples and targets.
"""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from retrieval.linalg import orthonormal_basis, thin_svd

#: Alphas tried by ``alpha="gcv"``: 17 values, two per decade, from 1e-3 to 1e5.
DEFAULT_ALPHAS = np.logspace(-3, 5, 17)

_ROWS_PER_CHUNK = 4096  # rows of the targets projected at once (bounds memory)


class RidgeProjection(TransformerMixin, RegressorMixin, BaseEstimator):
    """Ridge regression solved by SVD; alpha fixed or chosen by exact leave-one-out.

    Parameters
    ----------
    alpha : "gcv", float or sequence of float
        The penalty ``alpha > 0``. A sequence is a grid searched by exact leave-one-out
        error; ``"gcv"`` searches :data:`DEFAULT_ALPHAS` (``np.logspace(-3, 5, 17)``).
    fit_intercept : bool
        Centre ``X`` and ``Y`` and fit an unpenalised intercept.

    Attributes
    ----------
    coef_ : ndarray of shape (n_targets, n_features), or (n_features,) for 1-D y
        ``W^T`` (the scikit-learn ``Ridge`` layout).
    intercept_ : ndarray of shape (n_targets,), or float for 1-D y
        ``mean(Y) - mean(X) W`` (0 without intercept).
    alpha_ : float
        The alpha used for ``coef_``.
    alphas_ : ndarray of shape (n_alphas,)
        The alphas tried (one value for a fixed alpha).
    cv_errors_ : ndarray of shape (n_alphas,) or None
        Mean squared LOO error of each alpha, ``mean_{i,j} (e_ij^LOO)^2``; ``None`` for a
        fixed float alpha (no search, so not computed).
    singular_values_ : ndarray of shape (min(n_samples, n_features),)
        ``s`` of the (centred) training inputs.
    Vt_ : ndarray of shape (r, n_features)
        ``V^T`` of the SVD ``Xc = U diag(s) V^T`` (kept for :meth:`set_alpha`).
    UtY_ : ndarray of shape (r, n_targets)
        ``U^T Yc``, the centred targets in the left singular basis.
    x_mean_ : ndarray of shape (n_features,)
    y_mean_ : ndarray of shape (n_targets,)
        Training means (zeros without intercept).
    n_features_in_ : int

    Notes
    -----
    :meth:`transform` is :meth:`predict`, so the projection can sit inside a
    scikit-learn ``Pipeline``. Computation is in float64.
    """

    def __init__(self, alpha="gcv", fit_intercept=True):
        self.alpha = alpha
        self.fit_intercept = fit_intercept

    def fit(self, X, y):
        """Fit ``W`` (and choose alpha when a grid is given).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)

        Returns
        -------
        self
        """
        X, y = validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=True)
        alphas, search = self._alpha_grid()
        Y = y.reshape(len(y), -1)  # (n, t)
        if self.fit_intercept:
            x_mean, y_mean = X.mean(axis=0), Y.mean(axis=0)  # (d,), (t,)
        else:
            x_mean, y_mean = np.zeros(X.shape[1]), np.zeros(Y.shape[1])
        Xc, Yc = X - x_mean, Y - y_mean  # (n, d), (n, t)
        U, s, Vt = thin_svd(Xc)  # (n, r), (r,), (r, d)
        UtY = U.T @ Yc  # (r, t)

        self.cv_errors_ = None
        if search:
            if len(X) < 2:
                raise ValueError(
                    "choosing alpha by leave-one-out needs at least 2 samples, got 1 sample;"
                    " give a fixed float alpha"
                )
            self.cv_errors_ = _loo_errors(U, s, UtY, Yc, alphas, self.fit_intercept)
            self.alpha_ = float(alphas[np.argmin(self.cv_errors_)])  # first minimum
        else:
            self.alpha_ = float(alphas[0])

        self.alphas_ = alphas
        self.singular_values_ = s
        self.Vt_, self.UtY_ = Vt, UtY
        self.x_mean_, self.y_mean_ = x_mean, y_mean
        self._one_dimensional_target = y.ndim == 1
        return self.set_alpha(self.alpha_)

    def set_alpha(self, alpha):
        """Re-solve for another penalty from the SVD kept by :meth:`fit` (no new SVD).

        ``W = V diag(s / (s^2 + alpha)) U^T Yc`` costs ``O(r d t)``, so a caller can try
        many alphas against its own criterion (e.g. retrieval recall on a dev set).

        Parameters
        ----------
        alpha : float > 0

        Returns
        -------
        self
        """
        check_is_fitted(self)
        if not (np.isfinite(alpha) and alpha > 0):
            raise ValueError(f"alpha must be finite and > 0, got {alpha!r}")
        s = self.singular_values_
        W = self.Vt_.T @ ((s / (s**2 + alpha))[:, None] * self.UtY_)  # (d, t)
        intercept = self.y_mean_ - self.x_mean_ @ W  # (t,)
        self.alpha_ = float(alpha)
        if self._one_dimensional_target:
            self.coef_, self.intercept_ = W[:, 0], float(intercept[0])
        else:
            self.coef_, self.intercept_ = W.T, intercept
        return self

    def predict(self, X):
        """``X W + intercept``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_targets) or (n_samples,)
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X @ self.coef_.T + self.intercept_

    def transform(self, X):
        """Same as :meth:`predict`: project ``X`` into the target space."""
        return self.predict(X)

    def _alpha_grid(self):
        """The alphas to try, and whether to search them by LOO."""
        if isinstance(self.alpha, str):
            if self.alpha != "gcv":
                raise ValueError(f"alpha must be 'gcv', a float or a list, got {self.alpha!r}")
            return DEFAULT_ALPHAS.copy(), True
        search = not isinstance(self.alpha, numbers.Real)
        alphas = np.atleast_1d(np.asarray(self.alpha, dtype=np.float64))  # (n_alphas,)
        if alphas.ndim != 1 or alphas.size == 0:
            raise ValueError(f"alpha grid must be a non-empty 1-D sequence, got {self.alpha!r}")
        if not (np.isfinite(alphas).all() and (alphas > 0).all()):
            raise ValueError(f"every alpha must be finite and > 0, got {self.alpha!r}")
        return alphas, search

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


def _loo_errors(U, s, UtY, Yc, alphas, fit_intercept):
    """Mean squared leave-one-out error of every alpha from one SVD.

    ``e^LOO = (Yc - U diag(f) U^T Yc) / (1 - h)`` with ``f = s^2 / (s^2 + alpha)`` and
    ``h_i = 1/n [with intercept] + sum_k U_ik^2 f_k``.

    Only the squared row norms ``||Yc_i - (U_i * f) U^T Yc||^2`` are needed, so the ``t``
    target columns are first compressed to ``k = min(r, t)``: with ``Q`` (t, k) an
    orthonormal basis of the row space of ``U^T Yc``, the fitted part lies in that
    space and the part of ``Yc`` outside it is the same for every alpha:

        ||residual_i||^2 = ||Yc_i Q - (U_i * f) (U^T Yc Q)||^2 + ||Yc_i - Yc_i Q Q^T||^2

    One-off cost ``O(n t k)``; each alpha then costs ``O(n r k)`` instead of ``O(n r t)``.

    Returns
    -------
    ndarray of shape (n_alphas,)
    """
    n_samples = len(Yc)
    Q = orthonormal_basis(UtY.T)  # (t, k): orthonormal basis of the row space of UtY
    UtY_in = UtY @ Q  # (r, k)
    Y_in = np.empty((n_samples, Q.shape[1]))  # (n, k): Yc in that basis
    outside = np.empty(n_samples)  # (n,): ||Yc_i - Yc_i Q Q^T||^2, alpha-independent
    for start in range(0, n_samples, _ROWS_PER_CHUNK):
        rows = slice(start, start + _ROWS_PER_CHUNK)
        Y_in[rows] = Yc[rows] @ Q
        outside[rows] = np.sum((Yc[rows] - Y_in[rows] @ Q.T) ** 2, axis=1)
    shrink = s**2 / (s**2 + alphas[:, None])  # (n_alphas, r)
    intercept_leverage = 1.0 / n_samples if fit_intercept else 0.0
    squared_errors = np.empty(len(alphas))
    for a in range(len(alphas)):
        leverage = intercept_leverage + U**2 @ shrink[a]  # (n,)
        residual_in = Y_in - (U * shrink[a]) @ UtY_in  # (n, k)
        squared_norms = np.sum(residual_in**2, axis=1) + outside  # (n,)
        squared_errors[a] = np.sum(squared_norms / (1.0 - leverage) ** 2)
    return squared_errors / Yc.size

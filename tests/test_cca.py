"""Regularised CCA against the explicit whitened SVD of the covariances, and its
``y_index`` route against the materialised repeated rows."""

import numpy as np
import pytest

from retrieval.cca import CCA


def inverse_sqrt(C):
    eigenvalues, vectors = np.linalg.eigh(C)
    return vectors @ np.diag(eigenvalues**-0.5) @ vectors.T


def test_cca_matches_the_explicit_whitened_svd():
    rng = np.random.default_rng(0)
    latent = rng.normal(size=(400, 3))
    X = latent @ rng.normal(size=(3, 7)) + rng.normal(size=(400, 7))
    Y = latent @ rng.normal(size=(3, 5)) + rng.normal(size=(400, 5))
    regularization = 0.05
    model = CCA(regularization=regularization, power=0.0).fit(X, Y)
    Xc, Yc = X - X.mean(axis=0), Y - Y.mean(axis=0)
    Cxx, Cyy, Cxy = Xc.T @ Xc / 400, Yc.T @ Yc / 400, Xc.T @ Yc / 400
    Kx = inverse_sqrt(Cxx + regularization * np.trace(Cxx) / 7 * np.eye(7))
    Ky = inverse_sqrt(Cyy + regularization * np.trace(Cyy) / 5 * np.eye(5))
    A, rho, Bt = np.linalg.svd(Kx @ Cxy @ Ky)
    np.testing.assert_allclose(model.correlations_, rho, rtol=1e-10)
    # directions are defined up to sign
    signs = np.sign(np.sum(model.x_weights_ * (Kx @ A[:, :5]), axis=0))
    np.testing.assert_allclose(model.x_weights_, Kx @ A[:, :5] * signs, atol=1e-10)
    np.testing.assert_allclose(model.y_weights_, Ky @ Bt.T * signs, atol=1e-10)


def test_cca_set_regularization_equals_a_fresh_fit():
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(50, 6)), rng.normal(size=(50, 4))
    refitted = CCA(regularization=0.01, power=2.0).fit(X, Y).set_regularization(0.3)
    fresh = CCA(regularization=0.3, power=2.0).fit(X, Y)
    np.testing.assert_allclose(np.abs(refitted.x_weights_), np.abs(fresh.x_weights_), atol=1e-10)


def test_cca_y_index_equals_the_repeated_rows_with_unequal_counts():
    rng = np.random.default_rng(3)
    Y = rng.normal(size=(15, 6))
    y_index = rng.permutation(np.r_[np.arange(15), rng.integers(0, 15, 25)])  # 1 to ~5 each
    X = rng.normal(size=(len(y_index), 4))
    expected = CCA(regularization=0.05, power=2.0).fit(X, Y[y_index])
    fitted = CCA(regularization=0.05, power=2.0).fit(X, Y, y_index=y_index)
    signs = np.sign(np.sum(expected.x_weights_ * fitted.x_weights_, axis=0))
    np.testing.assert_allclose(fitted.correlations_, expected.correlations_, atol=1e-12)
    np.testing.assert_allclose(fitted.x_weights_ * signs, expected.x_weights_, atol=1e-10)
    np.testing.assert_allclose(fitted.y_weights_ * signs, expected.y_weights_, atol=1e-10)
    with pytest.raises(ValueError, match="every row of Y must be paired"):
        CCA().fit(X[:3], Y, y_index=np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"y_index must lie in \[0, 15\)"):
        CCA().fit(X[:2], Y, y_index=np.array([0, 15]))

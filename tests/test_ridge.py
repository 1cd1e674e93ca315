"""RidgeProjection against scikit-learn's Ridge/RidgeCV and brute-force leave-one-out."""

import numpy as np
import pytest
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.utils.estimator_checks import parametrize_with_checks

from retrieval.ridge import DEFAULT_ALPHAS, RidgeProjection

GRID = np.logspace(-2, 3, 11)


def make_problem(n_samples, n_features, n_targets, seed=0):
    """Noisy linear data with non-zero means, so the intercept matters."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features)) + 2.0
    W = rng.normal(size=(n_features, n_targets))
    Y = X @ W + 3.0 + rng.normal(scale=2.0, size=(n_samples, n_targets))
    return X, Y


SHAPES = [(60, 8, 5), (12, 30, 3)]  # tall (n > d) and wide (n < d: dual regime)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("shape", SHAPES)
def test_fixed_alpha_equals_sklearn_ridge(shape, fit_intercept):
    X, Y = make_problem(*shape)
    ours = RidgeProjection(alpha=0.7, fit_intercept=fit_intercept).fit(X, Y)
    theirs = Ridge(alpha=0.7, fit_intercept=fit_intercept).fit(X, Y)
    assert ours.coef_.shape == theirs.coef_.shape == (shape[2], shape[1])
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=0, atol=1e-8)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=0, atol=1e-8)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=0, atol=1e-8)
    assert ours.alpha_ == 0.7 and ours.cv_errors_ is None


def test_one_dimensional_target_gives_sklearn_shapes():
    X, Y = make_problem(40, 6, 1)
    y = Y[:, 0]
    ours = RidgeProjection(alpha=2.0).fit(X, y)
    theirs = Ridge(alpha=2.0).fit(X, y)
    assert ours.coef_.shape == (6,) and isinstance(ours.intercept_, float)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=0, atol=1e-8)
    assert ours.intercept_ == pytest.approx(theirs.intercept_, abs=1e-8)
    assert ours.predict(X).shape == (40,)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("shape", SHAPES)
def test_grid_equals_sklearn_ridgecv_svd(shape, fit_intercept):
    X, Y = make_problem(*shape, seed=1)
    ours = RidgeProjection(alpha=list(GRID), fit_intercept=fit_intercept).fit(X, Y)
    theirs = RidgeCV(alphas=GRID, gcv_mode="svd", fit_intercept=fit_intercept).fit(X, Y)
    assert ours.alpha_ == theirs.alpha_
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=0, atol=1e-8)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=0, atol=1e-8)
    assert ours.cv_errors_.shape == GRID.shape


def test_default_gcv_grid_equals_ridgecv_on_the_same_grid():
    X, Y = make_problem(80, 10, 4, seed=2)
    ours = RidgeProjection().fit(X, Y)
    theirs = RidgeCV(alphas=DEFAULT_ALPHAS, gcv_mode="svd").fit(X, Y)
    np.testing.assert_array_equal(ours.alphas_, np.logspace(-3, 5, 17))
    assert ours.alpha_ == theirs.alpha_
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=0, atol=1e-8)


def brute_force_loo_errors(X, Y, alphas, fit_intercept):
    """Mean squared leave-one-out error by refitting scikit-learn Ridge n times per alpha."""
    errors = []
    for alpha in alphas:
        squared = []
        for i in range(len(X)):
            keep = np.arange(len(X)) != i
            model = Ridge(alpha=alpha, fit_intercept=fit_intercept).fit(X[keep], Y[keep])
            squared.append((Y[i] - model.predict(X[i : i + 1])[0]) ** 2)
        errors.append(np.mean(squared))
    return np.array(errors)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("shape", [(15, 4, 2), (9, 14, 2)])
def test_loo_errors_equal_brute_force_refits(shape, fit_intercept):
    X, Y = make_problem(*shape, seed=3)
    alphas = [0.01, 0.3, 3.0, 30.0, 300.0]
    ours = RidgeProjection(alpha=alphas, fit_intercept=fit_intercept).fit(X, Y)
    expected = brute_force_loo_errors(X, Y, alphas, fit_intercept)
    np.testing.assert_allclose(ours.cv_errors_, expected, rtol=1e-8)
    assert ours.alpha_ == alphas[int(np.argmin(expected))]


def test_wide_problem_matches_explicit_dual_form():
    """n < d: W = Xc^T (Xc Xc^T + alpha I)^{-1} Yc, solved here with the n x n Gram."""
    X, Y = make_problem(10, 50, 3, seed=4)
    alpha = 0.5
    Xc, Yc = X - X.mean(axis=0), Y - Y.mean(axis=0)
    W_dual = Xc.T @ np.linalg.solve(Xc @ Xc.T + alpha * np.eye(10), Yc)  # (d, t)
    ours = RidgeProjection(alpha=alpha).fit(X, Y)
    np.testing.assert_allclose(ours.coef_, W_dual.T, rtol=0, atol=1e-8)


def test_many_targets_and_transform_is_predict():
    X, Y = make_problem(50, 12, 256, seed=5)
    model = RidgeProjection(alpha=[0.1, 1.0, 10.0])
    projected = model.fit_transform(X, Y)
    assert projected.shape == (50, 256) and projected.dtype == np.float64
    np.testing.assert_array_equal(projected, model.predict(X))


@pytest.mark.parametrize(
    ("X_bad", "y_bad", "message"),
    [
        (True, False, "Input X contains NaN"),
        (False, True, "Input y contains infinity"),
    ],
)
def test_non_finite_input_is_refused(X_bad, y_bad, message):
    X, Y = make_problem(20, 3, 2)
    if X_bad:
        X[4, 1] = np.nan
    if y_bad:
        Y[7, 0] = np.inf
    with pytest.raises(ValueError, match=message):
        RidgeProjection(alpha=1.0).fit(X, Y)


def test_predict_names_both_dimensions_on_feature_mismatch():
    X, Y = make_problem(20, 3, 2)
    model = RidgeProjection(alpha=1.0).fit(X, Y)
    with pytest.raises(ValueError, match="X has 5 features, but RidgeProjection is expecting 3"):
        model.predict(np.ones((4, 5)))


@pytest.mark.parametrize("alpha", [-1.0, 0.0, [1.0, -2.0], [], "loo", float("nan")])
def test_bad_alpha_is_refused_at_fit(alpha):
    X, Y = make_problem(20, 3, 2)
    with pytest.raises(ValueError, match="alpha"):
        RidgeProjection(alpha=alpha).fit(X, Y)


def test_leave_one_out_needs_two_samples():
    with pytest.raises(ValueError, match="at least 2 samples"):
        RidgeProjection().fit(np.ones((1, 3)), np.ones(1))


def test_ridge_set_alpha_equals_a_fresh_fit():
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(80, 10)) + 1, rng.normal(size=(80, 4))
    model = RidgeProjection(alpha=[0.1, 1.0]).fit(X, Y).set_alpha(7.0)
    fresh = RidgeProjection(alpha=7.0).fit(X, Y)
    np.testing.assert_allclose(model.coef_, fresh.coef_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(model.intercept_, fresh.intercept_, rtol=0, atol=1e-10)
    assert model.alpha_ == 7.0


@parametrize_with_checks([RidgeProjection(), RidgeProjection(alpha=1.0, fit_intercept=False)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)

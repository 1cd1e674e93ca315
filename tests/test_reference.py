"""Finite-difference check of every reference objective in float64.

Truth: the central difference (L(θ + εe) - L(θ - εe)) / 2ε for every parameter entry
the example touches. Required: relative error < 1e-6.
"""

import numpy as np
import pytest

from w2v_scratch import reference as ref

V, D = 9, 4
EPS = 1e-6


def _params(seed, output_rows=V):
    rng = np.random.default_rng(seed)
    return rng.normal(scale=0.5, size=(V, D)), rng.normal(scale=0.5, size=(output_rows, D))


# (name, function, arguments after the two matrices, rows of the output matrix)
CASES = [
    ("sg_softmax", ref.sg_softmax, (3, [1, 5, 5, 8]), V),
    ("cbow_softmax", ref.cbow_softmax, ([0, 2, 2, 7], 4), V),
    ("sg_negative", ref.sg_negative, (3, 6, [1, 2, 2, 8]), V),
    ("cbow_negative", ref.cbow_negative, ([0, 2, 2, 7], 4, [1, 3, 3]), V),
    ("sg_hierarchical", ref.sg_hierarchical, (3, [7, 5, 2, 0], [1, 0, 1, 1]), V - 1),
    ("cbow_hierarchical", ref.cbow_hierarchical, ([0, 2, 2, 7], [7, 4, 1], [0, 0, 1]), V - 1),
]


@pytest.mark.parametrize("name,objective,args,output_rows", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("seed", [0, 1])
def test_gradient_matches_finite_differences(name, objective, args, output_rows, seed):
    W_in, W_out = _params(seed, output_rows)
    loss, grads = objective(W_in, W_out, *args)
    assert np.isfinite(loss) and loss > 0
    for param_name, matrix in (("W_in", W_in), ("W_out", W_out)):
        numeric = ref.numerical_gradient(objective, W_in, W_out, args, matrix, EPS)
        analytic = grads[param_name]
        scale = np.abs(numeric).max()
        assert scale > 1e-3, f"{name}: {param_name} gradient is identically zero"
        error = np.abs(analytic - numeric).max() / scale
        assert error < 1e-6, f"{name} d/d{param_name}: relative error {error:.2e}"


def test_softmax_loss_is_the_negative_log_probability():
    """Hand computation: with U = 0 every word has probability 1/V."""
    W_in, _ = _params(0)
    W_out = np.zeros((V, D))
    loss, _ = ref.cbow_softmax(W_in, W_out, [1, 2], 3)
    assert loss == pytest.approx(np.log(V), rel=1e-12)
    loss, _ = ref.sg_softmax(W_in, W_out, 1, [2, 3, 4])
    assert loss == pytest.approx(3 * np.log(V), rel=1e-12)


def test_negative_sampling_loss_at_zero_scores():
    """Hand computation: all scores 0 gives (1 + K) log 2."""
    W_in, _ = _params(0)
    loss, _ = ref.sg_negative(W_in, np.zeros((V, D)), 1, 2, [3, 4, 5])
    assert loss == pytest.approx(4 * np.log(2), rel=1e-12)


def test_hierarchical_probabilities_sum_to_one_over_a_full_tree():
    """With a complete binary tree of 4 leaves, Σ_w P(w | h) = 1."""
    rng = np.random.default_rng(3)
    W_in, W_nodes = rng.normal(size=(4, D)), rng.normal(size=(3, D))
    paths = {0: ([0, 1], [0, 0]), 1: ([0, 1], [0, 1]), 2: ([0, 2], [1, 0]), 3: ([0, 2], [1, 1])}
    total = sum(np.exp(-ref.sg_hierarchical(W_in, W_nodes, 0, *path)[0])
                for path in paths.values())
    assert total == pytest.approx(1.0, rel=1e-12)

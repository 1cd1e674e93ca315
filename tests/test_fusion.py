"""Fusion of text and image vectors, the text-weight sweep and its plot.

plot_text_weight_sweep builds a bare matplotlib Figure (no pyplot), which renders with the
Agg canvas whatever backend is configured, so no backend needs to be chosen here.
"""

import numpy as np
import pytest

from retrieval.fusion import (
    TextWeightSweep,
    concat,
    plot_text_weight_sweep,
    text_weight_sweep,
    weighted,
)
from retrieval.index import CosineIndex


def test_concat_normalises_each_part_first():
    fused = concat([[3.0, 4.0]], [[0.0, 0.0, 2.0]])
    np.testing.assert_allclose(fused, [[0.6, 0.8, 0.0, 0.0, 1.0]])
    assert concat([3.0, 4.0], [5.0]).shape == (3,)


def test_weighted_is_a_convex_combination_of_unit_vectors():
    fused = weighted([[10.0, 0.0]], [[0.0, 0.5]], text_weight=0.25)
    np.testing.assert_allclose(fused, [[0.25, 0.75]])
    np.testing.assert_allclose(weighted([2.0, 0.0], [0.0, 3.0], text_weight=1.0), [1.0, 0.0])


def test_zero_parts_do_not_give_nan():
    assert np.isfinite(concat(np.zeros((2, 3)), np.ones((2, 2)))).all()
    assert np.isfinite(weighted(np.zeros(3), np.ones(3), 0.5)).all()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: weighted(np.ones((2, 3)), np.ones((2, 4)), 0.5), "shared space"),
        (lambda: weighted(np.ones(3), np.ones(3), 1.5), r"text_weight must be in \[0, 1\]"),
        (lambda: concat(np.ones((2, 3)), np.ones((3, 3))), "same number of vectors"),
        (lambda: concat([np.nan], [1.0]), "NaN"),
    ],
)
def test_bad_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def make_sweep_problem():
    """Items on the unit circle; the text part points at the target, the image part away.

    Item j is at angle 10 j degrees. Query q wants item q: its text vector is item q
    itself and its image vector is item q + 9 (90 degrees further), so text weight 1 finds
    every target first and text weight 0 none.
    """
    angles = np.deg2rad(10.0 * np.arange(36))
    items = np.stack([np.cos(angles), np.sin(angles)], axis=1)  # (36, 2)
    targets = np.arange(12)
    return CosineIndex(items), items[targets], items[targets + 9], targets


def test_text_weight_sweep_recall_at_the_ends():
    index, v_text, v_image, targets = make_sweep_problem()
    sweep = text_weight_sweep(index, v_text, v_image, targets, text_weights=[0.0, 1.0], ks=(1, 5))
    np.testing.assert_array_equal(sweep.text_weights, [0.0, 1.0])
    np.testing.assert_array_equal(sweep.recall, [[0.0, 0.0], [100.0, 100.0]])
    assert sweep.best_text_weight(1) == 1.0


def test_plot_text_weight_sweep_saves_a_png(tmp_path):
    sweep = TextWeightSweep(text_weights=np.linspace(0, 1, 5), ks=(1, 5),
                            recall=np.arange(10.0).reshape(5, 2))
    figure = plot_text_weight_sweep(sweep, title="sweep")
    axes = figure.axes[0]
    assert axes.get_title() == "sweep"
    assert axes.get_xlabel().startswith("text weight") and axes.get_ylabel() == "recall (%)"
    assert [text.get_text() for text in axes.get_legend().get_texts()] == ["R@1", "R@5"]
    path = tmp_path / "sweep.png"
    figure.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

"""The k-occurrence histogram of retrieval.plots: labels, legend, counts drawn."""

import numpy as np
import pytest

from retrieval.metrics import k_occurrence
from retrieval.plots import k_occurrence_histogram


def test_k_occurrence_histogram_labels_every_ranking_with_its_skewness(tmp_path):
    hub = k_occurrence(np.tile([0.0, 0.1, 0.2, 0.9], (6, 1)), k=1)  # [0, 0, 0, 6]
    flat = np.array([2, 1, 2, 1])
    figure = k_occurrence_histogram({"cosine": hub, "CSLS": flat}, k=1, title="hubs")
    axes = figure.axes[0]
    assert axes.get_title() == "hubs"
    assert axes.get_xlabel().startswith("N_1") and axes.get_ylabel() == "number of items"
    assert axes.get_yscale() == "log"
    labels = [text.get_text() for text in axes.get_legend().get_texts()]
    assert labels == ["cosine (skewness 1.15, max 6)", "CSLS (skewness 0.00, max 2)"]
    assert len(axes.patches) == 2  # one step outline per ranking
    path = tmp_path / "hubs.png"
    figure.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_k_occurrence_histogram_draws_into_given_axes():
    from matplotlib.figure import Figure

    figure = Figure()
    left, right = figure.subplots(1, 2)
    assert k_occurrence_histogram({"a": [1, 2, 3]}, k=10, ax=right) is figure
    assert right.get_legend() is not None and left.get_legend() is None
    assert right.get_title() == "k-occurrence N_10 (hubness)"


def test_k_occurrence_histogram_needs_data():
    with pytest.raises(ValueError, match="at least one"):
        k_occurrence_histogram({})

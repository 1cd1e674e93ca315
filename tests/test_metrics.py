"""Ranking metrics on hand-made rankings with hand-computed answers."""

import numpy as np
import pytest

from retrieval.index import CosineIndex
from retrieval.metrics import (
    image_to_text_ranks,
    k_occurrence,
    mean_rank,
    median_rank,
    rank_of_first_match,
    recall_at_k,
    retrieval_metrics,
    skewness,
    text_to_image_ranks,
)


def test_rank_of_first_match_single_relevant_item():
    ranked = [[3, 1, 2], [2, 3, 1], [1, 2, 3]]
    # 1 is 2nd, 1 is 3rd, 9 is not retrieved.
    np.testing.assert_array_equal(rank_of_first_match(ranked, [1, 1, 9]), [2.0, 3.0, np.inf])


def test_rank_of_first_match_several_relevant_items():
    ranked = [[7, 5, 6, 4], [0, 1, 2, 3]]
    relevant = [[4, 6], [3, 0]]
    # Row 0: 6 at position 3 comes before 4 at position 4; row 1: 0 is first.
    np.testing.assert_array_equal(rank_of_first_match(ranked, relevant), [3.0, 1.0])


def test_recall_median_and_mean_by_hand():
    ranks = [1, 2, 3, 7, 12]
    assert recall_at_k(ranks) == {1: 20.0, 5: 60.0, 10: 80.0}
    assert recall_at_k(ranks, ks=(3, 100)) == {3: 60.0, 100: 100.0}
    assert median_rank(ranks) == 3.0
    assert mean_rank(ranks) == 5.0
    assert median_rank([1, 2, 4, 10]) == 3.0  # even count: mean of the middle two


def test_not_found_counts_as_a_miss():
    assert recall_at_k([1, np.inf], ks=(1, 5)) == {1: 50.0, 5: 50.0}
    assert mean_rank([1, np.inf]) == np.inf


# 2 images, 4 captions: captions 0 and 1 describe image 0, captions 2 and 3 image 1.
CAPTION_IMAGE = np.array([0, 0, 1, 1])
SCORES = np.array(
    [
        [0.1, 0.5, 0.9, 0.2],  # image 0: caption order 2, 1, 3, 0 -> own caption 1 at rank 2
        [0.8, 0.1, 0.3, 0.7],  # image 1: caption order 0, 3, 2, 1 -> own caption 3 at rank 2
    ]
)


def test_image_to_text_takes_the_best_ranked_own_caption():
    np.testing.assert_array_equal(image_to_text_ranks(SCORES, CAPTION_IMAGE), [2.0, 2.0])


def test_text_to_image_ranks_the_own_image():
    # Columns: caption 0 (0.1 vs 0.8) -> image 0 is 2nd; caption 1 -> 1st;
    # caption 2 (0.9 vs 0.3) -> image 1 is 2nd; caption 3 (0.2 vs 0.7) -> 1st.
    np.testing.assert_array_equal(text_to_image_ranks(SCORES, CAPTION_IMAGE), [2.0, 1.0, 2.0, 1.0])


def test_ties_are_broken_by_lower_position():
    flat = np.zeros((2, 4))
    # Every caption ties: captions come in order 0, 1, 2, 3, so image 1 first sees caption 2.
    np.testing.assert_array_equal(image_to_text_ranks(flat, CAPTION_IMAGE), [1.0, 3.0])
    np.testing.assert_array_equal(text_to_image_ranks(flat, CAPTION_IMAGE), [1.0, 1.0, 2.0, 2.0])


def test_matrix_route_and_index_route_agree():
    rng = np.random.default_rng(0)
    images, captions = rng.normal(size=(20, 8)), rng.normal(size=(100, 8))
    caption_image = np.repeat(np.arange(20), 5)
    unit_images = images / np.linalg.norm(images, axis=1, keepdims=True)
    unit_captions = captions / np.linalg.norm(captions, axis=1, keepdims=True)
    scores = unit_images @ unit_captions.T  # (20, 100)

    _, image_ids = CosineIndex(images).search(captions, k=20)
    from_index = rank_of_first_match(image_ids, caption_image)
    np.testing.assert_array_equal(text_to_image_ranks(scores, caption_image), from_index)

    _, caption_ids = CosineIndex(captions).search(images, k=100)
    own_captions = np.arange(100).reshape(20, 5)
    from_index = rank_of_first_match(caption_ids, own_captions)
    np.testing.assert_array_equal(image_to_text_ranks(scores, caption_image), from_index)


def test_k_occurrence_counts_top_k_memberships_by_hand():
    scores = np.array(
        [
            [0.9, 0.8, 0.1, 0.0],  # top 2: items 0, 1
            [0.7, 0.9, 0.2, 0.1],  # top 2: items 1, 0
            [0.1, 0.8, 0.9, 0.0],  # top 2: items 2, 1
        ]
    )
    np.testing.assert_array_equal(k_occurrence(scores, k=2), [2, 3, 1, 0])
    np.testing.assert_array_equal(k_occurrence(scores, k=1), [1, 1, 1, 0])
    np.testing.assert_array_equal(k_occurrence(scores, k=4), [3, 3, 3, 3])
    assert k_occurrence(scores, k=2).dtype == np.int64


def test_k_occurrence_breaks_ties_by_lower_item_position():
    np.testing.assert_array_equal(k_occurrence(np.zeros((5, 4)), k=2), [5, 5, 0, 0])


def test_k_occurrence_sums_to_queries_times_k():
    scores = np.random.default_rng(0).normal(size=(50, 30))
    occurrences = k_occurrence(scores, k=7)
    assert occurrences.shape == (30,) and occurrences.sum() == 50 * 7


def test_skewness_by_hand():
    # One hub among n items, every other item never a neighbour: skewness (n - 2) / sqrt(n - 1).
    hub_scores = np.tile([0.0, 0.1, 0.2, 0.9], (6, 1))  # 6 queries all rank item 3 first
    occurrences = k_occurrence(hub_scores, k=1)
    np.testing.assert_array_equal(occurrences, [0, 0, 0, 6])
    assert skewness(occurrences) == pytest.approx(2 / np.sqrt(3))
    assert skewness([2, 3, 1, 0]) == pytest.approx(0.0)  # symmetric
    assert skewness([6, 0, 0, 0]) == pytest.approx(2 / np.sqrt(3))
    assert skewness([0, 6, 6, 6]) == pytest.approx(-2 / np.sqrt(3))
    assert skewness([4, 4, 4]) == 0.0  # no hubs at all


def test_skewness_matches_scipy():
    scipy_stats = pytest.importorskip("scipy.stats")
    values = np.random.default_rng(1).exponential(size=200)
    assert skewness(values) == pytest.approx(scipy_stats.skew(values, bias=True))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: image_to_text_ranks(SCORES, [0, 1]), "one entry per caption"),
        (lambda: text_to_image_ranks(SCORES, [0, 0, 1, 2]), "image indices"),
        (lambda: text_to_image_ranks(SCORES * np.nan, CAPTION_IMAGE), "NaN"),
        (lambda: recall_at_k([0, 1]), "1-based"),
        (lambda: median_rank([]), "non-empty"),
        (lambda: rank_of_first_match([[1, 2]], [1, 2]), "relevant_ids must have shape"),
        (lambda: k_occurrence(SCORES, k=5), "between 1 and the 4 items"),
        (lambda: k_occurrence(SCORES, k=0), "between 1 and the 4 items"),
        (lambda: k_occurrence(SCORES[0], k=1), "2-D"),
        (lambda: k_occurrence(SCORES * np.nan, k=1), "NaN"),
        (lambda: skewness([]), "non-empty"),
    ],
)
def test_bad_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def sorted_ranks(scores, caption_image):
    """Ranks by sorting every row / column (stable: ties by lower position): the
    definition, independent of the counting in retrieval.metrics."""
    image_ranks = []
    for i, row in enumerate(scores):
        order = np.argsort(-row, kind="stable")  # captions, best first
        image_ranks.append(1 + next(r for r, j in enumerate(order) if caption_image[j] == i))
    caption_ranks = []
    for j, column in enumerate(scores.T):
        order = list(np.argsort(-column, kind="stable"))  # images, best first
        caption_ranks.append(1 + order.index(caption_image[j]))
    return np.array(image_ranks, float), np.array(caption_ranks, float)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_counted_ranks_equal_sorted_ranks_with_many_ties(seed):
    rng = np.random.default_rng(seed)
    scores = np.round(rng.random((30, 150)), 1)  # many ties
    caption_image = rng.permutation(np.repeat(np.arange(30), 5))
    image_ranks, caption_ranks = sorted_ranks(scores, caption_image)
    np.testing.assert_array_equal(image_to_text_ranks(scores, caption_image), image_ranks)
    np.testing.assert_array_equal(text_to_image_ranks(scores, caption_image), caption_ranks)


def test_an_image_without_captions_is_never_found():
    scores = np.array([[0.9, 0.1], [0.5, 0.6], [0.2, 0.3]])
    ranks = image_to_text_ranks(scores, np.array([0, 1]))
    np.testing.assert_array_equal(ranks, [1.0, 1.0, np.inf])


def test_retrieval_metrics_by_hand():
    # image 0 finds its caption 0 first; image 1's captions (1, 2) come 2nd and 3rd
    scores = np.array([[0.9, 0.2, 0.1], [0.8, 0.5, 0.4]])
    result = retrieval_metrics(scores, scores, np.array([0, 1, 1]), ks=(1, 2))
    assert result["image_to_text"] == {"R@1": 50.0, "R@2": 100.0, "medR": 1.5, "meanR": 1.5}
    # captions: 0 -> image 0 first; 1 -> image 1 first; 2 -> image 1 first
    assert result["text_to_image"] == {"R@1": 100.0, "R@2": 100.0, "medR": 1.0, "meanR": 1.0}

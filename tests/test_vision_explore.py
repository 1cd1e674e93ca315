"""vision.explore: the helpers behind notebooks/02 (preprocessing steps, grids, keyword labels).

The truths are independent of the code under test: preprocess_steps must end in exactly
the tensor vision.preprocess gives; undoing the normalisation must give back the cropped
picture's pixels; labels and agreements are checked on cases small enough to count by hand.
"""

import numpy as np
import pytest
from PIL import Image

from vision import preprocess
from vision.explore import (
    chance_agreement,
    image_grid,
    keyword_labels,
    keyword_mentions,
    neighbour_label_agreement,
    preprocess_steps,
    tensor_to_image,
)


def random_image(width, height, seed=0):
    pixels = np.random.default_rng(seed).integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    return Image.fromarray(pixels, mode="RGB")


@pytest.mark.parametrize("size", [(500, 375), (224, 224), (300, 641)])
def test_preprocess_steps_have_the_torchvision_sizes_and_end_in_preprocess(size):
    image = random_image(*size)
    steps = preprocess_steps(image)
    assert steps.original is image
    assert min(steps.resized.size) == 256
    expected_long = int(256 * max(size) / min(size))  # torchvision truncates the longer side
    assert max(steps.resized.size) == expected_long
    assert steps.cropped.size == (224, 224)
    assert np.array_equal(steps.tensor, preprocess(image))


def test_preprocess_steps_rejects_non_rgb():
    with pytest.raises(ValueError, match="RGB"):
        preprocess_steps(Image.new("L", (300, 300)))


def test_tensor_to_image_gives_back_the_cropped_pixels():
    steps = preprocess_steps(random_image(320, 240, seed=3))
    pixels = tensor_to_image(steps.tensor)
    assert pixels.dtype == np.uint8 and pixels.shape == (224, 224, 3)
    assert np.array_equal(pixels, np.asarray(steps.cropped))


def test_tensor_to_image_rejects_other_shapes():
    with pytest.raises(ValueError, match=r"\(3, H, W\)"):
        tensor_to_image(np.zeros((224, 224, 3), np.float32))


def test_image_grid_has_one_titled_axes_per_image_and_hides_the_rest(tmp_path):
    file = tmp_path / "red.png"
    Image.new("RGB", (40, 30), (255, 0, 0)).save(file)
    images = [file, random_image(50, 50), np.zeros((20, 20, 3), np.uint8), np.ones((8, 8))]
    figure = image_grid(images, titles=["a", "b\nsecond line", "c", "d"], ncols=3, title="T")
    axes = figure.axes
    assert len(axes) == 6  # 2 rows x 3 columns
    visible = [ax for ax in axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["a", "b\nsecond line", "c", "d"]
    assert all(len(ax.images) == 1 for ax in visible)
    assert visible[0].images[0].get_array().shape == (30, 40, 3)  # the file, as RGB
    assert figure._suptitle.get_text() == "T"


def test_image_grid_checks_its_arguments():
    with pytest.raises(ValueError, match="at least one"):
        image_grid([])
    with pytest.raises(ValueError, match="titles"):
        image_grid([np.zeros((4, 4))], titles=["a", "b"])


KEYWORDS = {"dog": ("dog", "dogs"), "snow": ("snow", "snowy"), "bike": ("bike", "bicycle")}


def test_keyword_mentions_counts_captions_not_words_and_matches_whole_words():
    captions = [
        ["A dog and two dogs in the snow.", "Two DOGS play.", "A snowy field.", "Hotdog!"],
        ["A man rides a bicycle", "a bikes shop"],  # "bikes" is not a listed word
    ]
    counts = keyword_mentions(captions, KEYWORDS)
    assert counts.tolist() == [[2, 2, 0], [0, 0, 1]]


def test_keyword_labels_take_the_majority_and_leave_ties_and_rare_ones_out():
    mentions = [
        [5, 0, 0],  # dog
        [3, 5, 0],  # snow: more captions mention it than dog
        [5, 5, 0],  # tie: a dog in the snow -> None
        [1, 0, 0],  # only one caption: below min_captions -> None
        [0, 0, 0],  # nothing -> None
        [2, 0, 1],  # dog, 2 >= min_captions and more than bike
    ]
    labels = keyword_labels(mentions, list(KEYWORDS), min_captions=2)
    assert labels == ["dog", "snow", None, None, None, "dog"]
    assert keyword_labels(mentions, list(KEYWORDS), min_captions=1)[3] == "dog"


def test_keyword_labels_checks_the_shape():
    with pytest.raises(ValueError, match="mentions"):
        keyword_labels([[1, 2]], ["dog", "snow", "bike"])


def test_neighbour_label_agreement_on_clusters_and_on_interleaved_labels():
    # Two tight clusters, far apart in angle: every neighbour of a point is in its cluster.
    rng = np.random.default_rng(0)
    a = np.array([1.0, 0.0]) + 0.01 * rng.normal(size=(5, 2))
    b = np.array([0.0, 1.0]) + 0.01 * rng.normal(size=(5, 2))
    vectors = np.vstack([a, b])
    labels = ["a"] * 5 + ["b"] * 5
    assert neighbour_label_agreement(vectors, labels, k=4) == 1.0
    # The same points with labels alternating inside each cluster (a: x y x y x, b: y x y x y).
    # With k = 4 a point's neighbours are the 4 others of its cluster: each of the 3 majority
    # points sees 2 of its label, each of the 2 minority points sees 1.
    alternating = ["x", "y", "x", "y", "x", "y", "x", "y", "x", "y"]
    expected = 2 * (3 * 2 + 2 * 1) / (10 * 4)
    assert neighbour_label_agreement(vectors, alternating, k=4) == pytest.approx(expected)


def test_neighbour_label_agreement_ignores_unlabelled_items_and_itself():
    vectors = np.array([[1.0, 0.0], [1.0, 0.001], [0.6, 0.8], [0.0, 1.0]])
    # Without the None, item 0's nearest neighbour would be item 1 (label None).
    assert neighbour_label_agreement(vectors, ["a", None, "a", "b"], k=1) == pytest.approx(
        1 / 3  # item 0 -> item 2 ("a", yes); item 2 -> item 3 ("b", no); item 3 -> item 2 (no)
    )
    with pytest.raises(ValueError, match="k must be"):
        neighbour_label_agreement(vectors, ["a", None, "a", "b"], k=3)


def test_random_labels_agree_at_the_chance_level():
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(600, 16))
    labels = list(rng.choice(["a", "b", "c"], size=600, p=[0.6, 0.3, 0.1]))
    chance = chance_agreement(labels)
    assert chance == pytest.approx(0.6**2 + 0.3**2 + 0.1**2, abs=0.02)
    assert neighbour_label_agreement(vectors, labels, k=10) == pytest.approx(chance, abs=0.04)


def test_chance_agreement_by_hand():
    # 3 "a" and 1 "b": a random other item has a's label with probability 2/3 for an "a",
    # 0 for the "b": (3/4) * (2/3) + (1/4) * 0 = 1/2.
    assert chance_agreement(["a", "a", None, "a", "b"]) == pytest.approx(0.5)

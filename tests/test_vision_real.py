"""vision with the real ResNet-50 on a few Flickr8k photos (skipped without $W2VX_HOME data).

The truth here is independent of the code: the Flickr8k captions say what is in each
photo (all five captions of the dog photos mention a dog, those of the bicycle photos a
bike), and the logits must be the file's own final layer applied to the features.
"""

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from vision import FeatureCache, ImageEncoder, load_model
from vision.encoder import load_tensor

pytestmark = pytest.mark.slow

DOG_PHOTOS = ["1024138940_f1fefbdce1.jpg", "1026685415_0431cbf574.jpg", "1056873310_49c665eb22.jpg"]
BICYCLE_PHOTOS = ["1143882946_1898d2eeb9.jpg", "124881487_36e668145d.jpg"]
DOG_CLASSES = range(151, 269)  # ImageNet 151 Chihuahua ... 268 Mexican hairless
BICYCLE_CLASSES = {444, 671, 870, 880}  # bicycle-built-for-two, mountain bike, tricycle, unicycle


@pytest.fixture(scope="module")
def model(resnet_path):
    """The published model, found the default way ($W2VX_HOME/models), so its sha256 is checked."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("W2VX_MODEL", raising=False)
        patch.setenv("W2VX_HOME", str(resnet_path.parents[1]))
        return load_model(intra_op_threads=2)


@pytest.fixture(scope="module")
def photos(flickr8k_dir):
    return [str(flickr8k_dir / "images" / name) for name in DOG_PHOTOS + BICYCLE_PHOTOS]


def test_default_resolution_finds_the_published_file(model, resnet_path):
    assert model.path == resnet_path
    assert model.sha256 == "f1cf96e15b33c3c44ba690924f2ac08f17140017c79914e1a10f2ce422d68f48"


def test_top1_class_is_in_the_family_the_captions_name(model, photos):
    predictions = ImageEncoder(model, batch_size=8, progress=False).classify(photos, topk=5)
    top1 = [guesses[0].index for guesses in predictions]
    assert all(i in DOG_CLASSES for i in top1[: len(DOG_PHOTOS)]), top1
    assert all(i in BICYCLE_CLASSES for i in top1[len(DOG_PHOTOS) :]), top1
    for guesses in predictions:
        probabilities = [g.probability for g in guesses]
        assert (
            probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 1 + 1e-6
        )


def test_features_are_finite_non_negative_and_give_the_logits(model, photos, resnet_path):
    features = ImageEncoder(model, batch_size=8, progress=False).encode(photos)
    assert features.shape == (len(photos), 2048) and features.dtype == np.float32
    assert np.isfinite(features).all() and (features >= 0).all()  # taken after ReLU
    # The file's own final layer (Gemm with the fp16-stored weights) applied to our features
    # must give the logits the session computes: the features are the penultimate layer.
    weights = {w.name: numpy_helper.to_array(w) for w in onnx.load(resnet_path).graph.initializer}
    fc_weight = weights["fc1000_W_fp16"].astype(np.float64)  # (2048, 1000)
    expected_logits = features.astype(np.float64) @ fc_weight + weights["fc1000_B"]
    batch = np.stack([load_tensor(p) for p in photos])  # (N, 3, 224, 224)
    np.testing.assert_allclose(model.run("logits", batch), expected_logits, atol=1e-4)


def test_batched_equals_one_by_one(model, photos):
    batched = ImageEncoder(model, batch_size=len(photos), progress=False).encode(photos)
    single = ImageEncoder(model, batch_size=1, progress=False)
    one_by_one = np.concatenate([single.encode([p]) for p in photos])
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)


class CountingSession:
    def __init__(self, session):
        self.session = session
        self.calls = 0

    def run(self, output_names, feeds):
        self.calls += 1
        return self.session.run(output_names, feeds)


def test_cache_hit_returns_identical_arrays_without_the_model(model, photos, tmp_path):
    cache = FeatureCache(tmp_path / "cache")
    encoder = ImageEncoder(model, batch_size=8, progress=False)
    uncached = encoder.encode(photos[:2])
    first = encoder.encode(photos[:2], cache=cache)
    counting = CountingSession(model.session)
    model.session = counting
    try:
        again = encoder.encode(photos[:2], cache=cache)
    finally:
        model.session = counting.session
    assert counting.calls == 0
    assert np.array_equal(again, first) and np.array_equal(again, uncached)

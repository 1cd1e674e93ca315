"""Image features as the retriever takes them: hand-computed L2 and Hellinger maps."""

import numpy as np
import pytest

from retrieval.image_features import prepare_image_features


def test_prepare_image_features_l2_hellinger_and_none():
    features = np.array([[4.0, 0.0, 9.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(
        prepare_image_features(features, "hellinger"),
        [[2 / np.sqrt(13), 0, 3 / np.sqrt(13)], [0, 0, 0]],
    )
    np.testing.assert_allclose(
        prepare_image_features(features), [[4 / np.sqrt(97), 0, 9 / np.sqrt(97)], [0, 0, 0]]
    )
    np.testing.assert_array_equal(prepare_image_features(features, "none"), features)
    with pytest.raises(ValueError, match="preprocessing must be one of"):
        prepare_image_features(features, "sqrt")

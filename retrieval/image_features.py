"""Image features as the retriever takes them: checked, then L2- or Hellinger-normalised.

A ResNet feature ``f`` (non-negative: it comes after a ReLU and average pooling) becomes

    "l2":        x = f / ||f||
    "hellinger": x = sqrt(f) / ||sqrt(f)||     (the square root evens out a few large
                                                activations; a negative value keeps its
                                                sign: sign(f) sqrt|f|)
    "none":      x = f
"""

import numpy as np

from retrieval.index import l2_normalize

IMAGE_PREPROCESSINGS = ("l2", "hellinger", "none")


def prepare_image_features(features, preprocessing="l2"):
    """Check the features, then ``f / ||f||`` per row (or ``sqrt(f) / ||sqrt(f)||``, or ``f``).

    Parameters
    ----------
    features : array-like of shape (n_images, d_image)
        ResNet features.
    preprocessing : {"l2", "hellinger", "none"}

    Returns
    -------
    ndarray of shape (n_images, d_image), float64

    Raises
    ------
    ValueError
        Not 2-D, or a row holds NaN or infinity (the message names the first rows).
    """
    if preprocessing not in IMAGE_PREPROCESSINGS:
        raise ValueError(
            f"preprocessing must be one of {IMAGE_PREPROCESSINGS}, got {preprocessing!r}"
        )
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2:
        raise ValueError(f"image features must be 2-D (n_images, d), got shape {features.shape}")
    bad_rows = np.flatnonzero(~np.isfinite(features).all(axis=1))
    if bad_rows.size:
        raise ValueError(
            f"image features contain NaN or infinity in {bad_rows.size} rows"
            f" (first: {bad_rows[:5].tolist()})"
        )
    if preprocessing == "none":
        return features
    if preprocessing == "hellinger":
        features = np.sign(features) * np.sqrt(np.abs(features))  # (n, d)
    return l2_normalize(features)

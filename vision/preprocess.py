"""torchvision's standard ImageNet eval transform, written with Pillow and NumPy.

    Resize(256) -> CenterCrop(224) -> ToTensor() -> Normalize(mean, std)

applied to an RGB :class:`PIL.Image.Image`. Everything here is a pure function of
its input, so it can be checked on images whose expected tensor is computed by hand.
"""

import numpy as np
from PIL import Image

#: Bump when the output of :func:`preprocess` changes, so cached features are recomputed.
PREPROCESS_VERSION = 1

RESIZE_SHORTER_SIDE = 256
CROP_SIZE = 224
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def resized_size(width, height, shorter_side=RESIZE_SHORTER_SIDE):
    """Size after scaling the shorter side to ``shorter_side`` (torchvision ``Resize(int)``).

    The longer side is truncated, as torchvision does: ``int(shorter_side * long / short)``.

    Parameters
    ----------
    width, height : int
        The input size in pixels.
    shorter_side : int
        The target length of the shorter side.

    Returns
    -------
    tuple of int
        ``(new_width, new_height)``.
    """
    if width <= height:
        return shorter_side, int(shorter_side * height / width)
    return int(shorter_side * width / height), shorter_side


def center_crop_box(width, height, crop_size=CROP_SIZE):
    """The ``(left, top, right, bottom)`` box of torchvision's ``CenterCrop(crop_size)``.

    torchvision rounds the offset with Python's ``round`` (half to even), so a
    257-pixel side cropped to 224 starts at ``round(16.5) == 16``.
    """
    left = int(round((width - crop_size) / 2.0))
    top = int(round((height - crop_size) / 2.0))
    return left, top, left + crop_size, top + crop_size


def preprocess(image):
    """Turn an RGB image into the normalised tensor the ResNet-50 expects.

    Parameters
    ----------
    image : PIL.Image.Image
        Mode ``"RGB"``, already upright (see :func:`vision.decode.as_rgb`).

    Returns
    -------
    numpy.ndarray
        float32, shape ``(3, 224, 224)``, channels R, G, B, each ``(pixel / 255 - mean) / std``.
    """
    if image.mode != "RGB":
        raise ValueError(f"preprocess expects an RGB image, got mode {image.mode!r}")
    # Pillow's BILINEAR widens its kernel when shrinking: antialiased, as torchvision on PIL.
    resized = image.resize(resized_size(*image.size), Image.Resampling.BILINEAR)
    cropped = resized.crop(center_crop_box(*resized.size))
    pixels = np.asarray(cropped, dtype=np.float32) / np.float32(255)  # (224, 224, 3)
    normalised = (pixels - IMAGENET_MEAN) / IMAGENET_STD  # (224, 224, 3)
    return np.ascontiguousarray(normalised.transpose(2, 0, 1))  # (3, 224, 224)

"""Open an image file and make it an upright RGB picture, with errors that name the file.

Colour-mode choices (everything ends as 8-bit RGB):

- transparency (``RGBA``, ``LA``, ``PA``, ``P`` with a transparent colour) is composited
  on white, as a browser shows it on a white page;
- 16-bit greyscale (``I;16``, and ``I`` as older Pillow opens 16-bit PNGs) is scaled by
  255 / 65535 (Pillow's own conversion would clip everything above 255 to white);
- ``CMYK``, ``L``, ``1``, ``P``, ``YCbCr`` and the rest use Pillow's ``convert("RGB")``
  (colour profiles are ignored).
"""

import math
from contextlib import contextmanager

import numpy as np
from PIL import Image, ImageOps

from .errors import ImageNotFoundError, ImageReadError
from .preprocess import RESIZE_SHORTER_SIDE

#: File suffixes taken as images when a folder is listed.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")
_SIXTEEN_BIT_GREY_MODES = ("I;16", "I;16B", "I;16L", "I")
_WHITE = (255, 255, 255, 255)


def _has_transparency(image):
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode == "P" and "transparency" in image.info
    )


def as_rgb(image):
    """Apply the EXIF orientation and convert to 8-bit RGB (see the module notes).

    Parameters
    ----------
    image : PIL.Image.Image
        Any mode.

    Returns
    -------
    PIL.Image.Image
        Mode ``"RGB"``, upright.
    """
    image = ImageOps.exif_transpose(image)
    if _has_transparency(image):
        rgba = image.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, _WHITE), rgba).convert("RGB")
    if image.mode in _SIXTEEN_BIT_GREY_MODES:
        grey = np.asarray(image, dtype=np.float64) * (255 / 65535)  # (H, W)
        grey = np.clip(np.rint(grey), 0, 255).astype(np.uint8)
        return Image.fromarray(grey, mode="L").convert("RGB")
    return image.convert("RGB")


def _check_pixel_limit(image):
    """Refuse what Pillow only warns about (between 1x and 2x ``Image.MAX_IMAGE_PIXELS``)."""
    limit = Image.MAX_IMAGE_PIXELS
    width, height = image.size
    if limit is not None and width * height > limit:
        raise Image.DecompressionBombError(
            f"{width}x{height} = {width * height} pixels is over Pillow's limit "
            f"Image.MAX_IMAGE_PIXELS = {limit} (raise it if you trust the file)"
        )


def load_image(path, shorter_side=RESIZE_SHORTER_SIDE):
    """Read an image file as an upright RGB picture.

    Large JPEGs are decoded at a reduced scale with ``Image.draft`` (1/2, 1/4 or 1/8),
    never below ``shorter_side`` on the shorter side: several times faster, and a
    slight departure from torchvision, which decodes every pixel before resizing.

    Parameters
    ----------
    path : str
        The image file.
    shorter_side : int
        The shorter side the caller will resize to; ``draft`` stays at or above it.

    Returns
    -------
    PIL.Image.Image
        Mode ``"RGB"``.

    Raises
    ------
    ImageNotFoundError
        If the file does not exist.
    ImageReadError
        If it is empty, not an image, truncated, over the decompression-bomb limit, ...
    """
    with image_errors(path), Image.open(path) as image:
        _check_pixel_limit(image)
        width, height = image.size
        scale = shorter_side / min(width, height)
        image.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
        image.load()
        return as_rgb(image)


@contextmanager
def image_errors(path):
    """Turn what goes wrong while reading ``path`` into an :class:`ImageReadError` naming it."""
    try:
        yield
    except FileNotFoundError as error:
        raise ImageNotFoundError(path, "no such file") from error
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        cause = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        raise ImageReadError(path, cause) from error

"""The errors the vision package raises about one image, each naming the path and the cause."""


class ImageReadError(OSError):
    """An image file could not be read or decoded.

    Parameters
    ----------
    path : str
        The file that failed.
    cause : str
        What went wrong, in words (the underlying exception is chained as ``__cause__``).
    """

    def __init__(self, path, cause):
        super().__init__(f"cannot read image {path!r}: {cause}")
        self.path = path
        self.cause = cause


class ImageNotFoundError(ImageReadError, FileNotFoundError):
    """The image file does not exist (also a :class:`FileNotFoundError`)."""


class NonFiniteFeaturesError(ValueError):
    """The model produced NaN or infinite values for an image.

    Parameters
    ----------
    path : str or int
        The image whose output row is not finite (its index, for in-memory images).
    """

    def __init__(self, path):
        super().__init__(
            f"the model produced NaN or infinite values for {path!r}: "
            "the model file is probably broken (check its sha256) or was exported wrongly"
        )
        self.path = path

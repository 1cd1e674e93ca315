"""Image features from an ONNX ResNet-50 run by onnxruntime.

>>> from vision import ImageEncoder                        # doctest: +SKIP
>>> encoder = ImageEncoder()                               # finds the model, see load_model
>>> features = encoder.encode(["a.jpg", "b.png"])          # float32 (2, 2048)
"""

from .cache import FeatureCache
from .decode import as_rgb, load_image
from .encoder import ImageEncoder, Prediction
from .errors import ImageNotFoundError, ImageReadError, NonFiniteFeaturesError
from .model import ResNetModel, load_model
from .preprocess import PREPROCESS_VERSION, preprocess
from .video import encode_video

__all__ = [
    "PREPROCESS_VERSION",
    "FeatureCache",
    "ImageEncoder",
    "ImageNotFoundError",
    "ImageReadError",
    "NonFiniteFeaturesError",
    "Prediction",
    "ResNetModel",
    "as_rgb",
    "encode_video",
    "load_image",
    "load_model",
    "preprocess",
]

"""Video features: sample every n-th frame, encode the frames, average their features.

Frames come from an animated image read by Pillow (GIF, animated PNG or WebP), from a
folder of frame images (taken in file-name order), or, for ``.mp4`` and other video
files, from PyAV when it is installed (``pip install av``).
"""

from pathlib import Path

from PIL import Image, ImageSequence

from .decode import IMAGE_SUFFIXES, as_rgb, image_errors
from .encoder import ImageEncoder

VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm")


def _animation_frames(path, every_n):
    with image_errors(str(path)), Image.open(path) as animation:
        return [
            as_rgb(frame)
            for index, frame in enumerate(ImageSequence.Iterator(animation))
            if index % every_n == 0
        ]


def _video_frames(path, every_n):
    try:
        import av
    except ImportError as error:
        raise ImportError(f"reading the video {str(path)!r} needs PyAV: pip install av") from error
    with av.open(str(path)) as container:
        return [
            frame.to_image()
            for index, frame in enumerate(container.decode(video=0))
            if index % every_n == 0
        ]


def frame_paths(folder, every_n=1):
    """Every ``every_n``-th image file of a folder of frames, in file-name order."""
    frames = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    return [str(p) for p in frames[::every_n]]


def encode_video(path, every_n=10, encoder=None):
    """Mean-pooled ResNet-50 features of every ``every_n``-th frame of a video.

    Parameters
    ----------
    path : str or os.PathLike
        An animated GIF/PNG/WebP, a folder of frame images, or a video file (PyAV).
    every_n : int
        Keep frames 0, n, 2n, ...
    encoder : ImageEncoder, optional
        Default: a new ``ImageEncoder(progress=False)`` (loading a model each call: pass
        one when encoding many videos).

    Returns
    -------
    numpy.ndarray
        float32, ``(2048,)``: the mean of the sampled frames' features.
    """
    if every_n < 1:
        raise ValueError(f"every_n must be >= 1, got {every_n}")
    path = Path(path)
    encoder = encoder if encoder is not None else ImageEncoder(progress=False)
    if path.is_dir():
        features = encoder.encode(frame_paths(path, every_n))  # (F, 2048)
    elif path.suffix.lower() in VIDEO_SUFFIXES:
        features = encoder.encode_pil(_video_frames(path, every_n))  # (F, 2048)
    else:
        features = encoder.encode_pil(_animation_frames(path, every_n))  # (F, 2048)
    if len(features) == 0:
        raise ValueError(f"{str(path)!r} has no frames to encode")
    return features.mean(axis=0)  # (2048,)

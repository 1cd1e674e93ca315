"""ImageEncoder: image files in, ResNet-50 features (or ImageNet classes) out.

The pipeline overlaps the two costs: a thread pool decodes and preprocesses batch
k + 1 (Pillow releases the GIL while it decodes and resizes) while onnxruntime runs
batch k on the main thread.
"""

import os
from collections import namedtuple
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from tqdm.auto import tqdm

from .decode import as_rgb, load_image
from .errors import ImageReadError, NonFiniteFeaturesError
from .model import FEATURE_DIM, N_CLASSES, ResNetModel, load_model
from .preprocess import preprocess

#: One class guess of :meth:`ImageEncoder.classify`.
Prediction = namedtuple("Prediction", ["index", "label", "probability"])

_ON_ERROR_CHOICES = ("raise", "skip")


def load_tensor(path):
    """Read an image file and preprocess it: ``(3, 224, 224)`` float32."""
    return preprocess(load_image(path))


def softmax(logits):
    """Row-wise softmax of ``(N, C)`` logits, computed stably (row maximum subtracted first)."""
    shifted = logits - logits.max(axis=1, keepdims=True)  # (N, C)
    exponentials = np.exp(shifted)  # (N, C)
    return exponentials / exponentials.sum(axis=1, keepdims=True)  # (N, C)


def _check_on_error(on_error):
    if on_error not in _ON_ERROR_CHOICES:
        raise ValueError(f"on_error must be one of {_ON_ERROR_CHOICES}, got {on_error!r}")


class ImageEncoder:
    """Encode images into the 2048-d penultimate features of an ImageNet ResNet-50.

    Parameters
    ----------
    model : str, os.PathLike or ResNetModel, optional
        A model file, or a model already opened with :func:`vision.load_model`
        (for example with a custom ``feature_output``). Default: see :func:`vision.load_model`.
    batch_size : int
        Images per onnxruntime call.
    intra_op_threads : int, optional
        onnxruntime threads; only when ``model`` is not an opened model
        (then give it to :func:`vision.load_model`). Default: every CPU this process may use.
    decode_workers : int
        Threads that decode and preprocess images ahead of the model.
    progress : bool
        Show a tqdm progress bar.

    Attributes
    ----------
    model_ : ResNetModel
        The opened model.

    Examples
    --------
    >>> encoder = ImageEncoder(batch_size=16)                      # doctest: +SKIP
    >>> features = encoder.encode(["dog.jpg", "cat.png"])          # (2, 2048)  # doctest: +SKIP
    >>> features, failed = encoder.encode(paths, on_error="skip")  # doctest: +SKIP
    """

    def __init__(
        self, model=None, batch_size=32, intra_op_threads=None, decode_workers=2, progress=True
    ):
        if batch_size < 1 or decode_workers < 1:
            raise ValueError(
                f"batch_size and decode_workers must be >= 1, got {batch_size}, {decode_workers}"
            )
        if isinstance(model, ResNetModel) and intra_op_threads is not None:
            raise ValueError("model is already open: give intra_op_threads to load_model instead")
        self.model = model
        self.batch_size = batch_size
        self.intra_op_threads = intra_op_threads
        self.decode_workers = decode_workers
        self.progress = progress
        self.model_ = (
            model
            if isinstance(model, ResNetModel)
            else load_model(model, intra_op_threads=intra_op_threads)
        )

    def encode(self, paths, on_error="raise", cache=None):
        """Features of image files.

        Parameters
        ----------
        paths : iterable of str or os.PathLike
        on_error : {"raise", "skip"}
            ``"raise"``: the first unreadable image raises its error (an
            :class:`vision.ImageReadError` naming the path and the cause).
            ``"skip"``: unreadable images are left out and reported.
        cache : vision.FeatureCache, optional
            Reuse features computed before for unchanged files, and store new ones
            after every batch (so an interrupted run resumes).

        Returns
        -------
        features : numpy.ndarray
            float32, ``(n_ok, 2048)``: one row per readable path, in input order.
        failures : dict of str to Exception
            Only with ``on_error="skip"``: each failed path and its error; the rows of
            ``features`` belong to ``[p for p in paths if p not in failures]``.
        """
        _check_on_error(on_error)
        paths = [os.fspath(p) for p in paths]
        sha256 = self.model_.sha256
        rows = cache.lookup(paths, sha256) if cache is not None else {}
        to_compute = [p for p in dict.fromkeys(paths) if p not in rows]
        store = None if cache is None else lambda done, features: cache.add(done, features, sha256)
        computed, failures = self._run(
            to_compute, load_tensor, self.model_.feature_output, on_error, store
        )
        rows.update(computed)
        features = _stack([rows[p] for p in paths if p not in failures], FEATURE_DIM)
        return features if on_error == "raise" else (features, failures)

    def encode_pil(self, images):
        """Features of in-memory images (any mode; EXIF orientation is applied).

        Parameters
        ----------
        images : sequence of PIL.Image.Image

        Returns
        -------
        numpy.ndarray
            float32, ``(len(images), 2048)``.
        """
        indices = list(range(len(images)))
        rows, _ = self._run(
            indices, lambda i: preprocess(as_rgb(images[i])), self.model_.feature_output, "raise"
        )
        return _stack([rows[i] for i in indices], FEATURE_DIM)

    def classify(self, paths, topk=5, on_error="raise"):
        """The ``topk`` most probable ImageNet classes of each image.

        Probabilities are the softmax of the model's logits; names come from
        ``imagenet_labels.json`` beside the model file.

        Parameters
        ----------
        paths : iterable of str or os.PathLike
        topk : int
            How many classes per image, most probable first.
        on_error : {"raise", "skip"}
            As in :meth:`encode`.

        Returns
        -------
        predictions : list of list of Prediction
            ``(index, label, probability)`` tuples, one list per readable path.
        failures : dict of str to Exception
            Only with ``on_error="skip"``.
        """
        _check_on_error(on_error)
        if not 1 <= topk <= N_CLASSES:
            raise ValueError(f"topk must be between 1 and {N_CLASSES}, got {topk}")
        if self.model_.logits_output is None:
            raise ValueError(
                f"{self.model_.path} has no [N, {N_CLASSES}] logits output to classify with"
            )
        labels = self.model_.labels()
        paths = [os.fspath(p) for p in paths]
        logits, failures = self._run(
            list(dict.fromkeys(paths)), load_tensor, self.model_.logits_output, on_error
        )
        predictions = []
        for path in paths:
            if path in failures:
                continue
            probabilities = softmax(logits[path][np.newaxis])[0]  # (1000,)
            best = np.argsort(-probabilities, kind="stable")[:topk]
            predictions.append(
                [Prediction(int(i), labels[i], float(probabilities[i])) for i in best]
            )
        return predictions if on_error == "raise" else (predictions, failures)

    def _decoded_batches(self, items, decode, pool):
        """Yield ``(batch_items, futures)``; the next batch is already decoding meanwhile."""

        def submit(start):
            return [pool.submit(decode, item) for item in items[start : start + self.batch_size]]

        upcoming = submit(0)
        for start in range(0, len(items), self.batch_size):
            current, upcoming = upcoming, submit(start + self.batch_size)
            yield items[start : start + self.batch_size], current

    def _run(self, items, decode, output_name, on_error, after_batch=None):
        """Decode ``items`` in the pool and run the model on them batch by batch.

        Returns ``({item: output row}, {item: error})``. ``after_batch(items, rows)``
        is called with each batch's successful items and their ``(B, D)`` outputs.
        """
        outputs, failures = {}, {}
        with (
            ThreadPoolExecutor(self.decode_workers, thread_name_prefix="decode") as pool,
            tqdm(total=len(items), unit="img", disable=not self.progress) as bar,
        ):
            for batch_items, futures in self._decoded_batches(items, decode, pool):
                ok_items, tensors = [], []
                for item, future in zip(batch_items, futures, strict=True):
                    error = future.exception()
                    if error is None:
                        ok_items.append(item)
                        tensors.append(future.result())
                    elif isinstance(error, ImageReadError) and on_error == "skip":
                        failures[item] = error
                    else:
                        raise error
                if ok_items:
                    batch_outputs = self._run_batch(
                        output_name, np.stack(tensors), ok_items
                    )  # (B, D)
                    for item, row in zip(ok_items, batch_outputs, strict=True):
                        outputs[item] = row
                    if after_batch is not None:
                        after_batch(ok_items, batch_outputs)
                bar.update(len(batch_items))
        return outputs, failures

    def _run_batch(self, output_name, batch, items):
        """The model's output for a ``(B, 3, 224, 224)`` batch, checked to be finite."""
        try:
            outputs = self.model_.run(output_name, batch)  # (B, D)
        except RuntimeError as error:
            raise RuntimeError(
                f"running the model on {len(items)} images "
                f"({items[0]!r} ... {items[-1]!r}) failed: {error}"
            ) from error
        finite_rows = np.isfinite(outputs).all(axis=1)  # (B,)
        if not finite_rows.all():
            raise NonFiniteFeaturesError(items[int(np.argmin(finite_rows))])
        return outputs


def _stack(rows, width):
    """Stack 1-d rows into ``(len(rows), width)`` float32, also when there are none."""
    return (
        np.stack(rows).astype(np.float32, copy=False) if rows else np.empty((0, width), np.float32)
    )

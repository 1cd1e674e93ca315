"""What the demo keeps on disk: word vectors per setting, and the last fitted retriever.

Layout of the cache folder (default ``~/.cache/w2v-crossmodal``, or ``$W2VX_CACHE``)::

    features/                    vision.FeatureCache (key: model sha256, preprocessing,
                                 image path + size + mtime)
    word-vectors/<key>.npz       KeyedVectors.save; <key> = sha256 of <key>.json
    word-vectors/<key>.json      the settings the vectors were trained with
    model/                       the last fitted CrossModalRetriever (its own save:
                                 retriever.json + retriever.npz; its word vectors
                                 referenced by path and sha256)

Every file is written atomically (temporary file, then rename) and read with
``np.load(..., allow_pickle=False)``: no pickle anywhere.
"""

import hashlib
import json
import os
from pathlib import Path

from retrieval.retriever import CrossModalRetriever
from vision.atomic import atomic_write
from w2v_scratch.keyedvectors import KeyedVectors


def cache_dir(directory=None):
    """The cache folder: ``directory``, else ``$W2VX_CACHE``, else ``~/.cache/w2v-crossmodal``."""
    if directory is not None:
        return Path(directory)
    if os.environ.get("W2VX_CACHE"):
        return Path(os.environ["W2VX_CACHE"])
    return Path.home() / ".cache" / "w2v-crossmodal"


def file_identity(path):
    """``{"path", "size", "mtime_ns"}`` of a file: changes when the file is replaced."""
    status = os.stat(path)
    return {"path": os.path.abspath(path), "size": status.st_size, "mtime_ns": status.st_mtime_ns}


def settings_key(settings):
    """A 16-hex-digit key of a JSON-able settings dict (sha256 of its sorted JSON)."""
    text = json.dumps(settings, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def load_or_train_word_vectors(directory, settings, train):
    """Word vectors for ``settings`` from the cache, or ``train()`` them and store them.

    Parameters
    ----------
    directory : Path
        The cache folder.
    settings : dict
        Everything the vectors depend on (corpus identity, captions digest, word2vec
        parameters); a different dict gives a different file.
    train : callable
        ``train() -> KeyedVectors``, called on a cache miss.

    Returns
    -------
    kv : KeyedVectors
    path : Path
        The ``.npz`` file holding them.
    cached : bool
        Whether they came from the cache.
    """
    folder = Path(directory) / "word-vectors"
    key = settings_key(settings)
    path = folder / f"{key}.npz"
    if path.is_file():
        return KeyedVectors.load(path), path, True
    kv = train()
    folder.mkdir(parents=True, exist_ok=True)
    kv.save(path)
    text = json.dumps(settings, indent=1, sort_keys=True).encode("utf-8")
    atomic_write(path.with_suffix(".json"), lambda file: file.write(text))
    return kv, path, False


def model_dir(directory):
    """Where the demo stores its fitted retriever: ``<cache>/model``."""
    return Path(directory) / "model"


def load_demo_retriever(directory):
    """The retriever stored by the last demo run in the cache folder ``directory``.

    Raises
    ------
    FileNotFoundError
        No stored model (the message says to run the demo first), or its word vectors
        are gone.
    ValueError
        The stored model is damaged or of an older format (run the demo again).
    """
    folder = model_dir(directory)
    if not (folder / "retriever.json").is_file():
        raise FileNotFoundError(
            f"no fitted model in {folder}: run `python -m retrieval demo` first"
            f" (with the same --cache / W2VX_CACHE)"
        )
    try:
        return CrossModalRetriever.load(folder)
    except (FileNotFoundError, ValueError) as error:
        raise type(error)(f"{error}; run `python -m retrieval demo` again") from None

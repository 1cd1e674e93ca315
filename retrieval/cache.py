"""What the demo keeps on disk: word vectors per setting, and the last fitted retriever.

Layout of the cache folder (default ``~/.cache/w2v-crossmodal``, or ``$W2VX_CACHE``)::

    features/                    vision.FeatureCache (key: model sha256, preprocessing,
                                 image path + size + mtime)
    word-vectors/<key>.npz       KeyedVectors.save; <key> = sha256 of <key>.json
    word-vectors/<key>.json      the settings the vectors were trained with
    model/retriever.npz          arrays of the last fitted CrossModalRetriever
    model/retriever.json         its settings, gallery paths and captions

Every file is written atomically (temporary file, then rename) and read with
``np.load(..., allow_pickle=False)``: no pickle anywhere.
"""

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from retrieval.pipeline import CrossModalRetriever, Gallery
from retrieval.sentences import SentenceEncoder
from vision.atomic import atomic_write
from w2v_scratch.keyedvectors import KeyedVectors
from w2v_scratch.text import STOP_WORDS

MODEL_FORMAT_VERSION = 2  # 2: scoring, beta, reference, training_pairs


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


def save_retriever(retriever, directory, word_vectors_path, extra=None):
    """Store a fitted, indexed retriever as ``retriever.npz`` + ``retriever.json``.

    Only what search needs is kept: the sentence encoder's weights, both centred
    linear maps, the gallery vectors (and CSLS penalties), and the gallery's image
    paths and captions. The word vectors stay in their own file
    (``word_vectors_path``, recorded in the JSON).

    Parameters
    ----------
    retriever : CrossModalRetriever
        Fitted, with a gallery (:meth:`CrossModalRetriever.index`).
    directory : Path
    word_vectors_path : Path
    extra : dict, optional
        More JSON-able facts to record (e.g. the test metrics).
    """
    gallery = retriever.gallery_
    encoder = retriever.sentence_encoder_
    arrays = {
        "caption_mean": retriever.caption_mean_,
        "image_mean": retriever.image_mean_,
        "gallery_image_vectors": gallery.image_vectors,
        "gallery_caption_vectors": gallery.caption_vectors,
        "gallery_caption_image": gallery.caption_image,
        "word_prob": encoder.word_prob_,
    }
    optional = {
        "text_weights": retriever.text_weights_,
        "image_weights": retriever.image_weights_,
        "pc_direction": encoder.components_,
        "gallery_image_penalty": gallery.image_penalty,
        "gallery_caption_penalty": gallery.caption_penalty,
    }
    arrays.update({name: value for name, value in optional.items() if value is not None})
    config = {
        "format_version": MODEL_FORMAT_VERSION,
        "direction": retriever.direction,
        "pooling": retriever.pooling,
        "alpha": retriever.alpha_,
        "scoring": retriever.scoring,
        "csls_k": retriever.csls_k,
        "beta": retriever.beta,
        "reference": retriever.reference,
        "training_pairs": retriever.training_pairs,
        "n_image_features": retriever.n_image_features_,
        "word_vectors": str(Path(word_vectors_path).resolve()),
        "gallery_image_paths": gallery.image_paths,
        "gallery_captions": gallery.captions,
        **(extra or {}),
    }
    folder = Path(directory) / "model"
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(folder / "retriever.npz", lambda file: np.savez(file, **arrays))
    text = json.dumps(config, indent=1).encode("utf-8")
    atomic_write(folder / "retriever.json", lambda file: file.write(text))


def load_retriever(directory):
    """The retriever stored by :func:`save_retriever`, ready to search.

    Raises
    ------
    FileNotFoundError
        No stored model (run ``python -m retrieval demo`` first) or its word vectors
        are gone.
    """
    folder = Path(directory) / "model"
    config_path, arrays_path = folder / "retriever.json", folder / "retriever.npz"
    if not (config_path.is_file() and arrays_path.is_file()):
        raise FileNotFoundError(
            f"no fitted model in {folder}: run `python -m retrieval demo` first"
            f" (with the same --cache / W2VX_CACHE)"
        )
    config = json.loads(config_path.read_text(encoding="utf-8"))
    if config.get("format_version") != MODEL_FORMAT_VERSION:
        raise ValueError(
            f"{config_path} has format version {config.get('format_version')!r}, expected"
            f" {MODEL_FORMAT_VERSION}: run `python -m retrieval demo` again"
        )
    if not Path(config["word_vectors"]).is_file():
        raise FileNotFoundError(
            f"the word vectors of the stored model ({config['word_vectors']}) are gone:"
            " run `python -m retrieval demo` again"
        )
    kv = KeyedVectors.load(config["word_vectors"])
    with np.load(arrays_path, allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    retriever = CrossModalRetriever(
        kv, direction=config["direction"], pooling=config["pooling"], alpha=config["alpha"],
        scoring=config["scoring"], csls_k=config["csls_k"], beta=config["beta"],
        reference=config["reference"], training_pairs=config["training_pairs"],
    )
    encoder = SentenceEncoder(kv, pooling=config["pooling"], stop_words=STOP_WORDS)
    encoder.word_prob_ = arrays["word_prob"]
    encoder.components_ = arrays.get("pc_direction")
    retriever.sentence_encoder_ = encoder
    retriever.alpha_ = config["alpha"]
    retriever.n_image_features_ = config["n_image_features"]
    retriever.caption_mean_, retriever.image_mean_ = arrays["caption_mean"], arrays["image_mean"]
    retriever.text_weights_ = arrays.get("text_weights")
    retriever.image_weights_ = arrays.get("image_weights")
    retriever.gallery_ = Gallery(
        image_paths=config["gallery_image_paths"],
        captions=config["gallery_captions"],
        caption_image=arrays["gallery_caption_image"],
        image_vectors=arrays["gallery_image_vectors"],
        caption_vectors=arrays["gallery_caption_vectors"],
    )
    retriever.gallery_.image_penalty = arrays.get("gallery_image_penalty")
    retriever.gallery_.caption_penalty = arrays.get("gallery_caption_penalty")
    return retriever, config

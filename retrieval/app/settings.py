"""Every setting the demo's numbers depend on, in one place (recorded in ``demo --json``).

The command line takes its defaults from :class:`DemoSettings` and its choices from the
library's lists (:data:`retrieval.DIRECTIONS`, :data:`retrieval.SCORINGS`, ...).
"""

from dataclasses import dataclass

WORD2VEC_PARAMETERS = ("vector_size", "window", "min_count", "sg", "loss", "negative",
                       "sample", "epochs", "seed", "workers")
RETRIEVER_PARAMETERS = ("direction", "pooling", "scoring", "beta", "csls_k", "reference",
                        "training_pairs")


@dataclass(frozen=True)
class DemoSettings:
    """Word vectors, data slices and retriever of the demo.

    The word2vec parameters are those of word2vec.c's CBOW defaults with 300
    dimensions; ``workers`` > 1 trains Hogwild (fast, not bit-reproducible). The
    training captions are repeated ``caption_repeats`` times after the corpus so that
    their word co-occurrences (what people say about pictures) weigh more (the
    measured effect is in the README). The retriever settings are
    :class:`retrieval.CrossModalRetriever`'s parameters; the regularization is always
    chosen on dev.
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
    direction: str = "shared"
    pooling: str = "mean"
    scoring: str = "inverted_softmax"
    beta: float = 10.0
    csls_k: int = 10
    reference: str = "split"
    training_pairs: str = "caption"

    def word2vec_parameters(self):
        """The :class:`w2v_scratch.Word2Vec` parameters."""
        return {name: getattr(self, name) for name in WORD2VEC_PARAMETERS}

    def retriever_parameters(self):
        """The :class:`retrieval.CrossModalRetriever` parameters."""
        return {name: getattr(self, name) for name in RETRIEVER_PARAMETERS}


#: ``--fast`` / ``W2VX_FAST=1``: 1M corpus tokens and the captions once, 1 epoch,
#: 100 dimensions, 300/100/100 images.
FAST = {"vector_size": 100, "epochs": 1, "corpus_sentences": 100, "caption_repeats": 1,
        "n_train": 300, "n_dev": 100, "n_test": 100}

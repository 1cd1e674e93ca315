"""Cross-modal retrieval: sentence vectors, closed-form alignments, cosine index, metrics.

>>> from retrieval import CrossModalRetriever, Flickr8k              # doctest: +SKIP
>>> retriever = CrossModalRetriever(kv).fit(train, train_features,
...                                         eval_set=(dev, dev_features))
>>> retriever.evaluate(test, test_features)["text_to_image"]["R@10"]
>>> retriever.save("model/")                                        # no pickle
>>> CrossModalRetriever.load("model/").search_images("a dog on the beach")

The library never prints. The demo, its caches and the command line
(``python -m retrieval demo|search``) are an app on top of it, in :mod:`retrieval.app`;
importing this package loads neither the ONNX runtime nor matplotlib.
"""

from retrieval.alignment import (
    DIRECTIONS,
    TRAINING_PAIRS,
    RidgeImageToText,
    RidgeTextToImage,
    SharedCCA,
)
from retrieval.cca import CCA
from retrieval.flickr8k import Flickr8k, Flickr8kAnomalyWarning, Flickr8kSplit, first_images
from retrieval.fusion import concat, plot_text_weight_sweep, text_weight_sweep, weighted
from retrieval.gallery import Gallery
from retrieval.image_features import IMAGE_PREPROCESSINGS, prepare_image_features
from retrieval.index import CosineIndex, l2_normalize
from retrieval.metrics import (
    image_to_text_ranks,
    k_occurrence,
    mean_rank,
    median_rank,
    rank_of_first_match,
    recall_at_k,
    retrieval_metrics,
    skewness,
    text_to_image_ranks,
)
from retrieval.retriever import REFERENCES, CrossModalRetriever
from retrieval.ridge import RidgeProjection
from retrieval.scoring import SCORINGS, Scoring
from retrieval.sentences import POOLINGS, SentenceEncoder

__all__ = [
    "CCA",
    "DIRECTIONS",
    "IMAGE_PREPROCESSINGS",
    "POOLINGS",
    "REFERENCES",
    "SCORINGS",
    "TRAINING_PAIRS",
    "CosineIndex",
    "CrossModalRetriever",
    "Flickr8k",
    "Flickr8kAnomalyWarning",
    "Flickr8kSplit",
    "Gallery",
    "RidgeImageToText",
    "RidgeProjection",
    "RidgeTextToImage",
    "Scoring",
    "SentenceEncoder",
    "SharedCCA",
    "concat",
    "first_images",
    "image_to_text_ranks",
    "k_occurrence",
    "l2_normalize",
    "mean_rank",
    "median_rank",
    "plot_text_weight_sweep",
    "prepare_image_features",
    "rank_of_first_match",
    "recall_at_k",
    "retrieval_metrics",
    "skewness",
    "text_to_image_ranks",
    "text_weight_sweep",
    "weighted",
]

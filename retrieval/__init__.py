"""Cross-modal retrieval: sentence vectors, ridge alignment, cosine index, Flickr8k evaluation.

>>> from retrieval import CrossModalRetriever, Flickr8k              # doctest: +SKIP
>>> retriever = CrossModalRetriever(kv).fit(train, train_features,
...                                         eval_set=(dev, dev_features))
>>> retriever.evaluate(test, test_features)["text_to_image"]["R@10"]

The command line (``python -m retrieval demo|search``) lives in :mod:`retrieval.__main__`;
importing this package loads neither the ONNX runtime nor matplotlib.
"""

from retrieval.cca import CCA
from retrieval.flickr8k import Flickr8k, Flickr8kAnomalyWarning, Flickr8kSplit
from retrieval.fusion import alpha_sweep, concat, plot_alpha_sweep, weighted
from retrieval.index import CosineIndex, l2_normalize
from retrieval.metrics import (
    image_to_text_ranks,
    k_occurrence,
    mean_rank,
    median_rank,
    rank_of_first_match,
    recall_at_k,
    skewness,
    text_to_image_ranks,
)
from retrieval.pipeline import CrossModalRetriever, first_images, prepare_image_features
from retrieval.ridge import RidgeProjection
from retrieval.sentences import SentenceEncoder

__all__ = [
    "CCA",
    "CosineIndex",
    "CrossModalRetriever",
    "Flickr8k",
    "Flickr8kAnomalyWarning",
    "Flickr8kSplit",
    "RidgeProjection",
    "SentenceEncoder",
    "alpha_sweep",
    "concat",
    "first_images",
    "image_to_text_ranks",
    "k_occurrence",
    "l2_normalize",
    "mean_rank",
    "median_rank",
    "plot_alpha_sweep",
    "prepare_image_features",
    "rank_of_first_match",
    "recall_at_k",
    "skewness",
    "text_to_image_ranks",
    "weighted",
]

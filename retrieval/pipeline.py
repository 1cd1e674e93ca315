"""CrossModalRetriever: captions and images in one space, fitted in closed form.

A caption becomes a sentence vector ``t`` (pooled word vectors, L2-normalised) and an
image a ResNet feature ``f``, prepared as ``x = f / ||f||`` (or the Hellinger map
``sqrt(f) / ||sqrt(f)||``, or raw; measured: all three within 2 points of the dev
recall sum, L2 slightly ahead on dev and test). Each side then goes through a centred
linear map into one space,

    text:   t -> (t - mean_t) W_t          image:   x -> (x - mean_x) W_x

(``mean`` = training mean; ``W = I`` for the side that is not mapped), and captions and
images are compared by cosine there, with a hubness correction (``scoring``, below):

* ``"shared"`` (default): regularised CCA (:class:`retrieval.cca.CCA`) maps both sides.
* ``"text_to_image"``: ridge ``t -> x`` (:class:`RidgeProjection`, ``W_t = coef_^T``).
* ``"image_to_text"``: ridge ``x -> t``.

Measured on Flickr8k (``benchmarks/results/retrieval_table.md``): the shared CCA space
is best, then text -> image, and image -> text is far behind, because of *hubs*:
items that sit in the top 10 of very many queries (skewness of the k-occurrence
``N_10``). A ridge prediction is shrunk towards the mean of its target space, so
predictions crowd together: mapped into the 300-d text space, one caption lands in the
top 10 of 81 of the 1,000 test images (skewness 4.95); mapped into image space, one
image is in the top 10 of 532 of the 5,000 captions. CCA whitens both sides, so no
direction dominates the cosine (skewness 2.16 and 0.92, captions and images). The
scorings below subtract a penalty from each item's similarity that grows with its
closeness to many queries, which demotes hubs and helps every direction (in the shared
space: skewness 0.99 and 0.51 with CSLS, 0.88 and 0.19 with the inverted softmax).

Training pairs (``training_pairs``): ``"caption"`` (default) pairs every caption with
its image; ``"image"`` pairs every image with the mean vector of its captions. For CCA
the two differ only in the text covariance ``C_xx``: all captions spread more than
their means, so per-caption pairs regularise the text side by its within-image
variation (measured: +12 points of the dev recall sum with CSLS, 258 -> 271; for a ridge
from images to captions both are the same fit, with alpha scaled by 5).

Scoring (``scoring``), applied in both directions with penalties ``r_x`` of the items:

* ``"inverted_softmax"`` (default; Smith et al. 2017): ``cos(q, x) - r_x`` with
  ``r_x = (1/beta) log sum_q' exp(beta cos(x, q'))``, i.e. ``P(x | q)`` normalised over
  the queries (:func:`retrieval.index.inverted_softmax_penalty`);
* ``"csls"`` (Conneau et al. 2018): ``2 cos(q, x) - r_x``, ``r_x`` the mean cosine of
  ``x`` to its ``csls_k`` nearest reference queries;
* ``"cosine"``: plain cosine, no penalty.

The reference queries ``q'`` (``reference``) are, with ``"split"`` (default), the other
modality of the split being evaluated or indexed: the test captions give the image
penalties and the test images the caption penalties. This is how CSLS and the inverted
softmax are used in the papers that introduced them (the penalty of a target word comes
from the whole set of source words being translated): it uses the *set* of test queries
and the gallery, never which caption belongs to which image, and each query's ranking
still depends on nothing else of that query. With ``"dev"`` the penalties come from the
dev split (or the training split without one), a fixed set independent of the test
queries. Measured on dev (choosing there): inverted softmax with ``beta = 10`` and
``"split"`` references is best (dev recall sum 273.7; CSLS k = 10 272.9, with dev
references 270.8; cosine 245.5).

The penalty ``alpha`` is chosen on a dev set by retrieval recall
(``alpha="dev"``, the sum of R@1, R@5 and R@10 of both directions, plain cosine), trying
each candidate from one factorisation (``set_alpha``), or by exact leave-one-out error on
the training pairs (``alpha="gcv"``, ridge only).
"""

import numpy as np
from threadpoolctl import threadpool_limits

from retrieval.cca import CCA
from retrieval.flickr8k import Flickr8kSplit
from retrieval.index import CosineIndex, inverted_softmax_penalty, l2_normalize, top_k
from retrieval.metrics import mean_rank, median_rank, recall_at_k
from retrieval.ridge import RidgeProjection
from retrieval.sentences import SentenceEncoder
from w2v_scratch.text import STOP_WORDS, tokenize

DIRECTIONS = ("text_to_image", "image_to_text", "shared")
#: Ridge penalties tried with ``alpha="dev"``, relative to the mean squared singular
#: value of the centred inputs (so that the grid does not depend on the feature scale).
RIDGE_RELATIVE_ALPHAS = np.logspace(-3, 1, 9)
#: CCA regularisations tried with ``alpha="dev"`` (relative already, see retrieval.cca).
CCA_ALPHAS = np.logspace(-3, 1, 9)
RECALL_KS = (1, 5, 10)
SCORINGS = ("inverted_softmax", "csls", "cosine")
REFERENCES = ("split", "dev")
TRAINING_PAIRS = ("caption", "image")


IMAGE_PREPROCESSING = ("l2", "hellinger", "none")


def prepare_image_features(features, preprocessing="l2"):
    """Check the features, then ``f / ||f||`` per row (or ``sqrt(f) / ||sqrt(f)||``, or ``f``).

    Parameters
    ----------
    features : array-like of shape (n_images, d_image)
        ResNet features (non-negative; a negative value keeps its sign: ``sign(f) sqrt|f|``).
    preprocessing : {"l2", "hellinger", "none"}
        ``"hellinger"``: the square root evens out a few large ReLU activations first.

    Returns
    -------
    ndarray of shape (n_images, d_image), float64
    """
    if preprocessing not in IMAGE_PREPROCESSING:
        raise ValueError(
            f"preprocessing must be one of {IMAGE_PREPROCESSING}, got {preprocessing!r}"
        )
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2:
        raise ValueError(f"image features must be 2-D (n_images, d), got shape {features.shape}")
    bad_rows = np.flatnonzero(~np.isfinite(features).all(axis=1))
    if bad_rows.size:
        raise ValueError(
            f"image features contain NaN or infinity in {bad_rows.size} rows"
            f" (first: {bad_rows[:5].tolist()})"
        )
    if preprocessing == "none":
        return features
    if preprocessing == "hellinger":
        features = np.sign(features) * np.sqrt(np.abs(features))
    return l2_normalize(features)


def first_images(split, n_images):
    """The first ``n_images`` images of a split with their captions (for fast runs)."""
    keep = split.caption_image < n_images  # (n_captions,)
    return Flickr8kSplit(
        name=f"{split.name}[:{n_images}]",
        image_ids=split.image_ids[:n_images],
        image_paths=split.image_paths[:n_images],
        captions=[caption for caption, kept in zip(split.captions, keep, strict=True) if kept],
        caption_image=split.caption_image[keep],
    )


class CrossModalRetriever:
    """Caption <-> image retrieval with word vectors, ResNet features and a closed-form map.

    Parameters
    ----------
    word_vectors : KeyedVectors
        Anything with ``vectors`` (V, d) and ``key_to_index``.
    direction : {"text_to_image", "image_to_text", "shared"}
        Which side is mapped (see the module docstring).
    pooling : {"mean", "sif"}
        Sentence pooling (:class:`retrieval.sentences.SentenceEncoder`; stop words
        dropped, first principal component removed).
    alpha : "dev", "gcv" or float
        ``"dev"``: best dev recall over :data:`RIDGE_RELATIVE_ALPHAS` (times the mean
        squared singular value) or :data:`CCA_ALPHAS`; needs ``eval_set`` in :meth:`fit`.
        ``"gcv"``: exact leave-one-out on the training pairs (ridge directions only).
        A float: that penalty (ridge: absolute; CCA: relative).
    scoring : {"inverted_softmax", "csls", "cosine"}
        How items are ranked (see the module docstring).
    csls_k : int
        CSLS neighbourhood size ``K`` (``scoring="csls"``).
    beta : float
        Inverse temperature of the inverted softmax (``scoring="inverted_softmax"``).
    reference : {"split", "dev"}
        Where the reference queries of the penalties come from: the other modality of
        the evaluated or indexed split, or the dev set given to :meth:`fit` (else the
        training set).
    training_pairs : {"caption", "image"}
        Fit on (caption, its image) pairs, or on (mean of an image's captions, image).
    image_preprocessing : {"l2", "hellinger", "none"}
        See :func:`prepare_image_features`.
    n_components : int, optional
        Dimension of the CCA space (``direction="shared"``); default all.
    cca_power : float
        CCA dimensions are scaled by ``correlation ** cca_power``.

    Attributes
    ----------
    sentence_encoder_ : SentenceEncoder
    projection_ : RidgeProjection or CCA
    alpha_ : float
    dev_recall_sums_ : dict of float to float or None
        With ``alpha="dev"``: the dev criterion of every alpha tried.
    caption_mean_, image_mean_ : ndarray of shape (d_text,), (d_image,)
        Training means of the prepared vectors.
    text_weights_, image_weights_ : ndarray of shape (d_text, k), (d_image, k), or None
        ``W_t`` and ``W_x`` (None for the identity).
    reference_captions_, reference_images_ : ndarray or None
        Embedded reference queries of the penalties with ``reference="dev"`` (else None).
    gallery_ : Gallery
        What :meth:`search_images` and :meth:`search_captions` search, set by :meth:`index`.
    """

    def __init__(
        self,
        word_vectors,
        direction="shared",
        pooling="mean",
        alpha="dev",
        scoring="inverted_softmax",
        csls_k=10,
        beta=10.0,
        reference="split",
        training_pairs="caption",
        image_preprocessing="l2",
        n_components=None,
        cca_power=1.0,
    ):
        self.word_vectors = word_vectors
        self.direction = direction
        self.pooling = pooling
        self.alpha = alpha
        self.scoring = scoring
        self.csls_k = csls_k
        self.beta = beta
        self.reference = reference
        self.training_pairs = training_pairs
        self.image_preprocessing = image_preprocessing
        self.n_components = n_components
        self.cca_power = cca_power

    # ------------------------------------------------------------------ fitting

    def fit(self, split, image_features, eval_set=None):
        """Fit the sentence encoder and the map on training pairs; choose alpha on dev.

        Parameters
        ----------
        split : Flickr8kSplit
            Training captions and ``caption_image`` (n_captions,).
        image_features : array-like of shape (len(split), d_image)
            Raw ResNet features of the split's images, in split order.
        eval_set : tuple (Flickr8kSplit, array-like), optional
            Dev split and its image features (required for ``alpha="dev"``).

        Returns
        -------
        self
        """
        self._check_parameters(eval_set)
        images = prepare_image_features(image_features, self.image_preprocessing)  # (n, d)
        _check_rows(split, images)
        self.n_image_features_ = images.shape[1]
        self.sentence_encoder_ = SentenceEncoder(
            self.word_vectors, pooling=self.pooling, stop_words=STOP_WORDS
        )
        tokens = _tokenized(split.captions)
        with threadpool_limits(limits=1, user_api="blas"):  # its SVD: see ridge.thin_svd
            self.sentence_encoder_.fit(tokens)
        captions = self._caption_vectors(tokens)  # (n_captions, d_text)
        caption_image = np.asarray(split.caption_image)  # (n_captions,)
        self._fit_projection(captions, images, caption_image)
        reference = (captions, images, split.caption_image)  # (prepared vectors)
        if eval_set is not None:
            dev_split, dev_features = eval_set
            dev_images = self._prepare_images(dev_features)
            _check_rows(dev_split, dev_images)
            reference = (self._caption_vectors(dev_split.captions), dev_images,
                         dev_split.caption_image)
        self.dev_recall_sums_ = None
        if self.alpha == "dev":
            self._choose_alpha_on_dev(*reference)
        else:
            self.set_alpha(self.projection_.alpha_)
        self.reference_captions_ = self.reference_images_ = None
        if self.scoring != "cosine" and self.reference == "dev":
            self.reference_captions_ = self._embed_text(reference[0])
            self.reference_images_ = self._embed_images(reference[1])
        return self

    def _fit_projection(self, captions, images, caption_image):
        """Centre and fit the map on (caption, image) or (mean caption, image) pairs."""
        n_images = len(images)
        if self.training_pairs == "image":
            mean_captions = _mean_by_image(captions, caption_image, n_images)  # (n, d_text)
            self.caption_mean_, self.image_mean_ = captions.mean(axis=0), images.mean(axis=0)
            if self.direction == "image_to_text":
                self.projection_ = self._make_projection().fit(images, mean_captions)
            else:
                self.projection_ = self._make_projection().fit(mean_captions, images)
            return
        counts = np.bincount(caption_image, minlength=n_images)  # (n_images,)
        if not (counts > 0).all():
            raise ValueError(
                f"training_pairs='caption' needs at least one caption per training image;"
                f" {int(np.sum(counts == 0))} images have none"
            )
        self.caption_mean_ = captions.mean(axis=0)  # (d_text,)
        self.image_mean_ = counts @ images / len(captions)  # (d_image,): mean over pairs
        if self.direction == "shared":  # Y[caption_image] is never formed: CCA(y_index=...)
            self.projection_ = self._make_projection().fit(captions, images, caption_image)
        elif self.direction == "text_to_image":
            self.projection_ = self._make_projection().fit(captions, images[caption_image])
        else:
            self.projection_ = self._make_projection().fit(images[caption_image], captions)

    def _check_parameters(self, eval_set):
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, got {self.direction!r}")
        for name, allowed in (("scoring", SCORINGS), ("reference", REFERENCES),
                              ("training_pairs", TRAINING_PAIRS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if self.scoring == "csls" and (
            not isinstance(self.csls_k, int | np.integer) or self.csls_k < 1
        ):
            raise ValueError(f"scoring='csls' needs a positive int csls_k, got {self.csls_k!r}")
        if self.scoring == "inverted_softmax" and not (
            isinstance(self.beta, int | float) and np.isfinite(self.beta) and self.beta > 0
        ):
            raise ValueError(
                f"scoring='inverted_softmax' needs a finite beta > 0, got {self.beta!r}"
            )
        if self.alpha == "gcv" and self.direction == "shared":
            raise ValueError("alpha='gcv' is a ridge criterion; use alpha='dev' for 'shared'")
        if self.alpha == "dev" and eval_set is None:
            raise ValueError("alpha='dev' needs eval_set=(dev_split, dev_image_features)")

    def _make_projection(self):
        if self.direction == "shared":
            alpha = CCA_ALPHAS[0] if self.alpha == "dev" else self.alpha
            return CCA(n_components=self.n_components, alpha=alpha, power=self.cca_power)
        return RidgeProjection(alpha=1.0 if self.alpha == "dev" else self.alpha)

    def _choose_alpha_on_dev(self, dev_captions, dev_images, caption_image):
        """Set the alpha whose dev recall sum (both directions, plain cosine) is highest."""
        if self.direction == "shared":
            alphas = CCA_ALPHAS
        else:
            alphas = RIDGE_RELATIVE_ALPHAS * np.mean(self.projection_.singular_values_**2)
        self.dev_recall_sums_ = {}
        for alpha in alphas:
            self.set_alpha(alpha)
            similarity = _cosine(self._embed_images(dev_images), self._embed_text(dev_captions))
            metrics = _metrics(similarity, similarity, caption_image)
            self.dev_recall_sums_[float(alpha)] = sum(
                metrics[direction][f"R@{k}"] for direction in metrics for k in RECALL_KS
            )
        self.set_alpha(max(self.dev_recall_sums_, key=self.dev_recall_sums_.get))

    def set_alpha(self, alpha):
        """Re-solve the projection for another penalty (no new factorisation).

        Returns
        -------
        self
        """
        projection = self.projection_.set_alpha(alpha)
        self.alpha_ = float(alpha)
        if self.direction == "shared":
            self.text_weights_, self.image_weights_ = projection.x_weights_, projection.y_weights_
        elif self.direction == "text_to_image":
            self.text_weights_, self.image_weights_ = projection.coef_.T, None
        else:
            self.text_weights_, self.image_weights_ = None, projection.coef_.T
        return self

    # ------------------------------------------------------------------ embedding

    def embed_captions(self, captions):
        """Captions (str or token lists) -> ``(n, k)`` vectors of the shared space."""
        return self._embed_text(self._caption_vectors(captions))

    def embed_images(self, image_features):
        """Raw image features ``(n, d_image)`` -> ``(n, k)`` vectors of the shared space."""
        return self._embed_images(self._prepare_images(image_features))

    def _embed_text(self, vectors):
        return _centred_map(vectors, self.caption_mean_, self.text_weights_)

    def _embed_images(self, vectors):
        return _centred_map(vectors, self.image_mean_, self.image_weights_)

    def _caption_vectors(self, captions):
        vectors, _ = self.sentence_encoder_.encode(captions, return_report=True)
        return l2_normalize(vectors.astype(np.float64))  # (n_captions, d_text)

    def _prepare_images(self, image_features):
        images = prepare_image_features(image_features, self.image_preprocessing)
        if images.shape[1] != self.n_image_features_:
            raise ValueError(
                f"image features have dimension {images.shape[1]}, but the retriever was"
                f" fitted on {self.n_image_features_}-dimensional features"
            )
        return images

    # ------------------------------------------------------------------ evaluation

    def evaluate(self, split, image_features):
        """Recall@1/5/10, median and mean rank in both directions (standard protocol).

        Image -> text: every image queries all captions of the split and counts as found
        at the best rank of its own captions; text -> image: every caption queries all
        images of the split.

        Returns
        -------
        dict
            ``{"image_to_text": {"R@1", "R@5", "R@10", "medR", "meanR"},
            "text_to_image": {...}}``; recalls in percent.
        """
        return _metrics(*self.score_matrices(split, image_features), split.caption_image)

    def score_matrices(self, split, image_features):
        """Image-by-caption scores used to rank, for each query direction.

        Plain cosine ``S_ij = cos(image_i, caption_j)``; with CSLS ``2 S_ij - r(caption_j)``
        when images query captions and ``2 S_ij - r(image_i)`` when captions query images;
        with the inverted softmax ``S_ij - r(caption_j)`` and ``S_ij - r(image_i)``. The
        penalties ``r`` come from this split (``reference="split"``: its captions for the
        images, its images for the captions) or from the stored dev references.

        Returns
        -------
        image_query_scores, caption_query_scores : ndarray of shape (n_images, n_captions)
        """
        images = self.embed_images(image_features)  # (n_images, k)
        _check_rows(split, images)
        captions = self.embed_captions(split.captions)  # (n_captions, k)
        similarity = _cosine(images, captions)  # (n_images, n_captions)
        if self.scoring == "cosine":
            return similarity, similarity
        caption_penalty, image_penalty = self._penalties(images, captions)
        return (
            self._rescore(similarity, caption_penalty[None, :]),
            self._rescore(similarity, image_penalty[:, None]),
        )

    def _penalties(self, images, captions):
        """``r`` of every caption (from image queries) and every image (from caption queries).

        Returns
        -------
        caption_penalty : ndarray of shape (n_captions,)
        image_penalty : ndarray of shape (n_images,)
        """
        if self.reference == "split":
            reference_images, reference_captions = images, captions
        else:
            reference_images, reference_captions = self.reference_images_, self.reference_captions_
        return (self._penalty(captions, reference_images),
                self._penalty(images, reference_captions))

    def _penalty(self, items, reference_queries):
        """``r_x`` of every item from reference queries of the other modality."""
        if self.scoring == "inverted_softmax":
            penalty = inverted_softmax_penalty(items, reference_queries, self.beta)
            return penalty.astype(np.float32)
        return CosineIndex(items, csls_k=self.csls_k).fit_csls(reference_queries).penalty_

    def _rescore(self, similarity, penalty):
        """``2 cos - r`` (CSLS) or ``cos - r`` (inverted softmax, ``log P / beta``)."""
        if self.scoring == "csls":
            return 2.0 * similarity - penalty
        return similarity - penalty

    # ------------------------------------------------------------------ search

    def index(self, split, image_features):
        """Make a split's images and captions the gallery that the search methods use.

        Returns
        -------
        self
        """
        images = self.embed_images(image_features)
        _check_rows(split, images)
        captions = self.embed_captions(split.captions)
        self.gallery_ = Gallery(
            image_paths=[str(path) for path in split.image_paths],
            captions=list(split.captions),
            caption_image=np.asarray(split.caption_image),
            image_vectors=images,
            caption_vectors=captions,
        )
        if self.scoring != "cosine":
            self.gallery_.caption_penalty, self.gallery_.image_penalty = self._penalties(
                images, captions)
        return self

    def search_images(self, text, k=5):
        """The ``k`` gallery images closest to a text query, best first.

        Raises
        ------
        ValueError
            No word of ``text`` has a word vector (the message lists the unknown words).

        Returns
        -------
        list of (image path, score)
        """
        query = l2_normalize(self.sentence_encoder_.encode_query(text).astype(np.float64))
        scores, rows = self._search(
            self._embed_text(query[None]), self.gallery_.image_vectors,
            self.gallery_.image_penalty, k,
        )
        return [(self.gallery_.image_paths[row], float(score)) for row, score in zip(rows, scores)]

    def search_captions(self, image_features, k=5):
        """The ``k`` gallery captions closest to one image, best first.

        Parameters
        ----------
        image_features : array-like of shape (d_image,) or (1, d_image)

        Returns
        -------
        list of (caption, index of its gallery image, score)
        """
        query = self.embed_images(np.reshape(image_features, (1, -1)))  # (1, k)
        scores, rows = self._search(
            query, self.gallery_.caption_vectors, self.gallery_.caption_penalty, k
        )
        return [
            (self.gallery_.captions[row], int(self.gallery_.caption_image[row]), float(score))
            for row, score in zip(rows, scores)
        ]

    def _search(self, query, items, penalty, k):
        """Top ``k`` of one query: cosine, or the gallery penalty applied as in evaluation."""
        scores = _cosine(query, items)  # (1, n_items)
        if penalty is not None:
            scores = self._rescore(scores, penalty[None, :])
        best_scores, best_rows = top_k(scores, min(k, items.shape[0]))
        return best_scores[0], best_rows[0]


class Gallery:
    """The items searched by :class:`CrossModalRetriever`: images and captions of a split.

    Attributes
    ----------
    image_paths : list of str
    captions : list of str
    caption_image : ndarray of shape (n_captions,)
    image_vectors : ndarray of shape (n_images, k)
    caption_vectors : ndarray of shape (n_captions, k)
    image_penalty, caption_penalty : ndarray or None
        Penalties ``r_x`` of CSLS or the inverted softmax (None for plain cosine).
    """

    def __init__(self, image_paths, captions, caption_image, image_vectors, caption_vectors):
        self.image_paths = image_paths
        self.captions = captions
        self.caption_image = caption_image
        self.image_vectors = image_vectors
        self.caption_vectors = caption_vectors
        self.image_penalty = self.caption_penalty = None


def _check_rows(split, vectors):
    if len(vectors) != len(split) or len(split.captions) != len(split.caption_image):
        raise ValueError(
            f"split {split.name!r} has {len(split)} images and {len(split.captions)} captions,"
            f" but {len(vectors)} image feature rows were given"
        )


def _centred_map(vectors, mean, weights):
    """``(v - mean) W``, or ``v - mean`` when ``W`` is None (the identity), as float32.

    The maps are solved in float64; the shared space is float32, which halves the cost
    of the large similarity products and is ample for ranking.
    """
    centred = vectors - mean  # (n, d)
    mapped = centred if weights is None else centred @ weights  # (n, k)
    return mapped.astype(np.float32)


def _cosine(a, b):
    """``cos(a_i, b_j)`` for all pairs: ``(n_a, n_b)``."""
    return l2_normalize(a) @ l2_normalize(b).T


def _tokenized(captions):
    """Token lists of the captions (tokenised once, reused by every encoding step)."""
    return [tokenize(c) if isinstance(c, str) else c for c in captions]


def _mean_by_image(caption_vectors, caption_image, n_images):
    """Mean caption vector of every image: ``(n_images, d)``."""
    sums = np.zeros((n_images, caption_vectors.shape[1]))
    np.add.at(sums, caption_image, caption_vectors)
    counts = np.bincount(caption_image, minlength=n_images)[:, None]  # (n_images, 1)
    return sums / np.maximum(counts, 1)


def image_to_text_ranks_by_counting(scores, caption_image):
    """Image -> text ranks by counting, without sorting (same result as sorting).

    An image's rank is the position of its best own caption in its row sorted by
    decreasing score, ties by lower column:

        rank_i = 1 + #{j : S_ij > b_i} + #{j < j_i : S_ij = b_i}

    with ``b_i`` the best own-caption score and ``j_i`` the first own caption scoring it.

    Parameters
    ----------
    scores : ndarray of shape (n_images, n_captions)
    caption_image : ndarray of shape (n_captions,), int

    Returns
    -------
    ndarray of shape (n_images,), float
    """
    own = caption_image[None, :] == np.arange(len(scores))[:, None]  # (n_images, n_captions)
    best_own = np.where(own, scores, -np.inf).max(axis=1, keepdims=True)  # (n_images, 1)
    first_best = np.argmax(own & (scores == best_own), axis=1)[:, None]  # (n_images, 1)
    before = np.arange(scores.shape[1])[None, :] < first_best
    ties_before = np.sum((scores == best_own) & before, axis=1)
    return 1.0 + np.sum(scores > best_own, axis=1) + ties_before


def text_to_image_ranks_by_counting(scores, caption_image):
    """Text -> image ranks by counting: ``1 + #{i : S_ij > S_own} + #{i < own : S_ij = S_own}``.

    Parameters
    ----------
    scores : ndarray of shape (n_images, n_captions)
    caption_image : ndarray of shape (n_captions,), int

    Returns
    -------
    ndarray of shape (n_captions,), float
    """
    own = scores[caption_image, np.arange(scores.shape[1])][None, :]  # (1, n_captions)
    above = np.arange(len(scores))[:, None] < caption_image[None, :]  # (n_images, n_captions)
    return 1.0 + np.sum(scores > own, axis=0) + np.sum((scores == own) & above, axis=0)


def _metrics(image_query_scores, caption_query_scores, caption_image):
    """R@K, medR and meanR of both directions from image-by-caption score matrices."""
    ranks = {
        "image_to_text": image_to_text_ranks_by_counting(image_query_scores, caption_image),
        "text_to_image": text_to_image_ranks_by_counting(caption_query_scores, caption_image),
    }
    return {
        direction: {
            **{f"R@{k}": value for k, value in recall_at_k(r, RECALL_KS).items()},
            "medR": median_rank(r),
            "meanR": mean_rank(r),
        }
        for direction, r in ranks.items()
    }

"""Alignments: the centred linear maps that put captions and images into one space.

A caption vector ``t`` and a prepared image feature ``x`` are compared by cosine after

    text:   t -> (t - mean_t) W_t          image:   x -> (x - mean_x) W_x

(``mean`` = training mean; ``W = None`` stands for the identity, the side that is not
mapped). Each alignment is one small object: :meth:`Alignment.fit` on training pairs,
:meth:`Alignment.set_regularization` to re-solve for another penalty from the kept
factorisation, and its two weight matrices ``text_weights_`` and ``image_weights_``.

* :class:`RidgeTextToImage`: ridge ``t -> x`` (:class:`RidgeProjection`), ``W_t = coef_^T``.
* :class:`RidgeImageToText`: ridge ``x -> t``, ``W_x = coef_^T``.
* :class:`SharedCCA`: regularised CCA (:class:`retrieval.cca.CCA`) maps both sides.

Training pairs (``training_pairs``): ``"caption"`` pairs every caption with its image;
``"image"`` pairs every image with the mean vector of its captions. For CCA the two
differ only in the text covariance: all captions spread more than their means, so
per-caption pairs regularise the text side by its within-image variation. For a ridge
from images to captions both give the same fit (the targets' mean per image is what a
least-squares fit of the repeated pairs sees), with the penalty scaled by the captions
per image.
"""

import numpy as np

from retrieval.cca import CCA
from retrieval.metrics import RECALL_KS, retrieval_metrics
from retrieval.ridge import RidgeProjection
from retrieval.scoring import cosine_matrix

TRAINING_PAIRS = ("caption", "image")
#: Ridge penalties tried by :meth:`Alignment.regularization_grid`, relative to the mean
#: squared singular value of the centred inputs (so the grid does not depend on scale).
RIDGE_RELATIVE_PENALTIES = np.logspace(-3, 1, 9)
#: CCA regularisations tried by :meth:`Alignment.regularization_grid` (relative already).
CCA_REGULARIZATIONS = np.logspace(-3, 1, 9)


class Alignment:
    """Base of the alignments: pairs, training means, the two centred maps.

    Parameters
    ----------
    regularization : float or "gcv"
        The penalty: ridge ``alpha`` (absolute; ``"gcv"``: chosen by exact leave-one-out)
        or CCA's relative ``λ``.
    training_pairs : {"caption", "image"}

    Attributes
    ----------
    model_ : RidgeProjection or CCA
        The fitted estimator, with its factorisation.
    caption_mean_, image_mean_ : ndarray of shape (d_text,), (d_image,)
        Training means of the prepared vectors.
    text_weights_, image_weights_ : ndarray of shape (d_text, k), (d_image, k), or None
        ``W_t`` and ``W_x`` (None for the identity).
    regularization_ : float
        The penalty the weights were solved for.
    """

    #: The value of ``direction`` that selects this alignment in the retriever.
    direction = None

    def __init__(self, regularization=1.0, training_pairs="caption"):
        self.regularization = regularization
        self.training_pairs = training_pairs

    def fit(self, captions, images, caption_image):
        """Centre and fit the map on (caption, image) or (mean caption, image) pairs.

        Parameters
        ----------
        captions : ndarray of shape (n_captions, d_text)
        images : ndarray of shape (n_images, d_image)
        caption_image : ndarray of shape (n_captions,), int
            The image (row of ``images``) each caption describes.

        Returns
        -------
        self
        """
        if self.training_pairs not in TRAINING_PAIRS:
            raise ValueError(
                f"training_pairs must be one of {TRAINING_PAIRS}, got {self.training_pairs!r}"
            )
        n_images = len(images)
        counts = np.bincount(caption_image, minlength=n_images)  # (n_images,)
        if self.training_pairs == "image":
            text = mean_by_image(captions, caption_image, n_images)  # (n_images, d_text)
            self.caption_mean_, self.image_mean_ = captions.mean(axis=0), images.mean(axis=0)
            self.model_ = self._fit_pairs(text, images, None)
        else:
            if not (counts > 0).all():
                raise ValueError(
                    f"training_pairs='caption' needs at least one caption per training image;"
                    f" {int(np.sum(counts == 0))} images have none"
                )
            self.caption_mean_ = captions.mean(axis=0)  # (d_text,)
            self.image_mean_ = counts @ images / len(captions)  # (d_image,): mean over pairs
            self.model_ = self._fit_pairs(captions, images, caption_image)
        return self.set_regularization(self._fitted_regularization())

    def set_regularization(self, regularization):
        """Re-solve both maps for another penalty (no new factorisation).

        Returns
        -------
        self
        """
        self.text_weights_, self.image_weights_ = self._solve(regularization)
        self.regularization_ = float(regularization)
        return self

    def choose_regularization(self, captions, images, caption_image):
        """Use the grid value whose retrieval recall on held-out pairs is highest.

        The criterion is the sum of R@1, R@5 and R@10 of both directions under plain
        cosine; every candidate is re-solved from the kept factorisation.

        Parameters
        ----------
        captions, images : ndarray
            Prepared dev vectors, as for :meth:`fit`.
        caption_image : ndarray of shape (n_captions,), int

        Returns
        -------
        dict of float to float
            The criterion of every value tried.
        """
        recall_sums = {}
        for value in self.regularization_grid():
            self.set_regularization(value)
            similarity = cosine_matrix(self.embed_images(images), self.embed_text(captions))
            metrics = retrieval_metrics(similarity, similarity, caption_image)
            recall_sums[float(value)] = sum(
                metrics[direction][f"R@{k}"] for direction in metrics for k in RECALL_KS
            )
        self.set_regularization(max(recall_sums, key=recall_sums.get))
        return recall_sums

    def embed_text(self, vectors):
        """``(t - mean_t) W_t`` for prepared caption vectors ``(n, d_text)``: ``(n, k)``."""
        return centred_map(vectors, self.caption_mean_, self.text_weights_)

    def embed_images(self, vectors):
        """``(x - mean_x) W_x`` for prepared image features ``(n, d_image)``: ``(n, k)``."""
        return centred_map(vectors, self.image_mean_, self.image_weights_)


class _RidgeAlignment(Alignment):
    """A ridge map of one side onto the other; the target side is not mapped."""

    def regularization_grid(self):
        """:data:`RIDGE_RELATIVE_PENALTIES` times the mean squared singular value."""
        return RIDGE_RELATIVE_PENALTIES * np.mean(self.model_.singular_values_**2)

    def _fitted_regularization(self):
        return self.model_.alpha_

    def _ridge(self):
        return RidgeProjection(alpha=self.regularization)


class RidgeTextToImage(_RidgeAlignment):
    """Ridge regression from caption vectors to image features: ``W_t = coef_^T``."""

    direction = "text_to_image"

    def _fit_pairs(self, text, images, image_index):
        targets = images if image_index is None else images[image_index]  # (n_pairs, d_image)
        return self._ridge().fit(text, targets)

    def _solve(self, regularization):
        return self.model_.set_alpha(regularization).coef_.T, None


class RidgeImageToText(_RidgeAlignment):
    """Ridge regression from image features to caption vectors: ``W_x = coef_^T``."""

    direction = "image_to_text"

    def _fit_pairs(self, text, images, image_index):
        inputs = images if image_index is None else images[image_index]  # (n_pairs, d_image)
        return self._ridge().fit(inputs, text)

    def _solve(self, regularization):
        return None, self.model_.set_alpha(regularization).coef_.T


class SharedCCA(Alignment):
    """Regularised CCA: both sides into the canonical space.

    Parameters
    ----------
    regularization : float
        CCA's relative ``λ``.
    training_pairs : {"caption", "image"}
    n_components : int, optional
        Dimension of the shared space; default all.
    power : float
        Dimensions are scaled by ``correlation ** power``.
    """

    direction = "shared"

    def __init__(self, regularization=CCA_REGULARIZATIONS[0], training_pairs="caption",
                 n_components=None, power=1.0):
        super().__init__(regularization, training_pairs)
        self.n_components = n_components
        self.power = power

    def regularization_grid(self):
        """:data:`CCA_REGULARIZATIONS`."""
        return CCA_REGULARIZATIONS

    def _fit_pairs(self, text, images, image_index):
        # With caption pairs, Y[caption_image] is never formed: CCA(y_index=...).
        cca = CCA(n_components=self.n_components, regularization=self.regularization,
                  power=self.power)
        return cca.fit(text, images, y_index=image_index)

    def _fitted_regularization(self):
        return self.model_.regularization_

    def _solve(self, regularization):
        cca = self.model_.set_regularization(regularization)
        return cca.x_weights_, cca.y_weights_


#: Alignment class of every ``direction`` of :class:`retrieval.retriever.CrossModalRetriever`.
ALIGNMENTS = {cls.direction: cls for cls in (SharedCCA, RidgeTextToImage, RidgeImageToText)}
DIRECTIONS = tuple(ALIGNMENTS)


def make_alignment(direction, regularization, training_pairs, n_components=None, power=1.0):
    """The alignment of ``direction``; with ``regularization="dev"`` it starts from the
    first value of its grid (ridge: 1.0, refined on dev by the caller).

    ``n_components`` and ``power`` apply to the shared CCA space only.
    """
    if direction == "shared":
        start = CCA_REGULARIZATIONS[0] if regularization == "dev" else regularization
        return SharedCCA(start, training_pairs, n_components=n_components, power=power)
    return ALIGNMENTS[direction](1.0 if regularization == "dev" else regularization,
                                 training_pairs)


def centred_map(vectors, mean, weights):
    """``(v - mean) W``, or ``v - mean`` when ``W`` is None (the identity), as float32.

    The maps are solved in float64; the shared space is float32, which halves the cost
    of the large similarity products and is ample for ranking.
    """
    centred = vectors - mean  # (n, d)
    mapped = centred if weights is None else centred @ weights  # (n, k)
    return mapped.astype(np.float32)


def mean_by_image(caption_vectors, caption_image, n_images):
    """Mean caption vector of every image: ``(n_images, d)``."""
    sums = np.zeros((n_images, caption_vectors.shape[1]))
    np.add.at(sums, caption_image, caption_vectors)
    counts = np.bincount(caption_image, minlength=n_images)[:, None]  # (n_images, 1)
    return sums / np.maximum(counts, 1)

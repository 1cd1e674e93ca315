"""The items a fitted retriever searches: images and captions embedded in its space."""

from dataclasses import dataclass

import numpy as np

from retrieval.index import top_k
from retrieval.scoring import cosine_matrix


@dataclass
class Gallery:
    """Images and captions of one split, embedded, with their hubness penalties.

    Attributes
    ----------
    image_paths : list of str
    captions : list of str
    caption_image : ndarray of shape (n_captions,), int
        The image (index into ``image_paths``) each caption describes.
    image_vectors : ndarray of shape (n_images, k)
    caption_vectors : ndarray of shape (n_captions, k)
    image_penalty, caption_penalty : ndarray of shape (n_images,), (n_captions,), or None
        Penalties ``r_x`` of CSLS or the inverted softmax (None for plain cosine).
    """

    image_paths: list
    captions: list
    caption_image: np.ndarray
    image_vectors: np.ndarray
    caption_vectors: np.ndarray
    image_penalty: np.ndarray | None = None
    caption_penalty: np.ndarray | None = None

    def top_images(self, query, scoring, k):
        """The ``k`` best images for one embedded query ``(1, k_dim)``, scored as in
        evaluation: list of (image path, score), best first."""
        scores, rows = _top(query, self.image_vectors, self.image_penalty, scoring, k)
        return [(self.image_paths[row], float(score)) for row, score in zip(rows, scores)]

    def top_captions(self, query, scoring, k):
        """The ``k`` best captions for one embedded image query ``(1, k_dim)``: list of
        (caption, index of its image, score), best first."""
        scores, rows = _top(query, self.caption_vectors, self.caption_penalty, scoring, k)
        return [(self.captions[row], int(self.caption_image[row]), float(score))
                for row, score in zip(rows, scores)]


def _top(query, items, penalty, scoring, k):
    """Top ``k`` rows of ``items`` for one query: cosine, less the item penalty if any."""
    scores = scoring.rescore(cosine_matrix(query, items), penalty)  # (1, n_items)
    best_scores, best_rows = top_k(scores, min(k, items.shape[0]))  # (1, k)
    return best_scores[0], best_rows[0]

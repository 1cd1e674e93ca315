"""CrossModalRetriever: captions and images in one space, fitted in closed form.

A caption becomes a sentence vector ``t`` (pooled word vectors, L2-normalised;
:class:`retrieval.sentences.SentenceEncoder`) and an image a prepared ResNet feature
``x`` (:func:`retrieval.image_features.prepare_image_features`). An *alignment*
(:mod:`retrieval.alignment`) maps each side through a centred linear map into one space:

    text:   t -> (t - mean_t) W_t          image:   x -> (x - mean_x) W_x

``direction`` picks it: ``"shared"`` (regularised CCA maps both sides), ``"text_to_image"``
(ridge ``t -> x``) or ``"image_to_text"`` (ridge ``x -> t``). Captions and images are
then compared by cosine in that space, less a hubness penalty (``scoring``,
:mod:`retrieval.scoring`). Why the penalty matters: a ridge prediction is shrunk towards
the mean of its target space, so predictions crowd together and a few items (hubs) land
in the top 10 of very many queries; CCA whitens both sides, so fewer hubs form; the
penalties demote the hubs that remain. The measured effect of each choice is in
``benchmarks/results/retrieval_table.md`` and the README.

The reference queries of the penalties (``reference``): see :mod:`retrieval.scoring`.
The penalty of the alignment (``regularization``) is chosen by retrieval recall on a
dev set (:meth:`retrieval.alignment.Alignment.choose_regularization`) or by exact
leave-one-out error on the training pairs (``"gcv"``, ridge only). A fitted retriever
saves itself (:meth:`CrossModalRetriever.save`), without pickle.
"""

from pathlib import Path

import numpy as np

from retrieval.alignment import (
    DIRECTIONS,
    TRAINING_PAIRS,
    RidgeImageToText,
    RidgeTextToImage,
    SharedCCA,
    make_alignment,
)
from retrieval.cca import CCA
from retrieval.gallery import Gallery
from retrieval.image_features import IMAGE_PREPROCESSINGS, prepare_image_features
from retrieval.index import l2_normalize
from retrieval.metrics import retrieval_metrics
from retrieval.ridge import RidgeProjection
from retrieval.scoring import Scoring, cosine_matrix
from retrieval.sentences import POOLINGS, SentenceEncoder
from retrieval.storage import (
    load_word_vectors,
    object_state,
    read_folder,
    restore_object,
    store_word_vectors,
    write_folder,
)
from w2v_scratch.text import STOP_WORDS, tokenize

REFERENCES = ("split", "dev")
#: Version of the layout written by :meth:`CrossModalRetriever.save`.
FORMAT_VERSION = 3
#: ``<STEM>.json`` and ``<STEM>.npz``: the files of a saved retriever, in its folder.
STEM = "retriever"


class CrossModalRetriever:
    """Caption <-> image retrieval with word vectors, ResNet features and a closed-form map.

    Parameters
    ----------
    word_vectors : KeyedVectors
        Anything with ``vectors`` (V, d) and ``key_to_index``.
    direction : {"shared", "text_to_image", "image_to_text"}
        Which alignment (see the module docstring).
    pooling : {"mean", "sif"}
        Sentence pooling (stop words dropped, first principal component removed).
    regularization : "dev", "gcv" or float
        ``"dev"``: best dev recall over the alignment's grid; needs ``eval_set`` in
        :meth:`fit`. ``"gcv"``: exact leave-one-out on the training pairs (ridge only).
        A float: that penalty (ridge ``alpha``, absolute; CCA, relative).
    scoring : {"inverted_softmax", "csls", "cosine"}
        How items are ranked (:mod:`retrieval.scoring`).
    csls_k : int
        CSLS neighbourhood size ``K`` (``scoring="csls"``).
    beta : float
        Inverse temperature of the inverted softmax (``scoring="inverted_softmax"``).
    reference : {"split", "dev"}
        Where the reference queries of the penalties come from.
    training_pairs : {"caption", "image"}
        Fit on (caption, its image) pairs, or on (mean of an image's captions, image).
    image_preprocessing : {"l2", "hellinger", "none"}
        See :func:`retrieval.image_features.prepare_image_features`.
    n_components : int, optional
        Dimension of the CCA space (``direction="shared"``); default all.
    cca_power : float
        CCA dimensions are scaled by ``correlation ** cca_power``.

    Attributes
    ----------
    sentence_encoder_ : SentenceEncoder
    alignment_ : SharedCCA, RidgeTextToImage or RidgeImageToText
        The fitted maps (``text_weights_``, ``image_weights_``, training means).
    regularization_ : float
        The penalty in use (``alignment_.regularization_``).
    dev_recall_sums_ : dict of float to float or None
        With ``regularization="dev"``: the dev criterion of every value tried.
    n_image_features_ : int
    reference_captions_, reference_images_ : ndarray or None
        Embedded reference queries of the penalties with ``reference="dev"`` (else None).
    gallery_ : Gallery
        What :meth:`search_images` and :meth:`search_captions` search, set by :meth:`index`.
    """

    def __init__(self, word_vectors, direction="shared", pooling="mean", regularization="dev",
                 scoring="inverted_softmax", csls_k=10, beta=10.0, reference="split",
                 training_pairs="caption", image_preprocessing="l2", n_components=None,
                 cca_power=1.0):
        self.word_vectors = word_vectors
        self.direction = direction
        self.pooling = pooling
        self.regularization = regularization
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
        """Fit the sentence encoder and the alignment on training pairs; choose the
        regularization on dev.

        Parameters
        ----------
        split : Flickr8kSplit
            Training captions and ``caption_image`` (n_captions,).
        image_features : array-like of shape (len(split), d_image)
            Raw ResNet features of the split's images, in split order.
        eval_set : tuple (Flickr8kSplit, array-like), optional
            Dev split and its image features (required for ``regularization="dev"``).

        Returns
        -------
        self
        """
        self._check_parameters(eval_set)
        images = prepare_image_features(image_features, self.image_preprocessing)  # (n, d)
        _check_rows(split, images)
        self.n_image_features_ = images.shape[1]
        tokens = [tokenize(c) if isinstance(c, str) else c for c in split.captions]
        self.sentence_encoder_ = SentenceEncoder(
            self.word_vectors, pooling=self.pooling, stop_words=STOP_WORDS
        ).fit(tokens)
        captions = self._caption_vectors(tokens)  # (n_captions, d_text)
        self.alignment_ = make_alignment(
            self.direction, self.regularization, self.training_pairs,
            n_components=self.n_components, power=self.cca_power,
        ).fit(captions, images, np.asarray(split.caption_image))
        reference = (captions, images, split.caption_image)  # (prepared vectors)
        if eval_set is not None:
            dev_split, dev_features = eval_set
            dev_images = self._prepare_images(dev_features)
            _check_rows(dev_split, dev_images)
            reference = (self._caption_vectors(dev_split.captions), dev_images,
                         dev_split.caption_image)
        self.dev_recall_sums_ = None
        if self.regularization == "dev":
            self.dev_recall_sums_ = self.alignment_.choose_regularization(*reference)
        self.reference_captions_ = self.reference_images_ = None
        if self._scoring().has_penalty and self.reference == "dev":
            self.reference_captions_ = self.alignment_.embed_text(reference[0])
            self.reference_images_ = self.alignment_.embed_images(reference[1])
        return self

    def _check_parameters(self, eval_set):
        for name, allowed in (("direction", DIRECTIONS), ("pooling", POOLINGS),
                              ("reference", REFERENCES), ("training_pairs", TRAINING_PAIRS),
                              ("image_preprocessing", IMAGE_PREPROCESSINGS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        self._scoring()  # checks scoring, beta, csls_k
        if isinstance(self.regularization, str):
            if self.regularization not in ("dev", "gcv"):
                raise ValueError(f"regularization must be 'dev', 'gcv' or a float > 0, got"
                                 f" {self.regularization!r}")
            if self.regularization == "gcv" and self.direction == "shared":
                raise ValueError("regularization='gcv' is a ridge criterion; use"
                                 " regularization='dev' for 'shared'")
            if self.regularization == "dev" and eval_set is None:
                raise ValueError(
                    "regularization='dev' needs eval_set=(dev_split, dev_image_features)")

    def _scoring(self):
        return Scoring(self.scoring, beta=self.beta, csls_k=self.csls_k)

    def set_regularization(self, regularization):
        """Re-solve the alignment for another penalty (no new factorisation).

        Returns
        -------
        self
        """
        self.alignment_.set_regularization(regularization)
        return self

    @property
    def regularization_(self):
        return self.alignment_.regularization_

    # ------------------------------------------------------------------ embedding

    def embed_captions(self, captions):
        """Captions (str or token lists) -> ``(n, k)`` vectors of the shared space."""
        return self.alignment_.embed_text(self._caption_vectors(captions))

    def embed_images(self, image_features):
        """Raw image features ``(n, d_image)`` -> ``(n, k)`` vectors of the shared space."""
        return self.alignment_.embed_images(self._prepare_images(image_features))

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
        return retrieval_metrics(*self.score_matrices(split, image_features),
                                 split.caption_image)

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
        similarity = cosine_matrix(images, captions)  # (n_images, n_captions)
        caption_penalty, image_penalty = self._penalties(images, captions)
        scoring = self._scoring()
        return (scoring.rescore(similarity, caption_penalty, axis=1),  # penalties of columns
                scoring.rescore(similarity, image_penalty, axis=0))  # penalties of rows

    def _penalties(self, images, captions):
        """``r`` of every caption (from image queries) and every image (from caption
        queries); (None, None) for plain cosine.

        Returns
        -------
        caption_penalty : ndarray of shape (n_captions,) or None
        image_penalty : ndarray of shape (n_images,) or None
        """
        scoring = self._scoring()
        if not scoring.has_penalty:
            return None, None
        if self.reference == "split":
            reference_images, reference_captions = images, captions
        else:
            reference_images, reference_captions = self.reference_images_, self.reference_captions_
        return (scoring.penalty(captions, reference_images),
                scoring.penalty(images, reference_captions))

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
        caption_penalty, image_penalty = self._penalties(images, captions)
        self.gallery_ = Gallery(
            image_paths=[str(path) for path in split.image_paths],
            captions=list(split.captions),
            caption_image=np.asarray(split.caption_image),
            image_vectors=images,
            caption_vectors=captions,
            image_penalty=image_penalty,
            caption_penalty=caption_penalty,
        )
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
        return self.gallery_.top_images(self.alignment_.embed_text(query[None]),  # (1, k)
                                        self._scoring(), k)

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
        return self.gallery_.top_captions(query, self._scoring(), k)

    # ------------------------------------------------------------------ storage

    def save(self, path, word_vectors_path=None):
        """Store the fitted retriever in the folder ``path``, without pickle, atomically.

        ``retriever.json`` holds every constructor parameter and every scalar fitted
        attribute, ``retriever.npz`` every array (:mod:`retrieval.storage`). The word
        vectors are written beside (``word_vectors.npz``), or, with
        ``word_vectors_path``, referenced: that file (a :meth:`KeyedVectors.save`
        ``.npz`` holding these same vectors) is recorded with its sha256, checked on load.

        Parameters
        ----------
        path : str or os.PathLike
            A folder (created if needed).
        word_vectors_path : str or os.PathLike, optional
        """
        folder = Path(path)
        word_vectors = store_word_vectors(folder, self.word_vectors,
                                          word_vectors_path)
        state, arrays = object_state(self, STORED_CLASSES, skip=("word_vectors", "kv"))
        write_folder(folder, STEM, {"format_version": FORMAT_VERSION,
                                    "word_vectors": word_vectors, "retriever": state}, arrays)

    @classmethod
    def load(cls, path):
        """A retriever stored by :meth:`save`, as it was (parameters, fit, gallery).

        Raises
        ------
        FileNotFoundError
            No stored retriever in ``path``, or its referenced word vectors are gone.
        ValueError
            The folder is damaged, of another format version, or its word vectors
            changed since (sha256).
        """
        folder = Path(path)
        document, arrays = read_folder(folder, STEM)
        json_path = folder / f"{STEM}.json"
        if document.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{json_path} has format version"
                             f" {document.get('format_version')!r}, expected {FORMAT_VERSION}")
        kv = load_word_vectors(folder, document.get("word_vectors"), json_path)
        retriever = restore_object(document.get("retriever"), arrays, STORED_CLASSES,
                                   context={"word_vectors": kv, "kv": kv}, path=str(json_path))
        if not isinstance(retriever, cls):
            raise ValueError(f"{json_path} does not hold a {cls.__name__}")
        return retriever


#: The classes a saved retriever is made of (nothing else is created on load).
STORED_CLASSES = {cls.__name__: cls for cls in (
    CrossModalRetriever, SentenceEncoder, Gallery, SharedCCA, RidgeTextToImage,
    RidgeImageToText, RidgeProjection, CCA)}


def _check_rows(split, vectors):
    if len(vectors) != len(split) or len(split.captions) != len(split.caption_image):
        raise ValueError(
            f"split {split.name!r} has {len(split)} images and {len(split.captions)} captions,"
            f" but {len(vectors)} image feature rows were given"
        )



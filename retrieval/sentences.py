"""Sentence vectors from word vectors: mean pooling and SIF (Arora, Liang, Ma 2017).

A sentence ``s`` with known words ``w_1 .. w_m`` (after tokenising with the shared
tokeniser and dropping stop words and words without a vector) becomes

    v_s = (1/m) * sum_j c(w_j) v_{w_j}

with ``c(w) = 1`` for mean pooling and ``c(w) = a / (a + p(w))`` for SIF ("smooth inverse
frequency": frequent words count less), ``p(w)`` the unigram probability of ``w``.
With ``remove_pc``, the projection on the first principal direction ``u`` of the fit
sentences (first right singular vector of their uncentred vectors) is removed:
``v_s <- v_s - (u . v_s) u``; it is mostly common to all sentences.

Because ``v_s`` is a weighted sum of word vectors, a batch of sentences is one sparse
product ``(n_sentences, V) @ (V, d)``.
"""

import warnings
from collections import Counter
from dataclasses import dataclass

import numpy as np
import scipy.sparse
from sklearn.exceptions import NotFittedError

from retrieval.linalg import thin_svd
from w2v_scratch.text import tokenize

POOLINGS = ("mean", "sif")


@dataclass
class EncodingReport:
    """What :meth:`SentenceEncoder.encode` could not use.

    Attributes
    ----------
    n_tokens : int
        Tokens after stop-word removal, over all sentences.
    unknown_words : Counter
        Tokens without a word vector, with how often each was skipped.
    empty : ndarray of shape (n_sentences,), bool
        Sentences without any known word; their vector is all zeros.
    """

    n_tokens: int
    unknown_words: Counter
    empty: np.ndarray

    @property
    def n_unknown(self):
        """Number of skipped (unknown) tokens."""
        return sum(self.unknown_words.values())


class SentenceEncoder:
    """Encode sentences as pooled word vectors (mean or SIF, optional PC removal).

    Parameters
    ----------
    kv : object with ``vectors`` (V, d) and ``key_to_index`` (dict word -> row)
        Word vectors, e.g. :class:`w2v_scratch.keyedvectors.KeyedVectors`. An optional
        ``counts`` (V,) array (training-corpus word counts) gives ``p(w)`` for words that
        never occur in the fit sentences.
    pooling : {"mean", "sif"}
    sif_a : float
        The SIF constant ``a > 0`` in ``a / (a + p(w))``.
    remove_pc : bool
        Remove the first principal component of the fit sentences (either pooling).
    stop_words : collection of str, optional
        Tokens to drop, e.g. :data:`w2v_scratch.text.STOP_WORDS`.

    Attributes
    ----------
    word_prob_ : ndarray of shape (V,)
        ``p(w) = count of w in the fit sentences / their number of tokens`` (stop words
        removed, unknown tokens counted in the total); for a word absent from them,
        ``kv.counts[w] / sum(kv.counts)`` if ``kv`` has counts, else 0 (weight 1).
    components_ : ndarray of shape (1, d) or None
        The unit direction ``u`` removed by ``remove_pc`` (None without it).

    Notes
    -----
    ``fit`` is needed for SIF and for ``remove_pc``; plain mean pooling without PC
    removal encodes without it. Sentences are raw strings (tokenised with
    :func:`w2v_scratch.text.tokenize`) or lists of tokens (used as given, minus stop
    words). Output is float32.
    """

    def __init__(self, kv, pooling="mean", sif_a=1e-3, remove_pc=True, stop_words=None):
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        if not sif_a > 0:
            raise ValueError(f"sif_a must be > 0, got {sif_a!r}")
        self.kv = kv
        self.pooling = pooling
        self.sif_a = sif_a
        self.remove_pc = remove_pc
        self.stop_words = frozenset(stop_words or ())

    def fit(self, sentences):
        """Estimate ``p(w)`` and (with ``remove_pc``) the common direction ``u``.

        Parameters
        ----------
        sentences : sequence of str or of list of str

        Returns
        -------
        self
        """
        word_ids, report = self._lookup(sentences)
        if report.n_tokens == 0:
            raise ValueError("cannot fit on sentences without any token")
        n_words = len(self.kv.vectors)
        counts = np.bincount(np.concatenate(word_ids), minlength=n_words)  # (V,)
        self.word_prob_ = counts / report.n_tokens  # (V,)
        corpus_counts = getattr(self.kv, "counts", None)
        if corpus_counts is not None:
            corpus_prob = np.asarray(corpus_counts, dtype=np.float64) / np.sum(corpus_counts)
            self.word_prob_ = np.where(counts > 0, self.word_prob_, corpus_prob)  # (V,)
        self.components_ = None
        if self.remove_pc:
            pooled = self._pool(word_ids).astype(np.float64)  # (n_sentences, d)
            _, _, Vt = thin_svd(pooled)  # Vt: (r, d)
            self.components_ = Vt[:1]  # (1, d)
        return self

    def encode(self, sentences, return_report=False):
        """Sentence vectors; a sentence without any known word gets the zero vector.

        Parameters
        ----------
        sentences : sequence of str or of list of str
        return_report : bool
            Also return an :class:`EncodingReport`. Without it, empty sentences are
            reported by a ``UserWarning``.

        Returns
        -------
        vectors : ndarray of shape (n_sentences, d), float32
        report : EncodingReport, only with ``return_report=True``
        """
        self._check_fitted()
        word_ids, report = self._lookup(sentences)
        vectors = self._pool(word_ids)  # (n_sentences, d)
        u = getattr(self, "components_", None)  # (1, d); absent for unfitted mean pooling
        if u is not None:
            vectors = vectors - (vectors.astype(np.float64) @ u.T) @ u  # (n_sentences, d)
        vectors = vectors.astype(np.float32)
        if return_report:
            return vectors, report
        if report.empty.any():
            shown = np.flatnonzero(report.empty)[:5].tolist()
            warnings.warn(
                f"{int(report.empty.sum())} of {len(report.empty)} sentences have no known"
                f" word and were encoded as zero vectors (first indices: {shown})",
                UserWarning,
                stacklevel=2,
            )
        return vectors

    def encode_query(self, text):
        """Encode one search query; refuse a query with no known word.

        Parameters
        ----------
        text : str or list of str

        Returns
        -------
        ndarray of shape (d,), float32

        Raises
        ------
        ValueError
            No word of the query has a vector (the message lists the unknown words).
        """
        vectors, report = self.encode([text], return_report=True)
        if report.empty[0]:
            if report.unknown_words:
                raise ValueError(
                    f"no word of the query {text!r} has a word vector; unknown words:"
                    f" {sorted(report.unknown_words)}"
                )
            raise ValueError(f"the query {text!r} has no words (after stop-word removal)")
        return vectors[0]

    def _check_fitted(self):
        if (self.pooling == "sif" or self.remove_pc) and not hasattr(self, "components_"):
            raise NotFittedError(
                f"SentenceEncoder(pooling={self.pooling!r}, remove_pc={self.remove_pc}) needs"
                " fit(sentences) before encode"
            )

    def _tokens(self, sentence):
        if isinstance(sentence, str):
            return tokenize(sentence, stop_words=self.stop_words)
        return [token for token in sentence if token not in self.stop_words]

    def _lookup(self, sentences):
        """Row ids of the known words of every sentence, and what was skipped."""
        if isinstance(sentences, str):
            raise TypeError("sentences must be a sequence of sentences, not one string")
        key_to_index = self.kv.key_to_index
        word_ids, unknown, n_tokens = [], Counter(), 0
        for sentence in sentences:
            tokens = self._tokens(sentence)
            n_tokens += len(tokens)
            unknown.update(token for token in tokens if token not in key_to_index)
            known = [key_to_index[token] for token in tokens if token in key_to_index]
            word_ids.append(np.asarray(known, dtype=np.intp))
        empty = np.array([ids.size == 0 for ids in word_ids], dtype=bool)
        return word_ids, EncodingReport(n_tokens=n_tokens, unknown_words=unknown, empty=empty)

    def _pool(self, word_ids):
        """``v_s = (1/m_s) sum_j c(w_j) v_{w_j}`` for every sentence, as one sparse product."""
        vectors = np.asarray(self.kv.vectors)  # (V, d)
        n_words = vectors.shape[0]
        lengths = np.array([ids.size for ids in word_ids])  # (n_sentences,)
        columns = np.concatenate([np.zeros(0, np.intp), *word_ids])  # (n_known_tokens,)
        rows = np.repeat(np.arange(len(word_ids)), lengths)  # (n_known_tokens,)
        weights = self._word_weight()[columns] / lengths[rows]  # (n_known_tokens,)
        pooling = scipy.sparse.csr_matrix(
            (weights.astype(vectors.dtype), (rows, columns)), shape=(len(word_ids), n_words)
        )  # (n_sentences, V), duplicates summed
        return np.asarray(pooling @ vectors)  # (n_sentences, d)

    def _word_weight(self):
        """``c(w)`` for every word: 1 (mean) or ``a / (a + p(w))`` (SIF)."""
        if self.pooling == "mean":
            return np.ones(len(self.kv.vectors))  # (V,)
        return self.sif_a / (self.sif_a + self.word_prob_)  # (V,)

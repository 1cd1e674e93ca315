"""KeyedVectors: words with one dense vector each, and the questions one asks of them.

A gensim-compatible subset of ``gensim.models.KeyedVectors``: the same names, the
same answers (checked against gensim in ``tests/test_keyedvectors.py``), written
from the definitions.  Words are stored in index order, which by convention is
descending corpus frequency, so "the first N words" means "the N most frequent".

Every similarity is a cosine, computed as a dot product of unit vectors::

    cos(x, y) = x . y / (|x| |y|) = unit(x) . unit(y)

The unit-norm matrix is computed once and cached (a zero vector stays zero, it never
becomes NaN).  Assigning ``kv.vectors`` drops the cache; after editing the array in
place, call ``fill_norms(force=True)``.

The two benchmarks (analogies, word-pair similarity) are computed in
:mod:`w2v_scratch.evaluation` and the ``.npz`` file of ``save``/``load`` is described in
:mod:`w2v_scratch.npz_format`; the methods of the same names here call them.
"""

import difflib
import itertools
import logging

import numpy as np

from w2v_scratch import evaluation
from w2v_scratch.npz_format import read_npz, write_npz
from w2v_scratch.word2vec_format import key_problem, read_word2vec, write_word2vec

logger = logging.getLogger(__name__)

#: Close-match suggestions compare against at most this many words (the most
#: frequent ones sharing the unknown word's first letter), so they stay fast.
_SUGGESTION_POOL = 3000
#: 3CosMul's denominator guard (Levy & Goldberg 2014, the value gensim uses).
_COSMUL_EPSILON = 1e-6


class UnknownKeyError(KeyError):
    """A key that is not in the vocabulary.

    The message names the key and up to three close matches from the vocabulary.
    They are looked up only when the message is shown, so that code which catches
    ``KeyError`` for many unknown words stays fast.
    """

    def __init__(self, key, keyed_vectors):
        super().__init__(key)
        self.key = key
        self._keyed_vectors = keyed_vectors

    def __str__(self):
        matches = self._keyed_vectors.close_matches(self.key)
        hint = f"; close matches: {', '.join(map(repr, matches))}" if matches else ""
        size = len(self._keyed_vectors)
        return f"{self.key!r} is not in the vocabulary of {size} words{hint}"


class KeyedVectors:
    """A vocabulary of V words, each with a d-dimensional float32 vector.

    Parameters
    ----------
    vectors : array_like, shape (V, d)
        One row per word; converted to float32; all values finite.
    index_to_key : list of str
        The V words, unique, non-empty, without whitespace; row i is the vector of
        ``index_to_key[i]``.
    counts : array_like of int, shape (V,), optional
        Corpus count of each word (kept by ``save``/``load``).

    Raises
    ------
    ValueError
        When shapes disagree, a key is invalid or repeated, or a vector is not finite.
    """

    def __init__(self, vectors, index_to_key, counts=None):
        index_to_key = list(index_to_key)
        self.key_to_index = _index_keys(index_to_key)
        self.index_to_key = index_to_key
        self._normed = None
        self.vectors = vectors
        self.counts = None if counts is None else _checked_counts(counts, len(index_to_key))

    # ----------------------------------------------------------------- storage

    @property
    def vectors(self):
        """The (V, d) float32 matrix; row i belongs to ``index_to_key[i]``."""
        return self._vectors

    @vectors.setter
    def vectors(self, vectors):
        self._vectors = _checked_vectors(vectors, self.index_to_key)
        self._normed = None

    @property
    def vector_size(self):
        """d, the number of dimensions."""
        return self._vectors.shape[1]

    def __len__(self):
        return len(self.index_to_key)

    def __contains__(self, key):
        return key in self.key_to_index

    def __repr__(self):
        return f"{type(self).__name__}({len(self)} words, {self.vector_size} dimensions)"

    def get_index(self, key):
        """Row of ``key``; :class:`UnknownKeyError` (a KeyError) if it is not a word."""
        try:
            return self.key_to_index[key]
        except KeyError:
            raise UnknownKeyError(key, self) from None

    def get_vector(self, key, norm=False):
        """A copy of the (d,) vector of ``key``, scaled to unit length if ``norm``."""
        matrix = self.get_normed_vectors() if norm else self._vectors
        return matrix[self.get_index(key)].copy()

    def __getitem__(self, key_or_keys):
        """``kv["word"]`` -> (d,) vector; ``kv[["a", "b"]]`` -> (n, d) matrix."""
        if isinstance(key_or_keys, str):
            return self.get_vector(key_or_keys)
        rows = [self.get_index(key) for key in key_or_keys]
        return self._vectors[rows]  # (n, d)

    def get_vecattr(self, key, attr):
        """A stored per-word attribute; only ``"count"`` exists (when counts were given)."""
        if attr != "count" or self.counts is None:
            raise KeyError(f"no attribute {attr!r} is stored (only 'count', when given)")
        return int(self.counts[self.get_index(key)])

    def fill_norms(self, force=False):
        """Compute the cached unit-norm matrix, again if ``force``.

        Row i becomes ``vectors[i] / |vectors[i]|``; a zero row stays zero.
        """
        if self._normed is None or force:
            norms = np.linalg.norm(self._vectors, axis=1, keepdims=True)  # (V, 1)
            normed = self._vectors / np.where(norms > 0, norms, 1)  # (V, d)
            normed.flags.writeable = False
            self._normed = normed

    def get_normed_vectors(self):
        """The (V, d) matrix of unit-length rows (read-only, cached)."""
        self.fill_norms()
        return self._normed

    def close_matches(self, key, n=3):
        """Up to ``n`` words spelled like ``key`` (difflib ratio >= 0.6), best first.

        Only the most frequent words that share the first letter of ``key`` (case
        ignored) are compared, at most ``_SUGGESTION_POOL`` of them.
        """
        if not isinstance(key, str) or not key:
            return []
        first = key[0].casefold()
        same_start = (word for word in self.index_to_key if word[0].casefold() == first)
        pool = list(itertools.islice(same_start, _SUGGESTION_POOL))
        return difflib.get_close_matches(key, pool, n=n)

    # ------------------------------------------------------------ similarities

    def similarity(self, key_a, key_b):
        """cos(a, b), the cosine similarity of two words."""
        normed = self.get_normed_vectors()
        return float(normed[self.get_index(key_a)] @ normed[self.get_index(key_b)])

    def most_similar(self, positive=None, negative=None, topn=10, restrict_vocab=None):
        """The words closest to the mean of ``positive`` minus ``negative`` (3CosAdd).

        With unit vectors u(w), the query is::

            q = (sum_p u(p) - sum_n u(n)) / (|P| + |N|)

        and words are ranked by cos(x, q).  For an analogy a : b :: c : ?, call
        ``most_similar(positive=[b, c], negative=[a])``: argmax_x cos(x, b - a + c).
        A raw vector among the inputs is added as it is (not normalised), as gensim does.

        Parameters
        ----------
        positive, negative : str, (d,) array, or list of those, optional
            Words (or vectors) that pull towards / push away from the answer.
        topn : int or None
            How many words to return; None returns the cosine of every word.
        restrict_vocab : int, optional
            Search only the first ``restrict_vocab`` words.

        Returns
        -------
        list of (str, float)
            Best first, without the input words; or, if ``topn`` is None, the (V,)
            cosines.
        """
        if topn is not None and topn < 1:
            return []
        positive, negative = _as_list(positive), _as_list(negative)
        if not positive and not negative:
            raise ValueError("cannot compute a mean with no input")
        weighted = [*((item, 1.0) for item in positive), *((item, -1.0) for item in negative)]
        total = sum(self._query_vector(item) * weight for item, weight in weighted)  # (d,)
        query = _unit(total / len(weighted))  # (d,)
        cosines = self.get_normed_vectors()[:restrict_vocab] @ query  # (V,)
        if topn is None:
            return cosines
        return self._best(cosines, topn, self._input_indices(positive + negative))

    def similar_by_vector(self, vector, topn=10, restrict_vocab=None):
        """The words closest to ``vector``: ``most_similar(positive=[vector])``."""
        return self.most_similar(positive=[vector], topn=topn, restrict_vocab=restrict_vocab)

    def most_similar_cosmul(self, positive=None, negative=None, topn=10, restrict_vocab=None):
        """The words that best solve an analogy by multiplication (3CosMul).

        Levy & Goldberg (2014), eq. 4, with cosines shifted to [0, 1] by
        s(x, y) = (1 + cos(x, y)) / 2::

            score(x) = prod_p s(x, p) / (prod_n s(x, n) + 1e-6)

        For a : b :: c : ?, call ``most_similar_cosmul(positive=[b, c], negative=[a])``.
        Raw vectors among the inputs are normalised first (gensim uses them as given).
        Arguments and return value are those of :meth:`most_similar`.
        """
        if topn is not None and topn < 1:
            return []
        positive, negative = _as_list(positive), _as_list(negative)
        if not positive:
            raise ValueError("3CosMul needs at least one positive word")
        normed = self.get_normed_vectors()[:restrict_vocab]  # (V, d)
        positive_sims = (1 + normed @ self._unit_rows(positive).T) / 2  # (V, P)
        negative_sims = (1 + normed @ self._unit_rows(negative).T) / 2  # (V, N)
        scores = positive_sims.prod(axis=1) / (negative_sims.prod(axis=1) + _COSMUL_EPSILON)
        if topn is None:
            return scores
        return self._best(scores, topn, self._input_indices(positive + negative))

    def doesnt_match(self, words):
        """The word farthest from the others: argmin_w cos(w, mean of the unit vectors).

        Unknown words are ignored with a warning, as gensim does.
        """
        known = [word for word in words if word in self]
        if len(known) < len(words):
            logger.warning("ignoring words not in the vocabulary: %s", set(words) - set(known))
        if not known:
            raise ValueError("cannot select a word from an empty list")
        units = self._unit_rows(known)  # (n, d)
        centre = _unit(units.mean(axis=0))  # (d,)
        return known[int(np.argmin(units @ centre))]

    def _query_vector(self, item):
        """Unit vector of a word, or a raw vector as given."""
        if isinstance(item, str):
            return self.get_vector(item, norm=True)
        return np.asarray(item, dtype=np.float32)

    def _unit_rows(self, items):
        """(n, d) unit vectors of words or raw vectors."""
        rows = [_unit(self._query_vector(item)) for item in items]
        return np.array(rows, dtype=np.float32).reshape(len(rows), self.vector_size)

    def _input_indices(self, items):
        """Rows of the words (not the raw vectors) among ``items``."""
        return {self.get_index(item) for item in items if isinstance(item, str)}

    def _best(self, scores, topn, excluded):
        """The ``topn`` best (word, score) pairs, skipping rows in ``excluded``.

        Equal scores are listed in row order (the more frequent word first).
        """
        wanted = min(topn + len(excluded), len(scores))
        if wanted == 0:
            return []
        top = np.argpartition(-scores, wanted - 1)[:wanted]  # (wanted,), unordered
        top = top[np.lexsort((top, -scores[top]))]  # by score, then by row
        best = [(self.index_to_key[i], float(scores[i])) for i in top if i not in excluded]
        return best[:topn]

    # -------------------------------------------------------------- evaluation

    def evaluate_word_analogies(self, path, restrict_vocab=300000, case_insensitive=True):
        """Accuracy on analogy questions ``a b c d`` (a : b :: c : d), as gensim computes it.

        3CosAdd over the first ``restrict_vocab`` words; parameters and return value:
        :func:`w2v_scratch.evaluation.evaluate_word_analogies`.
        """
        return evaluation.evaluate_word_analogies(self, path, restrict_vocab, case_insensitive)

    def evaluate_word_pairs(
        self,
        path,
        delimiter="\t",
        restrict_vocab=300000,
        case_insensitive=True,
        dummy4unknown=False,
    ):
        """Correlation of human similarity scores with cosine similarity, as gensim.

        Pearson's r, Spearman's rho and the out-of-vocabulary percentage; parameters and
        return value: :func:`w2v_scratch.evaluation.evaluate_word_pairs`.
        """
        return evaluation.evaluate_word_pairs(
            self, path, delimiter, restrict_vocab, case_insensitive, dummy4unknown
        )

    # ------------------------------------------------------------------- files

    def save_word2vec_format(self, path, binary=False):
        """Write the word2vec text or binary format (gzip if ``path`` ends in .gz), atomically."""
        write_word2vec(path, self.index_to_key, self._vectors, binary=binary)

    @classmethod
    def load_word2vec_format(cls, path, binary=False, limit=None):
        """Read a word2vec text or binary file (first ``limit`` vectors only, if given).

        See :func:`w2v_scratch.word2vec_format.read_word2vec` for what is checked.
        """
        keys, vectors = read_word2vec(path, binary=binary, limit=limit)
        return cls(vectors, keys)

    def save(self, path):
        """Write one ``.npz`` file (at ``path`` exactly), atomically, without pickle.

        Members: ``format_version`` (int), ``keys`` (the words as one JSON string),
        ``vectors`` (V, d) float32 and, when present, ``counts`` (V,) int64; see
        :mod:`w2v_scratch.npz_format`.
        """
        write_npz(path, self.index_to_key, self._vectors, self.counts)

    @classmethod
    def load(cls, path):
        """Read a file written by :meth:`save`; ValueError naming the file if malformed.

        Nothing is unpickled (object arrays are refused) and no member is read before
        its header is checked against the bytes it holds, so a damaged or hostile file
        cannot make the loader allocate more than the file's own size.
        """
        return read_npz(path, cls)


# ---------------------------------------------------------------------- helpers


def _index_keys(index_to_key):
    """``{key: row}``; ValueError naming the first invalid or repeated key."""
    key_to_index = {}
    for index, key in enumerate(index_to_key):
        problem = key_problem(key)
        if problem:
            raise ValueError(f"index_to_key[{index}]: {problem}")
        if key in key_to_index:
            first = key_to_index[key]
            raise ValueError(f"index_to_key[{index}]: {key!r} repeats index_to_key[{first}]")
        key_to_index[key] = index
    return key_to_index


def _checked_vectors(vectors, index_to_key):
    """``vectors`` as a C-contiguous (V, d) float32 array, checked against the keys."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(index_to_key) or vectors.shape[1] == 0:
        raise ValueError(
            f"vectors must have shape ({len(index_to_key)}, d) with d >= 1, one row per key;"
            f" got {vectors.shape}"
        )
    finite_rows = np.isfinite(vectors).all(axis=1)  # (V,)
    if not finite_rows.all():
        bad = index_to_key[int(np.argmin(finite_rows))]
        raise ValueError(f"the vector of {bad!r} holds NaN or infinity")
    return vectors


def _checked_counts(counts, n_keys):
    """``counts`` as a (V,) int64 array of non-negative values."""
    counts = np.asarray(counts)
    if counts.shape != (n_keys,) or (counts.size and counts.dtype.kind not in "iu"):
        raise ValueError(f"counts must be {n_keys} integers; got {counts.dtype} {counts.shape}")
    if (counts < 0).any():
        raise ValueError("counts must not be negative")
    return counts.astype(np.int64)


def _unit(vector):
    """``vector / |vector|``, or the zero vector unchanged."""
    norm = np.linalg.norm(vector)
    return vector / norm if norm > 0 else vector


def _as_list(items):
    """A single word or (d,) vector becomes a list of one; a (n, d) array, n rows."""
    if items is None:
        return []
    if isinstance(items, str) or (isinstance(items, np.ndarray) and items.ndim == 1):
        return [items]
    return list(items)

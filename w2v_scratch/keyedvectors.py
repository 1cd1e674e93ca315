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
"""

import difflib
import io
import itertools
import json
import logging
import math
import zipfile
import zlib

import numpy as np

from w2v_scratch.word2vec_format import (
    atomic_write,
    key_problem,
    open_binary,
    read_word2vec,
    write_word2vec,
)

logger = logging.getLogger(__name__)

#: Version of the ``.npz`` layout written by :meth:`KeyedVectors.save`.
_FORMAT_VERSION = 1
#: Close-match suggestions compare against at most this many words (the most
#: frequent ones sharing the unknown word's first letter), so they stay fast.
_SUGGESTION_POOL = 3000
#: gensim looks for an analogy's answer among the 5 best candidates only.
_ANALOGY_CANDIDATES = 5
#: Analogy questions are scored in batches whose (batch, vocabulary) score matrix
#: holds about this many float32 values (4M values = 16 MB).
_ANALOGY_BATCH_VALUES = 4_000_000
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

        The file has section lines ``: name`` followed by question lines.  Only the
        first ``restrict_vocab`` words take part; a question with a word outside them
        is skipped.  Each answer is 3CosAdd, argmax_x cos(x, b - a + c) over those
        words except a, b and c; with ``case_insensitive`` all words are compared
        upper-cased, a word standing for its most frequent spelling.

        Returns
        -------
        score : float
            Correct / (correct + incorrect) over all sections (0.0 if none).
        sections : list of dict
            ``{"section": name, "correct": [(a, b, c, d), ...], "incorrect": [...]}``
            for each section, then a "Total accuracy" section with all questions.
        """
        fold = str.upper if case_insensitive else str
        lookup = self._evaluation_lookup(restrict_vocab, fold)
        sections = []
        for name, questions in _read_analogy_sections(path, fold):
            known = [question for question in questions if all(w in lookup for w in question)]
            answers = self._answer_analogies(known, lookup, restrict_vocab, fold)
            section = {"section": name, "correct": [], "incorrect": []}
            for question, answer in zip(known, answers, strict=True):
                section["correct" if answer == question[3] else "incorrect"].append(question)
            sections.append(section)
        total = {
            "section": "Total accuracy",
            "correct": [q for section in sections for q in section["correct"]],
            "incorrect": [q for section in sections for q in section["incorrect"]],
        }
        n_answered = len(total["correct"]) + len(total["incorrect"])
        score = len(total["correct"]) / n_answered if n_answered else 0.0
        return score, [*sections, total]

    def _evaluation_lookup(self, restrict_vocab, fold):
        """Map each folded spelling among the first words to its most frequent row."""
        lookup = {}
        for index, key in enumerate(self.index_to_key[:restrict_vocab]):
            lookup.setdefault(fold(key), index)
        return lookup

    def _answer_analogies(self, questions, lookup, restrict_vocab, fold):
        """The folded 3CosAdd answer to each question (None when there is none).

        As gensim: candidates are ranked by cos(x, b - a + c), the rows of a, b, c are
        skipped, and the answer is the first of the next five candidates whose folded
        spelling is not one of the question's words (another spelling of a question
        word is skipped too).  The query is not normalised: scaling does not change
        which word has the largest cosine.
        """
        normed = self.get_normed_vectors()[:restrict_vocab]  # (R, d)
        abc = np.array([[lookup[word] for word in q[:3]] for q in questions], dtype=np.intp)
        abc = abc.reshape(len(questions), 3)  # (Q, 3)
        batch_size = max(1, _ANALOGY_BATCH_VALUES // max(1, len(normed)))
        answers = []
        for start in range(0, len(questions), batch_size):
            batch = abc[start : start + batch_size]  # (B, 3)
            queries = normed[batch[:, 1]] - normed[batch[:, 0]] + normed[batch[:, 2]]  # (B, d)
            scores = queries @ normed.T  # (B, R)
            rows = np.arange(len(batch))[:, None]  # (B, 1)
            scores[rows, batch] = -np.inf
            words = [set(q[:3]) for q in questions[start : start + batch_size]]
            answers += self._pick_answers(scores, words, fold)
        return answers

    def _pick_answers(self, scores, question_words, fold):
        """Per row of ``scores`` (B, R), the best word not spelled like a question word.

        Looks at most ``_ANALOGY_CANDIDATES`` candidates deep; ``scores`` is consumed.
        """
        answers = [None] * len(scores)
        pending = list(range(len(scores)))
        for _ in range(_ANALOGY_CANDIDATES):
            best = scores.argmax(axis=1)  # (B,)
            still_pending = []
            for row in pending:
                candidate = fold(self.index_to_key[best[row]])
                if candidate in question_words[row]:
                    scores[row, best[row]] = -np.inf
                    still_pending.append(row)
                else:
                    answers[row] = candidate
            pending = still_pending
            if not pending:
                break
        return answers

    def evaluate_word_pairs(
        self,
        path,
        delimiter="\t",
        restrict_vocab=300000,
        case_insensitive=True,
        dummy4unknown=False,
    ):
        """Correlation of human similarity scores with cosine similarity, as gensim.

        Each line is ``word_a<delimiter>word_b<delimiter>score``; lines starting with
        ``#`` and malformed lines are skipped.  A pair with a word outside the first
        ``restrict_vocab`` words is out of vocabulary: skipped, or given similarity 0
        if ``dummy4unknown``.

        Returns
        -------
        pearson : (float, float)
            Pearson's r and its two-sided p-value.
        spearman : (float, float)
            Spearman's rho and its two-sided p-value.
        oov_ratio : float
            Percentage of pairs that were out of vocabulary.
        """
        from scipy import stats  # imported here: only this method needs scipy

        fold = str.upper if case_insensitive else str
        lookup = self._evaluation_lookup(restrict_vocab, fold)
        gold, rows_a, rows_b = [], [], []  # row -1: a pair with an unknown word
        n_pairs = 0
        for word_a, word_b, score in _read_word_pairs(path, delimiter, fold):
            n_pairs += 1
            known = word_a in lookup and word_b in lookup
            if known or dummy4unknown:
                gold.append(score)
                rows_a.append(lookup[word_a] if known else -1)
                rows_b.append(lookup[word_b] if known else -1)
        if not gold:
            raise ValueError(f"{path}: no similarity judgement with both words in the vocabulary")
        normed = self.get_normed_vectors()
        rows_a, rows_b = np.array(rows_a), np.array(rows_b)  # (n,)
        model = np.sum(normed[rows_a] * normed[rows_b], axis=1)  # (n,) cosines
        model[rows_a < 0] = 0.0
        pearson = stats.pearsonr(gold, model)
        spearman = stats.spearmanr(gold, model)
        n_known = int(np.sum(rows_a >= 0))
        return (
            (float(pearson.statistic), float(pearson.pvalue)),
            (float(spearman.statistic), float(spearman.pvalue)),
            100.0 * (n_pairs - n_known) / n_pairs,
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
        ``vectors`` (V, d) float32 and, when present, ``counts`` (V,) int64.
        """
        members = {
            "format_version": np.array(_FORMAT_VERSION),
            "keys": np.array(json.dumps(self.index_to_key, ensure_ascii=False)),
            "vectors": self._vectors,
        }
        if self.counts is not None:
            members["counts"] = self.counts
        with atomic_write(path) as stream:
            np.savez(stream, **members)

    @classmethod
    def load(cls, path):
        """Read a file written by :meth:`save`; ValueError naming the file if malformed.

        Nothing is unpickled (object arrays are refused) and no member is read before
        its header is checked against the bytes it holds, so a damaged or hostile file
        cannot make the loader allocate more than the file's own size.
        """
        with open(path, "rb") as stream:
            try:
                archive = zipfile.ZipFile(stream)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
                raise ValueError(f"{path}: not a KeyedVectors .npz file ({exc})") from None
            with archive:
                try:
                    return cls(**_read_members(archive))
                except _NPZ_ERRORS as exc:
                    raise ValueError(f"{path}: {exc}") from None


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


#: What reading a damaged archive can raise besides ValueError: zipfile's own errors,
#: OSError (a seek outside the file), an unknown compression method, deep JSON.
_NPZ_ERRORS = (
    ValueError,
    KeyError,
    OSError,
    EOFError,
    NotImplementedError,
    RecursionError,
    zipfile.BadZipFile,
    zlib.error,
)


def _read_member(archive, name):
    """The array ``<name>.npy`` of a zip archive, read without pickle.

    ValueError for an object array (it would need pickle), an unknown .npy version,
    or a header announcing more data than the member holds.
    """
    info = archive.getinfo(f"{name}.npy")
    with archive.open(info) as member:  # first pass: the header only
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(member)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(member)
        else:
            raise ValueError(f"member {name}: unsupported .npy version {version}")
    if dtype.hasobject:
        raise ValueError(f"member {name}: Object arrays are refused (they need pickle)")
    claimed = math.prod(shape) * dtype.itemsize
    if claimed > info.file_size:
        raise ValueError(
            f"member {name}: its header announces {claimed} bytes of data but the"
            f" member holds {info.file_size} bytes"
        )
    with archive.open(info) as member:
        return np.lib.format.read_array(member, allow_pickle=False)


def _read_members(archive):
    """Constructor arguments from an opened ``.npz`` zip; ValueError on anything unexpected."""
    names = {name.removesuffix(".npy") for name in archive.namelist() if name.endswith(".npy")}
    missing = {"format_version", "keys", "vectors"} - names
    if missing:
        raise ValueError(f"missing member(s) {sorted(missing)}")
    version = _read_member(archive, "format_version")
    if version.shape != () or version.dtype.kind not in "iu" or version != _FORMAT_VERSION:
        raise ValueError(f"format_version {version!r}; this code reads {_FORMAT_VERSION}")
    keys = _read_member(archive, "keys")
    if keys.shape != () or keys.dtype.kind != "U":
        raise ValueError(f"keys must be one unicode string (JSON); got {keys.dtype} {keys.shape}")
    index_to_key = json.loads(str(keys))
    if not isinstance(index_to_key, list):
        raise ValueError("keys must hold a JSON list of strings")
    vectors = _read_member(archive, "vectors")
    if vectors.dtype != np.float32:
        raise ValueError(f"vectors must be float32; got {vectors.dtype}")
    counts = _read_member(archive, "counts") if "counts" in names else None
    return {"vectors": vectors, "index_to_key": index_to_key, "counts": counts}


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


def _open_utf8(path):
    """Open a (possibly gzipped) UTF-8 text file."""
    return io.TextIOWrapper(open_binary(path), encoding="utf-8")


def _read_analogy_sections(path, fold):
    """``[(name, [(a, b, c, d), ...]), ...]`` from an analogy file, words folded.

    A section starts at a line ``: name``; a line without exactly four words is skipped.
    """
    sections = []
    with _open_utf8(path) as lines:
        for line_no, line in enumerate(lines, start=1):
            if line.startswith(": "):
                sections.append((line.lstrip(": ").strip(), []))
                continue
            if not sections:
                raise ValueError(f"{path}: line {line_no}: a question before any ': section' line")
            words = line.split()
            if len(words) == 4:
                sections[-1][1].append(tuple(fold(word) for word in words))
    return sections


def _read_word_pairs(path, delimiter, fold):
    """Yield ``(word_a, word_b, score)`` from a word-pair file, words folded."""
    with _open_utf8(path) as lines:
        for line in lines:
            if line.startswith("#"):
                continue
            fields = line.split(delimiter)
            if len(fields) != 3:
                continue
            try:
                score = float(fields[2])
            except ValueError:
                continue
            yield fold(fields[0]), fold(fields[1]), score

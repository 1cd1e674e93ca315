"""Word-vector evaluation on the two classic benchmarks, computed as gensim computes it.

Both functions take a :class:`~w2v_scratch.keyedvectors.KeyedVectors` (they use only its
``index_to_key``, most frequent word first, and ``get_normed_vectors()``); the methods
``KeyedVectors.evaluate_word_analogies`` and ``KeyedVectors.evaluate_word_pairs`` call
them.  ``tests/test_evaluation.py`` checks every answer against gensim's.

Only the first R = ``restrict_vocab`` words (the R most frequent) take part.  With
``case_insensitive`` (the default, as gensim) every word is upper-cased before it is
compared, and a folded spelling stands for the row of its most frequent form: "Paris"
and "paris" both become PARIS, with the vector of whichever comes first.

Analogies (Mikolov et al. 2013; Google's ``questions-words.txt``)
-----------------------------------------------------------------
A question ``a b c d`` reads a : b :: c : d ("Athens Greece Baghdad Iraq").  With unit
vectors û(w), the answer is 3CosAdd over the first R words::

    answer = argmax_{x among the first R, x not a, b or c} cos(û(x), û(b) - û(a) + û(c))

and the question is correct when the answer is d.  gensim's further conventions:

- a question with any of its four words outside the first R words is out of vocabulary:
  skipped, neither correct nor incorrect;
- the answer is sought among the 5 best candidates only: a candidate spelled (after
  folding) like a, b or c is passed over, and if all 5 are, the question is incorrect;
- each section of the file (``: capital-common-countries`` ...) is scored on its own,
  then all questions together as "Total accuracy": correct / (correct + incorrect).

Word pairs (WordSim-353, SimLex-999)
------------------------------------
Each line holds two words and a human similarity score.  The model scores a pair by
cos(a, b); the result is how well the two agree: Spearman's rank correlation rho (the
usual headline number: only the order matters) and Pearson's r, each with its
two-sided p-value (scipy).  A pair with a word outside the first R words is out of
vocabulary: skipped, or, with ``dummy4unknown``, kept with a model similarity of 0.
Either way it counts in the out-of-vocabulary percentage that is returned.
"""

import io

import numpy as np

from w2v_scratch.word2vec_format import open_binary

#: gensim looks for an analogy's answer among the 5 best candidates only.
_ANALOGY_CANDIDATES = 5
#: Analogy questions are scored in batches whose (batch, vocabulary) score matrix
#: holds about this many float32 values (4M values = 16 MB).
_ANALOGY_BATCH_VALUES = 4_000_000


def evaluate_word_analogies(kv, path, restrict_vocab=300000, case_insensitive=True):
    """Accuracy on analogy questions ``a b c d`` (a : b :: c : d), as gensim computes it.

    Parameters
    ----------
    kv : KeyedVectors
        The word vectors.
    path : str or Path
        Text file (plain or gzip), with section lines ``: name`` each followed by
        question lines of four words; a line without exactly four words is skipped.
    restrict_vocab : int
        Only the first ``restrict_vocab`` words take part, as questions and as answers.
    case_insensitive : bool
        Compare all words upper-cased, a word standing for its most frequent spelling.

    Returns
    -------
    score : float
        Correct / (correct + incorrect) over all sections (0.0 if none).
    sections : list of dict
        ``{"section": name, "correct": [(a, b, c, d), ...], "incorrect": [...]}``
        for each section, then a "Total accuracy" section with all questions.

    Raises
    ------
    ValueError
        When a question comes before the first section line.
    """
    fold = str.upper if case_insensitive else str
    lookup = _lookup(kv, restrict_vocab, fold)
    sections = []
    for name, questions in _read_analogy_sections(path, fold):
        known = [question for question in questions if all(w in lookup for w in question)]
        answers = _answer_analogies(kv, known, lookup, restrict_vocab, fold)
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


def evaluate_word_pairs(
    kv,
    path,
    delimiter="\t",
    restrict_vocab=300000,
    case_insensitive=True,
    dummy4unknown=False,
):
    """Correlation of human similarity scores with cosine similarity, as gensim.

    Parameters
    ----------
    kv : KeyedVectors
        The word vectors.
    path : str or Path
        Text file (plain or gzip), one ``word_a<delimiter>word_b<delimiter>score`` per
        line; lines starting with ``#`` and malformed lines are skipped.
    delimiter : str
        What separates the three fields.
    restrict_vocab : int
        A pair with a word outside the first ``restrict_vocab`` words is out of
        vocabulary.
    case_insensitive : bool
        Compare all words upper-cased, a word standing for its most frequent spelling.
    dummy4unknown : bool
        Keep out-of-vocabulary pairs with similarity 0 instead of skipping them.

    Returns
    -------
    pearson : (float, float)
        Pearson's r and its two-sided p-value.
    spearman : (float, float)
        Spearman's rho and its two-sided p-value.
    oov_ratio : float
        Percentage of pairs that were out of vocabulary.

    Raises
    ------
    ValueError
        When no pair is left to correlate.
    """
    from scipy import stats  # imported here: only this function needs scipy

    fold = str.upper if case_insensitive else str
    lookup = _lookup(kv, restrict_vocab, fold)
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
    normed = kv.get_normed_vectors()
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


def _lookup(kv, restrict_vocab, fold):
    """Map each folded spelling among the first words to its most frequent row."""
    lookup = {}
    for index, key in enumerate(kv.index_to_key[:restrict_vocab]):
        lookup.setdefault(fold(key), index)
    return lookup


def _answer_analogies(kv, questions, lookup, restrict_vocab, fold):
    """The folded 3CosAdd answer to each question (None when there is none).

    As gensim: candidates are ranked by cos(x, b - a + c), the rows of a, b, c are
    skipped, and the answer is the first of the next five candidates whose folded
    spelling is not one of the question's words (another spelling of a question
    word is skipped too).  The query is not normalised: scaling does not change
    which word has the largest cosine.
    """
    normed = kv.get_normed_vectors()[:restrict_vocab]  # (R, d)
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
        answers += _pick_answers(scores, words, kv.index_to_key, fold)
    return answers


def _pick_answers(scores, question_words, index_to_key, fold):
    """Per row of ``scores`` (B, R), the best word not spelled like a question word.

    Looks at most ``_ANALOGY_CANDIDATES`` candidates deep; ``scores`` is consumed.
    """
    answers = [None] * len(scores)
    pending = list(range(len(scores)))
    for _ in range(_ANALOGY_CANDIDATES):
        best = scores.argmax(axis=1)  # (B,)
        still_pending = []
        for row in pending:
            candidate = fold(index_to_key[best[row]])
            if candidate in question_words[row]:
                scores[row, best[row]] = -np.inf
                still_pending.append(row)
            else:
                answers[row] = candidate
        pending = still_pending
        if not pending:
            break
    return answers


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

"""Analogy and word-pair evaluation: the same scores as gensim on the same vectors.

The independent truth is gensim's ``evaluate_word_analogies`` and ``evaluate_word_pairs``
(gensim is a dev dependency) on a KeyedVectors built from the very same matrix, with
gensim's own copies of Google's analogies, WordSim-353 and SimLex-999.
"""

from pathlib import Path

import numpy as np
import pytest

from w2v_scratch.keyedvectors import KeyedVectors

gensim_models = pytest.importorskip("gensim.models")

GENSIM_DATA = Path(gensim_models.__file__).parent.parent / "test" / "test_data"
ANALOGIES = GENSIM_DATA / "questions-words.txt"
WORD_PAIRS = [GENSIM_DATA / "wordsim353.tsv", GENSIM_DATA / "simlex999.txt"]
SHIPPED_ANALOGIES = Path(__file__).parent.parent / "w2v_scratch" / "data" / "questions-words.txt"
DIM = 24


def _analogy_questions():
    """[(section line, [a, b, c, d]), ...] from questions-words.txt."""
    section, questions = None, []
    for line in ANALOGIES.read_text().splitlines():
        if line.startswith(":"):
            section = line
        else:
            questions.append((section, line.split()))
    return section, questions


def _pair_words():
    words = []
    for path in WORD_PAIRS:
        for line in path.read_text().splitlines():
            if not line.startswith("#"):
                words += line.split("\t")[:2]
    return words


def _planted_vocabulary(seed=0):
    """Keys and vectors in which b - a is roughly one offset per analogy section.

    Words: all analogy and word-pair words, title-case twins of some lower-case
    words placed before them (so case folding picks the twin), lower-case twins of
    some capitalised words, and fillers; shuffled, so that restrict_vocab cuts
    through questions.
    """
    rng = np.random.default_rng(seed)
    _, questions = _analogy_questions()
    words = list(dict.fromkeys([w for _, q in questions for w in q] + _pair_words()))
    lower = [w for w in words if w.islower()]
    capitalised = [w for w in words if not w.islower()]
    twins = [w.title() for w in lower[::7]] + [w.lower() for w in capitalised[::5]]
    fillers = [f"filler{i}" for i in range(300)]
    keys = list(dict.fromkeys(words + twins + fillers))
    order = rng.permutation(len(keys))
    keys = [keys[i] for i in order]
    for twin in twins:  # put each title-case twin just before its lower-case word
        if twin.istitle() and twin.lower() in keys:
            keys.remove(twin)
            keys.insert(keys.index(twin.lower()), twin)
    vector = {key: rng.standard_normal(DIM).astype(np.float32) for key in keys}
    offsets = {}
    for section, (a, b, _, _) in questions:
        offset = offsets.setdefault(section, 2 * rng.standard_normal(DIM).astype(np.float32))
        vector[b] = vector[a] + offset + 1.2 * rng.standard_normal(DIM).astype(np.float32)
    return keys, np.array([vector[key] for key in keys], dtype=np.float32)


@pytest.fixture(scope="module")
def pair():
    """(ours, gensim's) over the same planted vectors."""
    keys, vectors = _planted_vocabulary()
    theirs = gensim_models.KeyedVectors(DIM)
    theirs.add_vectors(keys, vectors)
    return KeyedVectors(vectors, keys), theirs


@pytest.mark.parametrize(
    "options",
    [{}, {"restrict_vocab": 1200}, {"case_insensitive": False}],
    ids=["default", "restricted", "case-sensitive"],
)
def test_word_analogies_match_gensim_section_by_section(pair, options):
    ours, theirs = pair
    our_score, our_sections = ours.evaluate_word_analogies(ANALOGIES, **options)
    their_score, their_sections = theirs.evaluate_word_analogies(str(ANALOGIES), **options)
    assert 0.2 < their_score < 0.8  # the planted structure makes some answers right
    assert our_score == their_score
    assert [s["section"] for s in our_sections] == [s["section"] for s in their_sections]
    for ours_section, theirs_section in zip(our_sections, their_sections, strict=True):
        assert ours_section["correct"] == theirs_section["correct"]
        assert ours_section["incorrect"] == theirs_section["incorrect"]


def test_word_analogies_skip_another_spelling_of_a_question_word(tmp_path):
    """'Paris' folds to PARIS, a question word, so it is skipped like 'paris' itself."""
    keys = ["paris", "france", "rome", "Paris", "italy"]
    vectors = np.array([[1, 0], [0, 1], [1, 0.1], [1, 1.1], [1, 1]], dtype=np.float32)
    path = tmp_path / "q.txt"
    path.write_text(": capitals\nParis France Rome Italy\n")
    theirs = gensim_models.KeyedVectors(2)
    theirs.add_vectors(keys, vectors)
    ours = KeyedVectors(vectors, keys)
    assert ours.evaluate_word_analogies(path) == theirs.evaluate_word_analogies(str(path))
    assert ours.evaluate_word_analogies(path)[0] == 1.0


def test_word_analogies_need_a_section_first(tmp_path, pair):
    path = tmp_path / "q.txt"
    path.write_text("a b c d\n")
    with pytest.raises(ValueError, match="line 1"):
        pair[0].evaluate_word_analogies(path)


def test_shipped_analogy_file_is_googles(pair):
    assert SHIPPED_ANALOGIES.read_bytes() == ANALOGIES.read_bytes()


@pytest.mark.parametrize("path", WORD_PAIRS, ids=lambda path: path.name)
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"restrict_vocab": 800},
        {"restrict_vocab": 800, "dummy4unknown": True},
        {"case_insensitive": False},
    ],
    ids=["default", "restricted", "restricted-dummy", "case-sensitive"],
)
def test_word_pairs_match_gensim(pair, path, options):
    ours, theirs = pair
    (r, r_p), (rho, rho_p), oov = ours.evaluate_word_pairs(path, **options)
    their_pearson, their_spearman, their_oov = theirs.evaluate_word_pairs(str(path), **options)
    assert r == pytest.approx(their_pearson[0], abs=1e-6)
    assert r_p == pytest.approx(their_pearson[1], rel=1e-4, abs=1e-9)
    assert rho == pytest.approx(their_spearman[0], abs=1e-6)
    assert rho_p == pytest.approx(their_spearman[1], rel=1e-4, abs=1e-9)
    assert oov == pytest.approx(their_oov)

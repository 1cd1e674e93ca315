"""Word-vector quality against gensim on the shared corpus, same settings, same run.

Truth: gensim's Word2Vec trained here with identical hyper-parameters. Required: our
analogy accuracy (gensim's questions-words.txt, restrict_vocab=30000) within 5 points.
One epoch of CBOW with negative sampling keeps the test near a minute on two cores.
"""

import pytest

from w2v_scratch import Word2Vec

SETTINGS = dict(vector_size=100, window=5, min_count=5, sg=0, negative=5, sample=1e-3,
                alpha=0.025, min_alpha=0.0001, epochs=1, seed=1, workers=2)


@pytest.mark.slow
def test_analogy_accuracy_matches_gensim(corpus_path):
    gensim_models = pytest.importorskip("gensim.models")
    from gensim.models.word2vec import LineSentence
    from gensim.test.utils import datapath

    questions = datapath("questions-words.txt")
    ours = Word2Vec(**SETTINGS, loss="negative").fit(corpus_path)
    our_score, _ = ours.wv.evaluate_word_analogies(questions, restrict_vocab=30000)

    theirs = gensim_models.Word2Vec(LineSentence(str(corpus_path)), hs=0, **SETTINGS)
    their_score, _ = theirs.wv.evaluate_word_analogies(questions, restrict_vocab=30000)

    print(f"\nanalogy accuracy, CBOW-NS, 1 epoch on {ours.corpus_word_count_:,} tokens: "
          f"w2v_scratch {100 * our_score:.2f} %, gensim {100 * their_score:.2f} %")
    assert len(ours.wv) == len(theirs.wv)
    assert abs(our_score - their_score) <= 0.05

"""Training end to end: the loss goes down in all six modes, runs are reproducible,
bad input is refused with a clear message."""

import gzip
import warnings

import numpy as np
import pytest

from w2v_scratch import TrainingDivergedError, Word2Vec

MODES = [(sg, loss) for sg in (0, 1) for loss in ("softmax", "negative", "hierarchical")]


@pytest.fixture(scope="module")
def small_corpus(corpus_path):
    """The first 40,000 tokens of the shared corpus as 200-token sentences."""
    with gzip.open(corpus_path, "rt", encoding="utf-8") as stream:
        tokens = stream.read(400_000).split()[:40_000]
    return [tokens[i:i + 200] for i in range(0, len(tokens), 200)]


@pytest.mark.parametrize("sg,loss", MODES, ids=[f"{'sg' if s else 'cbow'}-{o}" for s, o in MODES])
def test_loss_decreases_in_every_mode(small_corpus, sg, loss):
    model = Word2Vec(vector_size=32, window=3, min_count=5, sg=sg, loss=loss, epochs=4,
                     seed=3, sample=0, alpha=0.025).fit(small_corpus)
    history = model.loss_history_
    print(f"sg={sg} loss={loss}: V={len(model.wv.index_to_key)} per-epoch loss {history}")
    assert len(history) == 4
    assert all(np.isfinite(history))
    assert history[-1] < 0.995 * history[0], history  # down by at least 0.5 %
    assert all(later < 1.002 * earlier  # no epoch goes up by more than noise (0.2 %)
               for earlier, later in zip(history, history[1:])), history
    assert np.isfinite(model.wv.vectors).all() and np.isfinite(model.syn1_).all()
    if loss == "softmax":  # the first epoch starts at U = 0, i.e. loss log V
        assert history[0] < np.log(len(model.wv.index_to_key))


def test_same_seed_gives_bit_identical_vectors(small_corpus):
    def train(seed):
        return Word2Vec(vector_size=16, min_count=3, sg=1, epochs=2, seed=seed).fit(small_corpus)

    first, second, other = train(5), train(5), train(6)
    assert np.array_equal(first.wv.vectors, second.wv.vectors)
    assert np.array_equal(first.syn1_, second.syn1_)
    assert first.loss_history_ == second.loss_history_
    assert not np.array_equal(first.wv.vectors, other.wv.vectors)


def test_vocabulary_and_learned_attributes(small_corpus):
    model = Word2Vec(vector_size=8, min_count=20, epochs=1, loss="hierarchical").fit(small_corpus)
    counts = {}
    for sentence in small_corpus:
        for word in sentence:
            counts[word] = counts.get(word, 0) + 1
    expected = sorted(((w, c) for w, c in counts.items() if c >= 20), key=lambda x: (-x[1], x[0]))
    assert list(model.vocab_.items()) == expected
    assert model.wv.index_to_key == [w for w, _ in expected]
    assert model.syn1_.shape == (len(expected) - 1, 8)
    assert model.corpus_word_count_ == sum(counts.values())
    assert model.words_per_second_ > 0


def test_callbacks_see_each_epoch_loss(small_corpus):
    seen = []

    class Recorder:
        def on_epoch_end(self, model, epoch, loss):
            seen.append((epoch, loss))

    model = Word2Vec(vector_size=8, epochs=3, callbacks=[Recorder()]).fit(small_corpus)
    assert seen == list(enumerate(model.loss_history_))


def test_two_workers_train_as_well_as_one(small_corpus):
    losses = [Word2Vec(vector_size=16, min_count=3, sg=1, epochs=3, workers=w, seed=2)
              .fit(small_corpus).loss_history_[-1] for w in (1, 2)]
    assert losses[1] == pytest.approx(losses[0], rel=0.03)


@pytest.mark.parametrize("params,message", [
    ({"window": 0}, "window must be an integer >= 1"),
    ({"vector_size": 0}, "vector_size must be an integer >= 1"),
    ({"negative": 0}, "negative .with loss='negative'. must be an integer >= 1"),
    ({"loss": "ns"}, "unknown loss 'ns'"),
    ({"sg": 2}, "sg must be 0"),
    ({"alpha": -1.0}, "need alpha > 0"),
    ({"epochs": 1.5}, "epochs must be an integer"),
])
def test_bad_parameters_are_named(params, message):
    with pytest.raises(ValueError, match=message):
        Word2Vec(**params).fit([["a", "b"]] * 10)


def test_negative_zero_is_fine_without_negative_sampling():
    model = Word2Vec(vector_size=4, min_count=1, negative=0, loss="hierarchical", epochs=1)
    assert model.fit([["a", "b", "c"]] * 5).wv.vectors.shape == (3, 4)


def test_empty_corpus_and_no_frequent_word():
    with pytest.raises(ValueError, match="empty"):
        Word2Vec().fit([])
    with pytest.raises(ValueError, match="min_count=5"):
        Word2Vec().fit([["rare", "words", "only"]])


def test_divergence_stops_with_advice(small_corpus):
    with pytest.raises(TrainingDivergedError, match="smaller alpha"):
        Word2Vec(vector_size=16, sg=1, sample=0, alpha=1e6, min_alpha=1e6,
                 epochs=1).fit(small_corpus)


def test_fine_tuning_keeps_vocabulary_order_and_locked_vectors(small_corpus):
    base = Word2Vec(vector_size=16, min_count=10, epochs=1, seed=1).fit(small_corpus[:100])
    pretrained = base.wv
    extra = [["zebra", "quagga"] * 10] * 3  # new words, absent from the pretrained vectors
    corpus = small_corpus[100:] + extra

    locked = Word2Vec(vector_size=16, min_count=5, epochs=1, pretrained=pretrained,
                      lock_pretrained=True).fit(corpus)
    n_old = len(pretrained)
    assert locked.wv.index_to_key[:n_old] == pretrained.index_to_key
    assert {"zebra", "quagga"} <= set(locked.wv.index_to_key[n_old:])
    assert np.array_equal(locked.wv.vectors[:n_old], pretrained.vectors)
    assert not np.array_equal(locked.wv["zebra"], Word2Vec(
        vector_size=16, min_count=5, epochs=1, pretrained=pretrained,
        lock_pretrained=True, alpha=1e-9, min_alpha=1e-9).fit(corpus).wv["zebra"])

    free = Word2Vec(vector_size=16, min_count=5, epochs=1, pretrained=pretrained).fit(corpus)
    assert free.wv.index_to_key[:n_old] == pretrained.index_to_key
    moved = np.abs(free.wv.vectors[:n_old] - pretrained.vectors).max(axis=1)  # (n_old,)
    in_new_corpus = np.array(list(free.vocab_.values()))[:n_old] > 0
    assert (moved[in_new_corpus] > 0).all() and (moved[~in_new_corpus] == 0).all()


def test_fine_tuning_needs_the_same_dimension(small_corpus):
    pretrained = Word2Vec(vector_size=8, epochs=1).fit(small_corpus[:50]).wv
    with pytest.raises(ValueError, match="vector_size=16 but the pretrained vectors have 8"):
        Word2Vec(vector_size=16, pretrained=pretrained).fit(small_corpus)


@pytest.fixture(scope="module")
def two_topics():
    """2000 sentences of 20 words, each drawn uniformly from one of two disjoint groups of 20
    words: the best possible prediction of a word from its neighbours has loss log 20."""
    rng = np.random.default_rng(0)
    groups = [[f"{g}{i}" for i in range(20)] for g in "ab"]
    return [list(rng.choice(groups[s % 2], 20)) for s in range(2000)]


@pytest.mark.parametrize("sg", [0, 1], ids=["cbow", "sg"])
@pytest.mark.parametrize("loss", ["hierarchical", "softmax"])
def test_two_workers_learn_the_structure_in_hierarchical_and_full_softmax(two_topics, sg, loss):
    """With 1 and 2 workers (4 jobs of 10,000 words per epoch): the final loss reaches
    log 20 within 3 %, the two runs agree within 1 %, and the vectors separate the groups
    (mean cosine within a group minus across groups above 1; about 1.4 to 2 here)."""
    runs = []
    for workers in (1, 2):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # softmax with 2 workers warns
            model = Word2Vec(vector_size=16, window=3, min_count=1, sg=sg, loss=loss, epochs=3,
                             workers=workers, seed=1, sample=0).fit(two_topics)
        unit = model.wv.vectors / np.linalg.norm(model.wv.vectors, axis=1, keepdims=True)
        group = np.array([word[0] for word in model.wv.index_to_key])
        same = group[:, None] == group[None, :]
        cosine = unit @ unit.T  # (V, V)
        separation = cosine[same & ~np.eye(len(group), dtype=bool)].mean() - cosine[~same].mean()
        runs.append(model.loss_history_[-1])
        assert model.loss_history_[-1] == pytest.approx(np.log(20), rel=0.03), workers
        assert separation > 1.0, (workers, separation)
    assert runs[1] == pytest.approx(runs[0], rel=0.01)


def test_full_softmax_with_several_workers_warns_why():
    with pytest.warns(UserWarning, match="every step writes all V output vectors"):
        Word2Vec(vector_size=4, min_count=1, loss="softmax", workers=2, epochs=1).fit(
            [["a", "b", "c"]] * 5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for loss, workers in (("softmax", 1), ("negative", 2), ("hierarchical", 2)):
            Word2Vec(vector_size=4, min_count=1, loss=loss, workers=workers, epochs=1).fit(
                [["a", "b", "c"]] * 5)

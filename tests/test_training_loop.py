"""The training loop (kernels.training_loop) against a plain-Python driver of the same loop.

The driver below re-writes, in Python, what word2vec.c and gensim do per sentence --
subsampling, the shrunk window, the context in window order, the learning-rate schedule,
the noise words, which word is input and which is predicted -- and calls the same jitted
random-number and *step* functions one at a time. The compiled loop must give
bit-identical vectors in all six modes.
"""

import math
from pathlib import Path

import numpy as np
import pytest

from w2v_scratch import kernels as K
from w2v_scratch.kernels.common import next_random, shrunk_window, uniform
from w2v_scratch.kernels.hierarchical import path_buffer
from w2v_scratch.kernels.negative import draw_negatives
from w2v_scratch.vocabulary import huffman_tree, keep_probabilities, noise_table

MODES = [(sg, loss) for sg in (1, 0) for loss in ("softmax", "negative", "hierarchical")]
MODE_IDS = [f"{'sg' if sg else 'cbow'}-{loss}" for sg, loss in MODES]

# A tiny corpus: 3 sentences (one of a single word, which has no context) over V = 8 words,
# with words 0 and 1 frequent enough to be subsampled at sample = 0.05.
SENTENCES = [[0, 1, 2, 0, 3, 1, 0, 4, 5, 0, 1], [6], [1, 0, 7, 2, 0, 1, 3, 0, 5, 1, 0, 4, 0, 6]]
CORPUS = np.concatenate(SENTENCES).astype(np.int32)
BOUNDS = np.cumsum([0] + [len(s) for s in SENTENCES]).astype(np.int64)
V, D, WINDOW, NEGATIVE = 8, 5, 3, 4
ALPHA, MIN_ALPHA = 0.3, 0.01
COUNTS = np.bincount(CORPUS, minlength=V)


def _driver(sg, loss, W_in, W_out, lock, keep, tables, words_before, words_total, seed):
    """The training loop written out in Python; returns (summed loss, predictions, kept)."""
    state = np.full(1, seed, dtype=np.uint64)
    d = W_in.shape[1]
    h, grad_h = np.empty(d, W_in.dtype), np.empty(d, W_in.dtype)
    total, predictions, kept = 0.0, 0, 0
    for s in range(len(BOUNDS) - 1):
        done = words_before + BOUNDS[s]
        lr = ALPHA - (ALPHA - MIN_ALPHA) * min(1.0, done / words_total)
        sentence = []
        for word in CORPUS[BOUNDS[s]:BOUNDS[s + 1]]:  # keep w with probability keep[w]
            if keep[word] >= 1.0 or uniform(state) <= keep[word]:
                sentence.append(word)
        kept += len(sentence)
        for i, center in enumerate(sentence):
            half_width = WINDOW - int(next_random(state)) % WINDOW  # uniform on 1..WINDOW
            context = [sentence[j] for j in range(max(0, i - half_width),
                                                   min(len(sentence), i + half_width + 1))
                       if j != i]
            if not context:
                continue
            context = np.array(context, np.int32)
            if sg and loss == "negative":  # per context word: noise words, then c -> centre
                noise_keep, noise_alias, negative = tables
                for word in context:
                    negatives = np.empty(negative, np.int64)
                    k = draw_negatives(noise_keep, noise_alias, center, negative, state,
                                       negatives)
                    total += K.sg_negative_step(W_in, W_out, lock, word, center, negatives[:k],
                                                lr, h, grad_h, np.empty(negative + 1))
            elif loss == "negative":
                noise_keep, noise_alias, negative, exact = tables
                negatives = np.empty(negative, np.int64)
                k = draw_negatives(noise_keep, noise_alias, center, negative, state, negatives)
                total += K.cbow_negative_step(W_in, W_out, lock, context, center, negatives[:k],
                                              lr, h, grad_h, np.empty(negative + 1), exact)
            elif sg and loss == "softmax":  # the centre's vector predicts every context word
                total += K.sg_softmax_step(W_in, W_out, lock, center, context, lr, h, grad_h,
                                           np.empty(V, W_out.dtype))
            elif loss == "softmax":
                total += K.cbow_softmax_step(W_in, W_out, lock, context, center, lr, h, grad_h,
                                             np.empty(V, W_out.dtype), np.empty(1, np.int32),
                                             tables[0])
            elif sg:  # each context word's vector in turn follows the centre's path
                points, codes, depth = tables
                total += K.sg_hierarchical_step(W_in, W_out, lock, context, points, codes, depth,
                                                center, lr, h, grad_h,
                                                path_buffer(points, codes, W_in))
            else:
                points, codes, depth, exact = tables
                total += K.cbow_hierarchical_step(W_in, W_out, lock, context, points, codes,
                                                  depth, center, lr, h, grad_h, exact)
            predictions += len(context) if sg else 1
    return total, predictions, kept


def _objective(sg, loss):
    """(window step, scratch allocator, tables) as Word2Vec builds them (CBOW: exact rule)."""
    cbow_rule = () if sg else (True,)
    if loss == "negative":
        tables = (*noise_table(COUNTS, 0.75), NEGATIVE)
        return (K.sg_negative_window if sg else K.cbow_negative_window), K.negative_scratch, \
            (*tables, *cbow_rule)
    if loss == "hierarchical":
        return (K.sg_hierarchical_window if sg else K.cbow_hierarchical_window), \
            K.hierarchical_scratch, (*huffman_tree(COUNTS), *cbow_rule)
    return (K.sg_softmax_window if sg else K.cbow_softmax_window), K.softmax_scratch, cbow_rule


def _start(loss, seed=4):
    rng = np.random.default_rng(seed)
    rows = V - 1 if loss == "hierarchical" else V
    return (rng.normal(scale=0.3, size=(V, D)).astype(np.float32),
            rng.normal(scale=0.3, size=(rows, D)).astype(np.float32))


@pytest.mark.parametrize("sg,loss", MODES, ids=MODE_IDS)
def test_the_compiled_loop_is_the_python_driver_bit_for_bit(sg, loss):
    """Second epoch of two (words_before = one epoch), subsampling active, float32."""
    window_step, new_scratch, tables = _objective(sg, loss)
    keep = keep_probabilities(COUNTS, 0.05)
    assert (keep < 1).sum() >= 2  # subsampling has something to do
    lock = np.ones(V, np.float32)
    words_before, words_total, seed = CORPUS.size, 2 * CORPUS.size, 12345
    W_in, W_out = _start(loss)
    W_in_py, W_out_py = W_in.copy(), W_out.copy()

    got = K.train_sentences(window_step, new_scratch, tables, W_in, W_out, lock, CORPUS, BOUNDS,
                            0, len(SENTENCES), keep, WINDOW, ALPHA, MIN_ALPHA, words_before,
                            words_total, seed)
    expected = _driver(sg, loss, W_in_py, W_out_py, lock, keep, tables, words_before,
                       words_total, seed)

    assert got[1:] == expected[1:]  # predictions, kept words
    assert got[0] == pytest.approx(expected[0], rel=1e-12)  # the same terms, grouped by window
    assert not np.array_equal(W_in, _start(loss)[0])  # training happened
    assert np.array_equal(W_in, W_in_py)
    assert np.array_equal(W_out, W_out_py)


_TOY_OBJECTIVE = '''
import numpy as np
from w2v_scratch.kernels.common import kernel
from w2v_scratch.kernels.training_loop import train_sentences


@kernel
def count_window(W_in, W_out, input_lock, center, context, lr, state, tables, scratch):
    return 0.0, context.shape[0]


@kernel
def no_scratch(W_in, W_out, tables):
    return 0


W, words = np.zeros((3, 2)), np.arange(3, dtype=np.int32)
result = train_sentences(count_window, no_scratch, (), W, W, np.ones(3), words, np.array([0, 3]),
                         0, 1, np.ones(3), 1, 0.1, 0.0, 0, 3, 1)
stats = train_sentences.stats
print(result[1], sum(stats.cache_hits.values()), sum(stats.cache_misses.values()))
'''


def test_the_loop_given_a_window_step_is_loaded_from_the_disk_cache(tmp_path):
    """Numba names a dispatcher passed as an argument by a UUID drawn per process unless the
    kernel decorator fixes it (kernels.common._compile): without that, the loop would be
    compiled again in every process and each run would add a copy to the cache."""
    import os
    import subprocess
    import sys

    import w2v_scratch

    (tmp_path / "toy_objective.py").write_text(_TOY_OBJECTIVE)
    here = str(Path(w2v_scratch.__file__).parents[1])  # the w2v_scratch this test imported
    environment = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"),
                   "PYTHONPATH": os.pathsep.join([here, os.environ.get("PYTHONPATH", "")])}

    def run():
        out = subprocess.run([sys.executable, "-c", "import toy_objective"], cwd=tmp_path,
                             env=environment, capture_output=True, text=True, check=True)
        return out.stdout.split()

    assert run() == ["4", "0", "1"]  # window 1 over 3 words: 1 + 2 + 1 context words; compiled
    assert run() == ["4", "1", "0"]  # loaded from the cache
    assert run() == ["4", "1", "0"]


# ------------------------------------------------- the loop's random choices and schedule


def test_subsampling_keeps_a_word_with_its_keep_probability():
    """Word 0 has keep probability 0.2, word 1 has 1: of 10^5 occurrences of word 0, the
    number kept is Binomial(10^5, 0.2) (within 5 sd), and every word 1 is kept."""
    from w2v_scratch.kernels.common import subsample_sentence

    n = 100_000
    corpus = np.tile(np.array([0, 1], np.int32), n)  # 0 1 0 1 ...
    out = np.empty(corpus.size, np.int32)
    kept = subsample_sentence(corpus, 0, corpus.size, np.array([0.2, 1.0]),
                              np.full(1, 9, np.uint64), out)
    words = out[:kept]
    assert np.count_nonzero(words == 1) == n
    assert abs(np.count_nonzero(words == 0) - 0.2 * n) < 5 * math.sqrt(n * 0.2 * 0.8)


@K.common.kernel
def _window_bounds(center, length, window, draws, seed):
    state = np.full(1, seed, np.uint64)
    bounds = np.empty((draws, 2), np.int64)
    for t in range(draws):
        bounds[t] = shrunk_window(center, length, window, state)
    return bounds


def test_the_window_half_width_is_uniform_on_1_to_n_and_cut_at_the_edges():
    """Far from the edges [lo, hi) = [i - b, i + b + 1] with b uniform on 1..5: chi-square
    against its 1 - 10^-6 quantile on 10^5 draws. Near the edges the window is cut."""
    from scipy.stats import chi2

    window, draws = 5, 100_000
    lo, hi = _window_bounds(100, 1000, window, draws, 3).T
    half_width = 100 - lo
    assert np.array_equal(hi - 100 - 1, half_width)  # symmetric
    assert set(half_width.tolist()) == {1, 2, 3, 4, 5}
    observed = np.bincount(half_width, minlength=window + 1)[1:]
    statistic = ((observed - draws / window) ** 2 / (draws / window)).sum()
    assert statistic < chi2.ppf(1 - 1e-6, window - 1), statistic

    lo, hi = _window_bounds(1, 4, window, 1000, 3).T  # a 4-word sentence, centre 1
    assert set(lo.tolist()) == {0}  # b >= 1 always reaches the start
    assert set(hi.tolist()) == {3, 4}  # b = 1 stops at word 2, b >= 2 at the end
    assert abs(np.mean(hi == 3) - 1 / window) < 5 * math.sqrt(0.2 * 0.8 / 1000)


def test_learning_rate_decays_linearly_over_all_words_and_stops_at_min_alpha():
    from w2v_scratch.kernels.common import learning_rate

    assert learning_rate(0.5, 0.1, 0, 1000) == 0.5
    assert learning_rate(0.5, 0.1, 250, 1000) == pytest.approx(0.4, rel=1e-15)
    assert learning_rate(0.5, 0.1, 1000, 1000) == pytest.approx(0.1, rel=1e-15)
    assert learning_rate(0.5, 0.1, 1500, 1000) == pytest.approx(0.1, rel=1e-15)


@K.common.kernel
def _record_learning_rate(W_in, W_out, input_lock, center, context, lr, state, tables, scratch):
    """A window step that only logs its learning rate into tables = (log, count)."""
    log, count = tables
    log[count[0]] = lr
    count[0] += 1
    return 0.0, 1


@K.common.kernel
def _no_scratch(W_in, W_out, tables):
    return 0


def test_the_trainer_gives_each_sentence_the_rate_of_its_position_in_the_whole_run(monkeypatch):
    """Two epochs over 3 sentences of N words in all: sentence s of epoch e (starting at
    word b_s) trains at alpha - (alpha - min_alpha) (e N + b_s) / (2 N), once per word."""
    from w2v_scratch import Word2Vec

    sentences = [["a", "b", "c"], ["b", "a", "c", "a"], ["c", "b"]]
    starts, n_words = [0, 3, 7], 9
    log, count = np.zeros(100), np.zeros(1, np.int64)
    monkeypatch.setattr(Word2Vec, "_objective",
                        lambda self, counts: (_record_learning_rate, _no_scratch, (log, count)))
    Word2Vec(vector_size=4, min_count=1, sample=0, epochs=2, alpha=0.5, min_alpha=0.1,
             progress=False).fit(sentences)
    expected = [0.5 - 0.4 * (epoch * n_words + start) / (2 * n_words)
                for epoch in range(2) for start, s in zip(starts, sentences) for _ in s]
    assert count[0] == 2 * n_words
    assert log[:count[0]] == pytest.approx(expected, rel=1e-12)


def test_noise_draws_skip_the_target_and_keep_the_other_proportions():
    """P_n = (1/2, 1/4, 1/4), target 0: each of 10^5 draws gives 1 or 2, or nothing (half of
    them, Binomial), and 1 and 2 come equally often."""
    from w2v_scratch.kernels.negative import draw_negatives

    keep, alias = noise_table([2, 1, 1], 1.0)
    out = np.empty(100_000, np.int64)
    k = draw_negatives(keep, alias, 0, out.size, np.full(1, 5, np.uint64), out)
    drawn = out[:k]
    assert set(drawn.tolist()) == {1, 2}
    assert abs(k - out.size / 2) < 5 * math.sqrt(out.size / 4)
    assert abs(np.count_nonzero(drawn == 1) - k / 2) < 5 * math.sqrt(k / 4)


# ------------------------------------------------------------- Skip-Gram's pair direction


def _one_window(window_step, new_scratch, tables, rows_out):
    """Centre word 0 with the single context word 1, from W_out = 0 and lr = 1."""
    rng = np.random.default_rng(8)
    W_in, W_out = rng.normal(size=(V, D)), np.zeros((rows_out, D))
    W_in0 = W_in.copy()
    scratch = new_scratch(W_in, W_out, tables)
    window_step(W_in, W_out, np.ones(V), np.int32(0), np.array([1], np.int32), 1.0,
                np.full(1, 1, np.uint64), tables, scratch)
    return W_in0, W_in, W_out


def test_skip_gram_with_negative_sampling_predicts_the_centre_from_the_context_word():
    """With U = 0 every score is 0 and σ = 1/2: the centre's output row u_0 moves by
    +(1/2) v_1 (the context word's vector), the noise word's (always word 7) by -(1/2) v_1,
    and no input vector moves (∂L/∂h = Σ g u = 0)."""
    keep, alias = np.zeros(V), np.full(V, 7, np.int32)  # every slot gives word 7
    W_in0, W_in, W_out = _one_window(K.sg_negative_window, K.negative_scratch,
                                     (keep, alias, 1), V)
    expected = np.zeros((V, D))
    expected[0], expected[7] = 0.5 * W_in0[1], -0.5 * W_in0[1]
    assert np.allclose(W_out, expected, rtol=0, atol=1e-15)
    assert np.array_equal(W_in, W_in0)


def test_skip_gram_with_hierarchical_softmax_follows_the_centre_words_path():
    """U = 0: each node j on word 0's path moves by ((1 - code_j) - 1/2) v_1."""
    points, codes, depth = huffman_tree(COUNTS)
    W_in0, W_in, W_out = _one_window(K.sg_hierarchical_window, K.hierarchical_scratch,
                                     (points, codes, depth), V - 1)
    expected = np.zeros((V - 1, D))
    for j in range(depth[0]):
        expected[points[0, j]] = (0.5 - codes[0, j]) * W_in0[1]
    assert np.allclose(W_out, expected, rtol=0, atol=1e-15)
    assert np.array_equal(W_in, W_in0)


def test_skip_gram_with_the_full_softmax_predicts_the_context_word_from_the_centre():
    """U = 0: p = 1/V everywhere, so u_1 moves by (1 - 1/V) v_0 and every other u_w by
    -(1/V) v_0 (the seed equations: the centre word is the input)."""
    W_in0, W_in, W_out = _one_window(K.sg_softmax_window, K.softmax_scratch, (), V)
    expected = np.outer(np.full(V, -1 / V), W_in0[0])
    expected[1] += W_in0[0]
    assert np.allclose(W_out, expected, rtol=0, atol=1e-15)
    assert np.array_equal(W_in, W_in0)


# --------------------------------------------------------------------- precision and trees


def test_the_float32_softmax_trains_in_float32_and_agrees_with_float64():
    """The loop's scratch z has U's precision (float32 exponentials); a float32 run of the
    loop stays within float32 rounding of the same run in float64."""
    keep = keep_probabilities(COUNTS, 0.05)
    z = K.softmax_scratch(np.zeros((V, D), np.float32), np.zeros((V, D), np.float32), ())[2]
    assert z.dtype == np.float32 and z.shape == (V,)
    for sg in (1, 0):
        window_step, new_scratch, tables = _objective(sg, "softmax")
        runs = []
        for dtype in (np.float32, np.float64):
            W_in, W_out = (W.astype(dtype) for W in _start("softmax"))
            loss = K.train_sentences(window_step, new_scratch, tables, W_in, W_out,
                                     np.ones(V, dtype), CORPUS, BOUNDS, 0, len(SENTENCES), keep,
                                     WINDOW, ALPHA, MIN_ALPHA, 0, CORPUS.size, 7)[0]
            runs.append((loss, W_in, W_out))
        (loss32, *matrices32), (loss64, *matrices64) = runs
        assert loss32 == pytest.approx(loss64, rel=1e-5)
        for got, expected in zip(matrices32, matrices64):
            assert np.abs(got - expected).max() < 1e-5 * np.abs(expected).max()


def test_hierarchical_probabilities_of_all_words_sum_to_one():
    """For any h and node vectors, Σ_w P(w | h) = Σ_w exp(-loss_w) = 1 over huffman_tree's
    paths: at each inner node the two subtrees share σ(x) + σ(-x) = 1. The losses come from
    the kernel's own step with lr = 0."""
    from w2v_scratch.kernels.hierarchical import hierarchical_step

    rng = np.random.default_rng(3)
    counts = rng.integers(1, 500, size=50)
    points, codes, depth = huffman_tree(counts)
    W_nodes = rng.normal(size=(counts.size - 1, D))
    h, grad_h = rng.normal(size=D), np.empty(D)
    losses = [hierarchical_step(W_nodes, h, points, codes, depth, w, 0.0, grad_h)
              for w in range(counts.size)]
    assert np.exp(-np.array(losses)).sum() == pytest.approx(1.0, rel=1e-12)

"""The training loop (kernels.training_loop) against a plain-Python driver of the same loop.

The driver below re-writes, in Python, what word2vec.c and gensim do per sentence --
subsampling, the shrunk window, the context in window order, the learning-rate schedule,
the noise words, which word is input and which is predicted -- and calls the same jitted
random-number and *step* functions one at a time. The compiled loop must give
bit-identical vectors in all six modes.
"""

import numpy as np
import pytest

from w2v_scratch import kernels as K
from w2v_scratch.kernels.common import next_random, uniform
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

    (tmp_path / "toy_objective.py").write_text(_TOY_OBJECTIVE)
    environment = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}

    def run():
        out = subprocess.run([sys.executable, "-c", "import toy_objective"], cwd=tmp_path,
                             env=environment, capture_output=True, text=True, check=True)
        return out.stdout.split()

    assert run() == ["4", "0", "1"]  # window 1 over 3 words: 1 + 2 + 1 context words; compiled
    assert run() == ["4", "1", "0"]  # loaded from the cache
    assert run() == ["4", "1", "0"]

"""One kernel step equals one SGD step of the NumPy reference: θ <- θ - lr ∂L/∂θ (Skip-Gram
with hierarchical softmax: one step per pair of a centre word's window, in turn).

The kernels are compiled for whatever dtype they get. In float64 they must agree with
the reference to 1e-12 (relative to the largest entry; only the order of float
operations differs). In float32 -- the precision used for training -- to 1e-5.
"""

import json
import math
import os
import re
from pathlib import Path

import numpy as np
import pytest
from numba import njit

from w2v_scratch import kernels as K
from w2v_scratch import reference as ref
from w2v_scratch.kernels.common import prefetch_rows
from w2v_scratch.kernels.hierarchical import path_buffer

V, D, LR = 11, 6, 0.3
LOCK = np.ones(V, dtype=np.float32)  # every input row trains


def _i32(values):
    return np.asarray(values, dtype=np.int32)


def _pair_by_pair(pair_objective):
    """The reference's SGD steps for one centre word's context words, one pair after the
    other, as one objective: (summed loss, {matrix: (start - end) / LR})."""
    def objective(W_in, W_out, context, *path):
        W_in_end, W_out_end, total = W_in.copy(), W_out.copy(), 0.0
        for word in context:
            loss, grads = pair_objective(W_in_end, W_out_end, word, *path)
            W_in_end -= LR * grads["W_in"]
            W_out_end -= LR * grads["W_out"]
            total += loss
        return total, {"W_in": (W_in - W_in_end) / LR, "W_out": (W_out - W_out_end) / LR}
    return objective


def _run(kind, W_in, W_out, exact):
    """Apply one kernel step of ``kind`` in place; return (loss, reference call)."""
    dt, d = W_in.dtype, W_in.shape[1]
    h, grad_h = np.empty(d, dt), np.empty(d, dt)
    if kind == "sg_softmax":
        contexts = _i32([1, 5, 5, 8])
        loss = K.sg_softmax_step(W_in, W_out, LOCK, 3, contexts, LR, h, grad_h, np.empty(V, dt))
        return loss, (ref.sg_softmax, (3, contexts))
    if kind == "cbow_softmax":
        context = _i32([0, 2, 2, 7])
        loss = K.cbow_softmax_step(W_in, W_out, LOCK, context, 4, LR, h, grad_h, np.empty(V, dt),
                                   np.empty(1, np.int32), exact)
        return loss, (ref.cbow_softmax, (context, 4))
    if kind == "sg_negative":
        negatives = np.array([1, 2, 2, 8])  # a repeated noise word on purpose
        loss = K.sg_negative_step(W_in, W_out, LOCK, 3, 6, negatives, LR, h, grad_h, np.empty(5))
        return loss, (ref.sg_negative, (3, 6, negatives))
    if kind == "cbow_negative":
        context, negatives = _i32([0, 2, 2, 7]), np.array([1, 3, 3])
        loss = K.cbow_negative_step(W_in, W_out, LOCK, context, 4, negatives, LR, h, grad_h,
                                    np.empty(4), exact)
        return loss, (ref.cbow_negative, (context, 4, negatives))
    if kind == "sg_hierarchical":  # one centre word (0), its context words in turn, one repeated
        points, codes = _i32([[9, 5, 2, 0]]), np.array([[1, 0, 1, 1]], np.uint8)  # word 0's path
        context = _i32([3, 1, 3, 7])
        loss = K.sg_hierarchical_step(W_in, W_out, LOCK, context, points, codes, _i32([4]), 0, LR,
                                      h, grad_h, path_buffer(points, codes, W_in))
        return loss, (_pair_by_pair(ref.sg_hierarchical), (context, points[0], codes[0]))
    # word 1's path is the second row, 3 nodes deep (the rest of the row is padding)
    context = _i32([0, 2, 2, 7])
    points, codes = _i32([[0, 0, 0], [9, 4, 1]]), np.array([[0, 0, 0], [0, 0, 1]], np.uint8)
    loss = K.cbow_hierarchical_step(W_in, W_out, LOCK, context, points, codes, _i32([0, 3]), 1,
                                    LR, h, grad_h, exact)
    return loss, (ref.cbow_hierarchical, (context, points[1], codes[1]))


KINDS = ["sg_softmax", "cbow_softmax", "sg_negative", "cbow_negative", "sg_hierarchical",
         "cbow_hierarchical"]


# CBOW also runs with word2vec.c's rule (exact=False); Skip-Gram has only one rule.
CASES = [(kind, True) for kind in KINDS] + [(k, False) for k in KINDS if k.startswith("cbow")]


@pytest.mark.parametrize("kind,exact", CASES,
                         ids=[f"{k}-{'exact' if e else 'word2vec_rule'}" for k, e in CASES])
@pytest.mark.parametrize("dtype,tolerance", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_one_kernel_step_is_one_reference_sgd_step(kind, exact, dtype, tolerance):
    """CBOW's word2vec rule is the exact step with the input learning rate times C = 4."""
    rng = np.random.default_rng(7)
    rows_out = V - 1 if "hierarchical" in kind else V
    W_in0 = rng.normal(scale=0.5, size=(V, D))
    W_out0 = rng.normal(scale=0.5, size=(rows_out, D))
    W_in, W_out = W_in0.astype(dtype), W_out0.astype(dtype)

    loss, (objective, args) = _run(kind, W_in, W_out, exact)
    expected_loss, grads = objective(W_in0, W_out0, *args)
    assert loss == pytest.approx(expected_loss, rel=tolerance)
    input_lr = LR if exact else LR * 4  # every CBOW case here has C = 4 context words
    for got, start, step in ((W_in, W_in0, input_lr * grads["W_in"]),
                             (W_out, W_out0, LR * grads["W_out"])):
        expected = start - step
        assert np.abs(got - start).max() > 1e-3, "the step moved nothing"
        error = np.abs(got - expected).max() / np.abs(expected).max()
        assert error < tolerance, f"{kind}: relative error {error:.2e}"


def test_a_locked_input_row_does_not_move_but_the_outputs_do():
    """input_lock = 0 freezes v_center (fine-tuning with locked vectors); U still learns."""
    rng = np.random.default_rng(1)
    W_in0, W_out0 = rng.normal(size=(V, D)), rng.normal(size=(V, D))
    W_in, W_out = W_in0.copy(), W_out0.copy()
    lock = np.ones(V)
    lock[3] = 0.0
    K.sg_negative_step(W_in, W_out, lock, 3, 6, np.array([1, 2]), LR, np.empty(D), np.empty(D),
                       np.empty(3))
    _, grads = ref.sg_negative(W_in0, W_out0, 3, 6, [1, 2])
    assert np.array_equal(W_in, W_in0)
    assert np.allclose(W_out, W_out0 - LR * grads["W_out"], rtol=0, atol=1e-12)
    context = _i32([3, 5])  # row 3 frozen, row 5 trains
    K.cbow_negative_step(W_in, W_out, lock, context, 4, np.array([1]), LR, np.empty(D),
                         np.empty(D), np.empty(2), True)
    assert np.array_equal(W_in[3], W_in0[3]) and not np.array_equal(W_in[5], W_in0[5])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("score", [-700.0, -120.0, -30.0, -0.5, 0.0, 2.0, 120.0])
def test_label_probability_and_gradient_match_the_logistic_function(dtype, score):
    """P(label | x) and σ(x) - label against math.exp in float64, far into the tails: a float32
    score beyond 103 (where expf underflows) must still give P > 0 and a finite log."""
    from numba import njit

    from w2v_scratch.kernels.common import label_probability_and_gradient

    probability_and_gradient = njit(lambda x, label: label_probability_and_gradient(x, label))
    x = float(dtype(score))
    sigma = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
    for label, truth in ((1.0, sigma), (0.0, 1.0 - sigma if x < 0 else 1.0 / (1.0 + math.exp(x)))):
        p, g = probability_and_gradient(dtype(score), label)
        assert p > 0.0 and math.isfinite(math.log(p))
        assert p == pytest.approx(truth, rel=1e-6)
        assert g == pytest.approx(sigma - label, rel=1e-6, abs=1e-12)


def test_the_path_copy_adds_its_change_to_what_the_shared_rows_hold_now():
    """Skip-Gram HS trains a copy of the centre's path; another thread may write the shared rows
    meanwhile, and the copy's change must be added to those writes, not overwrite them."""
    from w2v_scratch.kernels.hierarchical import add_path_change, copy_path

    rng = np.random.default_rng(5)
    W_nodes = rng.normal(size=(V - 1, D))
    points, codes, depth = _i32([[0, 0, 0], [9, 4, 1]]), np.array([[0, 0, 0], [0, 1, 1]],
                                                                   np.uint8), _i32([0, 3])
    path = path_buffer(points, codes, W_nodes)
    copy_path(W_nodes, points, codes, depth, 1, *path)
    rows, _, ids, path_codes, path_depth = path
    assert np.array_equal(rows[:3], W_nodes[[9, 4, 1]])
    assert ids[0, :3].tolist() == [0, 1, 2] and path_codes[0, :3].tolist() == [0, 1, 1]
    assert path_depth[0] == 3
    our_change = rng.normal(size=(3, D))
    rows[:3] += our_change
    other_thread = rng.normal(size=W_nodes.shape)
    expected = W_nodes + other_thread
    expected[[9, 4, 1]] += our_change
    W_nodes += other_thread
    add_path_change(W_nodes, points, 1, *path)
    assert np.allclose(W_nodes, expected, rtol=0, atol=1e-12)


@njit
def _prefetch(W, rows):
    prefetch_rows(W, rows)


@pytest.mark.parametrize("dtype, d", [(np.float32, 100), (np.float64, 17), (np.float32, 1)])
def test_prefetching_rows_asks_to_write_them_and_changes_no_value(dtype, d):
    """The steps prefetch their rows before reading them (kernels.common): the compiled code
    must hold write prefetches (llvm.prefetch with rw=1) and leave every value as it was,
    for any width, precision and row, the last one included."""
    W = np.random.default_rng(6).normal(size=(5, d)).astype(dtype)
    before = W.copy()
    _prefetch(W, _i32([0, 4, 2, 4]))
    assert np.array_equal(W, before)
    flags = re.findall(r"@llvm\.prefetch[\w.]*\([^,]+, i32 (\d+), i32 (\d+), i32 (\d+)\)",
                       _prefetch.inspect_llvm(_prefetch.signatures[-1]))
    assert flags and set(flags) == {("1", "3", "1")}  # write, keep in every cache, data


_DRAW = """
import numpy as np
from kernels.negative import draw_negatives
out = np.empty(6, np.int64)
k = draw_negatives(np.full(5, 0.5), np.arange(5, dtype=np.int32)[::-1].copy(), -1, 6,
                   np.full(1, 7, np.uint64), out)
print(out[:k].tolist())
"""


def test_editing_an_inlined_helper_recompiles_the_kernels_that_use_it(tmp_path):
    """Numba's disk cache checks only the file defining a function; draw_negatives
    (negative.py) inlines next_random() from common.py, so after common.py changes it must
    not be loaded from the old cache (kernels.common.CACHE_DIR)."""
    import shutil
    import subprocess
    import sys

    import w2v_scratch.kernels

    shutil.copytree(Path(w2v_scratch.kernels.__file__).parent, tmp_path / "kernels",
                    ignore=shutil.ignore_patterns("__pycache__"))
    environment = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}

    def draws():
        run = subprocess.run([sys.executable, "-c", _DRAW], cwd=tmp_path, env=environment,
                             capture_output=True, text=True, check=True)
        return json.loads(run.stdout)

    first = draws()
    assert len(first) == 6 and set(first) != {0}  # a random mix of the 5 words
    assert draws() == first  # the same code: loaded from the cache, same stream
    common = tmp_path / "kernels" / "common.py"
    source = common.read_text()
    random_bits = "return (state[0] >> np.uint64(16)) & np.uint64(0xFFFFFFFF)"
    assert random_bits in source
    common.write_text(source.replace(random_bits, "return np.uint64(0)"))
    # r1 = r2 = 0 always: slot 0, coin 0 < keep 0.5, so word 0 every time
    assert draws() == [0] * 6


# ------------------------------------------------------------------------ the noise draw


def _draw_many(keep, alias, target, draws, seed, chunk=1_000_000):
    """``draws`` calls of draw_negatives' loop, in chunks; returns the words drawn."""
    from w2v_scratch.kernels.negative import draw_negatives

    state, out, words = np.full(1, seed, np.uint64), np.empty(chunk, np.int64), []
    for start in range(0, draws, chunk):
        k = draw_negatives(keep, alias, target, min(chunk, draws - start), state, out)
        words.append(out[:k].copy())
    return np.concatenate(words)


def test_noise_draws_follow_the_unigram_power_distribution():
    """Chi-square goodness of fit of 10^6 draws to P_n(w) ∝ count(w)^0.75 over a Zipf
    vocabulary of 60 words: the statistic must stay below its 1 - 10^-6 quantile."""
    from scipy.stats import chi2

    from w2v_scratch.vocabulary import noise_table

    counts = (10_000 / np.arange(1, 61)).astype(np.int64)  # Zipf
    expected = counts ** 0.75 / (counts ** 0.75).sum()
    words = _draw_many(*noise_table(counts, 0.75), -1, 1_000_000, seed=11)
    observed = np.bincount(words, minlength=counts.size)
    statistic = ((observed - words.size * expected) ** 2 / (words.size * expected)).sum()
    assert words.size == 1_000_000
    assert statistic < chi2.ppf(1 - 1e-6, counts.size - 1), statistic


def test_the_alias_coin_has_its_own_32_bits():
    """V = 2^16 slots that each keep their own word with probability 10^-6, else give word 0.

    Were the coin the fraction of one uniform u·V (slot = its integer part), it would have
    only 32 - 16 = 16 bits, the same grid in every slot: P(fraction < 10^-6) = 2^-16, 15 times
    too often. 5·10^7 draws expect 50 words other than 0 (Poisson, within 5 sd); the one-number
    scheme gives about 763."""
    vocabulary_size, p = 2 ** 16, 1e-6
    keep = np.full(vocabulary_size, p)
    keep[0] = 1.0
    alias = np.zeros(vocabulary_size, np.int32)
    words = _draw_many(keep, alias, -1, 50_000_000, seed=2)
    expected = words.size * p * (vocabulary_size - 1) / vocabulary_size
    assert abs(np.count_nonzero(words) - expected) < 5 * math.sqrt(expected)

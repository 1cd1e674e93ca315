"""Pieces shared by every training kernel: vector arithmetic, the random stream,
subsampling, window shrinking and the learning-rate schedule.

fastmath choice
---------------
Kernels are compiled with ``fastmath={"reassoc", "contract"}`` and nothing more.
``reassoc`` lets LLVM reorder the sum in a dot product so it can use SIMD lanes
(without it a float reduction stays scalar, about 4x slower at d=100); ``contract``
allows fused multiply-add. We do *not* allow ``nnan``/``ninf``: the trainer relies on
NaN and inf propagating so that a diverging run is detected and reported, and LLVM
may delete ``isfinite`` checks under those flags. Results stay deterministic for a
given machine and seed, but may differ in the last bits from a build without these flags.
"""

import math

import numpy as np
from numba import njit

FASTMATH = {"reassoc", "contract"}


def kernel(func):
    """Compile ``func`` as a training kernel: nopython, releases the GIL, cached on disk."""
    return njit(nogil=True, cache=True, fastmath=FASTMATH)(func)


# ------------------------------------------------------------------------- vector arithmetic


@kernel
def dot(a, b):
    """a·b for two (d,) vectors, accumulated in their own precision (d >= 1)."""
    acc = a[0] * b[0]
    for k in range(1, a.shape[0]):
        acc += a[k] * b[k]
    return acc


@kernel
def axpy(scale, x, y):
    """y += scale * x, in place, for (d,) vectors (``scale`` is cast to y's precision)."""
    scale = y.dtype.type(scale)
    for k in range(y.shape[0]):
        y[k] += scale * x[k]


@kernel
def sigmoid_and_softplus(x):
    """Return (σ(x), log(1 + e^{x})) with one exponential and no overflow.

    log(1 + e^{x}) = -log σ(-x) is the loss of pushing a score x towards label 0,
    and log(1 + e^{x}) - x = -log σ(x) the loss of pushing it towards label 1.
    """
    if x >= 0.0:
        e = math.exp(-x)  # in (0, 1]
        return 1.0 / (1.0 + e), x + math.log1p(e)
    e = math.exp(x)  # in (0, 1)
    return e / (1.0 + e), math.log1p(e)


@kernel
def logistic_loss_and_gradient(score, label):
    """Binary logistic loss of one score and its derivative.

    L = -log σ(score) if label == 1 else -log σ(-score)
    ∂L/∂score = σ(score) - label
    """
    p, softplus = sigmoid_and_softplus(score)
    if label == 1.0:
        return softplus - score, p - 1.0
    return softplus, p


# ---------------------------------------------------------------------------- random stream


@kernel
def next_random(state):
    """Advance word2vec.c's linear congruential generator and return 32 fresh bits.

    state <- state * 25214903917 + 11 (mod 2^64); the high bits are the good ones.
    ``state`` is a (1,) uint64 array so that callees can advance it.
    """
    state[0] = state[0] * np.uint64(25214903917) + np.uint64(11)
    return (state[0] >> np.uint64(16)) & np.uint64(0xFFFFFFFF)


@kernel
def uniform(state):
    """A float in [0, 1) with 32 random bits."""
    return next_random(state) * (1.0 / 4294967296.0)


# ----------------------------------------------------------------- sentences and windows


@kernel
def subsample_sentence(corpus, start, end, keep_probability, state, out):
    """Copy corpus[start:end] into ``out``, dropping frequent words at random.

    Word w is kept with probability keep_probability[w] (Mikolov et al. 2013, as in
    word2vec.c: (sqrt(f/t) + 1) t/f for frequency f and threshold t, capped at 1).
    Windows are then taken over the kept words, as in word2vec.c and gensim.
    Returns the number of kept words.
    """
    n = 0
    for position in range(start, end):
        word = corpus[position]
        keep = keep_probability[word]
        if keep < 1.0 and keep < uniform(state):
            continue
        out[n] = word
        n += 1
    return n


@kernel
def shrunk_window(center, length, window, state):
    """Bounds [lo, hi) of the context of ``center`` in a sentence of ``length`` words.

    The half-width is drawn uniformly from 1..window (word2vec.c's ``b``), which weights
    near words more than far ones; the window is cut at the sentence edges.
    """
    half_width = window - np.int64(next_random(state) % np.uint64(window))
    return max(0, center - half_width), min(length, center + half_width + 1)


@kernel
def gather_context(sentence, center, lo, hi, out):
    """Copy the words of sentence[lo:hi] other than ``center`` into ``out``; return their count."""
    c = 0
    for j in range(lo, hi):
        if j != center:
            out[c] = sentence[j]
            c += 1
    return c


@kernel
def mean_of_rows(W, rows, out):
    """out = (1/C) Σ_c W[rows[c]]: the CBOW hidden vector h."""
    out[:] = 0.0
    for c in range(rows.shape[0]):
        axpy(1.0, W[rows[c]], out)
    inverse_count = 1.0 / rows.shape[0]
    for k in range(out.shape[0]):
        out[k] *= inverse_count


@kernel
def spread_to_rows(W, lock, rows, grad_h, lr, exact_mean_gradient):
    """Move each context vector against ∂L/∂h.

    exact_mean_gradient=True:  v_c -= lr (1/C) ∂L/∂h, the true gradient of the mean h.
    exact_mean_gradient=False: v_c -= lr ∂L/∂h, word2vec.c's and gensim's rule, i.e. the
    true gradient with the input vectors' learning rate multiplied by C.
    Each update is scaled by ``lock[row]`` (1 trains the row, 0 freezes it).
    """
    scale = -lr / rows.shape[0] if exact_mean_gradient else -lr
    for c in range(rows.shape[0]):
        axpy(scale * lock[rows[c]], grad_h, W[rows[c]])


@kernel
def learning_rate(alpha, min_alpha, words_done, words_total):
    """Linear decay from ``alpha`` to ``min_alpha`` over all epochs' words."""
    progress = min(1.0, words_done / words_total)
    return alpha - (alpha - min_alpha) * progress

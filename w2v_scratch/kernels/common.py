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

disk cache
----------
Numba's disk cache checks only the source file that defines a function, so a kernel
that inlines a helper from this file would go on running its old machine code after
the helper changed. Every kernel is therefore cached in a folder named by a hash of
all the files of this package (:data:`CACHE_DIR`): any edit starts a fresh cache.
"""

import hashlib
import math
import os
from pathlib import Path

import numpy as np
from llvmlite import ir
from numba import config, njit, types
from numba.core import cgutils
from numba.extending import intrinsic

FASTMATH = {"reassoc", "contract"}


def _cache_dir_of_these_sources():
    """``kernels-<hash of every .py file of this package>``, inside ``NUMBA_CACHE_DIR`` if
    the user set one, else inside this package's ``__pycache__`` (when that is not
    writable, Numba falls back to its per-user cache)."""
    package = Path(__file__).parent
    digest = hashlib.sha256()
    for source in sorted(package.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return os.path.join(config.CACHE_DIR or package / "__pycache__",
                        "kernels-" + digest.hexdigest()[:16])


CACHE_DIR = _cache_dir_of_these_sources()


def _compile(func, **options):
    """njit(nogil, cache, fastmath=FASTMATH) with the disk cache in :data:`CACHE_DIR`
    (Numba picks a function's cache folder when it is decorated).

    The training loop takes the window step of an objective as an argument, and Numba
    files that compilation under the argument's dispatcher, which it names by a random
    UUID drawn in each process: the cached loop would never be found again, and each run
    would add a copy to the cache (numba issue #6264). Naming each kernel's dispatcher by
    its module and name instead makes the key the same in every process.
    """
    user_cache_dir, config.CACHE_DIR = config.CACHE_DIR, CACHE_DIR
    try:
        dispatcher = njit(nogil=True, cache=True, fastmath=FASTMATH, **options)(func)
    finally:
        config.CACHE_DIR = user_cache_dir
    dispatcher._set_uuid(f"{func.__module__}.{func.__qualname__}")
    return dispatcher


def kernel(func):
    """Compile ``func`` as a training kernel: nopython, releases the GIL, cached on disk."""
    return _compile(func)


def borrowing_kernel(func):
    """Like :func:`kernel`, without Numba's reference counting (``_nrt=False``), for a
    function that allocates no array and returns none, so that every array it touches is
    borrowed from a caller who keeps it alive. The objectives' window steps are such
    functions: each unpacks its tables and buffers from tuples and slices a few of them,
    and with counting on, every one of those arrays costs an atomic increment and decrement
    per centre word. (Measured on 1M tokens, alternating in one process, against the six
    separate loops of before: CBOW-NS 0.93x the time, SG-NS 0.86x; with counting, 1.09x and
    1.0x.) Numba refuses to compile such a function if it allocates.
    """
    return _compile(func, _nrt=False)


def inlined(func):
    """Like :func:`kernel`, and inlined into its callers by Numba itself: for the small
    functions called once per row or per random number, where a call costs as much as
    the work (LLVM does not inline across Numba's separately compiled functions)."""
    return _compile(func, inline="always")


# ------------------------------------------------------------------------- vector arithmetic


# Rows of the weight matrices are always addressed as (matrix, row index), never sliced
# out as W[i]: in Numba a slice is a view whose creation and release update the parent
# array's reference count atomically, and two training threads would fight over that
# counter for every row they touch.


@inlined
def row_dot(W, i, x):
    """W[i]·x for a (d,) vector x (d >= 1), accumulated in W's precision."""
    acc = W[i, 0] * x[0]
    for k in range(1, x.shape[0]):
        acc += W[i, k] * x[k]
    return acc


@inlined
def add_row_to(scale, W, i, y):
    """y += scale W[i], in place (``scale`` is cast to y's precision)."""
    scale = y.dtype.type(scale)
    for k in range(y.shape[0]):
        y[k] += scale * W[i, k]


@inlined
def add_to_row(scale, x, W, i):
    """W[i] += scale x, in place (``scale`` is cast to W's precision)."""
    scale = W.dtype.type(scale)
    for k in range(x.shape[0]):
        W[i, k] += scale * x[k]


@inlined
def backpropagate_row(g, lr, W, i, h, grad_h):
    """For a score W[i]·h with ∂L/∂score = g, in one pass over the row:

    grad_h += g W[i]      (∂L/∂h, with the row before its update)
    W[i]   -= lr g h      (the SGD step of ∂L/∂W[i] = g h)
    """
    g_ = W.dtype.type(g)
    step = W.dtype.type(-lr * g)
    for k in range(h.shape[0]):
        grad_h[k] += g_ * W[i, k]
        W[i, k] += step * h[k]


@inlined
def copy_row(W, i, out):
    """out = W[i]."""
    for k in range(out.shape[0]):
        out[k] = W[i, k]


# Rows are read at random from matrices far larger than the L2 cache (V x d float32 is
# 28 MB for 71k words), so nearly every row a step touches is a cache miss, and an
# update cannot start before its row has arrived. A step therefore first asks for all
# of its rows, so that their misses overlap instead of following one another; and it
# asks for them *for writing* (x86 PREFETCHW), so that a row another thread wrote last
# arrives ready to be written, without a second trip to take it from that thread's core.
# Prefetches are hints: they change no value, only when the memory arrives (workers=1
# gives bit-identical vectors with and without them). Measured on 5M tokens, the kernels
# with and without prefetching alternating in one process, medians of 6-8 runs: Skip-Gram
# with negative sampling 1.18x the words/s with 1 thread and 1.38x with 2; CBOW-NS 1.17x
# / 1.15x; CBOW-HS 1.00x / 1.11x; SG-HS 1.05x / 1.04x. Prefetching for reading instead
# was 0.87x of prefetching for writing with 2 threads (SG-NS).


@intrinsic
def _prefetch_element_for_write(typingctx, W, i, k):
    """Emit ``llvm.prefetch(&W[i, k], write, keep in every cache level, data)``."""

    def codegen(context, builder, signature, args):
        matrix_type = signature.args[0]
        matrix = context.make_array(matrix_type)(context, builder, args[0])
        index = [context.cast(builder, value, type_, types.intp)
                 for value, type_ in zip(args[1:], signature.args[1:])]
        address = builder.bitcast(
            cgutils.get_item_pointer(context, builder, matrix_type, matrix, index,
                                     wraparound=False),
            ir.IntType(8).as_pointer())
        int32 = ir.IntType(32)
        # The unsuffixed name is the old spelling of the intrinsic; LLVM renames it to
        # its pointer-type-mangled form (p0i8 or p0, depending on the LLVM version).
        prefetch = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [address.type, int32, int32, int32]),
            "llvm.prefetch")
        builder.call(prefetch, [address, int32(1), int32(3), int32(1)])
        return context.get_dummy_value()

    return types.void(W, i, k), codegen


@inlined
def prefetch_row(W, i):
    """Start fetching the cache lines of W[i] for writing; returns at once (see above)."""
    d = W.shape[1]
    for k in range(0, d, max(1, 64 // W.itemsize)):  # one element in every 64-byte line
        _prefetch_element_for_write(W, i, k)
    _prefetch_element_for_write(W, i, d - 1)  # rows need not start on a line boundary


@inlined
def prefetch_rows(W, rows):
    """:func:`prefetch_row` for each W[rows[c]]."""
    for c in range(rows.shape[0]):
        prefetch_row(W, rows[c])


@inlined
def label_probability_and_gradient(score, label):
    """Probability of ``label`` (0 or 1) under a logistic model, and the loss gradient.

    P(1 | x) = σ(x),   P(0 | x) = σ(-x) = 1 - σ(x)
    L = -log P(label | x),   ∂L/∂x = σ(x) - label

    Both σ(x) and σ(-x) come from one exponential of -|x|, with no overflow and no
    cancellation. Callers multiply the probabilities of one prediction and take a single
    log at the end: one log per prediction instead of one per score.

    The exponential is taken in the score's precision (for float32 weights, expf: about
    half the cost of exp, and the one transcendental per score); the rest is float64.
    """
    x = np.float64(score)
    e = np.float64(math.exp(-abs(score)))  # in (0, 1]
    if e == 0.0:  # float32 underflows for |x| > 103, float64 only beyond 745: keep P > 0
        e = math.exp(-abs(x))
    big = 1.0 / (1.0 + e)  # σ(|x|)
    small = e * big  # σ(-|x|)
    p = big if x >= 0.0 else small  # σ(x); selects, not branches: labels follow
    q = small if x >= 0.0 else big  # σ(-x)   Huffman bits, which no predictor guesses
    return (p if label == 1.0 else q), (-q if label == 1.0 else p)  # σ(x) - 1 = -σ(-x)


#: A running product of probabilities is folded into its log below this value, so that
#: long products (hierarchical-softmax paths) never underflow.
TINY_PROBABILITY = 1e-250


# ---------------------------------------------------------------------------- random stream


@inlined
def next_random(state):
    """Advance word2vec.c's linear congruential generator and return 32 fresh bits.

    state <- state * 25214903917 + 11 (mod 2^64); the high bits are the good ones.
    ``state`` is a (1,) uint64 array so that callees can advance it.
    """
    state[0] = state[0] * np.uint64(25214903917) + np.uint64(11)
    return (state[0] >> np.uint64(16)) & np.uint64(0xFFFFFFFF)


@inlined
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
        add_row_to(1.0, W, rows[c], out)
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
        add_to_row(scale * lock[rows[c]], grad_h, W, rows[c])


@kernel
def learning_rate(alpha, min_alpha, words_done, words_total):
    """Linear decay from ``alpha`` to ``min_alpha`` over all epochs' words."""
    progress = min(1.0, words_done / words_total)
    return alpha - (alpha - min_alpha) * progress

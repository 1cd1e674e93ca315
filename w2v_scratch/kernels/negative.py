"""Negative sampling (Mikolov et al. 2013): kernels for Skip-Gram and CBOW.

For a hidden vector h and a word to predict w, the softmax over V words is replaced
by K+1 binary logistic regressions: w against K noise words n_k drawn from the
unigram distribution raised to ``ns_exponent`` (3/4):

    L = - log σ(u_w·h) - Σ_k log σ(-u_{n_k}·h)

    ∂L/∂(u·h) = σ(u·h) - y          (y = 1 for w, 0 for a noise word)
    ∂L/∂u     = (σ(u·h) - y) h
    ∂L/∂h     = Σ (σ(u·h) - y) u

The reference of these equations is :func:`w2v_scratch.reference.sg_negative` and
:func:`w2v_scratch.reference.cbow_negative`.
"""

import math

import numpy as np

from .common import (
    add_row_to,
    add_to_row,
    borrowing_kernel,
    copy_row,
    inlined,
    kernel,
    label_probability_and_gradient,
    mean_of_rows,
    next_random,
    prefetch_row,
    prefetch_rows,
    row_dot,
    spread_to_rows,
    uniform,
)


@kernel
def draw_negatives(noise_keep, noise_alias, target, negative, state, out):
    """Draw ``negative`` noise words into ``out`` with Walker's alias method.

    Each draw takes two independent 32-bit random numbers r1, r2 (word2vec.c's generator):

        slot i = floor(r1 V / 2^32)              (uniform on 0..V-1)
        word   = i              if r2 / 2^32 < noise_keep[i]
                 noise_alias[i] otherwise

    (see :func:`w2v_scratch.vocabulary.noise_table`). Taking both from one uniform number,
    its integer part for the slot and its fraction for the coin, would leave the coin only
    32 - log2(V) bits (16 at V = 71k): every slot's keep probability would be rounded to a
    multiple of about V / 2^32. With r1 V / 2^32 each slot has probability 1/V within a
    relative V / 2^32 (2e-5 at V = 71k). A draw equal to the word being predicted,
    ``target``, is skipped (as word2vec.c does), so fewer than ``negative`` words may come
    back. Returns how many were drawn.
    """
    vocabulary_size = np.uint64(noise_keep.shape[0])
    n = 0
    for _ in range(negative):
        slot = np.int64((next_random(state) * vocabulary_size) >> np.uint64(32))
        word = slot if uniform(state) < noise_keep[slot] else np.int64(noise_alias[slot])
        if word != target:
            out[n] = word
            n += 1
    return n


@inlined
def prefetch_output_rows(W_out, target, negatives):
    """:func:`~w2v_scratch.kernels.common.prefetch_row` for u_w and every u_{n_k}."""
    prefetch_row(W_out, target)
    prefetch_rows(W_out, negatives)


@kernel
def negative_sampling_step(W_out, h, target, negatives, lr, grad_h, g):
    """One SGD step on the output vectors; returns the loss, leaves ∂L/∂h in ``grad_h``.

    L = - log σ(u_w·h) - Σ_k log σ(-u_{n_k}·h)
    u_w   -= lr (σ(u_w·h) - 1) h
    u_n_k -= lr  σ(u_n_k·h)    h
    grad_h = Σ (σ(u·h) - y) u       (with the vectors *before* the update)

    All scores are computed before any vector moves, so a noise word drawn twice gets
    exactly the summed gradient of the reference. ``g`` is a (1 + K,) scratch buffer.
    """
    probability, g[0] = label_probability_and_gradient(row_dot(W_out, target, h), 1.0)
    for k in range(negatives.shape[0]):
        p_k, g[k + 1] = label_probability_and_gradient(row_dot(W_out, negatives[k], h), 0.0)
        probability *= p_k  # L = -log Π_n P(y_n | u_n·h)
    # 1 + K factors underflow only if the scores reach hundreds, i.e. training has diverged:
    # the loss is then inf and the trainer reports it.
    grad_h[:] = 0.0
    add_row_to(g[0], W_out, target, grad_h)
    for k in range(negatives.shape[0]):
        add_row_to(g[k + 1], W_out, negatives[k], grad_h)
    add_to_row(-lr * g[0], h, W_out, target)
    for k in range(negatives.shape[0]):
        add_to_row(-lr * g[k + 1], h, W_out, negatives[k])
    return -math.log(probability)


@kernel
def sg_negative_step(W_in, W_out, input_lock, input_word, target, negatives, lr, h, grad_h, g):
    """Skip-Gram, one pair: h = v_{input_word}, predict ``target``.

    The output vectors learn from a copy of v_{input_word}; then v_{input_word} -= lr ∂L/∂h.
    """
    prefetch_output_rows(W_out, target, negatives)  # every row this step touches, before
    prefetch_row(W_in, input_word)  # the first one is read (see kernels.common)
    copy_row(W_in, input_word, h)  # (d,)
    loss = negative_sampling_step(W_out, h, target, negatives, lr, grad_h, g)
    add_to_row(-lr * input_lock[input_word], grad_h, W_in, input_word)
    return loss


@kernel
def cbow_negative_step(W_in, W_out, input_lock, context, target, negatives, lr, h, grad_h, g,
                       exact_mean_gradient):
    """CBOW, one centre word: h = mean of the context vectors, predict ``target``."""
    prefetch_output_rows(W_out, target, negatives)  # every row this step touches, before
    prefetch_rows(W_in, context)  # the first one is read (see kernels.common)
    mean_of_rows(W_in, context, h)
    loss = negative_sampling_step(W_out, h, target, negatives, lr, grad_h, g)
    spread_to_rows(W_in, input_lock, context, grad_h, lr, exact_mean_gradient)
    return loss


@kernel
def negative_scratch(W_in, W_out, tables):
    """Buffers of one thread: (negatives, h, grad_h, g) for ``negative`` = tables[2] noise words."""
    negative, d = tables[2], W_in.shape[1]
    return (np.empty(negative, np.int64), np.empty(d, W_in.dtype), np.empty(d, W_in.dtype),
            np.empty(negative + 1, np.float64))


@borrowing_kernel
def sg_negative_window(W_in, W_out, input_lock, center, context, lr, state, tables, scratch):
    """Skip-Gram, one centre word: for each context word c in window order, draw the noise
    words, then one :func:`sg_negative_step` with h = v_c predicting ``center`` (the pairs
    read as word2vec.c and gensim do, see :mod:`w2v_scratch.kernels.hierarchical`).

    ``tables`` = (noise_keep, noise_alias, negative). Returns (summed loss, C).
    """
    noise_keep, noise_alias, negative = tables
    negatives, h, grad_h, g = scratch
    loss = 0.0
    for c in range(context.shape[0]):
        k = draw_negatives(noise_keep, noise_alias, center, negative, state, negatives)
        loss += sg_negative_step(W_in, W_out, input_lock, context[c], center, negatives[:k], lr,
                                 h, grad_h, g)
    return loss, context.shape[0]


@borrowing_kernel
def cbow_negative_window(W_in, W_out, input_lock, center, context, lr, state, tables, scratch):
    """CBOW, one centre word: draw the noise words, then one :func:`cbow_negative_step`.

    ``tables`` = (noise_keep, noise_alias, negative, exact_mean_gradient). Returns (loss, 1).
    """
    noise_keep, noise_alias, negative, exact_mean_gradient = tables
    negatives, h, grad_h, g = scratch
    k = draw_negatives(noise_keep, noise_alias, center, negative, state, negatives)
    loss = cbow_negative_step(W_in, W_out, input_lock, context, center, negatives[:k], lr, h,
                              grad_h, g, exact_mean_gradient)
    return loss, 1

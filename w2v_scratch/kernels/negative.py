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
    copy_row,
    gather_context,
    inlined,
    kernel,
    label_probability_and_gradient,
    learning_rate,
    mean_of_rows,
    prefetch_row,
    prefetch_rows,
    row_dot,
    shrunk_window,
    spread_to_rows,
    subsample_sentence,
    uniform,
)


@kernel
def draw_negatives(noise_keep, noise_alias, target, negative, state, out):
    """Draw ``negative`` noise words into ``out`` with Walker's alias method.

    A uniform u in [0, V) picks slot i = floor(u); the slot gives word i when the
    fractional part of u is below noise_keep[i], else noise_alias[i]
    (see :func:`w2v_scratch.vocabulary.noise_table`). A draw equal to the word being
    predicted is skipped (as word2vec.c does), so fewer than ``negative`` words may come
    back. Returns how many were drawn.
    """
    n = 0
    for _ in range(negative):
        u = uniform(state) * noise_keep.shape[0]
        slot = np.int64(u)
        word = slot if u - slot < noise_keep[slot] else np.int64(noise_alias[slot])
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
def train_sg_negative(W_in, W_out, input_lock, corpus, bounds, first, last, keep_probability,
                      noise_keep, noise_alias, window, negative, alpha, min_alpha, words_before,
                      words_total, seed):
    """Train Skip-Gram with negative sampling on sentences ``first..last-1``.

    ``corpus`` holds word ids, sentence s is corpus[bounds[s]:bounds[s+1]]. Every update
    of an input vector v_w is scaled by ``input_lock[w]`` (1 trains it, 0 freezes it).
    For every kept centre word and every context word in its shrunk window, one
    :func:`sg_negative_step` that predicts the centre word from the context word's vector
    (see :mod:`w2v_scratch.kernels.hierarchical` for why this order). The learning rate
    decays linearly with the position of the sentence in the whole run (``words_before``
    words precede this epoch).
    Returns (summed loss, number of predictions, number of kept words).
    """
    d = W_in.shape[1]
    state = np.full(1, seed, dtype=np.uint64)
    sentence = np.empty(np.max(bounds[first + 1:last + 1] - bounds[first:last]), np.int32)
    negatives = np.empty(negative, np.int64)
    h = np.empty(d, W_in.dtype)
    grad_h = np.empty(d, W_in.dtype)
    g = np.empty(negative + 1, np.float64)
    loss, predictions, kept = 0.0, 0, 0
    for s in range(first, last):
        lr = learning_rate(alpha, min_alpha, words_before + bounds[s], words_total)
        n = subsample_sentence(corpus, bounds[s], bounds[s + 1], keep_probability, state,
                               sentence)
        kept += n
        for i in range(n):
            lo, hi = shrunk_window(i, n, window, state)
            for j in range(lo, hi):
                if j == i:
                    continue
                k = draw_negatives(noise_keep, noise_alias, sentence[i], negative, state,
                                   negatives)
                loss += sg_negative_step(W_in, W_out, input_lock, sentence[j], sentence[i],
                                         negatives[:k], lr, h, grad_h, g)
                predictions += 1
    return loss, predictions, kept


@kernel
def train_cbow_negative(W_in, W_out, input_lock, corpus, bounds, first, last, keep_probability,
                        noise_keep, noise_alias, window, negative, alpha, min_alpha, words_before,
                        words_total, seed, exact_mean_gradient):
    """Train CBOW (mean of the context) with negative sampling on sentences ``first..last-1``.

    For every kept centre word with at least one context word, one
    :func:`cbow_negative_step`. Arguments and return value as :func:`train_sg_negative`.
    """
    d = W_in.shape[1]
    state = np.full(1, seed, dtype=np.uint64)
    sentence = np.empty(np.max(bounds[first + 1:last + 1] - bounds[first:last]), np.int32)
    context = np.empty(2 * window, np.int32)
    negatives = np.empty(negative, np.int64)
    h = np.empty(d, W_in.dtype)
    grad_h = np.empty(d, W_in.dtype)
    g = np.empty(negative + 1, np.float64)
    loss, predictions, kept = 0.0, 0, 0
    for s in range(first, last):
        lr = learning_rate(alpha, min_alpha, words_before + bounds[s], words_total)
        n = subsample_sentence(corpus, bounds[s], bounds[s + 1], keep_probability, state,
                               sentence)
        kept += n
        for i in range(n):
            lo, hi = shrunk_window(i, n, window, state)
            c = gather_context(sentence, i, lo, hi, context)
            if c == 0:
                continue
            k = draw_negatives(noise_keep, noise_alias, sentence[i], negative, state,
                               negatives)
            loss += cbow_negative_step(W_in, W_out, input_lock, context[:c], sentence[i],
                                       negatives[:k], lr, h, grad_h, g, exact_mean_gradient)
            predictions += 1
    return loss, predictions, kept

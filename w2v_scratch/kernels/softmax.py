"""Full softmax: the seed equations, exact over the whole vocabulary.

    z = U h                       (V,)    U = W_out, one output vector per word
    p = softmax(z)                (V,)
    L = - Σ_o log p[o]                    (one term per word to predict)

    ∂L/∂z = C p - Σ_o e_o          (V,)    C = number of words predicted from this h
    ∂L/∂U = (∂L/∂z) hᵀ             (V, d)
    ∂L/∂h = Uᵀ (∂L/∂z)             (d,)

Two tables, not one: the seed equations score P(o | c) = softmax(v_o·v_c) with a single
table of word vectors. These kernels, like word2vec.c and gensim, use two: input vectors
v_w (W_in, ``model.wv``) for the word that is given, and output vectors u_w (U = W_out,
``model.syn1_``) for the word that is predicted, so P(o | c) = softmax(u_o·v_c). Only W_in
is kept as the word vectors.

Skip-Gram predicts every context word of a centre word from the same h = v_center, so
the softmax is computed **once per centre word** and reused for all its C context
words: p depends only on h, and the C pair losses add up to the loss above. Computing
it per pair would cost C forward passes over U (C ≈ 2·window) for the same numbers.
CBOW predicts one word (C = 1) from the mean of its context vectors.

Each step is two passes over U: the forward pass z = U h (four rows at a time), then a
fused backward pass that, row by row, accumulates ∂L/∂h with the old row and applies the
row's update.
The reference is :func:`w2v_scratch.reference.sg_softmax` / ``cbow_softmax``.
"""

import math

import numpy as np

from .common import (
    add_to_row,
    backpropagate_row,
    borrowing_kernel,
    copy_row,
    inlined,
    kernel,
    mean_of_rows,
    row_dot,
    spread_to_rows,
)


@inlined
def scores_and_max(W_out, h, z):
    """z = U h, four rows at a time; returns max z.

    The same dot products as ``row_dot`` row by row, but each h[k] is loaded once for
    four rows and the four sums run side by side, which keeps the SIMD units busy where a
    single dot product of length d waits on its own running sum. (LLVM vectorises each
    of the four sums over k.)
    """
    vocabulary_size, d = W_out.shape[0], h.shape[0]
    z_max = -np.inf
    i = 0
    while i + 4 <= vocabulary_size:
        s0 = s1 = s2 = s3 = W_out.dtype.type(0.0)
        for k in range(d):
            s0 += W_out[i, k] * h[k]
            s1 += W_out[i + 1, k] * h[k]
            s2 += W_out[i + 2, k] * h[k]
            s3 += W_out[i + 3, k] * h[k]
        z[i], z[i + 1], z[i + 2], z[i + 3] = s0, s1, s2, s3
        z_max = max(z_max, max(max(s0, s1), max(s2, s3)))
        i += 4
    for j in range(i, vocabulary_size):  # the last V mod 4 rows
        z[j] = row_dot(W_out, j, h)
        z_max = max(z_max, z[j])
    return z_max


@kernel
def softmax_step(W_out, h, targets, lr, grad_h, z):
    """One SGD step on all V output vectors for predicting ``targets`` from h; returns the loss.

    Forward: z = U h, log p = z - max z - log Σ exp(z - max z).
    Backward, row by row: dz_i = C p_i - #{o: o = i}; grad_h += dz_i u_i; u_i -= lr dz_i h.
    ``z`` is a (V,) scratch buffer of U's precision: the V exponentials are the step's
    only transcendental work, and in float32 they cost about half of float64's.
    """
    vocabulary_size, n_targets = W_out.shape[0], targets.shape[0]
    z_max = scores_and_max(W_out, h, z)  # z = U h   (V,)
    loss = 0.0
    for t in range(n_targets):  # - log p[o] = - (z_o - max z) + log Σ_j e^{z_j - max z}
        loss -= z[targets[t]] - z_max
    z_max = z.dtype.type(z_max)
    total = 0.0
    for i in range(vocabulary_size):  # z <- e^{z - max z}   (V,), Σ accumulated in float64
        z[i] = math.exp(z[i] - z_max)
        total += z[i]
    loss += n_targets * math.log(total)
    # dz = C p - Σ_o e_o = (C / total) (e^{z - max z} - (total / C) Σ_o e_o): subtract the
    # targets here, and let the backward pass multiply by C / total.
    for t in range(n_targets):
        z[targets[t]] -= total / n_targets
    scale = n_targets / total
    grad_h[:] = 0.0
    for i in range(vocabulary_size):  # fused: grad_h = Uᵀ dz ; U -= lr dz hᵀ
        backpropagate_row(scale * z[i], lr, W_out, i, h, grad_h)
    return loss


@kernel
def sg_softmax_step(W_in, W_out, input_lock, center, contexts, lr, h, grad_h, z):
    """Skip-Gram, one centre word and all its context words, one softmax."""
    copy_row(W_in, center, h)  # (d,)
    loss = softmax_step(W_out, h, contexts, lr, grad_h, z)
    add_to_row(-lr * input_lock[center], grad_h, W_in, center)
    return loss


@kernel
def cbow_softmax_step(W_in, W_out, input_lock, context, target, lr, h, grad_h, z, target_buffer,
                      exact_mean_gradient):
    """CBOW, one centre word: h = mean of the context vectors, predict ``target``.

    ``target_buffer`` is a (1,) int32 scratch array holding the single target.
    """
    mean_of_rows(W_in, context, h)
    target_buffer[0] = target
    loss = softmax_step(W_out, h, target_buffer, lr, grad_h, z)
    spread_to_rows(W_in, input_lock, context, grad_h, lr, exact_mean_gradient)
    return loss


@kernel
def softmax_scratch(W_in, W_out, tables):
    """Buffers of one thread: (h, grad_h, z, target_buffer); z is (V,) of U's precision."""
    d = W_in.shape[1]
    return (np.empty(d, W_in.dtype), np.empty(d, W_in.dtype), np.empty(W_out.shape[0], W_out.dtype),
            np.empty(1, np.int32))


@borrowing_kernel
def sg_softmax_window(W_in, W_out, input_lock, center, context, lr, state, tables, scratch):
    """Skip-Gram, one centre word: one :func:`sg_softmax_step` predicting all C context words.

    ``tables`` = () (unused). Returns (loss, C).
    """
    h, grad_h, z, _ = scratch
    loss = sg_softmax_step(W_in, W_out, input_lock, center, context, lr, h, grad_h, z)
    return loss, context.shape[0]


@borrowing_kernel
def cbow_softmax_window(W_in, W_out, input_lock, center, context, lr, state, tables, scratch):
    """CBOW, one centre word: one :func:`cbow_softmax_step`.

    ``tables`` = (exact_mean_gradient,). Returns (loss, 1).
    """
    h, grad_h, z, target_buffer = scratch
    loss = cbow_softmax_step(W_in, W_out, input_lock, context, center, lr, h, grad_h, z,
                             target_buffer, tables[0])
    return loss, 1

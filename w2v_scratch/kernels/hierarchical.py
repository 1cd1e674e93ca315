"""Hierarchical softmax (Morin & Bengio 2005; Mikolov et al. 2013): kernels for Skip-Gram and CBOW.

Every word is a leaf of a Huffman tree over the vocabulary (see
:func:`w2v_scratch.vocabulary.huffman_tree`). Word w is reached from the root through
inner nodes ``points`` with turns ``codes`` (0 = left, 1 = right), and

    P(w | h) = Π_j σ((1 - 2 codes_j) u_{points_j}·h)
    L        = - Σ_j log σ((1 - 2 codes_j) u_j·h)

    ∂L/∂(u_j·h) = σ(u_j·h) - (1 - codes_j)
    ∂L/∂u_j     = (σ(u_j·h) - (1 - codes_j)) h
    ∂L/∂h       = Σ_j (σ(u_j·h) - (1 - codes_j)) u_j

so one prediction costs about log2(V) dot products instead of V.

Skip-Gram pairs, in which direction
-----------------------------------
Skip-Gram's objective sums log P(context | centre) over (centre, context) pairs. Like
word2vec.c and gensim, the Skip-Gram kernel reads every pair the other way round: each
context word c's vector predicts the *centre* word, h_c = v_c. The same pairs, so the same
objective up to the random window shrinking, and the centre's path is the same for its
whole window.

One step per centre word
------------------------
word2vec.c and gensim take one SGD step per pair. :func:`sg_hierarchical_step` takes one
step per centre word t on the summed loss of its C context words (like the Skip-Gram full
softmax, one step per centre word):

    L_t = Σ_c L(h = v_c, path of t)
    ∂L_t/∂u_j = Σ_c g_cj v_c,        ∂L_t/∂v_c = Σ_j g_cj u_j,
    g_cj = σ(u_j·v_c) - (1 - codes_j)

all evaluated before anything moves, i.e. the exact gradient step of L_t. The difference
from gensim is only *when* a pair sees its neighbours' updates of the centre's path: the
pairs of one window no longer see each other's (as the two threads of a Hogwild run do
not see each other's). It matters for speed with several threads: the root and the nodes
near it lie on every path, so each of their rows is written by both threads all the time
and has to move between the cores for every write. One write per window instead of one
per pair makes that about C ≈ 6 times rarer. Measured on 5M tokens, 2 threads, the two
kernels alternating in one process: 423k against 326k words/s (median of 10); one
thread: 0.9-1.0x. Quality on the shared corpus stays within noise of gensim
(benchmarks/results/w2v_quality.md).

The reference is :func:`w2v_scratch.reference.sg_hierarchical` / ``cbow_hierarchical``.
"""

import math

import numpy as np

from .common import (
    TINY_PROBABILITY,
    add_row_to,
    add_row_to_row,
    add_to_row,
    backpropagate_row,
    gather_context,
    kernel,
    label_probability_and_gradient,
    learning_rate,
    mean_of_rows,
    row_dot,
    rows_dot,
    shrunk_window,
    spread_to_rows,
    subsample_sentence,
)


@kernel
def hierarchical_step(W_nodes, h, points, codes, depth, word, lr, grad_h):
    """One SGD step on the inner-node vectors of ``word``'s path; returns the loss.

    The path is points[word, :depth[word]] with turns codes[word, :depth[word]] (read in
    place, not sliced). For each node j on it: grad_h += g_j u_j (before u_j moves),
    u_j -= lr g_j h, with g_j = σ(u_j·h) - (1 - codes_j). Nodes on a path are distinct,
    so updating node by node is the exact gradient step.
    """
    grad_h[:] = 0.0
    log_probability, probability = 0.0, 1.0  # L = -log Π_j P(turn_j | u_j·h)
    for j in range(depth[word]):
        node = points[word, j]
        p_j, g = label_probability_and_gradient(row_dot(W_nodes, node, h),
                                                1.0 - codes[word, j])
        probability *= p_j
        if probability < TINY_PROBABILITY:
            log_probability += math.log(probability)
            probability = 1.0
        backpropagate_row(g, lr, W_nodes, node, h, grad_h)
    return -(log_probability + math.log(probability))


@kernel
def sg_hierarchical_step(W_in, W_nodes, input_lock, context, points, codes, depth, target, lr,
                         H, grad_H, grad_node, g):
    """Skip-Gram, one centre word: every context word's vector v_c predicts ``target``.

    One SGD step on L = Σ_c Σ_j -log P(turn_j | u_j·v_c) along target's path (see the
    module docstring). For each node j: the C scores u_j·v_c first, then
    grad_H[c] += g_cj u_j and u_j -= lr Σ_c g_cj v_c (one write of u_j); at the end
    v_c -= lr grad_H[c]. H and grad_H are (2 window, d) scratch buffers, grad_node (d,),
    g (2 window,) float64.
    """
    C = context.shape[0]
    for c in range(C):  # H[c] = v_c before any update, grad_H[c] = 0   (C, d)
        for k in range(H.shape[1]):
            H[c, k] = W_in[context[c], k]
            grad_H[c, k] = 0.0
    log_probability, probability = 0.0, 1.0  # L = -log Π_{c,j} P(turn_j | u_j·v_c)
    for j in range(depth[target]):
        node, label = points[target, j], 1.0 - codes[target, j]
        for c in range(C):  # C independent scores s_cj = u_j·v_c
            g[c] = rows_dot(W_nodes, node, H, c)
        for c in range(C):  # g_cj = ∂L/∂s_cj = σ(s_cj) - (1 - codes_j)
            p_cj, g[c] = label_probability_and_gradient(g[c], label)
            probability *= p_cj
        if probability < TINY_PROBABILITY:
            log_probability += math.log(probability)
            probability = 1.0
        grad_node[:] = 0.0  # ∂L/∂u_j = Σ_c g_cj v_c   (d,)
        for c in range(C):
            add_row_to_row(g[c], W_nodes, node, grad_H, c)  # ∂L/∂v_c += g_cj u_j (u_j unmoved)
            add_row_to(g[c], H, c, grad_node)
        add_to_row(-lr, grad_node, W_nodes, node)  # the one write of u_j in this step
    for c in range(C):
        add_row_to_row(-lr * input_lock[context[c]], grad_H, c, W_in, context[c])
    return -(log_probability + math.log(probability))


@kernel
def cbow_hierarchical_step(W_in, W_nodes, input_lock, context, points, codes, depth, target, lr,
                           h, grad_h, exact_mean_gradient):
    """CBOW, one centre word: h = mean of the context vectors, follow ``target``'s path."""
    mean_of_rows(W_in, context, h)
    loss = hierarchical_step(W_nodes, h, points, codes, depth, target, lr, grad_h)
    spread_to_rows(W_in, input_lock, context, grad_h, lr, exact_mean_gradient)
    return loss


@kernel
def train_sg_hierarchical(W_in, W_nodes, input_lock, corpus, bounds, first, last, keep_probability,
                          points, codes, depth, window, alpha, min_alpha, words_before,
                          words_total, seed):
    """Train Skip-Gram with hierarchical softmax on sentences ``first..last-1``.

    ``points[w, :depth[w]]`` and ``codes[w, :depth[w]]`` hold word w's Huffman path; every
    update of an input vector v_w is scaled by ``input_lock[w]`` (1 trains, 0 freezes).
    One :func:`sg_hierarchical_step` per kept centre word with at least one context word;
    each context word counts as one prediction (see the module docstring).
    Returns (summed loss, number of predictions, number of kept words).
    """
    d = W_in.shape[1]
    state = np.full(1, seed, dtype=np.uint64)
    sentence = np.empty(np.max(bounds[first + 1:last + 1] - bounds[first:last]), np.int32)
    context = np.empty(2 * window, np.int32)
    H = np.empty((2 * window, d), W_in.dtype)
    grad_H = np.empty((2 * window, d), W_in.dtype)
    grad_node = np.empty(d, W_in.dtype)
    g = np.empty(2 * window, np.float64)
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
            loss += sg_hierarchical_step(W_in, W_nodes, input_lock, context[:c], points, codes,
                                         depth, sentence[i], lr, H, grad_H, grad_node, g)
            predictions += c
    return loss, predictions, kept


@kernel
def train_cbow_hierarchical(W_in, W_nodes, input_lock, corpus, bounds, first, last,
                            keep_probability, points, codes, depth, window, alpha, min_alpha,
                            words_before, words_total, seed, exact_mean_gradient):
    """Train CBOW (mean of the context) with hierarchical softmax on sentences ``first..last-1``.

    Arguments and return value as :func:`train_sg_hierarchical`.
    """
    state = np.full(1, seed, dtype=np.uint64)
    sentence = np.empty(np.max(bounds[first + 1:last + 1] - bounds[first:last]), np.int32)
    context = np.empty(2 * window, np.int32)
    h = np.empty(W_in.shape[1], W_in.dtype)
    grad_h = np.empty(W_in.shape[1], W_in.dtype)
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
            loss += cbow_hierarchical_step(W_in, W_nodes, input_lock, context[:c], points, codes,
                                           depth, sentence[i], lr, h, grad_h, exact_mean_gradient)
            predictions += 1
    return loss, predictions, kept

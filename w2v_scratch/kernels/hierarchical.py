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
word2vec.c and gensim, the kernels walk every centre word's window and, for each context
word c, predict the *centre* word from v_c: the same pairs read the other way round, which
is the same objective up to the random window shrinking. It matters for speed: the
centre's path is walked for the whole window, so its node rows stay in cache, and with
several threads (Hogwild) the rows near the root, which every prediction reads and
writes, bounce between cores less often (measured on SG-HS, 5M tokens, the two orders
alternating in one process: +5 % words/s with one thread, +10 % to +40 % with two).
The reference is :func:`w2v_scratch.reference.sg_hierarchical` / ``cbow_hierarchical``.
"""

import math

import numpy as np

from .common import (
    TINY_PROBABILITY,
    add_to_row,
    backpropagate_row,
    copy_row,
    gather_context,
    kernel,
    label_probability_and_gradient,
    learning_rate,
    mean_of_rows,
    row_dot,
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
def sg_hierarchical_step(W_in, W_nodes, input_lock, input_word, points, codes, depth, target, lr,
                         h, grad_h):
    """Skip-Gram, one pair: h = v_{input_word}, follow ``target``'s path."""
    copy_row(W_in, input_word, h)  # (d,)
    loss = hierarchical_step(W_nodes, h, points, codes, depth, target, lr, grad_h)
    add_to_row(-lr * input_lock[input_word], grad_h, W_in, input_word)
    return loss


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
    Each (centre, context) pair predicts the centre word from the context word's vector,
    so one centre word's path is walked for its whole window (see the module docstring).
    Returns (summed loss, number of predictions, number of kept words).
    """
    state = np.full(1, seed, dtype=np.uint64)
    sentence = np.empty(np.max(bounds[first + 1:last + 1] - bounds[first:last]), np.int32)
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
            for j in range(lo, hi):
                if j == i:
                    continue
                loss += sg_hierarchical_step(W_in, W_nodes, input_lock, sentence[j], points,
                                             codes, depth, sentence[i], lr, h, grad_h)
                predictions += 1
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

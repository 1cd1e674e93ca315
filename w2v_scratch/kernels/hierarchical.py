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
is the same objective up to the random window shrinking. So one centre word's path is
walked for its whole window.

The centre's path, copied for its window
----------------------------------------
The root and the nodes near it lie on every path. With several threads (Hogwild) each
of their rows is then written by both threads all the time, and every write has to take
the row's cache lines away from the other core. So :func:`sg_hierarchical_step` copies the
centre's path rows into a thread-local buffer, runs the window's pairs on the copy one
after the other -- exactly the per-pair SGD steps of word2vec.c and gensim -- and then adds
the copy's change to the shared rows: u_j += (copy_j after - copy_j before), one write per
window instead of one per pair. With one thread nothing else moves the rows meanwhile, so
this is the per-pair steps (up to the rounding of that last addition); with several, the
other threads see this window's updates of the path at its end rather than pair by pair,
one more delay of the kind Hogwild already has. Measured on 5M tokens, the two kernels
alternating in one process, medians of 8 runs: 2 threads 418k words/s against 364k when
every pair writes the shared rows (1.23x; per run 0.88-1.58x); 1 thread 0.97x (the copies).

The reference is :func:`w2v_scratch.reference.sg_hierarchical` / ``cbow_hierarchical``.
"""

import math

import numpy as np

from .common import (
    TINY_PROBABILITY,
    add_to_row,
    backpropagate_row,
    borrowing_kernel,
    copy_row,
    inlined,
    kernel,
    label_probability_and_gradient,
    mean_of_rows,
    prefetch_row,
    prefetch_rows,
    row_dot,
    spread_to_rows,
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
                         h, grad_h, path):
    """Skip-Gram, one centre word: each context word c in turn, h = v_c, follows ``target``'s path.

    One :func:`hierarchical_step` per context word, in order, on a copy of the path's rows
    (see the module docstring); the shared rows then get the copy's change. Returns the
    summed loss of the pairs. ``path`` is a :func:`path_buffer`.
    """
    rows, _, ids, path_codes, path_depth = path
    prefetch_path(W_nodes, points, depth, target)  # the rows this step touches, before the
    prefetch_rows(W_in, context)  # first one is read (see kernels.common)
    copy_path(W_nodes, points, codes, depth, target, *path)
    loss = 0.0
    for c in range(context.shape[0]):
        copy_row(W_in, context[c], h)  # (d,)
        loss += hierarchical_step(rows, h, ids, path_codes, path_depth, 0, lr, grad_h)
        add_to_row(-lr * input_lock[context[c]], grad_h, W_in, context[c])
    add_path_change(W_nodes, points, target, *path)
    return loss


@inlined
def prefetch_path(W_nodes, points, depth, word):
    """:func:`~w2v_scratch.kernels.common.prefetch_row` for the nodes of ``word``'s path."""
    for j in range(depth[word]):
        prefetch_row(W_nodes, points[word, j])


@kernel
def copy_path(W_nodes, points, codes, depth, word, rows, before, ids, path_codes, path_depth):
    """Copy ``word``'s path into a path buffer as a one-word tree: node j is row j of ``rows``."""
    for j in range(depth[word]):
        node = points[word, j]  # read once: LLVM cannot tell that the stores below miss it
        path_codes[0, j] = codes[word, j]
        for k in range(rows.shape[1]):
            rows[j, k] = W_nodes[node, k]
            before[j, k] = W_nodes[node, k]
    path_depth[0] = depth[word]


@kernel
def add_path_change(W_nodes, points, word, rows, before, ids, path_codes, path_depth):
    """u_j += rows[j] - before[j] for the nodes of ``word``'s path: the change made on the
    copy, added to whatever the shared rows hold now (other threads' updates included)."""
    for j in range(path_depth[0]):
        node = points[word, j]
        for k in range(rows.shape[1]):
            W_nodes[node, k] += rows[j, k] - before[j, k]


@kernel
def path_buffer(points, codes, W):
    """Thread-local scratch for :func:`sg_hierarchical_step`: room for one path's rows (rows
    of W's width and precision) and their values before the window, the node ids 0..n-1 of
    the copied path, its codes and its depth."""
    max_depth, d = points.shape[1], W.shape[1]
    return (np.empty((max_depth, d), W.dtype), np.empty((max_depth, d), W.dtype),
            np.arange(max_depth).astype(points.dtype).reshape(1, max_depth),
            np.empty((1, max_depth), codes.dtype), np.empty(1, np.int32))


@kernel
def cbow_hierarchical_step(W_in, W_nodes, input_lock, context, points, codes, depth, target, lr,
                           h, grad_h, exact_mean_gradient):
    """CBOW, one centre word: h = mean of the context vectors, follow ``target``'s path."""
    prefetch_path(W_nodes, points, depth, target)  # the rows this step touches, before the
    prefetch_rows(W_in, context)  # first one is read (see kernels.common)
    mean_of_rows(W_in, context, h)
    loss = hierarchical_step(W_nodes, h, points, codes, depth, target, lr, grad_h)
    spread_to_rows(W_in, input_lock, context, grad_h, lr, exact_mean_gradient)
    return loss


@kernel
def hierarchical_scratch(W_in, W_nodes, tables):
    """Buffers of one thread: (h, grad_h, path), ``path`` a :func:`path_buffer` for the tree
    ``tables[:2]`` = (points, codes)."""
    d = W_in.shape[1]
    return (np.empty(d, W_in.dtype), np.empty(d, W_in.dtype),
            path_buffer(tables[0], tables[1], W_in))


@borrowing_kernel
def sg_hierarchical_window(W_in, W_nodes, input_lock, center, context, lr, state, tables,
                           scratch):
    """Skip-Gram, one centre word: one :func:`sg_hierarchical_step`, in which each context
    word's vector in turn predicts the centre word, one SGD step per pair.

    ``tables`` = (points, codes, depth). Returns (summed loss, C).
    """
    points, codes, depth = tables
    h, grad_h, path = scratch
    loss = sg_hierarchical_step(W_in, W_nodes, input_lock, context, points, codes, depth, center,
                                lr, h, grad_h, path)
    return loss, context.shape[0]


@borrowing_kernel
def cbow_hierarchical_window(W_in, W_nodes, input_lock, center, context, lr, state, tables,
                             scratch):
    """CBOW, one centre word: one :func:`cbow_hierarchical_step`.

    ``tables`` = (points, codes, depth, exact_mean_gradient). Returns (loss, 1).
    """
    points, codes, depth, exact_mean_gradient = tables
    h, grad_h, _ = scratch
    loss = cbow_hierarchical_step(W_in, W_nodes, input_lock, context, points, codes, depth,
                                  center, lr, h, grad_h, exact_mean_gradient)
    return loss, 1

"""The six word2vec objectives in plain NumPy: the equations, nothing else.

Each function takes the parameters it touches and one training example, and returns
``(loss, grads)`` where ``grads`` maps a parameter name to the gradient of the loss
with respect to that parameter (same shape). No learning rate, no in-place update:
these functions are the *truth* the Numba kernels are checked against
(``tests/test_reference.py`` checks them by finite differences; ``tests/test_kernels.py``
checks that one kernel step equals ``param -= lr * grad``).

Notation (Mikolov et al. 2013; Rong 2014, "word2vec Parameter Learning Explained")

* ``W_in``  (V, d): input vectors  ``v_w``  (gensim: ``wv.vectors`` / ``syn0``)
* ``W_out`` (V, d): output vectors ``u_w``  (gensim: ``syn1neg``; full softmax uses the same
  shape); for hierarchical softmax ``W_out`` (V-1, d) holds inner-node vectors (``syn1``)
* ``σ(x) = 1 / (1 + e^{-x})`` and ``log σ(x) = -log(1 + e^{-x})``

Skip-Gram predicts each context word ``w_o`` from the centre word ``w_t`` (input ``h = v_{w_t}``).
CBOW predicts the centre word from the *mean* of its C context vectors,
``h = (1/C) Σ_c v_{w_c}``, so ``∂h/∂v_{w_c} = (1/C) I`` for each context position.
"""

import numpy as np


def sigmoid(x):
    """σ(x) = 1 / (1 + e^{-x}), computed without overflow."""
    return np.exp(-np.logaddexp(0.0, -x))


def log_sigmoid(x):
    """log σ(x) = -log(1 + e^{-x}), computed without overflow."""
    return -np.logaddexp(0.0, -x)


def numerical_gradient(objective, W_in, W_out, args, matrix, eps=1e-6):
    """Central differences of ``objective(W_in, W_out, *args)[0]`` with respect to ``matrix``.

    ∂L/∂θ_i ≈ (L(θ + ε e_i) - L(θ - ε e_i)) / 2ε, for every entry i of ``matrix`` (which
    must be ``W_in`` or ``W_out`` itself: each entry is perturbed in place, then restored).
    The truncation error is O(ε²), so in float64 the result agrees with the analytic
    gradient to about 1e-9 relative.
    """
    grad = np.zeros_like(matrix)
    for index in np.ndindex(matrix.shape):
        saved = matrix[index]
        matrix[index] = saved + eps
        plus = objective(W_in, W_out, *args)[0]
        matrix[index] = saved - eps
        minus = objective(W_in, W_out, *args)[0]
        matrix[index] = saved
        grad[index] = (plus - minus) / (2 * eps)
    return grad


def _log_softmax(z):
    """log softmax(z) = z - log Σ_j e^{z_j} (shifted by max z for stability)."""
    shifted = z - z.max()
    return shifted - np.log(np.exp(shifted).sum())


def _scatter_context(grad_h, W_in, context):
    """∂L/∂W_in for CBOW: each context position receives (1/C) ∂L/∂h.

    A word that occurs twice in the window receives the sum of both shares.
    """
    grad_in = np.zeros_like(W_in)  # (V, d)
    np.add.at(grad_in, np.asarray(context), grad_h / len(context))
    return grad_in


# ----------------------------------------------------------------------------- full softmax


def sg_softmax(W_in, W_out, center, contexts):
    """Skip-Gram, full softmax, one centre word and all its context words.

    p = softmax(W_out v_{w_t})                                   (V,)
    L = - Σ_o log p[w_o]

    Gradients (e_o is the one-hot vector of w_o, C the number of contexts):
    ∂L/∂z      = C·p - Σ_o e_o                                   (V,)
    ∂L/∂W_out  = (∂L/∂z) v_{w_t}ᵀ                                 (V, d)
    ∂L/∂v_{w_t} = W_outᵀ (∂L/∂z)                                  (d,)

    The softmax is computed once per centre word and shared by its contexts: the loss
    of a centre word is the sum of the losses of its (w_t, w_o) pairs.
    """
    h = W_in[center]  # (d,)
    log_p = _log_softmax(W_out @ h)  # (V,)
    contexts = np.asarray(contexts)
    loss = -log_p[contexts].sum()
    dz = len(contexts) * np.exp(log_p)  # (V,)
    np.subtract.at(dz, contexts, 1.0)
    grad_in = np.zeros_like(W_in)
    grad_in[center] = W_out.T @ dz  # (d,)
    return loss, {"W_in": grad_in, "W_out": np.outer(dz, h)}


def cbow_softmax(W_in, W_out, context, target):
    """CBOW, full softmax.

    h = (1/C) Σ_c v_{w_c}                                         (d,)
    p = softmax(W_out h)                                          (V,)
    L = - log p[w_t]

    ∂L/∂z     = p - e_t                                           (V,)
    ∂L/∂W_out = (∂L/∂z) hᵀ                                         (V, d)
    ∂L/∂h     = W_outᵀ (∂L/∂z),   ∂L/∂v_{w_c} = (1/C) ∂L/∂h        (d,)
    """
    h = W_in[np.asarray(context)].mean(axis=0)  # (d,)
    log_p = _log_softmax(W_out @ h)  # (V,)
    dz = np.exp(log_p)  # (V,)
    dz[target] -= 1.0
    grad_h = W_out.T @ dz  # (d,)
    return -log_p[target], {"W_in": _scatter_context(grad_h, W_in, context),
                            "W_out": np.outer(dz, h)}


# ----------------------------------------------------------------------- negative sampling


def _negative_sampling(W_out, h, target, negatives):
    """Loss and gradients of one negative-sampling prediction from hidden vector h.

    L = - log σ(u_t·h) - Σ_k log σ(-u_k·h)

    With the label y = 1 for the target and y = 0 for each noise word n,
    ∂L/∂(u_n·h) = σ(u_n·h) - y, hence
    ∂L/∂u_n = (σ(u_n·h) - y) h   and   ∂L/∂h = Σ_n (σ(u_n·h) - y) u_n.
    """
    words = np.concatenate([[target], np.asarray(negatives, dtype=np.int64)])  # (1+K,)
    labels = np.zeros(len(words))
    labels[0] = 1.0
    scores = W_out[words] @ h  # (1+K,)
    loss = -log_sigmoid(scores[0]) - log_sigmoid(-scores[1:]).sum()
    g = sigmoid(scores) - labels  # (1+K,) ∂L/∂score
    grad_out = np.zeros_like(W_out)
    np.add.at(grad_out, words, np.outer(g, h))  # repeated noise words add up
    return loss, grad_out, g @ W_out[words]


def sg_negative(W_in, W_out, input_word, output_word, negatives):
    """Skip-Gram, negative sampling, one pair: h = v_{w_i} predicts w_o.

    L = - log σ(u_{w_o}·v_{w_i}) - Σ_k log σ(-u_{n_k}·v_{w_i})

    The training kernels, like word2vec.c and gensim, take the context word as w_i and
    the centre word as w_o (see :mod:`w2v_scratch.kernels.hierarchical`).
    """
    loss, grad_out, grad_h = _negative_sampling(W_out, W_in[input_word], output_word, negatives)
    grad_in = np.zeros_like(W_in)
    grad_in[input_word] = grad_h
    return loss, {"W_in": grad_in, "W_out": grad_out}


def cbow_negative(W_in, W_out, context, target, negatives):
    """CBOW, negative sampling: h = (1/C) Σ_c v_{w_c}, predict w_t against K noise words.

    L = - log σ(u_{w_t}·h) - Σ_k log σ(-u_{n_k}·h),   ∂L/∂v_{w_c} = (1/C) ∂L/∂h
    """
    h = W_in[np.asarray(context)].mean(axis=0)  # (d,)
    loss, grad_out, grad_h = _negative_sampling(W_out, h, target, negatives)
    return loss, {"W_in": _scatter_context(grad_h, W_in, context), "W_out": grad_out}


# -------------------------------------------------------------------- hierarchical softmax


def _hierarchical(W_nodes, h, points, codes):
    """Loss and gradients of one hierarchical-softmax prediction from hidden vector h.

    The target word is the leaf reached from the root through inner nodes ``points``;
    ``codes[j]`` is 0 for a left turn and 1 for a right turn (word2vec.c convention).
    P(w | h) = Π_j σ((1 - 2 codes[j]) · u_{points[j]}·h), so

    L = - Σ_j log σ(s_j u_j·h)        with s_j = 1 - 2 codes[j]
    ∂L/∂(u_j·h) = σ(u_j·h) - (1 - codes[j])
    ∂L/∂u_j = (σ(u_j·h) - (1 - codes[j])) h,   ∂L/∂h = Σ_j (σ(u_j·h) - (1 - codes[j])) u_j
    """
    points = np.asarray(points)
    codes = np.asarray(codes, dtype=np.float64)
    scores = W_nodes[points] @ h  # (depth,)
    loss = -log_sigmoid((1.0 - 2.0 * codes) * scores).sum()
    g = sigmoid(scores) - (1.0 - codes)  # (depth,)
    grad_nodes = np.zeros_like(W_nodes)
    np.add.at(grad_nodes, points, np.outer(g, h))
    return loss, grad_nodes, g @ W_nodes[points]


def sg_hierarchical(W_in, W_nodes, input_word, points, codes):
    """Skip-Gram, hierarchical softmax, one pair: h = v_{w_i} predicts w_o.

    ``points``/``codes`` are the Huffman path of the output word w_o (in training, the
    centre word; w_i is a context word).
    """
    loss, grad_nodes, grad_h = _hierarchical(W_nodes, W_in[input_word], points, codes)
    grad_in = np.zeros_like(W_in)
    grad_in[input_word] = grad_h
    return loss, {"W_in": grad_in, "W_out": grad_nodes}


def cbow_hierarchical(W_in, W_nodes, context, points, codes):
    """CBOW, hierarchical softmax: h = (1/C) Σ_c v_{w_c}; path of the centre word."""
    h = W_in[np.asarray(context)].mean(axis=0)  # (d,)
    loss, grad_nodes, grad_h = _hierarchical(W_nodes, h, points, codes)
    return loss, {"W_in": _scatter_context(grad_h, W_in, context), "W_out": grad_nodes}

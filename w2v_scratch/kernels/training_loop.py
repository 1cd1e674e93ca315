"""The per-sentence loop shared by the six training kernels.

:func:`train_sentences` walks a range of sentences, and for each one

1. takes the learning rate of its position in the whole run (linear decay),
2. subsamples its frequent words,
3. for each kept centre word, draws a shrunk window and gathers its context words,
4. hands the centre word and its context (in window order) to the objective's
   *window step*, which applies that centre word's SGD steps.

A window step is one of ``<sg|cbow>_<objective>_window`` in the objective modules:

    window_step(W_in, W_out, input_lock, center, context, lr, state, tables, scratch)
        -> (summed loss, number of predictions)

where ``tables`` is the objective's read-only data (noise table, Huffman tree, CBOW's
gradient rule) and ``scratch`` the thread-local buffers made once per job by the
objective's ``new_scratch(W_in, W_out, tables)``. Numba compiles :func:`train_sentences`
once per window step it is given, calling that step directly, so the six kernels are this
one loop with six different bodies. Window steps allocate nothing and are compiled without
reference counting (:func:`~w2v_scratch.kernels.common.borrowing_kernel`).
"""

import numpy as np

from .common import gather_context, kernel, learning_rate, shrunk_window, subsample_sentence


@kernel
def train_sentences(window_step, new_scratch, tables, W_in, W_out, input_lock, corpus, bounds,
                    first, last, keep_probability, window, alpha, min_alpha, words_before,
                    words_total, seed):
    """Train on sentences ``first..last-1`` with one ``window_step`` per centre word.

    ``corpus`` holds word ids; sentence s is corpus[bounds[s]:bounds[s+1]]. Every update of
    an input vector v_w is scaled by ``input_lock[w]`` (1 trains it, 0 freezes it). The
    learning rate of sentence s is

        lr = alpha - (alpha - min_alpha) (words_before + bounds[s]) / words_total

    (``words_before`` words of earlier epochs precede this one). A centre word whose
    window holds no other kept word is skipped. ``seed`` starts this job's random stream
    (subsampling, windows, and whatever the window step draws).

    Returns (summed loss, number of predictions, number of kept words).
    """
    state = np.full(1, seed, dtype=np.uint64)
    sentence = np.empty(np.max(bounds[first + 1:last + 1] - bounds[first:last]), np.int32)
    context = np.empty(2 * window, np.int32)
    scratch = new_scratch(W_in, W_out, tables)
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
            window_loss, window_predictions = window_step(
                W_in, W_out, input_lock, sentence[i], context[:c], lr, state, tables, scratch)
            loss += window_loss
            predictions += window_predictions
    return loss, predictions, kept

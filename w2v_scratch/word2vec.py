"""The Word2Vec estimator: read the corpus, build the vocabulary, run the kernels.

Architectures (Mikolov et al. 2013)
-----------------------------------
CBOW (``sg=0``) predicts the centre word w_t from the mean of its context vectors

    h = 1/C Σ_{-n<=j<=n, j≠0} v_{w_{t+j}}      (C = words actually in the window)
    P(w_t | context) = softmax(U h)

Skip-Gram (``sg=1``) predicts each context word from the centre word

    P(w_{t+j} | w_t) = softmax(U v_{w_t})

With negative sampling and hierarchical softmax the kernels read each pair the other way
round, P(w_t | w_{t+j}), as word2vec.c and gensim do: the same pairs, hence the same
objective up to the random shrinking of windows (:mod:`w2v_scratch.kernels.hierarchical`).
Skip-Gram with hierarchical softmax trains each window's pairs on a thread-local copy of
the centre's path and adds the change to the shared rows once per window, which keeps two
threads from fighting over the tree's top nodes.

Objectives (``loss``): ``"softmax"`` computes that softmax over all V words;
``"negative"`` replaces it by negative sampling; ``"hierarchical"`` by a Huffman-tree
hierarchical softmax. One Numba training loop walks the sentences for every mode and calls,
per centre word, the window step of the (architecture, objective) pair
(:mod:`w2v_scratch.kernels`); the equations are written out in :mod:`w2v_scratch.reference`.

Note on CBOW: the gradient of the mean h with respect to each context vector is
(1/C) ∂L/∂h. word2vec.c and gensim add the whole ∂L/∂h to every context vector instead,
which is the exact gradient with the input vectors' learning rate multiplied by C.
``cbow_gradient="word2vec"`` (the default) does the same, so that the same ``alpha`` gives
gensim's quality; ``cbow_gradient="exact"`` applies (1/C) ∂L/∂h and then needs a larger
``alpha`` (measured on the shared corpus, CBOW-NS, 5 epochs, alpha=0.025: analogy 21.0 %
with "exact" against 32.2 % for gensim).
"""

import math
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from tqdm import tqdm

from . import kernels
from .corpus import read_corpus
from .keyedvectors import KeyedVectors
from .vocabulary import build_vocabulary, huffman_tree, keep_probabilities, noise_table

LOSSES = ("softmax", "negative", "hierarchical")
CBOW_GRADIENTS = ("word2vec", "exact")

#: Sentences are handed to the kernels in jobs of at least this many words.
JOB_WORDS = 10_000


class TrainingDivergedError(ValueError):
    """The loss became NaN or infinite: the learning rate is too large."""


class Word2Vec:
    """word2vec (CBOW or Skip-Gram) trained from the equations.

    Parameters
    ----------
    vector_size : int
        Dimension d of the word vectors.
    window : int
        Maximum distance n between the centre and a context word; each centre word
        uses a window drawn uniformly from 1..n (as word2vec.c).
    min_count : int
        Words seen fewer times are ignored.
    sg : {0, 1}
        0 for CBOW, 1 for Skip-Gram.
    loss : {"softmax", "negative", "hierarchical"}
        Full softmax, negative sampling or hierarchical softmax.
    negative : int
        Noise words per prediction (``loss="negative"``).
    ns_exponent : float
        Noise distribution P_n(w) ∝ count(w)^ns_exponent.
    sample : float
        Subsampling threshold t; 0 disables subsampling.
    alpha, min_alpha : float
        The learning rate decays linearly from ``alpha`` to ``min_alpha`` over all epochs.
    epochs : int
        Passes over the corpus.
    seed : int
        Seed of every random choice (initial vectors, subsampling, windows, noise words).
    workers : int
        Training threads (Hogwild: threads update shared vectors without locks). With
        ``workers=1`` the same seed gives bit-identical vectors. With ``loss="softmax"``
        more than one worker is allowed but warned about (:class:`UserWarning`): every
        step writes all V output vectors, so the threads collide on every row, which
        gains little speed and may hurt quality.
    max_vocab_size : int, optional
        Keep at most this many of the most frequent words.
    callbacks : sequence, optional
        Objects with ``on_epoch_end(model, epoch, loss)``, called after each epoch with
        that epoch's mean loss.
    progress : bool, optional
        Show a progress bar (words/s and running loss). Default: only on a terminal.
    cbow_gradient : {"word2vec", "exact"}
        How CBOW moves its context vectors: by ∂L/∂h each (word2vec.c, gensim) or by
        the exact gradient of the mean, (1/C) ∂L/∂h. Ignored by Skip-Gram.
    pretrained : KeyedVectors, optional
        Fine-tune these vectors: their words come first in the vocabulary, in their
        order, whatever their count in the new corpus, and start from their vectors; the
        corpus's new words reaching ``min_count`` follow, randomly initialised. Output
        vectors start at zero (the word2vec format does not store them).
    lock_pretrained : bool
        Keep the pretrained vectors fixed and train only the new words' vectors (and
        the output vectors).

    Attributes
    ----------
    wv : KeyedVectors
        The learned input vectors, one per vocabulary word.
    syn1_ : ndarray of float32, shape (V, d) or (V - 1, d)
        Output vectors, or inner-node vectors for hierarchical softmax.
    vocab_ : dict of str to int
        Word counts in vocabulary order (count descending, then word).
    loss_history_ : list of float
        Per epoch, the online training loss: the mean over the epoch's predictions (one
        prediction = one word predicted from one hidden vector) of each step's loss,
        taken *before* that step's update. It is not the objective at the final
        parameters, and it is not comparable across ``loss`` values: the full softmax,
        negative sampling (K + 1 logistic losses with random noise words) and hierarchical
        softmax (a sum over a Huffman path) compute different objectives.
    words_per_second_ : float
        Corpus tokens (all of them, as gensim's "raw words") × epochs / training time.
    corpus_word_count_ : int
        Tokens in the corpus, including those outside the vocabulary.
    vocabulary_seconds_, training_seconds_ : float
        Wall time of reading the corpus and building the vocabulary, and of training.
    """

    def __init__(self, vector_size=100, window=5, min_count=5, sg=0, loss="negative",
                 negative=5, ns_exponent=0.75, sample=1e-3, alpha=0.025, min_alpha=0.0001,
                 epochs=5, seed=1, workers=1, max_vocab_size=None, callbacks=(),
                 progress=None, cbow_gradient="word2vec", pretrained=None,
                 lock_pretrained=False):
        self.vector_size = vector_size
        self.window = window
        self.min_count = min_count
        self.sg = sg
        self.loss = loss
        self.negative = negative
        self.ns_exponent = ns_exponent
        self.sample = sample
        self.alpha = alpha
        self.min_alpha = min_alpha
        self.epochs = epochs
        self.seed = seed
        self.workers = workers
        self.max_vocab_size = max_vocab_size
        self.callbacks = callbacks
        self.progress = progress
        self.cbow_gradient = cbow_gradient
        self.pretrained = pretrained
        self.lock_pretrained = lock_pretrained

    def __repr__(self):
        architecture = "skip-gram" if self.sg else "cbow"
        return (f"Word2Vec({architecture}, loss={self.loss!r}, vector_size={self.vector_size}, "
                f"window={self.window}, epochs={self.epochs})")

    # ------------------------------------------------------------------ validation

    def _check_parameters(self):
        def positive_int(name, value):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")

        for name in ("vector_size", "window", "min_count", "epochs", "workers"):
            positive_int(name, getattr(self, name))
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; choose one of {', '.join(LOSSES)}")
        if self.cbow_gradient not in CBOW_GRADIENTS:
            raise ValueError(f"unknown cbow_gradient {self.cbow_gradient!r}; choose one of "
                             f"{', '.join(CBOW_GRADIENTS)}")
        if self.sg not in (0, 1):
            raise ValueError(f"sg must be 0 (CBOW) or 1 (Skip-Gram), got {self.sg!r}")
        if self.loss == "negative":
            positive_int("negative (with loss='negative')", self.negative)
        if self.max_vocab_size is not None:
            positive_int("max_vocab_size", self.max_vocab_size)
        if not self.alpha > 0 or not 0 <= self.min_alpha <= self.alpha:
            raise ValueError(f"need alpha > 0 and 0 <= min_alpha <= alpha, got "
                             f"alpha={self.alpha!r}, min_alpha={self.min_alpha!r}")
        if not self.sample >= 0:
            raise ValueError(f"sample must be >= 0, got {self.sample!r}")
        if self.pretrained is not None and self.pretrained.vector_size != self.vector_size:
            raise ValueError(f"vector_size={self.vector_size} but the pretrained vectors have "
                             f"{self.pretrained.vector_size} dimensions")
        for callback in self.callbacks:
            if not callable(getattr(callback, "on_epoch_end", None)):
                raise TypeError(f"callback {callback!r} has no on_epoch_end(model, epoch, loss)")

    # ------------------------------------------------------------------ training

    def fit(self, corpus):
        """Learn word vectors from ``corpus``.

        Parameters
        ----------
        corpus : str, os.PathLike or iterable of list of str
            A text file (plain or gzip; one sentence a line, long lines cut every
            10,000 tokens as in gensim) or an iterable of token lists. It is read once.

        Returns
        -------
        self
        """
        self._check_parameters()
        if self.loss == "softmax" and self.workers > 1:
            warnings.warn(f"loss='softmax' with workers={self.workers}: every step writes all "
                          f"V output vectors, so the threads collide on every row; this gains "
                          f"little speed and may hurt quality (workers=1 avoids it)",
                          UserWarning, stacklevel=2)
        start = time.perf_counter()
        raw = read_corpus(corpus)
        self.corpus_word_count_ = int(raw.ids.size)
        known_words = self.pretrained.index_to_key if self.pretrained is not None else ()
        words, counts, encoded = build_vocabulary(raw, self.min_count, self.max_vocab_size,
                                                  known_words)
        del raw
        self.vocab_ = dict(zip(words, counts.tolist()))
        self.vocabulary_seconds_ = time.perf_counter() - start

        rng = np.random.default_rng(self.seed)
        vocabulary_size, d = len(words), self.vector_size
        # v_w ~ U(-0.5/d, 0.5/d), as word2vec.c; output vectors start at zero.
        input_vectors = ((rng.random((vocabulary_size, d), dtype=np.float32) - 0.5) / d)
        input_lock = np.ones(vocabulary_size, dtype=np.float32)  # 1 trains a row, 0 freezes it
        if known_words:
            input_vectors[:len(known_words)] = self.pretrained.vectors
            input_lock[:len(known_words)] = 0.0 if self.lock_pretrained else 1.0
        output_rows = vocabulary_size - 1 if self.loss == "hierarchical" else vocabulary_size
        self.syn1_ = np.zeros((output_rows, d), dtype=np.float32)
        self.wv = KeyedVectors(input_vectors, words, counts=counts)
        self.loss_history_ = []

        start = time.perf_counter()
        self._train(encoded, counts, input_vectors, input_lock)
        self.training_seconds_ = time.perf_counter() - start
        self.words_per_second_ = (self.corpus_word_count_ * self.epochs
                                  / max(self.training_seconds_, 1e-9))
        return self

    def _objective(self, counts):
        """The window step for (sg, loss), its scratch allocator and its tables (CBOW's
        gradient rule last); see :mod:`w2v_scratch.kernels.training_loop`."""
        cbow_rule = () if self.sg else (self.cbow_gradient == "exact",)
        if self.loss == "negative":
            window_step = kernels.sg_negative_window if self.sg else kernels.cbow_negative_window
            new_scratch = kernels.negative_scratch
            tables = (*noise_table(counts, self.ns_exponent), self.negative)
        elif self.loss == "hierarchical":
            window_step = (kernels.sg_hierarchical_window if self.sg
                           else kernels.cbow_hierarchical_window)
            new_scratch = kernels.hierarchical_scratch
            tables = huffman_tree(counts)
        else:
            window_step = kernels.sg_softmax_window if self.sg else kernels.cbow_softmax_window
            new_scratch = kernels.softmax_scratch
            tables = ()
        return window_step, new_scratch, (*tables, *cbow_rule)

    def _train(self, corpus, counts, input_vectors, input_lock):
        window_step, new_scratch, tables = self._objective(counts)
        keep = keep_probabilities(counts, self.sample)
        jobs = _split_into_jobs(corpus.bounds, JOB_WORDS)
        words = corpus.ids.size
        words_total = words * self.epochs

        def run(job, epoch, seed):
            first, last = job
            return kernels.train_sentences(
                window_step, new_scratch, tables, input_vectors, self.syn1_, input_lock,
                corpus.ids, corpus.bounds, first, last, keep, self.window, self.alpha,
                self.min_alpha, epoch * words, words_total, seed)

        with ThreadPoolExecutor(self.workers) as pool, \
                tqdm(total=words_total, unit="word", unit_scale=True, smoothing=0.1,
                     disable=None if self.progress is None else not self.progress) as bar:
            for epoch in range(self.epochs):
                seeds = np.random.SeedSequence([self.seed, epoch]).generate_state(
                    len(jobs), dtype=np.uint64)
                futures = [pool.submit(run, job, epoch, seed) for job, seed in zip(jobs, seeds)]
                loss_sum, predictions = 0.0, 0
                for job, future in zip(jobs, futures):  # in order: a deterministic sum
                    job_loss, job_predictions, _ = future.result()
                    loss_sum += job_loss
                    predictions += job_predictions
                    if not math.isfinite(loss_sum):
                        for pending in futures:
                            pending.cancel()
                        raise TrainingDivergedError(
                            f"training diverged in epoch {epoch + 1} (loss is {loss_sum}); "
                            f"try a smaller alpha, e.g. alpha={self.alpha / 10:g}")
                    bar.update(int(corpus.bounds[job[1]] - corpus.bounds[job[0]]))
                    bar.set_postfix(loss=f"{loss_sum / max(predictions, 1):.4f}", refresh=False)
                epoch_loss = loss_sum / max(predictions, 1)
                self.loss_history_.append(epoch_loss)
                for callback in self.callbacks:
                    callback.on_epoch_end(self, epoch, epoch_loss)


def _split_into_jobs(bounds, job_words):
    """Group consecutive sentences into (first, last) ranges of at least ``job_words`` words."""
    jobs, first = [], 0
    for s in range(1, len(bounds)):
        if bounds[s] - bounds[first] >= job_words or s == len(bounds) - 1:
            jobs.append((first, s))
            first = s
    return jobs

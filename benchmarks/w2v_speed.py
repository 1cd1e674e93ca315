"""Training speed of w2v_scratch.Word2Vec against gensim, measured in the same run.

Both libraries get the same sentences: the first ``--tokens`` tokens of the shared
corpus, held in memory as token lists of 10,000 tokens (the text8 line cut as gensim
cuts it), so no timing includes reading the file. Settings are the same for both:
vector_size=100, window=5, min_count=5, sample=1e-3, alpha 0.025 -> 0.0001, seed=1,
one epoch, ``--workers`` threads, and for every mode (Skip-Gram / CBOW x negative
sampling with 5 noise words / hierarchical softmax):

- words/s = corpus tokens x epochs / training wall time (gensim's "raw words": every
  token, also those dropped by min_count or subsampling); ours is ``fit``'s
  ``training_seconds_``, gensim's the wall time of ``train()``;
- vocabulary seconds: ours ``vocabulary_seconds_`` (encode the tokens + build the
  vocabulary), gensim's the wall time of ``build_vocab()``.

The machine is shared and loaded, so each repeat runs ours and gensim back to back
(alternating which goes first) and the table gives medians over repeats; ours/gensim
is the median of the per-repeat ratios, which cancels most of the background load.

Full softmax has no gensim peer. Ours is trained with ``loss="softmax"`` on the first
``--softmax-tokens`` tokens with the 5,000 most frequent words (min_count=1,
max_vocab_size=5000) and sample=0, so that every in-vocabulary token is exactly one
softmax step (CBOW: one per centre word; Skip-Gram: also one per centre word, shared
by its context words). A step needs at least a forward product z = U h and a backward
pass over U (V, d), so with t = the time of one single-threaded BLAS ``np.dot(U, h)``
(float32, measured in each repeat) steps/s <= 1 / (2 t). The table prints that bound
and our steps/s over it. The bound is optimistic: the backward pass (U^T dz and the
rank-one update of U) reads and writes U, which costs more than one U h.

    python benchmarks/w2v_speed.py [--tokens 5000000] [--repeats 3] [--workers 1 2]

Prints markdown tables and writes them, with the machine description, to
benchmarks/results/w2v_speed.md (atomically).
"""

import argparse
import gzip
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
import timeit
from datetime import datetime, timezone
from pathlib import Path

import gensim
import numba
import numpy as np
from _report import cpu_model, write_report
from gensim.models.word2vec import FAST_VERSION
from threadpoolctl import threadpool_limits

from w2v_scratch import Word2Vec

CORPUS = Path("/work/shared/data/text/english-17M.txt.gz")
RESULTS = Path(__file__).parent / "results" / "w2v_speed.md"
SENTENCE_LENGTH = 10_000
SETTINGS = dict(vector_size=100, window=5, min_count=5, sample=1e-3, alpha=0.025,
                min_alpha=0.0001, epochs=1, seed=1)
MODES = [("SG", 1, "negative"), ("SG", 1, "hierarchical"),
         ("CBOW", 0, "negative"), ("CBOW", 0, "hierarchical")]
SOFTMAX_VOCABULARY = 5000
TARGET = 0.8  # issue #3: ours >= 0.8x gensim single-threaded in every NS/HS mode



def machine_description():
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"CPU {cpu_model()}, {os.cpu_count()} logical cores "
            f"({len(os.sched_getaffinity(0))} usable); load average at start {load}; "
            f"Python {platform.python_version()}, numpy {np.__version__}, "
            f"numba {numba.__version__}, gensim {gensim.__version__} "
            f"(FAST_VERSION {FAST_VERSION})")


def code_revision():
    """The measured code: commit of the checkout, and whether w2v_scratch/ differs from it."""
    root = Path(__file__).resolve().parent.parent
    git = ["git", "-C", str(root)]
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "unknown"
    dirty = subprocess.run([*git, "diff", "--quiet", "HEAD", "--", "w2v_scratch"]).returncode == 1
    return f"commit {commit}" + (" plus uncommitted changes in w2v_scratch/" if dirty else "")


def first_words(path, tokens):
    """The first ``tokens`` tokens of a text8-style (single-line) gzip file."""
    words, partial = [], ""
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        while len(words) < tokens and (chunk := stream.read(1 << 20)):
            pieces = (partial + chunk).split()
            partial = pieces.pop() if not chunk[-1].isspace() else ""
            words += pieces
    return (words + [partial] if partial else words)[:tokens]


def in_sentences(words):
    """Cut a token list into sentences of 10,000 tokens, as both libraries cut text8."""
    return [words[i:i + SENTENCE_LENGTH] for i in range(0, len(words), SENTENCE_LENGTH)]


def seconds(action):
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def ours(sentences, sg, loss, workers):
    """(words/s, vocabulary seconds) of one fit of this project."""
    model = Word2Vec(sg=sg, loss=loss, negative=5, workers=workers, progress=False, **SETTINGS)
    model.fit(sentences)
    return model.words_per_second_, model.vocabulary_seconds_


def theirs(sentences, sg, loss, workers):
    """(words/s, vocabulary seconds) of one gensim run: build_vocab, then train."""
    hs = loss == "hierarchical"
    model = gensim.models.Word2Vec(sg=sg, hs=int(hs), negative=0 if hs else 5, workers=workers,
                                   **SETTINGS)
    vocabulary_seconds = seconds(lambda: model.build_vocab(sentences))
    training_seconds = seconds(lambda: model.train(sentences, total_examples=model.corpus_count,
                                                   epochs=model.epochs))
    return model.corpus_total_words * model.epochs / training_seconds, vocabulary_seconds


def compare(sentences, workers_list, repeats):
    """Table rows for every (mode, workers): medians over interleaved repeats."""
    for _, sg, loss in MODES:  # compile (or load from Numba's cache) every kernel first
        ours(sentences[:1], sg, loss, 1)
        theirs(sentences[:1], sg, loss, 1)
    runs = {}  # (mode, workers) -> [(ours words/s, gensim words/s, ours vocab s, gensim vocab s)]
    for repeat in range(repeats):
        runners = (ours, theirs) if repeat % 2 == 0 else (theirs, ours)
        for name, sg, loss in MODES:
            for workers in workers_list:
                measured = {runner: runner(sentences, sg, loss, workers) for runner in runners}
                (a, vocab_a), (b, vocab_b) = measured[ours], measured[theirs]
                runs.setdefault((f"{name} {loss}", workers), []).append((a, b, vocab_a, vocab_b))
                print(f"repeat {repeat + 1}: {name} {loss}, {workers} worker(s): ours "
                      f"{a:,.0f} words/s, gensim {b:,.0f}", flush=True)
    rows = []
    for (mode, workers), measurements in runs.items():
        medians = map(statistics.median, zip(*measurements))
        ratio = statistics.median(a / b for a, b, _, _ in measurements)
        rows.append((mode, workers, ratio, *medians))
    return rows


def matvec_seconds(vocabulary_size, d, calls=200):
    """Seconds of one single-threaded BLAS U h, U (V, d) and h (d,) float32."""
    rng = np.random.default_rng(0)
    U = rng.random((vocabulary_size, d), dtype=np.float32)
    h = rng.random(d, dtype=np.float32)
    with threadpool_limits(limits=1):
        np.dot(U, h)
        return timeit.timeit(lambda: np.dot(U, h), number=calls) / calls


def softmax_rows(sentences, repeats):
    """Table rows for the full softmax: our speed against the BLAS matrix-vector bound."""
    settings = dict(SETTINGS, min_count=1, sample=0.0, max_vocab_size=SOFTMAX_VOCABULARY)
    rows = []
    for name, sg in (("SG", 1), ("CBOW", 0)):
        Word2Vec(sg=sg, loss="softmax", progress=False, **settings).fit(sentences[:1])  # warm-up
        speeds, matvecs = [], []
        for _ in range(repeats):
            model = Word2Vec(sg=sg, loss="softmax", progress=False, **settings).fit(sentences)
            speeds.append(model.words_per_second_)
            matvecs.append(matvec_seconds(len(model.vocab_), model.vector_size))
        steps = sum(model.vocab_.values())  # sample=0: one softmax step per in-vocabulary token
        steps_per_second = statistics.median(speeds) * steps / model.corpus_word_count_
        bound = 1 / (2 * statistics.median(matvecs))
        rows.append((f"{name} softmax", len(model.vocab_), model.corpus_word_count_, steps,
                     statistics.median(speeds), steps_per_second, bound,
                     1e6 * statistics.median(matvecs)))
    return rows



def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--tokens", type=int, default=5_000_000)
    parser.add_argument("--softmax-tokens", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1])
    args = parser.parse_args()

    description, revision = machine_description(), code_revision()
    started = datetime.now(timezone.utc)
    words = first_words(args.corpus, max(args.tokens, args.softmax_tokens))
    tokens, softmax_tokens = (min(n, len(words)) for n in (args.tokens, args.softmax_tokens))
    compared = compare(in_sentences(words[:tokens]), args.workers, args.repeats)
    softmax = softmax_rows(in_sentences(words[:softmax_tokens]), args.repeats)

    table = ["| mode | workers | ours words/s | gensim words/s | ours / gensim "
             "| ours vocabulary s | gensim vocabulary s |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    table += [f"| {mode} | {workers} | {a:,.0f} | {b:,.0f} | {ratio:.2f}x | {va:.2f} | {vb:.2f} |"
              for mode, workers, ratio, a, b, va, vb in compared]
    verdict = ""
    if 1 in args.workers:
        missed = [f"{mode} ({ratio:.2f}x)" for mode, workers, ratio, *_ in compared
                  if workers == 1 and ratio < TARGET]
        outcome = f"missed in {', '.join(missed)}." if missed else "met."
        verdict = f"Issue #3 target (ours >= {TARGET}x gensim, 1 worker, each mode): {outcome}"
    softmax_table = ["| mode | vocabulary | tokens | softmax steps | ours words/s | ours steps/s "
                     "| bound 1/(2 t_matvec) steps/s | ours / bound | t_matvec |",
                     "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    softmax_table += [f"| {mode} | {v:,} | {n:,} | {steps:,} | {speed:,.0f} | {rate:,.0f} "
                      f"| {bound:,.0f} | {rate / bound:.2f}x | {t:.1f} µs |"
                      for mode, v, n, steps, speed, rate, bound, t in softmax]
    report = "\n".join([
        "# word2vec training speed: w2v_scratch against gensim",
        "",
        f"{started:%Y-%m-%d %H:%M} UTC. {description}.",
        f"Command: `{shlex.join(['python', *sys.argv])}`; code measured: {revision}.",
        "",
        f"## Negative sampling and hierarchical softmax ({tokens:,} tokens of "
        f"{args.corpus.name}, 1 epoch)",
        "",
        f"{', '.join(f'{k}={v}' for k, v in SETTINGS.items())}; negative=5 (NS), hs=1 (HS). "
        "words/s = corpus tokens / training wall time, median of "
        f"{args.repeats} repeats; ours / gensim = median of the per-repeat ratios "
        "(ours and gensim run back to back in each repeat).",
        "",
        *table,
        "",
        verdict,
        "",
        f"## Full softmax (ours only; {softmax_tokens:,} tokens)",
        "",
        f"At most the {SOFTMAX_VOCABULARY:,} most frequent words, sample=0, so every in-vocabulary "
        "token is one softmax step (Skip-Gram shares one softmax among a centre word's "
        "context words). A step costs at least a forward U h and a backward pass over U, so "
        "steps/s <= 1 / (2 t_matvec), t_matvec = one single-threaded BLAS np.dot(U, h), "
        "U (vocabulary, 100) float32, measured in each repeat (an optimistic bound: the "
        f"backward pass also writes U). Medians of {args.repeats} repeats.",
        "",
        *softmax_table,
        "",
    ])
    print(report)
    write_report(RESULTS, report)


if __name__ == "__main__":
    main()

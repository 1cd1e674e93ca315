"""Word-vector quality of w2v_scratch against gensim: same corpus, same settings, 3 seeds.

For each mode (Skip-Gram / CBOW x negative sampling / hierarchical softmax) and each seed,
both libraries train on the whole shared corpus (english-17M.txt.gz, text8 format, cut
into sentences of 10,000 tokens by both) with identical settings: vector_size=100,
window=5, min_count=5, sample=1e-3, negative=5 (NS) or hs=1 (HS), alpha 0.025 -> 0.0001
(gensim's default; word2vec.c uses 0.05 for CBOW), 5 epochs, ``--workers`` threads.
Each model is scored on

- analogy accuracy: Google's questions-words.txt, 3CosAdd, ``restrict_vocab=30000``
  (gensim's ``evaluate_word_analogies``; ours has the same method and rules);
- WordSim-353 and SimLex-999: Spearman rho between the cosine of each pair and the human
  score (gensim's bundled ``wordsim353.tsv`` and ``simlex999.txt``, pairs with an unknown
  word skipped by both).

The table gives mean ± sample standard deviation over the seeds and the difference
ours - gensim of the means; the target (issue #4) is every mode within 1 point of
analogy accuracy and 0.015 of each Spearman rho, or better. With workers > 1 neither
library is bit-reproducible (Hogwild threads), so the seeds sample that noise too.

Every finished run is appended to benchmarks/results/w2v_quality.json (written
atomically), so an interrupted benchmark resumes where it stopped with ``--resume`` (``--resume
--table-only`` rewrites the table from the runs saved so far).

    W2VX_HOME=../shared python benchmarks/w2v_quality.py [--seeds 1 2 3] [--workers 2]

Prints a markdown table and writes it, with the machine description, to
benchmarks/results/w2v_quality.md.
"""

import argparse
import json
import os
import shlex
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import gensim
from _report import code_revision, machine_description, write_report
from gensim.models.word2vec import LineSentence
from gensim.test.utils import datapath

from w2v_scratch import Word2Vec

RESULTS = Path(__file__).parent / "results"
SETTINGS = dict(vector_size=100, window=5, min_count=5, sample=1e-3, alpha=0.025,
                min_alpha=0.0001, epochs=5)
MODES = [("SG", 1, "negative"), ("CBOW", 0, "negative"),
         ("SG", 1, "hierarchical"), ("CBOW", 0, "hierarchical")]
METRICS = {"analogy": (100.0, 1.0, "{:.2f}"),  # (scale, tolerance, format)
           "ws353": (1.0, 0.015, "{:.3f}"),
           "simlex": (1.0, 0.015, "{:.3f}")}


def default_corpus():
    home = os.environ.get("W2VX_HOME")
    if not home:
        sys.exit("Set W2VX_HOME to the folder holding data/ (or pass --corpus).")
    return Path(home) / "data" / "text" / "english-17M.txt.gz"


def scores(kv):
    """Analogy accuracy (%) and the two Spearman rhos of one set of word vectors."""
    analogy, _ = kv.evaluate_word_analogies(datapath("questions-words.txt"),
                                            restrict_vocab=30000)
    return {"analogy": 100.0 * analogy,
            "ws353": float(kv.evaluate_word_pairs(datapath("wordsim353.tsv"))[1][0]),
            "simlex": float(kv.evaluate_word_pairs(datapath("simlex999.txt"))[1][0])}


def train_ours(corpus, sg, loss, seed, workers):
    start = time.perf_counter()
    model = Word2Vec(sg=sg, loss=loss, negative=5, seed=seed, workers=workers,
                     progress=False, **SETTINGS).fit(corpus)
    return model.wv, time.perf_counter() - start


def train_gensim(corpus, sg, loss, seed, workers):
    hs = loss == "hierarchical"
    start = time.perf_counter()
    model = gensim.models.Word2Vec(LineSentence(str(corpus)), sg=sg, hs=int(hs),
                                   negative=0 if hs else 5, seed=seed, workers=workers,
                                   **SETTINGS)
    return model.wv, time.perf_counter() - start


def run_key(library, mode, seed):
    return f"{library}|{mode}|{seed}"


def measure(corpus, seeds, workers, runs, save):
    """Train and score every (seed, mode, library) not yet in ``runs``; save after each."""
    for seed in seeds:
        for name, sg, loss in MODES:
            mode = f"{name} {loss}"
            for library, train in (("ours", train_ours), ("gensim", train_gensim)):
                key = run_key(library, mode, seed)
                if key in runs:
                    continue
                kv, seconds = train(corpus, sg, loss, seed, workers)
                runs[key] = dict(scores(kv), seconds=seconds, vocabulary=len(kv))
                print(f"seed {seed}, {mode}, {library}: " + ", ".join(
                    f"{k} {v:.3f}" for k, v in runs[key].items()), flush=True)
                save(runs)


def summary_rows(runs, seeds):
    """Per mode and metric: (mode, metric, ours values, gensim values)."""
    for name, _, loss in MODES:
        mode = f"{name} {loss}"
        for metric in METRICS:
            values = {library: [runs[run_key(library, mode, seed)][metric] for seed in seeds
                                if run_key(library, mode, seed) in runs]
                      for library in ("ours", "gensim")}
            if values["ours"] and values["gensim"]:
                yield mode, metric, values["ours"], values["gensim"]


def mean_sd(values, form):
    if len(values) == 1:
        return form.format(values[0])
    return f"{form.format(statistics.mean(values))} ± {form.format(statistics.stdev(values))}"


def report(runs, seeds, args, started, description):
    table = ["| mode | metric | ours (mean ± sd) | gensim (mean ± sd) | ours − gensim | target |",
             "| --- | --- | ---: | ---: | ---: | --- |"]
    missed = []
    for mode, metric, ours, theirs in summary_rows(runs, seeds):
        _, tolerance, form = METRICS[metric]
        difference = statistics.mean(ours) - statistics.mean(theirs)
        met = difference >= -tolerance
        if not met:
            missed.append(f"{mode} {metric}")
        table.append(f"| {mode} | {metric} (n={len(ours)}) | {mean_sd(ours, form)} "
                     f"| {mean_sd(theirs, form)} | {difference:+.3f} "
                     f"| {'met' if met else 'MISSED'} (≥ −{tolerance:g}) |")
    times = ["| mode | ours s | gensim s |",
             "| --- | ---: | ---: |"]
    for name, _, loss in MODES:
        mode = f"{name} {loss}"
        seconds = {library: [runs[k]["seconds"] for seed in seeds
                             if (k := run_key(library, mode, seed)) in runs]
                   for library in ("ours", "gensim")}
        if seconds["ours"] and seconds["gensim"]:
            times.append(f"| {mode} | {statistics.median(seconds['ours']):.0f} "
                         f"| {statistics.median(seconds['gensim']):.0f} |")
    verdict = ("Target met in every mode and metric." if not missed
               else f"Target missed in: {', '.join(missed)}.")
    return "\n".join([
        "# word2vec quality: w2v_scratch against gensim (same corpus, same settings)",
        "",
        f"{started:%Y-%m-%d %H:%M} UTC. {description}.",
        f"Command: `{shlex.join(['python', *sys.argv])}`.",
        "",
        f"Corpus {args.corpus.name} (all of it), "
        f"{', '.join(f'{k}={v}' for k, v in SETTINGS.items())}, negative=5 (NS) or hs=1 (HS), "
        f"workers={args.workers}, seeds {', '.join(map(str, seeds))}. Analogy: % of "
        "questions-words.txt answered (restrict_vocab=30000); ws353 / simlex: Spearman rho. "
        "Target (issue #4): ours − gensim ≥ −1 point (analogy), ≥ −0.015 (rho).",
        "",
        *table,
        "",
        verdict,
        "",
        "Wall time of reading the corpus, building the vocabulary and training (medians; not a "
        "speed benchmark — that is w2v_vs_gensim.py — as it includes whatever else ran on the "
        "machine meanwhile):",
        "",
        *times,
        "",
    ])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--resume", action="store_true",
                        help="keep the runs (and start time) already in results/w2v_quality.json")
    parser.add_argument("--table-only", action="store_true",
                        help="with --resume: rewrite the table from the saved runs, train nothing")
    args = parser.parse_args()
    args.corpus = args.corpus or default_corpus()

    raw = RESULTS / "w2v_quality.json"
    saved = json.loads(raw.read_text()) if args.resume and raw.exists() else {}
    runs = saved.get("runs", {})
    started = (datetime.fromisoformat(saved["started"]) if "started" in saved
               else datetime.now(timezone.utc))
    description = saved.get("description") or (
        f"{machine_description(gensim=gensim.__version__)}; code measured: "
        f"{code_revision('w2v_scratch')}")

    def save(runs):
        write_report(raw, json.dumps({"settings": SETTINGS, "workers": args.workers,
                                      "started": started.isoformat(),
                                      "description": description, "runs": runs}, indent=1))
        write_report(RESULTS / "w2v_quality.md",
                     report(runs, args.seeds, args, started, description))

    if not args.table_only:
        measure(args.corpus, args.seeds, args.workers, runs, save)
    save(runs)  # also rewrites the table of a finished --resume
    print(report(runs, args.seeds, args, started, description))


if __name__ == "__main__":
    main()

"""Flickr8k retrieval results, all measured in one run with the demo's data and settings.

Rows, each on the 1,000 test images / 5,000 captions with the regularization chosen on dev
(the ridge alpha or CCA's lambda, whichever the alignment has):

- word vectors: random vectors (same vocabulary), gensim trained with the same settings
  on the same sentences, ours (w2v_scratch), all with the demo's retriever
  (``DemoSettings().retriever_parameters()``: shared CCA space fitted on every
  (caption, image) pair, mean pooling, inverted softmax beta = 10 with the test split
  as reference queries; L2-normalised images);
- scoring: CSLS k = 10 (test or dev references), plain cosine, inverted softmax with
  dev references; training on (mean caption, image) pairs instead of every caption;
- pooling: SIF instead of mean; image features Hellinger (sqrt, then L2) or raw;
- mapping direction (text -> image ridge, image -> text ridge), each with plain cosine
  and with CSLS (k = 10); CCA with the correlation power 4 of Gong et al.

    W2VX_HOME=/work/shared python benchmarks/retrieval_table.py [--fast] [--cache DIR]

Word vectors and image features come from (and go to) the demo's cache. Prints a
markdown table and writes it to benchmarks/results/retrieval_table.md (``--fast``: a
slice of everything, to check that the script runs; written to ``--output`` only).
"""

import argparse
import platform
import time
from dataclasses import asdict, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from _report import write_report

from retrieval.app.cache import cache_dir, load_or_train_word_vectors
from retrieval.app.demo import (
    image_features,
    load_splits,
    log,
    training_sentences,
    word_vector_settings,
    word_vectors,
)
from retrieval.app.report import klein_rows, results_table
from retrieval.app.settings import FAST, DemoSettings
from retrieval.metrics import k_occurrence, skewness
from retrieval.retriever import CrossModalRetriever
from w2v_scratch import KeyedVectors

RESULTS = Path(__file__).parent / "results" / "retrieval_table.md"
CSLS_K = 10


class RestartableSentences:
    """The demo's training sentences, re-read on every pass (gensim makes several)."""

    def __init__(self, settings, captions):
        self.settings, self.captions = settings, captions

    def __iter__(self):
        return training_sentences(self.settings, self.captions)


def gensim_word_vectors(settings, captions, cache):
    """gensim's Word2Vec with our settings on the same sentences, as our KeyedVectors."""

    def train():
        from gensim.models import Word2Vec as GensimWord2Vec

        log("training gensim word vectors")
        model = GensimWord2Vec(
            RestartableSentences(settings, captions), vector_size=settings.vector_size,
            window=settings.window, min_count=settings.min_count, sg=settings.sg,
            hs=int(settings.loss == "hierarchical"), negative=settings.negative,
            sample=settings.sample, epochs=settings.epochs, seed=settings.seed,
            workers=settings.workers,
        )
        counts = [model.wv.get_vecattr(word, "count") for word in model.wv.index_to_key]
        return KeyedVectors(model.wv.vectors, list(model.wv.index_to_key), counts=counts)

    key = {**word_vector_settings(settings, captions), "trainer": "gensim"}
    kv, _, _ = load_or_train_word_vectors(cache, key, train)
    return kv


def random_word_vectors(kv, seed=0):
    """Gaussian vectors for the same words (and counts): the no-semantics baseline."""
    vectors = np.random.default_rng(seed).normal(size=kv.vectors.shape).astype(np.float32)
    return KeyedVectors(vectors, list(kv.index_to_key), counts=kv.counts)


def hub_occurrence(scores, k=10):
    """Hubness of the items ranked by ``scores`` (n_queries, n_items), after Radovanovic
    et al. (2010): the skewness of the k-occurrence ``N_k`` (:func:`k_occurrence`: how
    many queries have each item in their top ``k``; 0: no hubs, large: a few items are
    in almost every result list) and the largest ``N_k`` (the biggest hub).

    Returns
    -------
    skewness : float
    largest : int
    """
    occurrences = k_occurrence(scores, k)  # (n_items,)
    return skewness(occurrences), int(occurrences.max())


def measure(name, kv, splits, features, settings, **changes):
    """Fit on train (regularization on dev) and evaluate on test; add the hubness of both
    directions. The retriever has the settings' parameters, with ``changes`` applied."""
    started = time.perf_counter()
    parameters = {**settings.retriever_parameters(), **changes}
    retriever = CrossModalRetriever(kv, **parameters).fit(
        splits["train"], features["train"], eval_set=(splits["dev"], features["dev"])
    )
    test, test_features = splits["test"], features["test"]
    image_query_scores, caption_query_scores = retriever.score_matrices(test, test_features)
    metrics = retriever.evaluate(test, test_features)
    metrics["hubness"] = {
        "captions": hub_occurrence(image_query_scores),  # captions as items of image queries
        "images": hub_occurrence(caption_query_scores.T),  # images as items of captions
    }
    log(f"{name}: regularization {retriever.regularization_:.3g},"
        f" {time.perf_counter() - started:.0f} s")
    return name, metrics


def hubness_table(rows):
    """Skewness and largest N_10 of the items of both directions, one line per row."""
    lines = ["| method | i->t: caption N10 skew | max N10 | t->i: image N10 skew | max N10 |",
             "|---|---|---|---|---|"]
    for name, metrics in rows:
        (caption_skew, caption_max), (image_skew, image_max) = (
            metrics["hubness"]["captions"], metrics["hubness"]["images"])
        lines.append(f"| {name} | {caption_skew:.2f} | {caption_max} | {image_skew:.2f} |"
                     f" {image_max} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fast", action="store_true", help="a slice of everything")
    parser.add_argument("--cache", help="cache folder (default: the demo's)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    settings = DemoSettings()
    if args.fast:
        settings = replace(settings, **FAST)
    cache = cache_dir(args.cache)
    started = time.perf_counter()
    splits, captions = load_splits(settings)
    ours, _, _ = word_vectors(settings, captions, cache)
    features = image_features(splits, cache)
    vectors = {
        "random": random_word_vectors(ours),
        "gensim": gensim_word_vectors(settings, captions, cache),
        "ours": ours,
    }

    def row(name, kv, **changes):  # one row: these splits, features and settings
        return measure(name, kv, splits, features, settings, **changes)

    default = "shared (CCA), caption pairs, mean, inverted softmax"  # the settings' retriever
    rows = [row(f"{source} word vectors; {default}", kv) for source, kv in vectors.items()]
    rows.append(row("ours; inverted softmax, dev references", ours, reference="dev"))
    rows.append(row(f"ours; CSLS k={CSLS_K}", ours, scoring="csls"))
    rows.append(row(f"ours; CSLS k={CSLS_K}, dev references", ours, scoring="csls",
                    reference="dev"))
    rows.append(row("ours; cosine", ours, scoring="cosine"))
    rows.append(row(f"ours; mean-caption pairs, CSLS k={CSLS_K}, dev references (before"
                    " issue #6)", ours, training_pairs="image", scoring="csls",
                    reference="dev"))
    rows.append(row("ours; SIF pooling", ours, pooling="sif"))
    for preprocessing in ("hellinger", "none"):
        rows.append(row(f"ours; image features {preprocessing} (not l2)", ours,
                        image_preprocessing=preprocessing))
    for direction in ("text_to_image", "image_to_text"):
        for scoring in ("cosine", "csls"):
            name = f"ours; {direction}" + (f", CSLS k={CSLS_K}" if scoring == "csls"
                                           else ", cosine")
            rows.append(row(name, ours, direction=direction, scoring=scoring, csls_k=CSLS_K))
    rows.append(row("ours; CCA power 4 (Gong et al.)", ours, cca_power=4.0))
    test = splits["test"]
    table = results_table(rows + klein_rows())
    report = "\n".join([
        "# Flickr8k retrieval: word vectors, pairs, scoring, pooling, mapping direction",
        "",
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.machine()},"
        f" one run, {time.perf_counter() - started:.0f} s in all (shared CPU: noisy)."
        f" Evaluation: {test.name}, {len(test)} images, {len(test.captions)} captions;"
        f" regularization chosen on dev ({len(splits['dev'])} images) for every row.",
        f"Settings: {asdict(settings)}.",
        "",
        table,
        "",
        "Hubness of the items (k = 10; 5,000 caption queries over 1,000 images, 1,000 image"
        " queries over 5,000 captions; skewness 0 = no hubs):",
        "",
        hubness_table(rows),
        "",
    ])
    print(report)
    if args.fast and args.output == RESULTS:
        log("--fast: not overwriting the full results (give --output to keep them)")
        return
    write_report(args.output, report)


if __name__ == "__main__":
    main()

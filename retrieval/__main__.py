"""Command line: ``python -m retrieval demo`` and ``python -m retrieval search``.

    python -m retrieval demo [--fast] [--cache DIR] [--out DIR] [--json PATH]
                             [--direction shared] [--pooling mean]
                             [--scoring inverted_softmax] [--beta 10] [--csls-k 10]
                             [--reference split] [--pairs caption]
    python -m retrieval search "a dog runs on the beach" [-k 5] [--out grid.png]
    python -m retrieval search --image photo.jpg [-k 5] [--out grid.png]

``demo`` trains (or loads) word vectors on the shared corpus plus the Flickr8k training
captions, extracts (or loads) ResNet-50 features of the train/dev/test images, fits the
retriever on train with alpha chosen on dev, evaluates on test, prints the table beside
Klein et al. (2015), saves result grids under ``--out`` and stores the fitted model for
``search``. ``--fast`` (or ``W2VX_FAST=1``) uses a slice of everything (CI, notebooks).
Errors in the input (unknown words, missing files, bad features) exit with status 2
and one line on stderr.
"""

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

from retrieval.cache import cache_dir, load_retriever, save_retriever
from retrieval.demo import (
    FAST,
    DemoSettings,
    image_features,
    klein_rows,
    load_splits,
    log,
    results_table,
    word_vectors,
)
from retrieval.pipeline import CrossModalRetriever
from retrieval.plots import caption_query_grid, image_query_grid, save_png
from vision.atomic import atomic_write
from vision.errors import ImageReadError
from vision.model import default_thread_count

GRID_QUERIES = (0, 500)  # test images whose first caption and whose image are queries


def run_demo(args):
    started = time.perf_counter()
    fast = args.fast or os.environ.get("W2VX_FAST") == "1"
    settings = DemoSettings(workers=max(1, min(2, default_thread_count())))
    if fast:
        settings = replace(settings, **FAST)
    cache = cache_dir(args.cache)
    splits, training_captions = load_splits(settings, eval_split=args.split)
    kv, kv_path, cached = word_vectors(settings, training_captions, cache, not args.no_progress)
    log(f"word vectors: {len(kv)} words x {kv.vector_size} ({'cached' if cached else 'trained'}:"
        f" {kv_path})")
    features = image_features(splits, cache, progress=not args.no_progress)

    log(f"fitting the {args.direction} map on train, choosing alpha on dev")
    retriever = CrossModalRetriever(
        kv, direction=args.direction, pooling=args.pooling, scoring=args.scoring,
        csls_k=args.csls_k, beta=args.beta, reference=args.reference,
        training_pairs=args.pairs,
    ).fit(splits["train"], features["train"], eval_set=(splits["dev"], features["dev"]))
    metrics = retriever.evaluate(splits["test"], features["test"])
    retriever.index(splits["test"], features["test"])
    save_retriever(retriever, cache, kv_path, extra={"metrics": metrics})
    save_grids(retriever, splits["test"], features["test"], Path(args.out))

    config = {
        **asdict(settings), "fast": fast, "direction": args.direction, "pooling": args.pooling,
        "scoring": args.scoring, "csls_k": args.csls_k, "beta": args.beta,
        "reference": args.reference, "training_pairs": args.pairs, "alpha": retriever.alpha_,
        "eval_split": splits["test"].name,
        "seconds": round(time.perf_counter() - started, 1),
    }
    test = splits["test"]
    print(f"Flickr8k {test.name}: {len(test)} images, {len(test.captions)} captions;"
          f" direction={args.direction}, pooling={args.pooling}, pairs={args.pairs},"
          f" scoring={args.scoring} (beta={args.beta:g}, csls_k={args.csls_k},"
          f" reference={args.reference}),"
          f" alpha={retriever.alpha_:.3g} (chosen on dev); {config['seconds']} s\n")
    print(results_table([("this run (w2v_scratch + ResNet-50)", metrics), *klein_rows()]))
    if args.json:
        report = {**{d: {k: round(v, 2) for k, v in m.items()} for d, m in metrics.items()},
                  "config": config}
        text = json.dumps(report, indent=1).encode("utf-8")
        atomic_write(args.json, lambda file: file.write(text))
    return 0


def save_grids(retriever, split, features, out):
    """For a few test images: their first caption as a query, and the image as a query."""
    out.mkdir(parents=True, exist_ok=True)
    for image in (i for i in GRID_QUERIES if i < len(split)):
        caption = split.captions[int(split.caption_image.searchsorted(image))]
        own = {str(split.image_paths[image])}
        figure = caption_query_grid(caption, retriever.search_images(caption, 5), own)
        save_png(figure, out / f"text_to_image_{image:04d}.png")
        results = retriever.search_captions(features[image], 5)
        figure = image_query_grid(split.image_paths[image], results, relevant_image=image)
        save_png(figure, out / f"image_to_text_{image:04d}.png")
    log(f"result grids: {out}/")


def run_search(args):
    if (args.query is None) == (args.image is None):
        raise ValueError("give a text query or --image PATH (one of them)")
    retriever, _ = load_retriever(cache_dir(args.cache))
    if args.image is not None:
        from vision import ImageEncoder

        features = ImageEncoder(progress=False).encode([args.image])  # (1, 2048)
        results = retriever.search_captions(features[0], args.k)
        for rank, (caption, image, score) in enumerate(results, start=1):
            print(f"{rank}. {score:.3f}  {caption}  [{retriever.gallery_.image_paths[image]}]")
        figure = image_query_grid(args.image, results) if args.out else None
    else:
        results = retriever.search_images(args.query, args.k)
        _, report = retriever.sentence_encoder_.encode([args.query], return_report=True)
        if report.unknown_words:
            log(f"note: words without a vector were ignored: {sorted(report.unknown_words)}")
        for rank, (path, score) in enumerate(results, start=1):
            print(f"{rank}. {score:.3f}  {path}")
        figure = caption_query_grid(args.query, results) if args.out else None
    if figure is not None:
        save_png(figure, args.out)
        log(f"wrote {args.out}")
    return 0


def build_parser():
    """The argparse parser of ``python -m retrieval``."""
    cache = argparse.ArgumentParser(add_help=False)
    cache.add_argument("--cache", help="cache folder (default: W2VX_CACHE or"
                       " ~/.cache/w2v-crossmodal)")
    parser = argparse.ArgumentParser(
        prog="python -m retrieval",
        description="word2vec + ResNet-50 cross-modal retrieval on Flickr8k.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", parents=[cache],
                               help="train, fit, evaluate on Flickr8k, save result grids")
    demo.add_argument("--fast", action="store_true", help="small slice (also W2VX_FAST=1)")
    demo.add_argument("--out", default="runs/demo", help="folder for the PNG result grids")
    demo.add_argument("--json", help="write the metrics and settings to this JSON file")
    demo.add_argument("--direction", default="shared",
                      choices=("shared", "text_to_image", "image_to_text"))
    demo.add_argument("--pooling", default="mean", choices=("mean", "sif"))
    demo.add_argument("--scoring", default="inverted_softmax",
                      choices=("inverted_softmax", "csls", "cosine"),
                      help="hubness correction of the ranking (default inverted_softmax)")
    demo.add_argument("--beta", type=float, default=10.0,
                      help="inverse temperature of the inverted softmax (default 10)")
    demo.add_argument("--csls-k", type=int, default=10,
                      help="CSLS neighbourhood with --scoring csls (default 10)")
    demo.add_argument("--reference", default="split", choices=("split", "dev"),
                      help="reference queries of the penalties: the evaluated split's other"
                      " modality (default) or the dev split")
    demo.add_argument("--pairs", default="caption", choices=("caption", "image"),
                      help="training pairs: every caption with its image (default), or the"
                      " mean caption of each image")
    demo.add_argument("--split", default="test", help="evaluation split (default test)")
    demo.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    search = commands.add_parser("search", parents=[cache],
                                 help="query the model fitted by the last demo run")
    search.add_argument("query", nargs="?", help="a caption-like text query")
    search.add_argument("--image", help="an image file to find captions for")
    search.add_argument("-k", type=int, default=5, help="how many results")
    search.add_argument("--out", help="save the results as a PNG grid")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return run_demo(args) if args.command == "demo" else run_search(args)
    except (ValueError, FileNotFoundError, ImageReadError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

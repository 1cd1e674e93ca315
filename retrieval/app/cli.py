"""Command line: ``python -m retrieval demo`` and ``python -m retrieval search``.

    python -m retrieval demo [--fast] [--cache DIR] [--out DIR] [--json PATH]
                             [--direction shared] [--pooling mean]
                             [--scoring inverted_softmax] [--beta 10] [--csls-k 10]
                             [--reference split] [--pairs caption]
    python -m retrieval search "a dog runs on the beach" [-k 5] [--out grid.png]
    python -m retrieval search --image photo.jpg [-k 5] [--out grid.png]

``demo`` trains (or loads) word vectors on the shared corpus plus the Flickr8k training
captions, extracts (or loads) ResNet-50 features of the train/dev/test images, fits the
retriever on train with the regularization chosen on dev, evaluates on test, prints the
table beside Klein et al. (2015), saves result grids under ``--out`` and stores the
fitted model for ``search``. ``--fast`` (or ``W2VX_FAST=1``) uses a slice of everything
(CI, notebooks). Errors in the input (unknown words, missing files, bad features) exit
with status 2 and one line on stderr.
"""

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, fields, replace
from pathlib import Path

from retrieval.alignment import DIRECTIONS, TRAINING_PAIRS
from retrieval.app.cache import cache_dir, load_demo_retriever, model_dir
from retrieval.app.demo import image_features, load_splits, log, word_vectors
from retrieval.app.report import klein_rows, results_table
from retrieval.app.settings import FAST, RETRIEVER_PARAMETERS, DemoSettings
from retrieval.plots import caption_query_grid, image_query_grid, save_png
from retrieval.retriever import REFERENCES, CrossModalRetriever
from retrieval.scoring import SCORINGS
from retrieval.sentences import POOLINGS
from vision.atomic import atomic_write
from vision.errors import ImageReadError
from vision.model import default_thread_count

GRID_QUERIES = (0, 500)  # test images whose first caption and whose image are queries


def run_demo(args):
    started = time.perf_counter()
    fast = args.fast or os.environ.get("W2VX_FAST") == "1"
    settings = DemoSettings(workers=max(1, min(2, default_thread_count())),
                            **{name: getattr(args, name) for name in RETRIEVER_PARAMETERS})
    if fast:
        settings = replace(settings, **FAST)
    cache = cache_dir(args.cache)
    splits, training_captions = load_splits(settings, eval_split=args.split)
    kv, kv_path, cached = word_vectors(settings, training_captions, cache, not args.no_progress)
    log(f"word vectors: {len(kv)} words x {kv.vector_size} ({'cached' if cached else 'trained'}:"
        f" {kv_path})")
    features = image_features(splits, cache, progress=not args.no_progress)

    log(f"fitting the {settings.direction} map on train, choosing the regularization on dev")
    retriever = CrossModalRetriever(kv, **settings.retriever_parameters()).fit(
        splits["train"], features["train"], eval_set=(splits["dev"], features["dev"]))
    metrics = retriever.evaluate(splits["test"], features["test"])
    retriever.index(splits["test"], features["test"])
    retriever.save(model_dir(cache), word_vectors_path=kv_path)
    save_grids(retriever, splits["test"], features["test"], Path(args.out))

    test = splits["test"]
    config = {**asdict(settings), "fast": fast, "regularization": retriever.regularization_,
              "eval_split": test.name, "seconds": round(time.perf_counter() - started, 1)}
    print(f"Flickr8k {test.name}: {len(test)} images, {len(test.captions)} captions;"
          f" direction={settings.direction}, pooling={settings.pooling},"
          f" pairs={settings.training_pairs}, scoring={settings.scoring}"
          f" (beta={settings.beta:g}, csls_k={settings.csls_k},"
          f" reference={settings.reference}),"
          f" regularization={retriever.regularization_:.3g} (chosen on dev);"
          f" {config['seconds']} s\n")
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
    retriever = load_demo_retriever(cache_dir(args.cache))
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
    """The argparse parser of ``python -m retrieval``; defaults from :class:`DemoSettings`."""
    defaults = {field.name: field.default for field in fields(DemoSettings)}
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
    demo.add_argument("--direction", default=defaults["direction"], choices=DIRECTIONS)
    demo.add_argument("--pooling", default=defaults["pooling"], choices=POOLINGS)
    demo.add_argument("--scoring", default=defaults["scoring"], choices=SCORINGS,
                      help=f"hubness correction of the ranking (default {defaults['scoring']})")
    demo.add_argument("--beta", type=float, default=defaults["beta"],
                      help="inverse temperature of the inverted softmax"
                      f" (default {defaults['beta']:g})")
    demo.add_argument("--csls-k", type=int, default=defaults["csls_k"],
                      help=f"CSLS neighbourhood with --scoring csls (default {defaults['csls_k']})")
    demo.add_argument("--reference", default=defaults["reference"], choices=REFERENCES,
                      help="reference queries of the penalties: the evaluated split's other"
                      " modality (split) or the dev split (dev)")
    demo.add_argument("--pairs", dest="training_pairs", default=defaults["training_pairs"],
                      choices=TRAINING_PAIRS,
                      help="training pairs: every caption with its image (caption), or the"
                      " mean caption of each image (image)")
    demo.add_argument("--split", default="test", help="evaluation split (default test)")
    demo.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    demo.set_defaults(run=run_demo)
    search = commands.add_parser("search", parents=[cache],
                                 help="query the model fitted by the last demo run")
    search.add_argument("query", nargs="?", help="a caption-like text query")
    search.add_argument("--image", help="an image file to find captions for")
    search.add_argument("-k", type=int, default=5, help="how many results")
    search.add_argument("--out", help="save the results as a PNG grid")
    search.set_defaults(run=run_search)
    return parser


def main(argv=None):
    """Run the command line; returns the exit status (0 ok, 2 error in the input)."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, FileNotFoundError, ImageReadError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

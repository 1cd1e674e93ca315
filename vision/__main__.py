"""Command line: ``python -m vision extract ...`` and ``python -m vision classify ...``.

    python -m vision extract IMAGES_DIR_OR_LIST --out features.npz [--cache DIR]
    python -m vision classify IMAGE [IMAGE ...] [--topk 5]

Both take --model, --feature-output, --batch-size, --threads and --no-progress.

``extract`` takes a folder (its image files, in name order) or a text file with one
image path per line (relative paths are relative to the list file's folder). It writes
an ``.npz`` with ``features`` (float32, N x 2048) and ``paths`` (N strings), atomically.
With ``--cache``, it then prunes the cache's chunks that no image uses any more.
Unreadable images are left out and listed on stderr; the exit status is then 1.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

from .atomic import atomic_write
from .cache import FeatureCache
from .decode import IMAGE_SUFFIXES
from .encoder import ImageEncoder
from .model import load_model


def image_paths(source):
    """The images of a folder (name order) or of a list file (one path a line)."""
    source = Path(source)
    if source.is_dir():
        return [str(p) for p in sorted(source.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES]
    lines = source.read_text(encoding="utf-8").splitlines()
    return [str(source.parent / line.strip()) for line in lines if line.strip()]


def _report(failures):
    for path, error in failures.items():
        print(f"failed: {path}: {getattr(error, 'cause', error)}", file=sys.stderr)
    if failures:
        print(f"{len(failures)} image(s) could not be read", file=sys.stderr)
    return 1 if failures else 0


def _extract(encoder, args):
    paths = image_paths(args.images)
    cache = FeatureCache(args.cache) if args.cache else None
    features, failures = encoder.encode(paths, on_error="skip", cache=cache)
    kept = np.array([p for p in paths if p not in failures], dtype=str)  # (N,) unicode, no pickle
    atomic_write(args.out, lambda file: np.savez(file, features=features, paths=kept))
    print(f"wrote {args.out}: features {features.shape}", file=sys.stderr)
    if cache is not None and (pruned := cache.prune()).chunks:
        print(pruned, file=sys.stderr)
    return _report(failures)


def _classify(encoder, args):
    predictions, failures = encoder.classify(args.images, topk=args.topk, on_error="skip")
    readable = [p for p in args.images if p not in failures]
    for path, guesses in zip(readable, predictions, strict=True):
        print(path)
        for guess in guesses:
            print(f"  {guess.probability:6.3f}  {guess.label} ({guess.index})")
    return _report(failures)


def build_parser():
    """The argparse parser of ``python -m vision``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--model", help="ONNX model file (default: W2VX_MODEL, W2VX_HOME, cache)")
    common.add_argument("--feature-output", default="features", help="name of the 2048-d output")
    common.add_argument("--batch-size", type=int, default=32)
    common.add_argument("--threads", type=int, help="onnxruntime intra-op threads")
    common.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser = argparse.ArgumentParser(
        prog="python -m vision",
        description="ResNet-50 image features and ImageNet classes (COMMAND --help for more).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    extract = commands.add_parser(
        "extract", parents=[common], help="features of many images into an .npz"
    )
    extract.add_argument("images", help="a folder of images or a text file of image paths")
    extract.add_argument("--out", required=True, help="the .npz to write")
    extract.add_argument("--cache", help="a FeatureCache folder, to resume interrupted runs")
    extract.set_defaults(run=_extract)
    classify = commands.add_parser("classify", parents=[common], help="top ImageNet classes")
    classify.add_argument("images", nargs="+")
    classify.add_argument("--topk", type=int, default=5)
    classify.set_defaults(run=_classify)
    return parser


def main(argv=None):
    """Run the command line; returns the exit status (0 ok, 1 some images failed, 2 error)."""
    args = build_parser().parse_args(argv)
    try:
        model = load_model(
            args.model, feature_output=args.feature_output, intra_op_threads=args.threads
        )
        encoder = ImageEncoder(model, batch_size=args.batch_size, progress=not args.no_progress)
        return args.run(encoder, args)
    except (OSError, ValueError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""Command line: ``python -m w2v_scratch train|neighbors|analogy|evaluate|demo``.

Examples::

    python -m w2v_scratch train corpus.txt.gz --out vectors.bin --binary --sg --epochs 5
    python -m w2v_scratch neighbors vectors.bin king queen -k 5
    python -m w2v_scratch analogy vectors.bin man king woman      # man : king :: woman : ?
    python -m w2v_scratch evaluate vectors.bin --pairs wordsim353.tsv
    python -m w2v_scratch demo                 # trains on $W2VX_HOME's corpus, prints results
"""

import argparse
import os
import sys
from importlib import resources
from pathlib import Path

from .keyedvectors import KeyedVectors
from .word2vec import LOSSES, Word2Vec

DEMO_WORDS = ("king", "france", "computer", "dog", "beach", "music")


def bundled_analogies():
    """Path of Google's questions-words.txt shipped with the package."""
    return resources.files("w2v_scratch") / "data" / "questions-words.txt"


def load_vectors(path):
    """Load vectors by file name: ``.npz`` (our format), ``.bin`` (binary word2vec), else text."""
    path = Path(path)
    if path.suffix == ".npz":
        return KeyedVectors.load(path)
    binary = path.suffix == ".bin" or path.name.endswith(".bin.gz")
    return KeyedVectors.load_word2vec_format(path, binary=binary)


def save_vectors(kv, path):
    """Save by file name, as :func:`load_vectors` reads."""
    path = Path(path)
    if path.suffix == ".npz":
        kv.save(path)
    else:
        kv.save_word2vec_format(path, binary=path.suffix == ".bin"
                                or path.name.endswith(".bin.gz"))


def _add_training_options(parser, epochs=5, workers=1):
    group = parser.add_argument_group("training")
    group.add_argument("--sg", action="store_true", help="Skip-Gram (default: CBOW)")
    group.add_argument("--loss", choices=LOSSES, default="negative")
    group.add_argument("--vector-size", type=int, default=100)
    group.add_argument("--window", type=int, default=5)
    group.add_argument("--min-count", type=int, default=5)
    group.add_argument("--negative", type=int, default=5)
    group.add_argument("--sample", type=float, default=1e-3)
    group.add_argument("--alpha", type=float, default=0.025)
    group.add_argument("--epochs", type=int, default=epochs)
    group.add_argument("--workers", type=int, default=workers)
    group.add_argument("--seed", type=int, default=1)


def _model_from(args):
    return Word2Vec(vector_size=args.vector_size, window=args.window, min_count=args.min_count,
                    sg=int(args.sg), loss=args.loss, negative=args.negative, sample=args.sample,
                    alpha=args.alpha, epochs=args.epochs, seed=args.seed, workers=args.workers,
                    progress=True)


def _print_training_summary(model):
    losses = ", ".join(f"{loss:.4f}" for loss in model.loss_history_)
    print(f"{len(model.wv)} words x {model.wv.vector_size} dims; "
          f"{model.corpus_word_count_:,} corpus tokens; "
          f"vocabulary {model.vocabulary_seconds_:.1f} s; "
          f"training {model.training_seconds_:.1f} s ({model.words_per_second_:,.0f} words/s); "
          f"loss per epoch: {losses}")


def _print_neighbors(kv, words, k):
    for word in words:
        neighbors = ", ".join(f"{w} {s:.3f}" for w, s in kv.most_similar(word, topn=k))
        print(f"{word}: {neighbors}")


def _print_analogy_score(kv, path, restrict_vocab):
    score, sections = kv.evaluate_word_analogies(path, restrict_vocab=restrict_vocab)
    total = sections[-1]
    evaluated = len(total["correct"]) + len(total["incorrect"])
    print(f"analogies ({Path(str(path)).name}, restrict_vocab={restrict_vocab}): "
          f"{100 * score:.2f} % of {evaluated} questions")


def command_train(args):
    model = _model_from(args).fit(args.corpus)
    _print_training_summary(model)
    save_vectors(model.wv, args.out)
    print(f"vectors written to {args.out}")


def command_neighbors(args):
    _print_neighbors(load_vectors(args.vectors), args.words, args.k)


def command_analogy(args):
    kv = load_vectors(args.vectors)
    answers = kv.most_similar(positive=[args.b, args.c], negative=[args.a], topn=args.k)
    print(f"{args.a} : {args.b} :: {args.c} : " + ", ".join(f"{w} ({s:.3f})" for w, s in answers))


def command_evaluate(args):
    kv = load_vectors(args.vectors)
    _print_analogy_score(kv, args.analogies or bundled_analogies(), args.restrict_vocab)
    for path in args.pairs:
        (pearson, _), (spearman, _), oov = kv.evaluate_word_pairs(path)
        print(f"word pairs ({Path(path).name}): Spearman {spearman:.4f}, Pearson {pearson:.4f}, "
              f"{oov:.1f} % pairs out of vocabulary")


def command_demo(args):
    corpus = args.corpus or default_corpus()
    print(f"training on {corpus}")
    model = _model_from(args).fit(corpus)
    _print_training_summary(model)
    _print_neighbors(model.wv, [w for w in DEMO_WORDS if w in model.wv], 8)
    _print_analogy_score(model.wv, bundled_analogies(), 30000)
    if args.out:
        save_vectors(model.wv, args.out)
        print(f"vectors written to {args.out}")


def default_corpus():
    """The shared corpus under ``$W2VX_HOME``, or a clear error saying how to set it."""
    home = os.environ.get("W2VX_HOME")
    if not home:
        raise FileNotFoundError("W2VX_HOME is not set: point it at the folder holding data/ "
                                "and models/ (for example W2VX_HOME=../shared), or pass --corpus")
    return Path(home) / "data" / "text" / "english-17M.txt.gz"


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m w2v_scratch", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train word vectors on a corpus file")
    train.add_argument("corpus", help="text file, plain or gzip (one sentence a line, or text8)")
    train.add_argument("--out", required=True,
                       help="output: .npz, .bin (binary word2vec) or text word2vec")
    _add_training_options(train)
    train.set_defaults(run=command_train)

    neighbors = commands.add_parser("neighbors", help="nearest neighbours by cosine")
    neighbors.add_argument("vectors")
    neighbors.add_argument("words", nargs="+")
    neighbors.add_argument("-k", type=int, default=10)
    neighbors.set_defaults(run=command_neighbors)

    analogy = commands.add_parser("analogy", help="a : b :: c : ? (3CosAdd)")
    analogy.add_argument("vectors")
    analogy.add_argument("a")
    analogy.add_argument("b")
    analogy.add_argument("c")
    analogy.add_argument("-k", type=int, default=5)
    analogy.set_defaults(run=command_analogy)

    evaluate = commands.add_parser("evaluate", help="analogy accuracy and word-pair correlations")
    evaluate.add_argument("vectors")
    evaluate.add_argument("--analogies", help="default: the bundled questions-words.txt")
    evaluate.add_argument("--pairs", nargs="*", default=[], help="word-pair files (e.g. WS353)")
    evaluate.add_argument("--restrict-vocab", type=int, default=30000)
    evaluate.set_defaults(run=command_evaluate)

    demo = commands.add_parser("demo", help="train on the shared corpus and show the results")
    demo.add_argument("--corpus", help="default: $W2VX_HOME/data/text/english-17M.txt.gz")
    demo.add_argument("--out", help="also save the vectors here")
    _add_training_options(demo, workers=os.cpu_count() or 1)
    demo.set_defaults(run=command_demo)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except (ValueError, KeyError, FileNotFoundError, TypeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

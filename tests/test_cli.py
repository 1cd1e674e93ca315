"""The command line, run in-process: files it writes load in gensim, errors are one line."""

import numpy as np
import pytest

from w2v_scratch.__main__ import main


@pytest.fixture()
def corpus_file(tmp_path):
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in rng.zipf(1.5, size=6000) % 300]
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(" ".join(words[i:i + 30]) for i in range(0, 6000, 30)))
    return path


def test_train_writes_vectors_that_gensim_reads(corpus_file, tmp_path, capsys):
    keyed_vectors = pytest.importorskip("gensim.models").KeyedVectors
    out = tmp_path / "vectors.bin"
    assert main(["train", str(corpus_file), "--out", str(out), "--vector-size", "8",
                 "--epochs", "1", "--min-count", "2"]) == 0
    assert "words/s" in capsys.readouterr().out
    theirs = keyed_vectors.load_word2vec_format(str(out), binary=True)
    assert theirs.vector_size == 8 and np.isfinite(theirs.vectors).all()
    top = theirs.index_to_key[0]

    assert main(["neighbors", str(out), top, "-k", "3"]) == 0
    printed = capsys.readouterr().out
    expected = [w for w, _ in theirs.most_similar(top, topn=3)]
    assert printed.startswith(f"{top}: ") and [p.split()[0] for p in
                                               printed.split(": ", 1)[1].split(", ")] == expected


def test_unknown_word_is_a_one_line_error(corpus_file, tmp_path, capsys):
    out = tmp_path / "vectors.txt"
    main(["train", str(corpus_file), "--out", str(out), "--vector-size", "4", "--epochs", "1"])
    capsys.readouterr()
    assert main(["neighbors", str(out), "w1x"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and "w1x" in error and error.count("\n") == 1


def test_bad_corpus_and_parameters_are_reported(tmp_path, capsys):
    assert main(["train", str(tmp_path / "missing.txt"), "--out", str(tmp_path / "v.txt")]) == 2
    assert "missing.txt" in capsys.readouterr().err
    (tmp_path / "c.txt").write_text("a b c\n")
    assert main(["train", str(tmp_path / "c.txt"), "--out", str(tmp_path / "v.txt"),
                 "--window", "0"]) == 2
    assert "window must be an integer >= 1" in capsys.readouterr().err

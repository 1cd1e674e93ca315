"""Corpus reading and the tables built from word counts, against hand computations and gensim."""

import gzip
import heapq

import numpy as np
import pytest

from w2v_scratch.corpus import MAX_SENTENCE_LENGTH, read_corpus
from w2v_scratch.vocabulary import build_vocabulary, huffman_tree, keep_probabilities, noise_table


def _sentences(encoded):
    return [[encoded.words[i] for i in encoded.ids[a:b]]
            for a, b in zip(encoded.bounds[:-1], encoded.bounds[1:])]


def test_lines_are_sentences_and_blank_lines_vanish(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("the cat sat\n\n  on\tthe mat  \nthe end", encoding="utf-8")
    assert _sentences(read_corpus(path)) == [["the", "cat", "sat"], ["on", "the", "mat"],
                                             ["the", "end"]]


def test_text8_line_is_cut_like_gensim(tmp_path):
    """A single 25,003-token line, gzipped, read in 4 MB chunks: same sentences as gensim."""
    gensim_word2vec = pytest.importorskip("gensim.models.word2vec")
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in rng.integers(0, 500, size=2 * MAX_SENTENCE_LENGTH + 5003)]
    path = tmp_path / "text8.gz"
    with gzip.open(path, "wt", encoding="utf-8") as stream:
        stream.write(" ".join(words))
    ours = _sentences(read_corpus(path))
    theirs = list(gensim_word2vec.LineSentence(str(path)))
    assert ours == theirs
    assert [len(s) for s in ours] == [10_000, 10_000, 5003]


def test_a_word_split_across_read_chunks_stays_whole(tmp_path, monkeypatch):
    from w2v_scratch import corpus
    monkeypatch.setattr(corpus, "_CHUNK_BYTES", 7)
    path = tmp_path / "c.txt"
    path.write_text("alphabet soup\nbeta gamma deltaepsilon\nzeta", encoding="utf-8")
    assert _sentences(read_corpus(path)) == [["alphabet", "soup"],
                                             ["beta", "gamma", "deltaepsilon"], ["zeta"]]


def test_non_utf8_bytes_name_the_line_and_offset(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"good line\nsecond line\nbad \xff byte\n")
    with pytest.raises(ValueError, match=r"bad\.txt: line 3, byte offset 26: not valid UTF-8"):
        read_corpus(path)


def test_missing_file_and_string_items_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        read_corpus(tmp_path / "nope.txt")
    with pytest.raises(TypeError, match="corpus item 1 is a str"):
        read_corpus([["ok"], "not a token list"])


def test_vocabulary_order_counts_and_remapping():
    encoded = read_corpus([["b", "a", "c", "a"], ["c", "rare"], ["b", "d"], ["rare"]])
    words, counts, corpus = build_vocabulary(encoded, min_count=2)
    assert words == ["a", "b", "c", "rare"]  # count 2 each: ties alphabetical
    assert counts.tolist() == [2, 2, 2, 2]
    assert _sentences(corpus) == [["b", "a", "c", "a"], ["c", "rare"], ["b"], ["rare"]]
    words, _, corpus = build_vocabulary(encoded, min_count=2, max_vocab_size=2)
    assert words == ["a", "b"]
    assert _sentences(corpus) == [["b", "a", "a"], ["b"]]  # empty sentences dropped


def test_empty_corpus_and_min_count_errors():
    with pytest.raises(ValueError, match="empty"):
        build_vocabulary(read_corpus([]), min_count=1)
    with pytest.raises(ValueError, match="min_count=5.*occurs 2 times"):
        build_vocabulary(read_corpus([["a", "a", "b"]]), min_count=5)


def test_keep_probability_by_hand():
    # total 1000 words, sample 1e-2 -> t = 10; count 100 -> (sqrt(10) + 1) / 10
    keep = keep_probabilities([100, 900], 1e-2)
    assert keep[0] == pytest.approx((np.sqrt(10) + 1) / 10)
    assert keep[1] == pytest.approx((np.sqrt(90) + 1) / 90)
    assert keep_probabilities([3, 1], 0).tolist() == [1.0, 1.0]
    assert keep_probabilities([1, 1], 1.0).tolist() == [1.0, 1.0]  # capped


def _alias_distribution(keep, alias):
    """The distribution an alias table draws from: slot i gives i w.p. keep[i], else alias[i]."""
    probability = keep / len(keep)
    np.add.at(probability, alias, (1.0 - keep) / len(keep))
    return probability


def test_noise_table_draws_the_unigram_power_distribution():
    keep, alias = noise_table([16, 1], 0.75)  # weights 8 and 1: P = 8/9, 1/9
    assert _alias_distribution(keep, alias) == pytest.approx([8 / 9, 1 / 9], rel=1e-12)
    counts = np.random.default_rng(0).integers(1, 10_000, size=5000)
    weights = counts ** 0.75
    keep, alias = noise_table(counts, 0.75)
    assert _alias_distribution(keep, alias) == pytest.approx(weights / weights.sum(), rel=1e-9)
    assert ((keep >= 0) & (keep <= 1)).all()


def test_kernel_draws_follow_the_noise_distribution():
    """Monte Carlo: 200,000 draws, each frequency within 5 standard errors."""
    from w2v_scratch.kernels.negative import draw_negatives

    counts = np.array([50, 20, 10, 5, 1])
    keep, alias = noise_table(counts, 0.75)
    out = np.empty(200_000, np.int64)
    drawn = draw_negatives(keep, alias, -1, out.size, np.full(1, 7, np.uint64), out)
    expected = counts ** 0.75 / (counts ** 0.75).sum()
    observed = np.bincount(out[:drawn], minlength=5) / drawn
    assert np.abs(observed - expected).max() < 5 * np.sqrt(expected.max() / drawn)


def test_huffman_tree_by_hand():
    """counts 5, 3, 2, 1: merges (1,2)->n0=3, (3,n0)->n1=6, (5,n1)->n2=11 (root)."""
    points, codes, depth = huffman_tree([5, 3, 2, 1])
    paths = [(points[w, :depth[w]].tolist(), codes[w, :depth[w]].tolist()) for w in range(4)]
    assert paths == [([2], [0]), ([2, 1], [1, 0]), ([2, 1, 0], [1, 1, 1]),
                     ([2, 1, 0], [1, 1, 0])]


def test_huffman_code_is_optimal_and_prefix_free():
    """Cost Σ count·depth equals the sum of merged weights (the Huffman optimum)."""
    counts = np.random.default_rng(1).integers(1, 1000, size=300)
    points, codes, depth = huffman_tree(counts)
    heap = counts.tolist()
    heapq.heapify(heap)
    optimum = 0
    while len(heap) > 1:
        merged = heapq.heappop(heap) + heapq.heappop(heap)
        optimum += merged
        heapq.heappush(heap, merged)
    assert int((counts * depth).sum()) == optimum
    code_strings = {"".join(map(str, codes[w, :depth[w]])) for w in range(len(counts))}
    assert len(code_strings) == len(counts)
    assert not any(a != b and b.startswith(a) for a in code_strings for b in code_strings)
    assert (points[:, 0] == len(counts) - 2).all()  # every path starts at the root

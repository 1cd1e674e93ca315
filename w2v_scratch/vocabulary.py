"""The vocabulary and the tables derived from word counts.

* :func:`build_vocabulary` keeps words seen at least ``min_count`` times, sorted by
  count (descending) then word, and remaps a corpus to those ids.
* :func:`keep_probabilities` -- subsampling of frequent words (Mikolov et al. 2013).
* :func:`noise_table` -- the negative-sampling noise distribution P_n(w) ∝ count(w)^0.75.
* :func:`huffman_tree` -- the binary codes and inner-node paths of hierarchical softmax.
"""

import heapq

import numpy as np

from .corpus import EncodedCorpus


def build_vocabulary(corpus, min_count, max_vocab_size=None, known_words=()):
    """Keep the frequent words of ``corpus`` and renumber it.

    Parameters
    ----------
    corpus : EncodedCorpus
        Provisional ids from :func:`w2v_scratch.corpus.read_corpus`.
    min_count : int
        New words seen fewer times are dropped (from the vocabulary and the corpus).
    max_vocab_size : int, optional
        Keep at most this many words (the most frequent). Unlike gensim, where this
        bounds memory *while* counting, the cap is applied to the final counts.
    known_words : sequence of str
        Words that come first, in this order, whatever their count (fine-tuning
        pretrained vectors); the corpus's other words follow.

    Returns
    -------
    words : list of str
        ``known_words``, then the new words by count descending, then alphabetically.
    counts : ndarray of int64, shape (V,)
        Occurrences in this corpus (0 for a known word it does not contain).
    encoded : EncodedCorpus
        The corpus with dropped words removed, ids renumbered, empty sentences removed.

    Raises
    ------
    ValueError
        If the corpus is empty or no word reaches ``min_count``.
    """
    if corpus.ids.size == 0:
        raise ValueError("the corpus is empty: no tokens were read")
    counts = corpus.counts  # (V_all,)
    known_words = list(known_words)
    provisional = {word: i for i, word in enumerate(corpus.words)}
    known = set(known_words)
    new = [i for i in np.flatnonzero(counts >= min_count).tolist() if corpus.words[i] not in known]
    new.sort(key=lambda i: (-counts[i], corpus.words[i]))
    if max_vocab_size is not None:
        new = new[:max(0, max_vocab_size - len(known_words))]
    if not new and not known.intersection(provisional):
        raise ValueError(f"no word occurs min_count={min_count} times or more "
                         f"(the most frequent occurs {counts.max()} times); lower min_count")
    order = [provisional.get(word, -1) for word in known_words] + new  # -1: not in the corpus
    words = known_words + [corpus.words[i] for i in new]
    word_counts = np.array([counts[i] if i >= 0 else 0 for i in order], dtype=np.int64)

    new_id = np.full(len(corpus.words), -1, dtype=np.int32)  # provisional -> final
    for final, i in enumerate(order):
        if i >= 0:
            new_id[i] = final
    ids = new_id[corpus.ids]  # (N,)
    in_vocabulary = ids >= 0
    per_sentence = np.add.reduceat(in_vocabulary, corpus.bounds[:-1], dtype=np.int64)  # (S,)
    bounds = np.concatenate([[0], np.cumsum(per_sentence[per_sentence > 0])])
    return words, word_counts, EncodedCorpus(ids[in_vocabulary], bounds.astype(np.int64), words)


def keep_probabilities(counts, sample):
    """Probability of keeping each occurrence of a word when subsampling.

    With t = sample · (total count) and c the word's count (word2vec.c, gensim):

        P(keep) = min(1, (sqrt(c / t) + 1) · t / c)

    ``sample`` = 0 keeps everything.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if sample <= 0:
        return np.ones_like(counts)
    threshold = sample * counts.sum()
    seen = np.maximum(counts, 1.0)  # a word absent from the corpus is never drawn anyway
    return np.minimum(1.0, (np.sqrt(seen / threshold) + 1.0) * threshold / seen)


def noise_table(counts, ns_exponent):
    """Walker's alias table for drawing noise words, P_n(w) ∝ count(w)^ns_exponent.

    Vose's construction splits the V probabilities into V slots of mass 1/V, each holding
    at most two words: slot i keeps word i with probability ``keep[i]`` and otherwise
    gives ``alias[i]``. A draw costs one uniform number and two table reads, whatever V,
    and the distribution is exact:

        P_n(w) = (1/V) (keep[w] + Σ_{i: alias[i] = w} (1 - keep[i]))

    (word2vec.c fills a 10^8-entry table instead; gensim bisects a cumulative table.)

    Returns
    -------
    keep : ndarray of float64, shape (V,)
    alias : ndarray of int32, shape (V,)
    """
    weights = np.asarray(counts, dtype=np.float64) ** ns_exponent
    vocabulary_size = len(weights)
    mass = weights * (vocabulary_size / weights.sum())  # mean 1
    keep = np.ones(vocabulary_size)
    alias = np.arange(vocabulary_size, dtype=np.int32)
    small = [i for i in range(vocabulary_size) if mass[i] < 1.0]
    large = [i for i in range(vocabulary_size) if mass[i] >= 1.0]
    while small and large:
        light, heavy = small.pop(), large[-1]
        keep[light], alias[light] = mass[light], heavy  # slot `light` topped up by `heavy`
        mass[heavy] -= 1.0 - mass[light]
        if mass[heavy] < 1.0:
            small.append(large.pop())
    return keep, alias  # slots left in either list keep their own word (rounding only)


def huffman_tree(counts):
    """Huffman codes and paths for hierarchical softmax.

    Repeatedly merges the two least frequent nodes (ties broken by node id); inner node
    i (0..V-2) is the i-th merge, so the root is node V-2. For word w the path from the
    root is ``points[w, :depth[w]]`` (inner-node ids) and ``codes[w, :depth[w]]`` the turns
    (1 when w lies under the more frequent child, as in word2vec.c).

    Returns
    -------
    points : ndarray of int32, shape (V, max_depth)
    codes : ndarray of uint8, shape (V, max_depth)
    depth : ndarray of int32, shape (V,)
    """
    vocabulary_size = len(counts)
    if vocabulary_size == 1:  # a single word needs no decision
        return np.zeros((1, 0), np.int32), np.zeros((1, 0), np.uint8), np.zeros(1, np.int32)
    heap = [(int(c), node) for node, c in enumerate(counts)]
    heapq.heapify(heap)
    parent = np.zeros(2 * vocabulary_size - 1, dtype=np.int64)
    turn = np.zeros(2 * vocabulary_size - 1, dtype=np.uint8)
    for merge in range(vocabulary_size - 1):
        count_a, a = heapq.heappop(heap)
        count_b, b = heapq.heappop(heap)
        node = vocabulary_size + merge
        parent[a], parent[b] = node, node
        turn[b] = 1
        heapq.heappush(heap, (count_a + count_b, node))
    root = 2 * vocabulary_size - 2
    paths = []
    for word in range(vocabulary_size):
        node, path = word, []
        while node != root:
            path.append((parent[node] - vocabulary_size, turn[node]))
            node = parent[node]
        paths.append(path[::-1])
    depth = np.array([len(p) for p in paths], dtype=np.int32)
    points = np.zeros((vocabulary_size, depth.max()), dtype=np.int32)
    codes = np.zeros((vocabulary_size, depth.max()), dtype=np.uint8)
    for word, path in enumerate(paths):
        points[word, :len(path)] = [p for p, _ in path]
        codes[word, :len(path)] = [c for _, c in path]
    return points, codes, depth


__all__ = ["EncodedCorpus", "build_vocabulary", "huffman_tree", "keep_probabilities",
           "noise_table"]

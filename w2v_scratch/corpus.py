"""Stream a corpus once into int32 word ids: never a Python list of the whole corpus.

A corpus is either a path to a text file (plain or gzip; one sentence a line, or a
text8-style single line) or an iterable of token lists. Either way it is read once,
in pieces, and every token becomes a *provisional* id (its first-seen rank); the
vocabulary is decided afterwards (:mod:`w2v_scratch.vocabulary`) and the ids remapped.

Memory: 4 bytes per token for the ids (plus 4 more while remapping) and 8 bytes per
sentence for the boundaries, plus one dict entry per distinct word -- 17M tokens
take about 70 MB, against about 1 GB as a list of Python strings.

Like gensim, a line longer than :data:`MAX_SENTENCE_LENGTH` tokens is cut into
sentences of that many tokens (text8 is one 17M-token line).
"""

import codecs
import gzip
import os
import zlib
from dataclasses import dataclass

import numpy as np

from .word2vec_format import open_binary

MAX_SENTENCE_LENGTH = 10_000
_CHUNK_BYTES = 1 << 22
_WHITESPACE = " \n\t\r\f\v"


@dataclass
class EncodedCorpus:
    """A corpus as word ids.

    Attributes
    ----------
    ids : ndarray of int32, shape (N,)
        Word ids of all tokens, sentence after sentence.
    bounds : ndarray of int64, shape (S + 1,)
        Sentence s is ``ids[bounds[s]:bounds[s + 1]]``; no sentence is empty.
    words : list of str
        ``words[i]`` is the word with id i.
    """

    ids: np.ndarray
    bounds: np.ndarray
    words: list

    @property
    def counts(self):
        """Occurrences of each word, shape (len(words),)."""
        return np.bincount(self.ids, minlength=len(self.words))


class _Encoder:
    """Turns tokens into provisional ids and records sentence boundaries."""

    def __init__(self):
        self.index = {}
        self.pieces = []
        self.bounds = [0]
        self.total = 0

    def add(self, tokens):
        """Append tokens to the current line, cutting a sentence every MAX_SENTENCE_LENGTH."""
        if not tokens:
            return
        index = self.index
        self.pieces.append(np.array([index.setdefault(t, len(index)) for t in tokens],
                                    dtype=np.int32))
        end = self.total + len(tokens)
        cut = self.bounds[-1] + MAX_SENTENCE_LENGTH
        while cut < end:
            self.bounds.append(cut)
            cut += MAX_SENTENCE_LENGTH
        self.total = end

    def end_line(self):
        if self.total > self.bounds[-1]:
            self.bounds.append(self.total)

    def result(self):
        ids = np.concatenate(self.pieces) if self.pieces else np.zeros(0, np.int32)
        return EncodedCorpus(ids, np.array(self.bounds, dtype=np.int64), list(self.index))


def _decode(decoder, chunk, path, bytes_before, lines_before, final=False):
    """Decode the next ``chunk``; ValueError with the line and file offset of a bad byte.

    The decoder may hold the first bytes of a character cut by the previous chunk;
    the error's position counts from those bytes (which hold no newline).
    """
    pending = decoder.getstate()[0]
    try:
        return decoder.decode(chunk, final)
    except UnicodeDecodeError as error:
        offset = bytes_before - len(pending) + error.start
        line = lines_before + (pending + chunk)[:max(error.start, 0)].count(b"\n") + 1
        raise ValueError(f"{path}: line {line}, byte offset {offset}: not valid UTF-8 "
                         f"({error.reason}); re-encode the file as UTF-8") from None


def iter_text_file(path):
    """Yield the sentences of a text file as token lists, reading it in pieces.

    Each line is a sentence; a line longer than MAX_SENTENCE_LENGTH tokens is cut into
    sentences of that many tokens (as gensim's LineSentence and Text8Corpus do). Use it
    to chain a file with other sentences: ``itertools.chain(iter_text_file(p), captions)``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not UTF-8 (the message gives the line and byte offset), or is
        a corrupt gzip file.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"corpus file not found: {path}")
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    carry, line, bytes_before, lines_before = "", [], 0, 0
    try:
        with open_binary(path) as stream:
            while chunk := stream.read(_CHUNK_BYTES):
                text = carry + _decode(decoder, chunk, path, bytes_before, lines_before)
                bytes_before += len(chunk)
                lines_before += chunk.count(b"\n")
                cut = max(text.rfind(c) for c in _WHITESPACE)  # last whole word ends here
                carry = text[cut + 1:]
                line = yield from _split_lines(text[:cut + 1], line)
            text = carry + _decode(decoder, b"", path, bytes_before, lines_before, final=True)
            line = yield from _split_lines(text, line)
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise ValueError(f"{path}: cannot read the file after byte {bytes_before}: "
                         f"{error}") from None
    if line:
        yield line


def _split_lines(text, line):
    """Yield the finished sentences in ``text``; return the unfinished last line's tokens."""
    pieces = text.split("\n")
    for number, piece in enumerate(pieces):
        line += piece.split()
        start = 0
        while len(line) - start >= MAX_SENTENCE_LENGTH:
            yield line[start:start + MAX_SENTENCE_LENGTH]
            start += MAX_SENTENCE_LENGTH
        del line[:start]
        if number < len(pieces) - 1 and line:
            yield line
            line = []
    return line


def read_text_file(path):
    """Encode a text file (see :func:`iter_text_file` for how it is cut into sentences)."""
    return read_sentences(iter_text_file(path))


def read_sentences(sentences):
    """Encode an iterable of token lists (each list is one sentence).

    Raises
    ------
    TypeError
        If an item is a string rather than a list of tokens, or a token is not a str.
    """
    encoder = _Encoder()
    for number, sentence in enumerate(sentences):
        if isinstance(sentence, (str, bytes)):
            raise TypeError(f"corpus item {number} is a {type(sentence).__name__}, expected a "
                            f"list of tokens (for example {str(sentence)[:30]!r}.split())")
        encoder.add(list(sentence))
        encoder.end_line()
    result = encoder.result()
    for word in result.words:
        if not isinstance(word, str):
            raise TypeError(f"corpus token {word!r} is a {type(word).__name__}, expected str")
    return result


def read_corpus(corpus):
    """Encode ``corpus``: a path (str or os.PathLike) or an iterable of token lists."""
    if isinstance(corpus, (str, os.PathLike)):
        return read_text_file(corpus)
    return read_sentences(corpus)

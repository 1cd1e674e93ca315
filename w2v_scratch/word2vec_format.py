"""The word2vec vector file format (text and binary), and safe file writing.

The format is the one of Mikolov et al.'s C tool, also written by gensim's
``save_word2vec_format``::

    V d\\n                                       header: number of words, vector size
    word f_1 f_2 ... f_d\\n                      text: one row per word, decimal floats
    word<space><d little-endian float32>[\\n]    binary: raw float bytes, optional newline

A path ending in ``.gz`` is read and written through gzip.

The readers trust nothing in the file.  Every disagreement between the header and
the body (too few or too many rows, the wrong number of values on a row), a
truncated file, a value that is not a finite number, a word that is not UTF-8 or
appears twice raises :class:`ValueError` naming the file, the line (text) or the
byte offset (binary) and the cause.  Memory grows with the rows actually read,
never with what the header claims.
"""

import contextlib
import gzip
import itertools
import os
import re
import uuid
import zlib
from pathlib import Path

import numpy as np

#: Characters that separate fields in the format, so a word cannot contain them.
_SEPARATORS = re.compile(r"[ \t\n\r\f\v]")
#: A header is two integers; a longer first line is not a header.
_MAX_HEADER_BYTES = 100
#: A binary-format word longer than this means the file is not what it claims.
_MAX_WORD_BYTES = 10_000
#: Bytes of one binary value (little-endian float32).
_FLOAT_BYTES = 4
_BINARY_DTYPE = np.dtype("<f4")
#: What gzip raises on a damaged or truncated stream.
_GZIP_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error)


def key_problem(key):
    """Say why ``key`` cannot be a word of the format, or return None if it can.

    A word is a non-empty ``str`` without ASCII whitespace (which separates fields).
    """
    if not isinstance(key, str):
        return f"key {key!r} is a {type(key).__name__}, not a str"
    if not key:
        return "empty key"
    if _SEPARATORS.search(key):
        return f"key {key!r} contains whitespace"
    return None


def open_binary(path):
    """Open ``path`` for reading bytes, through gzip when it starts with gzip's magic bytes."""
    with open(path, "rb") as probe:
        magic = probe.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


@contextlib.contextmanager
def atomic_write(path):
    """Write a file so that ``path`` holds either its old content or the whole new one.

    Yields a binary file in the same folder; on success it is flushed to disk and
    renamed over ``path`` (``os.replace`` is atomic), on error it is removed.  The
    temporary file is created with mode 0o666 so that the umask applies as usual.
    """
    path = Path(path)
    temp_path = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    descriptor = os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with open(descriptor, "wb") as temp_file:
            yield temp_file
            temp_file.flush()
            os.fsync(temp_file.fileno())
        os.replace(temp_path, path)
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise


def write_word2vec(path, keys, vectors, binary=False):
    """Write ``keys`` and their ``vectors`` (V, d) in the word2vec format, atomically.

    Text values are written with ``%.9g``: nine significant digits identify every
    float32 exactly, so the file reads back to the same bits.
    """
    path = Path(path)
    vectors = np.asarray(vectors, dtype=np.float32)  # (V, d)
    text_row = " ".join(["%.9g"] * vectors.shape[1])  # one format for a whole row: fast
    with atomic_write(path) as raw:
        if path.suffix == ".gz":
            out = gzip.GzipFile(filename=path.name[: -len(".gz")], mode="wb", fileobj=raw)
        else:
            out = contextlib.nullcontext(raw)
        with out as stream:
            stream.write(f"{len(keys)} {vectors.shape[1]}\n".encode())
            for key, vector in zip(keys, vectors, strict=True):
                stream.write(_format_row(key, vector, binary, text_row))


def _format_row(key, vector, binary, text_row):
    """One row of the file as bytes; ``text_row`` is the %-format of d values."""
    problem = key_problem(key)
    if problem:
        raise ValueError(f"cannot write {problem}")
    if binary:
        return key.encode() + b" " + vector.astype(_BINARY_DTYPE).tobytes() + b"\n"
    return f"{key} {text_row % tuple(vector.tolist())}\n".encode()


def read_word2vec(path, binary=False, limit=None):
    """Read a word2vec-format file.

    Parameters
    ----------
    path : str or Path
        The file (gzip-compressed if its name ends in ``.gz``).
    binary : bool
        True for the binary format, False for text.
    limit : int, optional
        Read only the first ``limit`` vectors.

    Returns
    -------
    keys : list of str
        The V words, in file order.
    vectors : numpy.ndarray
        float32, shape (V, d).

    Raises
    ------
    ValueError
        When the file is malformed; the message names the file, the line or byte
        offset, and the cause.
    """
    path = Path(path)
    with open_binary(path) as stream:
        n_rows, dim, header_bytes = _read_header(stream, path)
        n_wanted = n_rows if limit is None else min(n_rows, limit)
        if binary:
            _check_binary_fits(path, header_bytes, n_wanted, dim)
            keys, rows, end = _read_binary_rows(stream, path, n_wanted, dim, header_bytes)
            if n_wanted == n_rows:
                _check_binary_ends(stream, path, n_rows, end)
        else:
            keys, rows = _read_text_rows(stream, path, n_wanted, dim)
            if n_wanted == n_rows:
                _check_text_ends(stream, path, n_rows, dim)
    vectors = np.vstack(rows) if rows else np.empty((0, dim), dtype=np.float32)  # (V, d)
    return keys, vectors


def _format_error(path, where, cause):
    return ValueError(f"{path}: {where}: {cause}")


@contextlib.contextmanager
def _gzip_errors_at(path, where):
    """Turn what gzip raises on damaged data into a ValueError naming ``where``."""
    try:
        yield
    except _GZIP_ERRORS as exc:
        raise _format_error(path, where, f"damaged or truncated gzip data ({exc})") from None


def _read_header(stream, path):
    """Parse the ``V d`` first line; return (V, d, bytes the line takes)."""
    with _gzip_errors_at(path, "line 1"):
        line = stream.readline(_MAX_HEADER_BYTES)
    fields = line.split()
    if not line.endswith(b"\n") or len(fields) != 2 or not all(field.isdigit() for field in fields):
        shown = line[:40].decode("utf-8", "replace")
        raise _format_error(path, "line 1", f"expected a 'V d' header, found {shown!r}")
    n_rows, dim = (int(field) for field in fields)
    if dim == 0:
        raise _format_error(path, "line 1", "the header's vector size is 0")
    return n_rows, dim, len(line)


def _read_text_rows(stream, path, n_rows, dim):
    """Read ``n_rows`` text rows of a word and ``dim`` values each."""
    max_line_bytes = _MAX_WORD_BYTES + 64 * dim
    keys, rows, first_seen = [], [], {}
    for line_no in range(2, n_rows + 2):
        where = f"line {line_no}"
        try:
            line = stream.readline(max_line_bytes)
            if not line:
                raise ValueError(f"the file ends after {len(rows)} of the {n_rows} vectors")
            if len(line) == max_line_bytes and not line.endswith(b"\n"):
                raise ValueError(f"the line is longer than {max_line_bytes} bytes")
            word, vector = _parse_text_row(line, dim)
            _check_row(word, vector, first_seen)
        except (ValueError, *_GZIP_ERRORS) as exc:
            raise _format_error(path, where, exc) from None
        first_seen[word] = where
        keys.append(word)
        rows.append(vector)
    return keys, rows


def _parse_text_row(line, dim):
    """Split one text row into its word and (d,) vector."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 ({exc.reason} at byte {exc.start} of the line)") from None
    fields = text.rstrip(" \t\r\n").split(" ")
    word, values = fields[0], fields[1:]
    if len(values) != dim:
        raise ValueError(f"expected a word and {dim} values, found {len(values)} values")
    try:
        with np.errstate(over="ignore"):  # beyond float32's range: inf, rejected later
            vector = np.array(values, dtype=np.float32)  # (d,)
    except ValueError:
        bad = next(value for value in values if not _is_number(value))
        raise ValueError(f"value {bad!r} of {word!r} is not a number") from None
    return word, vector


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_row(word, vector, first_seen):
    """ValueError unless ``word`` is a valid new word and ``vector`` is finite.

    ``first_seen`` maps each word read so far to where it was read.
    """
    problem = key_problem(word)
    if problem:
        raise ValueError(problem)
    if word in first_seen:
        raise ValueError(f"duplicate word {word!r} (first at {first_seen[word]})")
    if not np.isfinite(vector).all():
        raise ValueError(f"the vector of {word!r} holds NaN or infinity")


def _check_text_ends(stream, path, n_rows, dim):
    """ValueError if anything but blank lines follows the ``n_rows`` rows."""
    max_line_bytes = _MAX_WORD_BYTES + 64 * dim
    for line_no in itertools.count(n_rows + 2):
        with _gzip_errors_at(path, f"line {line_no}"):
            line = stream.readline(max_line_bytes)
        if not line:
            return
        if line.strip():
            cause = f"more rows than the {n_rows} the header announces"
            raise _format_error(path, f"line {line_no}", cause)


def _check_binary_fits(path, header_bytes, n_rows, dim):
    """For an uncompressed file, check that ``n_rows`` binary rows can fit at all.

    Each row takes at least a 1-byte word, a space and ``dim`` float32 values.
    """
    if path.suffix == ".gz":
        return  # the uncompressed size is unknown: rows are checked as they are read
    available = path.stat().st_size - header_bytes
    needed = n_rows * (2 + _FLOAT_BYTES * dim)
    if needed > available:
        cause = (
            f"the header announces {n_rows} vectors of {dim} float32 values, which take at"
            f" least {needed} bytes, but only {available} bytes follow the header"
        )
        raise _format_error(path, f"byte offset {header_bytes}", cause)


def _read_binary_rows(stream, path, n_rows, dim, offset):
    """Read ``n_rows`` binary rows starting at byte ``offset``; return keys, rows, end offset."""
    vector_bytes = _FLOAT_BYTES * dim
    keys, rows, first_seen = [], [], {}
    for _ in range(n_rows):
        with _gzip_errors_at(path, f"byte offset {offset}"):
            offset += _skip_newlines(stream)
        where = f"byte offset {offset}"
        try:
            word_bytes = _read_word_bytes(stream)
            word = word_bytes.decode("utf-8")
            data = _read_at_most(stream, vector_bytes)
            if len(data) < vector_bytes:
                raise ValueError(f"the file ends inside the vector of {word!r}")
            vector = np.frombuffer(data, dtype=_BINARY_DTYPE).astype(np.float32)  # (d,)
            _check_row(word, vector, first_seen)
        except UnicodeDecodeError as exc:
            cause = f"word not UTF-8 ({exc.reason} at byte {exc.start} of the word)"
            raise _format_error(path, where, cause) from None
        except (ValueError, *_GZIP_ERRORS) as exc:
            raise _format_error(path, where, exc) from None
        first_seen[word] = where
        keys.append(word)
        rows.append(vector)
        offset += len(word_bytes) + 1 + vector_bytes
    return keys, rows, offset


def _read_at_most(stream, size):
    """``stream.read(size)`` in 1 MiB pieces: memory follows the data, not ``size``.

    A damaged header can announce a vector size of 10^12; ``read`` would allocate it.
    """
    pieces = []
    while size > 0:
        piece = stream.read(min(size, 1 << 20))
        if not piece:
            break
        pieces.append(piece)
        size -= len(piece)
    return b"".join(pieces)


def _skip_newlines(stream):
    """Consume the newlines that may end the previous binary row; return how many."""
    skipped = 0
    while stream.peek(1)[:1] == b"\n":
        stream.read(1)
        skipped += 1
    return skipped


def _read_word_bytes(stream):
    """Read up to the next space (consumed, not returned); ValueError if there is none."""
    word = b""
    while len(word) <= _MAX_WORD_BYTES:
        ahead = stream.peek(1)
        if not ahead:
            raise ValueError("the file ends where a word was expected")
        space = ahead.find(b" ")
        if space >= 0:
            return word + stream.read(space + 1)[:-1]
        word += stream.read(len(ahead))
    raise ValueError(f"no space within {_MAX_WORD_BYTES} bytes: not a word of a binary file")


def _check_binary_ends(stream, path, n_rows, offset):
    """ValueError if anything but newlines follows the ``n_rows`` rows."""
    with _gzip_errors_at(path, f"byte offset {offset}"):
        offset += _skip_newlines(stream)
        more = stream.read(1)
    if more:
        cause = f"more data than the {n_rows} vectors the header announces"
        raise _format_error(path, f"byte offset {offset}", cause)

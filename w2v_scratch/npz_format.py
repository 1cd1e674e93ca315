"""The ``.npz`` file of :meth:`KeyedVectors.save <w2v_scratch.keyedvectors.KeyedVectors.save>`.

One zip archive of ``.npy`` members, written without pickle::

    format_version.npy   int, 0-d           the layout version, FORMAT_VERSION
    keys.npy             unicode, 0-d       the V words as one JSON list
    vectors.npy          float32, (V, d)    row i is the vector of word i
    counts.npy           int64, (V,)        corpus counts (only when known)

The reader trusts nothing in the file: nothing is unpickled (object arrays are
refused) and no member is read before its header is checked against the bytes it
holds, so a damaged or hostile file cannot make it allocate more than the file's own
size.  Whatever is wrong raises :class:`ValueError` naming the file and the cause.
"""

import json
import math
import zipfile
import zlib

import numpy as np

from w2v_scratch.word2vec_format import atomic_write

#: Version of the layout written by :func:`write_npz`.
FORMAT_VERSION = 1

#: What reading a damaged archive can raise besides ValueError: zipfile's own errors,
#: OSError (a seek outside the file), an unknown compression method, deep JSON.
_NPZ_ERRORS = (
    ValueError,
    KeyError,
    OSError,
    EOFError,
    NotImplementedError,
    RecursionError,
    zipfile.BadZipFile,
    zlib.error,
)


def write_npz(path, index_to_key, vectors, counts=None):
    """Write the words, their (V, d) float32 ``vectors`` and ``counts`` to ``path``, atomically.

    The file is written at ``path`` exactly (no ``.npz`` is appended).
    """
    members = {
        "format_version": np.array(FORMAT_VERSION),
        "keys": np.array(json.dumps(index_to_key, ensure_ascii=False)),
        "vectors": vectors,
    }
    if counts is not None:
        members["counts"] = counts
    with atomic_write(path) as stream:
        np.savez(stream, **members)


def read_npz(path, make):
    """Read a file written by :func:`write_npz` and return ``make(**members)``.

    Parameters
    ----------
    path : str or Path
        The file.
    make : callable
        Called with ``vectors``, ``index_to_key`` and ``counts`` (None when the file has
        none); the :class:`~w2v_scratch.keyedvectors.KeyedVectors` class, whose
        constructor checks what the members hold.

    Raises
    ------
    ValueError
        When the file is malformed, or ``make`` refuses its contents; the message names
        the file and the cause.
    """
    with open(path, "rb") as stream:
        try:
            archive = zipfile.ZipFile(stream)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise ValueError(f"{path}: not a KeyedVectors .npz file ({exc})") from None
        with archive:
            try:
                return make(**_read_members(archive))
            except _NPZ_ERRORS as exc:
                raise ValueError(f"{path}: {exc}") from None


def _read_member(archive, name):
    """The array ``<name>.npy`` of a zip archive, read without pickle.

    ValueError for an object array (it would need pickle), an unknown .npy version,
    or a header announcing more data than the member holds.
    """
    info = archive.getinfo(f"{name}.npy")
    with archive.open(info) as member:  # first pass: the header only
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(member)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(member)
        else:
            raise ValueError(f"member {name}: unsupported .npy version {version}")
    if dtype.hasobject:
        raise ValueError(f"member {name}: Object arrays are refused (they need pickle)")
    claimed = math.prod(shape) * dtype.itemsize
    if claimed > info.file_size:
        raise ValueError(
            f"member {name}: its header announces {claimed} bytes of data but the"
            f" member holds {info.file_size} bytes"
        )
    with archive.open(info) as member:
        return np.lib.format.read_array(member, allow_pickle=False)


def _read_members(archive):
    """Constructor arguments from an opened ``.npz`` zip; ValueError on anything unexpected."""
    names = {name.removesuffix(".npy") for name in archive.namelist() if name.endswith(".npy")}
    missing = {"format_version", "keys", "vectors"} - names
    if missing:
        raise ValueError(f"missing member(s) {sorted(missing)}")
    version = _read_member(archive, "format_version")
    if version.shape != () or version.dtype.kind not in "iu" or version != FORMAT_VERSION:
        raise ValueError(f"format_version {version!r}; this code reads {FORMAT_VERSION}")
    keys = _read_member(archive, "keys")
    if keys.shape != () or keys.dtype.kind != "U":
        raise ValueError(f"keys must be one unicode string (JSON); got {keys.dtype} {keys.shape}")
    index_to_key = json.loads(str(keys))
    if not isinstance(index_to_key, list):
        raise ValueError("keys must hold a JSON list of strings")
    vectors = _read_member(archive, "vectors")
    if vectors.dtype != np.float32:
        raise ValueError(f"vectors must be float32; got {vectors.dtype}")
    counts = _read_member(archive, "counts") if "counts" in names else None
    return {"vectors": vectors, "index_to_key": index_to_key, "counts": counts}

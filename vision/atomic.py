"""Safe files: atomic writes (readers see the old file or the whole new one, never half
of it), and the sha256 that identifies a file's content."""

import hashlib
import os
import uuid
from pathlib import Path


def atomic_write(path, write):
    """Write a file through a temporary file in the same folder, then rename it into place.

    ``os.replace`` is atomic on one file system, so an interrupted run leaves either
    the previous file or no file, never a truncated one.

    Parameters
    ----------
    path : str or os.PathLike
        The file to create or replace.
    write : callable
        Called with the open binary temporary file; it writes the contents.
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    # mode 0o666 so that the umask applies, as for any file the user creates
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def file_sha256(path):
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

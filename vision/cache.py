"""FeatureCache: features computed once per (model, preprocessing, file version).

Layout of the cache folder::

    DIRECTORY/<model sha256[:16]>-preprocess<version>/
        chunk-000001-<writer>.npy    float32 (B, 2048), one row per image of one batch
        chunk-000001-<writer>.json   its manifest: model sha256, preprocessing version, and
                                     for each row the image's absolute path, size, mtime_ns
        chunk-000002-<writer>.npy ...

Each batch adds a chunk, written atomically (.npy first, then the .json that makes it
visible), so an interrupted run keeps every finished batch and the next run resumes.
An entry counts only while the image file keeps its size and mtime; a later chunk
overrides an earlier one for the same path. :meth:`FeatureCache.prune` deletes the
chunks left with no entry that counts. Several processes may write to one folder
at once: ``<writer>`` (process id and random bits) makes every chunk name unique, so two
writers that pick the same number never pair one's .npy with the other's manifest.
"""

import json
import os
import re
import secrets
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .atomic import atomic_write
from .model import FEATURE_DIM
from .preprocess import PREPROCESS_VERSION


def _file_version(path):
    """``(size, mtime_ns)`` of a file, or None if it cannot be stat'ed."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_size, status.st_mtime_ns


class FeatureCache:
    """Image features on disk, keyed by model sha256, preprocessing version and file version.

    Parameters
    ----------
    directory : str or os.PathLike
        Created when the first features are stored.

    Examples
    --------
    >>> cache = FeatureCache("runs/features")                       # doctest: +SKIP
    >>> features = ImageEncoder().encode(paths, cache=cache)         # doctest: +SKIP
    """

    def __init__(self, directory):
        self.directory = Path(directory)

    def _folder(self, model_sha256):
        return self.directory / f"{model_sha256[:16]}-preprocess{PREPROCESS_VERSION}"

    def _manifests(self, model_sha256):
        """Yield ``(chunk .npy path, entries)`` of the chunks for this model, oldest first."""
        for chunk_path, key, entries in _read_manifests(self._folder(model_sha256)):
            if key == (model_sha256, PREPROCESS_VERSION):
                yield chunk_path, entries

    def lookup(self, paths, model_sha256):
        """Features stored for the unchanged files among ``paths``.

        Parameters
        ----------
        paths : list of str
        model_sha256 : str
            sha256 of the model file (:attr:`vision.ResNetModel.sha256`).

        Returns
        -------
        dict of str to numpy.ndarray
            For each path with a valid entry, its ``(2048,)`` float32 row, bit for bit as stored.
        """
        wanted = {os.path.abspath(p): p for p in paths}
        locations = {}  # absolute path -> (chunk file, row, (size, mtime_ns)); later chunks win
        rows_of = {}  # chunk file -> number of rows its manifest lists
        for chunk_path, entries in self._manifests(model_sha256):
            rows_of[chunk_path] = len(entries)
            for row, (path, version) in enumerate(entries):
                if path in wanted:
                    locations[path] = (chunk_path, row, version)
        chunks, found = {}, {}
        for absolute, (chunk_path, row, version) in locations.items():
            if _file_version(absolute) != version:
                continue
            if chunk_path not in chunks:
                chunks[chunk_path] = _load_chunk(chunk_path, rows_of[chunk_path])
            if chunks[chunk_path] is not None:
                found[wanted[absolute]] = chunks[chunk_path][row]
        return found

    def add(self, paths, features, model_sha256):
        """Store the features of one batch as a new chunk.

        Parameters
        ----------
        paths : list of str
        features : numpy.ndarray
            float32, ``(len(paths), 2048)``.
        model_sha256 : str
        """
        entries, rows = [], []
        for row, path in enumerate(paths):
            version = _file_version(path)
            if version is not None:  # None: the file was deleted since it was read
                size, mtime_ns = version
                entries.append({"path": os.path.abspath(path), "size": size, "mtime_ns": mtime_ns})
                rows.append(row)
        folder = self._folder(model_sha256)
        folder.mkdir(parents=True, exist_ok=True)
        chunk = folder / _new_chunk_stem(folder)
        manifest = {
            "model_sha256": model_sha256,
            "preprocess_version": PREPROCESS_VERSION,
            "files": entries,
        }
        kept = np.ascontiguousarray(features[rows], dtype=np.float32)  # (len(rows), 2048)
        atomic_write(
            chunk.with_suffix(".npy"), lambda file: np.save(file, kept, allow_pickle=False)
        )
        text = json.dumps(manifest, indent=1).encode("utf-8")
        atomic_write(chunk.with_suffix(".json"), lambda file: file.write(text))

    def prune(self):
        """Delete the chunks that can no longer serve a lookup; returns a :class:`Pruned`.

        A row serves lookups while it is the newest entry for its image (later chunks
        override earlier ones) and the image keeps the size and mtime it had then. A chunk
        none of whose rows serve -- its images were encoded again, changed or deleted -- is
        only disk space. Its manifest goes first, so that readers stop seeing it, then its
        features; a reader that listed it just before finds the features gone, which is a
        cache miss (see :func:`_load_chunk`). Every model's and preprocessing version's
        chunks are judged alike; unreadable manifests are left alone.
        """
        chunks_removed = bytes_freed = 0
        if not self.directory.is_dir():
            return Pruned(chunks_removed, bytes_freed)
        for folder in sorted(p for p in self.directory.iterdir() if p.is_dir()):
            chunks = list(_read_manifests(folder))
            newest = {}  # (model, preprocessing, image path) -> (chunk, file version)
            for chunk_path, key, entries in chunks:
                for path, version in entries:
                    newest[key, path] = (chunk_path, version)
            serving = {chunk_path for (_, path), (chunk_path, version) in newest.items()
                       if _file_version(path) == version}
            for chunk_path, _, _ in chunks:
                if chunk_path not in serving:
                    bytes_freed += _remove(chunk_path.with_suffix(".json")) + _remove(chunk_path)
                    chunks_removed += 1
        return Pruned(chunks_removed, bytes_freed)


class Pruned(NamedTuple):
    """What :meth:`FeatureCache.prune` deleted; ``str()`` is the line to show a user."""

    chunks: int
    bytes: int

    def __str__(self):
        return (f"feature cache: removed {self.chunks} chunk(s) no longer used "
                f"({self.bytes / 2**20:.1f} MiB)")


def _read_manifests(folder):
    """Yield ``(chunk .npy path, (model sha256, preprocessing version), entries)`` for the
    readable manifests of ``folder``, oldest first; entries are ``(path, (size, mtime_ns))``."""
    if not folder.is_dir():
        return
    for manifest_path in _manifest_paths(folder):
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            key = (manifest["model_sha256"], manifest["preprocess_version"])
            entries = [(e["path"], (e["size"], e["mtime_ns"])) for e in manifest["files"]]
        except (OSError, ValueError, KeyError, TypeError) as error:
            _skip(manifest_path, f"unreadable manifest ({error!r})")
            continue
        yield manifest_path.with_suffix(".npy"), key, entries


def _remove(path):
    """Delete ``path`` if it is there; return the bytes it held."""
    try:
        size = path.stat().st_size
        path.unlink()
    except FileNotFoundError:
        return 0
    return size


_CHUNK_NAME = re.compile(r"chunk-(\d+)(-[0-9a-f]+-[0-9a-f]+)?\.json")


def _manifest_paths(folder):
    """The chunk manifests of ``folder``, oldest first (by number, then name); files
    with other names are not the cache's and are left alone."""
    numbered = [(int(match[1]), path.name, path) for path in folder.glob("chunk-*.json")
                if (match := _CHUNK_NAME.fullmatch(path.name))]
    return [path for _, _, path in sorted(numbered)]


def _new_chunk_stem(folder):
    """``chunk-<n>-<pid>-<random>``: n one above the highest so far (the order in which
    chunks override each other), the rest unique to this writer and call."""
    numbers = [int(_CHUNK_NAME.fullmatch(path.name)[1]) for path in _manifest_paths(folder)]
    return f"chunk-{max(numbers, default=0) + 1:06d}-{os.getpid():x}-{secrets.token_hex(4)}"


def _skip(path, cause):
    warnings.warn(f"feature cache: ignoring {path}: {cause}; its images will be recomputed",
                  stacklevel=3)


def _load_chunk(chunk_path, n_rows):
    """The (n_rows, 2048) features of one chunk, or None (with a warning) if damaged.

    A damaged chunk is a cache miss, never an error and never wrong features: it must
    load without pickle, have the manifest's number of rows and finite values.
    """
    try:
        features = np.load(chunk_path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        _skip(chunk_path, f"unreadable ({error})")
        return None
    if features.dtype != np.float32 or features.shape != (n_rows, FEATURE_DIM):
        _skip(chunk_path, f"holds {features.dtype} {features.shape}, expected float32 "
                          f"({n_rows}, {FEATURE_DIM})")
        return None
    if not np.isfinite(features).all():
        _skip(chunk_path, "holds NaN or infinite values")
        return None
    return features

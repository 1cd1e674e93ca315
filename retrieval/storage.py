"""Fitted objects on disk without pickle: constructor parameters and fitted attributes
as one JSON file beside one ``.npz`` of arrays.

The state of an object follows scikit-learn's conventions: its constructor parameters
are the attributes named like the ``__init__`` arguments, and its fitted attributes are
those whose name ends in ``_`` (plus private ``_name`` ones). :func:`object_state` turns
them into JSON values and arrays:

* an ndarray goes to the ``.npz`` under ``<path>/<name>`` (``np.load(allow_pickle=False)``
  reads it back: no object arrays, so no code can run on load);
* None, bool, int, float, str and lists of them stay in the JSON; sets and tuples become
  sorted lists / lists, a dict becomes ``{"items": [[key, value], ...]}`` (JSON keys
  would all turn into strings);
* an object of one of the ``classes`` given is stored the same way, nested, with its
  class name.

:func:`restore_object` calls the constructor with the parameters (and the ``context``,
for parameters that are stored elsewhere, such as word vectors), then sets the fitted
attributes. :func:`write_folder` writes the two files atomically, the arrays first and
the JSON last, the JSON holding the sha256 of the arrays: a folder whose two files do
not belong together (a crash between the two renames, a hand-copied file) is refused.
"""

import hashlib
import inspect
import io
import json
import zipfile
import zlib
from pathlib import Path

import numpy as np

from vision.atomic import atomic_write, file_sha256
from w2v_scratch.keyedvectors import KeyedVectors


def object_state(obj, classes, path="", skip=()):
    """The JSON-able state of ``obj`` and its arrays (names are ``path/attribute``).

    Parameters
    ----------
    obj : object
        An instance of one of ``classes``.
    classes : dict of str to type
        The classes that may be stored (and later restored) by name.
    path : str
        Prefix of the array names (the attribute path of ``obj``).
    skip : collection of str
        Constructor parameters not to store, in ``obj`` and every nested object (they
        are given back as ``context`` on restore).

    Returns
    -------
    state : dict
        ``{"class", "params", "fitted"}``.
    arrays : dict of str to ndarray
    """
    name = type(obj).__name__
    if classes.get(name) is not type(obj):
        raise TypeError(f"{path or 'object'}: cannot store an object of class {name}")
    arrays = {}
    parameters = [p for p in inspect.signature(type(obj).__init__).parameters if p != "self"]
    state = {"class": name, "params": {}, "fitted": {}}
    for parameter in parameters:
        if parameter not in skip:
            state["params"][parameter] = _encode(getattr(obj, parameter), classes,
                                                 f"{path}/{parameter}", arrays, skip)
    for attribute, value in vars(obj).items():
        fitted = attribute.endswith("_") or (attribute.startswith("_")
                                             and not attribute.startswith("__"))
        if fitted and attribute not in parameters:
            state["fitted"][attribute] = _encode(value, classes, f"{path}/{attribute}", arrays,
                                                 skip)
    return state, arrays


def restore_object(state, arrays, classes, context=None, path=""):
    """The object described by :func:`object_state`'s ``state`` and ``arrays``.

    Parameters
    ----------
    state : dict
    arrays : mapping of str to ndarray
    classes : dict of str to type
        Only these classes are created (the name stored is looked up here, nothing is
        imported).
    context : dict, optional
        Values for constructor parameters that were skipped when storing.
    path : str
        Where ``state`` sits in the file (for error messages and array names).

    Raises
    ------
    ValueError
        The state is malformed, names an unknown class or a missing array.
    """
    _expect(isinstance(state, dict) and {"class", "params", "fitted"} <= set(state),
            path, "is not an object state")
    cls = classes.get(state["class"])
    _expect(cls is not None, path, f"names an unknown class {state['class']!r}")
    _expect(isinstance(state["params"], dict) and isinstance(state["fitted"], dict), path,
            "has malformed params or fitted attributes")
    parameters = {name: _decode(value, arrays, classes, context, f"{path}/{name}")
                  for name, value in state["params"].items()}
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    for name, value in (context or {}).items():
        if name in accepted and name not in parameters:
            parameters[name] = value
    _expect(set(parameters) <= accepted, path,
            f"has parameters {sorted(set(parameters) - accepted)} that {cls.__name__} lacks")
    try:
        obj = cls(**parameters)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path or 'object'}: cannot rebuild {cls.__name__}: {error}") from None
    for name, value in state["fitted"].items():
        setattr(obj, name, _decode(value, arrays, classes, context, f"{path}/{name}"))
    return obj


def write_folder(folder, stem, state, arrays):
    """Write ``<stem>.npz`` then ``<stem>.json`` into ``folder``, each atomically.

    The JSON holds ``state`` and the sha256 of the ``.npz`` bytes.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    payload = buffer.getvalue()
    atomic_write(folder / f"{stem}.npz", lambda file: file.write(payload))
    document = {**state, "arrays_sha256": hashlib.sha256(payload).hexdigest()}
    text = json.dumps(document, indent=1, allow_nan=False).encode("utf-8")
    atomic_write(folder / f"{stem}.json", lambda file: file.write(text))


def read_folder(folder, stem):
    """The JSON document and the arrays written by :func:`write_folder`.

    Raises
    ------
    FileNotFoundError
        One of the two files is missing.
    ValueError
        The JSON is malformed, or the arrays are not the ones it was written with.
    """
    folder = Path(folder)
    json_path, arrays_path = folder / f"{stem}.json", folder / f"{stem}.npz"
    for path in (json_path, arrays_path):
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing")
    try:
        document = json.loads(json_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{json_path} is not valid JSON: {error}") from None
    _expect(isinstance(document, dict), str(json_path), "does not hold a JSON object")
    payload = arrays_path.read_bytes()
    if hashlib.sha256(payload).hexdigest() != document.get("arrays_sha256"):
        raise ValueError(f"{arrays_path} does not match {json_path.name} (sha256 differs):"
                         " the two files were not written together")
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
    except _ARCHIVE_ERRORS as error:  # object arrays (pickle) are refused as ValueError
        raise ValueError(f"{arrays_path}: {error}") from None
    return document, arrays


#: What reading a damaged .npz can raise: numpy's and zipfile's errors (a bad header,
#: an unknown compression or zip version, a member flagged as encrypted, a short file).
_ARCHIVE_ERRORS = (ValueError, KeyError, OSError, EOFError, NotImplementedError, RuntimeError,
                   zipfile.BadZipFile, zlib.error)

#: The word vectors stored beside a saved model, in its folder.
WORD_VECTORS_FILE = "word_vectors.npz"


def store_word_vectors(folder, keyed_vectors, path=None):
    """Store word vectors beside a model, or reference a file holding them; returns the
    JSON entry that :func:`load_word_vectors` reads.

    Parameters
    ----------
    folder : Path
        The model's folder.
    keyed_vectors : KeyedVectors
        Or anything with ``vectors`` and ``key_to_index``.
    path : str or os.PathLike, optional
        A :meth:`KeyedVectors.save` file that holds these same vectors: it is referenced
        by its absolute path and sha256 instead of copied.

    Returns
    -------
    dict
        ``{"file": "word_vectors.npz", "sha256"}`` or ``{"path", "sha256"}``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    if not isinstance(keyed_vectors, KeyedVectors):  # anything with vectors and key_to_index
        keys = sorted(keyed_vectors.key_to_index, key=keyed_vectors.key_to_index.get)
        keyed_vectors = KeyedVectors(np.asarray(keyed_vectors.vectors), keys,
                                     counts=getattr(keyed_vectors, "counts", None))
    if path is None:
        keyed_vectors.save(folder / WORD_VECTORS_FILE)
        return {"file": WORD_VECTORS_FILE, "sha256": file_sha256(folder / WORD_VECTORS_FILE)}
    path = Path(path).resolve()
    if not np.array_equal(KeyedVectors.load(path).vectors, keyed_vectors.vectors):
        raise ValueError(f"{path} does not hold this model's word vectors")
    return {"path": str(path), "sha256": file_sha256(path)}


def load_word_vectors(folder, entry, json_path):
    """The word vectors that ``entry`` (of :func:`store_word_vectors`) names, checked
    against their sha256.

    Raises
    ------
    FileNotFoundError
        The referenced file is gone.
    ValueError
        The entry is malformed, or the file changed since (sha256).
    """
    if not (isinstance(entry, dict) and isinstance(entry.get("sha256"), str)
            and isinstance(entry.get("file", entry.get("path")), str)):
        raise ValueError(f"{json_path}: malformed 'word_vectors' entry {entry!r}")
    path = Path(folder) / entry["file"] if "file" in entry else Path(entry["path"])
    if not path.is_file():
        raise FileNotFoundError(f"the word vectors of {json_path} ({path}) are gone")
    if file_sha256(path) != entry["sha256"]:
        raise ValueError(f"{path} changed since {json_path} was written (sha256 differs):"
                         " fit and save the model again")
    return KeyedVectors.load(path)


def _encode(value, classes, path, arrays, skip):
    """One value as JSON (arrays and objects go to ``arrays`` under ``path``)."""
    if isinstance(value, np.ndarray):
        arrays[path] = value
        return {"array": path}
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, set | frozenset):
        return sorted(_encode(item, classes, path, arrays, skip) for item in value)
    if isinstance(value, list | tuple):
        return [_encode(item, classes, f"{path}/{i}", arrays, skip)
                for i, item in enumerate(value)]
    if isinstance(value, dict):
        return {"items": [[_encode(key, classes, path, arrays, skip),
                           _encode(item, classes, f"{path}/{i}", arrays, skip)]
                          for i, (key, item) in enumerate(value.items())]}
    if classes.get(type(value).__name__) is type(value):
        state, nested = object_state(value, classes, path, skip)
        arrays.update(nested)
        return {"object": state}
    raise TypeError(f"{path}: cannot store a value of type {type(value).__name__}")


def _decode(value, arrays, classes, context, path):
    """The inverse of :func:`_encode`."""
    if isinstance(value, list):
        return [_decode(item, arrays, classes, context, f"{path}/{i}")
                for i, item in enumerate(value)]
    if not isinstance(value, dict):
        return value
    if "array" in value:
        _expect(value["array"] in arrays, path, f"needs the missing array {value['array']!r}")
        return arrays[value["array"]]
    if "object" in value:
        return restore_object(value["object"], arrays, classes, context, path)
    _expect(isinstance(value.get("items"), list)
            and all(isinstance(pair, list) and len(pair) == 2 for pair in value["items"]),
            path, "is a malformed value")
    return {_decode(key, arrays, classes, context, path):
            _decode(item, arrays, classes, context, path) for key, item in value["items"]}


def _expect(condition, path, problem):
    if not condition:
        raise ValueError(f"{path or 'the stored state'} {problem}")

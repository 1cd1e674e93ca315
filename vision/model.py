"""Find, verify and open the ResNet-50 ONNX model with onnxruntime.

Where the model comes from, first match wins:

1. the ``path`` argument;
2. the environment variable ``W2VX_MODEL``;
3. ``$W2VX_HOME/models/resnet50-imagenet-fp16w.onnx`` (the project's shared data folder);
4. ``~/.cache/w2v-crossmodal/models/resnet50-imagenet-fp16w.onnx``.

Files found at 3 or 4 must be the published file, byte for byte (sha256). Files named
at 1 or 2 are the user's own choice (for example a torchvision ResNet-50 exported with
``torch.onnx.export``) and are only checked for the right inputs and outputs.
"""

import json
import os
from pathlib import Path

import onnxruntime

from .atomic import file_sha256

DEFAULT_MODEL_NAME = "resnet50-imagenet-fp16w.onnx"
DEFAULT_MODEL_SHA256 = "f1cf96e15b33c3c44ba690924f2ac08f17140017c79914e1a10f2ce422d68f48"
LABELS_NAME = "imagenet_labels.json"
INPUT_SHAPE = (3, 224, 224)
FEATURE_DIM = 2048
N_CLASSES = 1000

_HOW_TO_GET_ONE = (
    "Get one: set W2VX_HOME to the project's shared folder (it holds models/"
    f"{DEFAULT_MODEL_NAME}), or copy that file and {LABELS_NAME} into "
    "~/.cache/w2v-crossmodal/models/, or export your own torchvision ResNet-50 with "
    "torch.onnx.export (see the README) and set W2VX_MODEL to it."
)


def user_cache_dir():
    """``~/.cache/w2v-crossmodal/models``, the last place :func:`resolve_model_path` looks."""
    return Path.home() / ".cache" / "w2v-crossmodal" / "models"


def resolve_model_path(path=None):
    """Find the model file (see the module docstring for the order).

    Parameters
    ----------
    path : str or os.PathLike, optional
        An explicit model file.

    Returns
    -------
    model_path : pathlib.Path
    is_published_file : bool
        True when the file was found at a default location, so it must have
        :data:`DEFAULT_MODEL_SHA256`.

    Raises
    ------
    FileNotFoundError
        If an explicitly named file is missing, or no default location has the model.
    """
    for source, explicit in (
        ("the path argument", path),
        ("W2VX_MODEL", os.environ.get("W2VX_MODEL")),
    ):
        if explicit:
            if not Path(explicit).is_file():
                raise FileNotFoundError(
                    f"model file {str(explicit)!r} (from {source}) does not exist"
                )
            return Path(explicit), False
    candidates = [user_cache_dir() / DEFAULT_MODEL_NAME]
    if os.environ.get("W2VX_HOME"):
        candidates.insert(0, Path(os.environ["W2VX_HOME"]) / "models" / DEFAULT_MODEL_NAME)
    for candidate in candidates:
        if candidate.is_file():
            return candidate, True
    looked_in = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(
        f"no ResNet-50 ONNX model found (no path given, W2VX_MODEL unset, "
        f"W2VX_HOME={os.environ.get('W2VX_HOME')!r}; looked in {looked_in}). {_HOW_TO_GET_ONE}"
    )


def default_thread_count():
    """The CPUs this process may run on (``os.sched_getaffinity`` where it exists)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _fixed_dims(node_arg):
    """The shape of an ONNX input/output without its batch dimension; names become None."""
    return tuple(d if isinstance(d, int) else None for d in node_arg.shape[1:])


def _describe(node_args):
    return ", ".join(f"{a.name} {a.type} {a.shape}" for a in node_args)


class ResNetModel:
    """An onnxruntime session whose inputs and outputs have been checked.

    Use :func:`load_model` to make one.

    Attributes
    ----------
    path : pathlib.Path
        The model file.
    sha256 : str
        Its sha256, the key of :class:`vision.FeatureCache`.
    session : onnxruntime.InferenceSession
    input_name : str
    feature_output : str
        Name of the ``[N, 2048]`` output.
    logits_output : str or None
        Name of the ``[N, 1000]`` pre-softmax output, None if the model has none.
    """

    def __init__(self, path, sha256, session, feature_output, logits_output):
        self.path = Path(path)
        self.sha256 = sha256
        self.session = session
        self.input_name = session.get_inputs()[0].name
        self.feature_output = feature_output
        self.logits_output = logits_output

    def run(self, output_name, batch):
        """Run the model on a batch and return one output.

        Parameters
        ----------
        output_name : str
            :attr:`feature_output` or :attr:`logits_output`.
        batch : numpy.ndarray
            float32, shape ``(N, 3, 224, 224)``.

        Returns
        -------
        numpy.ndarray
            float32, ``(N, 2048)`` or ``(N, 1000)``.
        """
        try:
            (output,) = self.session.run([output_name], {self.input_name: batch})
        except Exception as error:  # onnxruntime's exceptions derive from Exception only
            raise RuntimeError(f"onnxruntime could not run {self.path}: {error}") from error
        return output

    def labels(self):
        """The class names of the logits, from ``imagenet_labels.json`` beside the model file."""
        labels_path = self.path.parent / LABELS_NAME
        if not labels_path.is_file():
            raise FileNotFoundError(
                f"{labels_path} is missing: classify needs the {N_CLASSES} ImageNet class names "
                f"in output order (a JSON list) beside the model file"
            )
        labels = json.loads(labels_path.read_text(encoding="utf-8"))
        if not (isinstance(labels, list) and len(labels) == N_CLASSES):
            raise ValueError(f"{labels_path} must be a JSON list of {N_CLASSES} class names")
        return labels


def _open_session(path, intra_op_threads):
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = intra_op_threads or default_thread_count()
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only
    try:
        return onnxruntime.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as error:
        raise ValueError(
            f"{path} is not a model onnxruntime can load (not ONNX?): {error}"
        ) from error


def _check_signature(path, session, feature_output, logits_output):
    """Raise ValueError unless the model maps [N,3,224,224] to [N,2048] (and [N,1000])."""
    inputs = session.get_inputs()
    if (
        len(inputs) != 1
        or _fixed_dims(inputs[0]) != INPUT_SHAPE
        or inputs[0].type != "tensor(float)"
    ):
        raise ValueError(
            f"{path} must have one float32 input of shape [N, 3, 224, 224]; "
            f"it has: {_describe(inputs)}"
        )
    outputs = {o.name: o for o in session.get_outputs()}
    if feature_output not in outputs or _fixed_dims(outputs[feature_output]) != (FEATURE_DIM,):
        raise ValueError(
            f"{path} has no {FEATURE_DIM}-d feature output named {feature_output!r} "
            f"(its outputs: {_describe(outputs.values())}); pass feature_output=NAME "
            f"if your model calls it something else"
        )
    if logits_output in outputs and _fixed_dims(outputs[logits_output]) != (N_CLASSES,):
        raise ValueError(
            f"{path}: output {logits_output!r} should be [N, {N_CLASSES}] logits; "
            f"its outputs: {_describe(outputs.values())}"
        )


def load_model(
    path=None, *, feature_output="features", logits_output="logits", intra_op_threads=None
):
    """Find, verify and open the ResNet-50 ONNX model.

    Parameters
    ----------
    path : str or os.PathLike, optional
        An explicit model file; otherwise ``W2VX_MODEL``, ``$W2VX_HOME/models`` and
        ``~/.cache/w2v-crossmodal/models`` are tried in that order.
    feature_output : str
        Name of the ``[N, 2048]`` output (penultimate layer, after global average pooling).
    logits_output : str
        Name of the ``[N, 1000]`` pre-softmax output; only needed for classification.
    intra_op_threads : int, optional
        onnxruntime threads for one inference; default: every CPU this process may use.

    Returns
    -------
    ResNetModel

    Raises
    ------
    FileNotFoundError
        No model was found (the message says how to get one).
    ValueError
        The file is not ONNX, has the wrong input or outputs, or is a modified copy of
        the published model.
    """
    model_path, is_published_file = resolve_model_path(path)
    sha256 = file_sha256(model_path)
    if is_published_file and sha256 != DEFAULT_MODEL_SHA256:
        raise ValueError(
            f"{model_path} has sha256 {sha256}, not the published {DEFAULT_MODEL_SHA256}: "
            "the file is modified or incomplete. Restore it (`sha256sum -c SHA256SUMS` in "
            "its folder checks it), or, to use a different model on purpose, pass its path "
            "to load_model(path) or set W2VX_MODEL to it."
        )
    session = _open_session(model_path, intra_op_threads)
    _check_signature(model_path, session, feature_output, logits_output)
    output_names = {o.name for o in session.get_outputs()}
    return ResNetModel(
        model_path,
        sha256,
        session,
        feature_output,
        logits_output if logits_output in output_names else None,
    )

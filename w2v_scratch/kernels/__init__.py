"""Numba training kernels: one training loop, and per (architecture, objective) the steps
that loop applies to each centre word.

==========  ==============================  ==============================
objective   Skip-Gram (sg=1)                CBOW (sg=0)
==========  ==============================  ==============================
softmax     ``sg_softmax_window``           ``cbow_softmax_window``
negative    ``sg_negative_window``          ``cbow_negative_window``
hierarch.   ``sg_hierarchical_window``      ``cbow_hierarchical_window``
==========  ==============================  ==============================

:func:`train_sentences` walks a range of sentences (subsampling, shrunk windows, linear
learning-rate decay) and calls the window step of the chosen mode for every centre word;
the window step calls the matching ``*_step`` function(s), each of which applies one SGD
step of the loss written in :mod:`w2v_scratch.reference`. Each objective module also has
the ``*_scratch`` function that allocates one thread's buffers for its steps.
"""

from .hierarchical import (
    cbow_hierarchical_step,
    cbow_hierarchical_window,
    hierarchical_scratch,
    sg_hierarchical_step,
    sg_hierarchical_window,
)
from .negative import (
    cbow_negative_step,
    cbow_negative_window,
    negative_scratch,
    sg_negative_step,
    sg_negative_window,
)
from .softmax import (
    cbow_softmax_step,
    cbow_softmax_window,
    sg_softmax_step,
    sg_softmax_window,
    softmax_scratch,
)
from .training_loop import train_sentences

__all__ = [
    "cbow_hierarchical_step", "cbow_hierarchical_window", "cbow_negative_step",
    "cbow_negative_window", "cbow_softmax_step", "cbow_softmax_window", "hierarchical_scratch",
    "negative_scratch", "sg_hierarchical_step", "sg_hierarchical_window", "sg_negative_step",
    "sg_negative_window", "sg_softmax_step", "sg_softmax_window", "softmax_scratch",
    "train_sentences",
]

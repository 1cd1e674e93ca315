"""Numba training kernels, one per (architecture, objective).

==========  ===========================  ===========================
objective   Skip-Gram (sg=1)             CBOW (sg=0)
==========  ===========================  ===========================
softmax     ``train_sg_softmax``         ``train_cbow_softmax``
negative    ``train_sg_negative``        ``train_cbow_negative``
hierarch.   ``train_sg_hierarchical``    ``train_cbow_hierarchical``
==========  ===========================  ===========================

Each ``train_*`` kernel walks a range of sentences (subsampling, shrunk windows,
linear learning-rate decay) and calls the matching ``*_step`` function, which applies
one SGD step of the loss written in :mod:`w2v_scratch.reference`.
"""

from .hierarchical import (
    cbow_hierarchical_step,
    sg_hierarchical_step,
    train_cbow_hierarchical,
    train_sg_hierarchical,
)
from .negative import cbow_negative_step, sg_negative_step, train_cbow_negative, train_sg_negative
from .softmax import cbow_softmax_step, sg_softmax_step, train_cbow_softmax, train_sg_softmax

__all__ = [
    "cbow_hierarchical_step", "cbow_negative_step", "cbow_softmax_step",
    "sg_hierarchical_step", "sg_negative_step", "sg_softmax_step",
    "train_cbow_hierarchical", "train_cbow_negative", "train_cbow_softmax",
    "train_sg_hierarchical", "train_sg_negative", "train_sg_softmax",
]

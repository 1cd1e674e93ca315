"""word2vec trained directly from the equations (CBOW and Skip-Gram; full softmax,
negative sampling and hierarchical softmax), with Numba kernels checked against
plain NumPy references and against gensim."""

from .keyedvectors import KeyedVectors
from .text import STOP_WORDS, tokenize
from .word2vec import TrainingDivergedError, Word2Vec

__all__ = ["KeyedVectors", "STOP_WORDS", "TrainingDivergedError", "Word2Vec", "tokenize"]

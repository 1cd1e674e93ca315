"""The one factorisation behind ridge, CCA and sentence PCA: the thin SVD, on one BLAS thread.

    M = U diag(s) V^T,    U (n, r), s (r,), V^T (r, d),    r = min(n, d)

* :class:`retrieval.ridge.RidgeProjection` solves every penalty from one SVD of the inputs;
* :class:`retrieval.cca.CCA` whitens each view from its SVD and takes the SVD of their
  small cross-covariance core;
* :class:`retrieval.sentences.SentenceEncoder` removes the first right singular vector
  of the pooled sentences (their common direction).

LAPACK's SVD and QR spend their time in many small matrix-vector steps; with several
BLAS threads on a busy machine the threads wait for each other (the README gives the
measured cost), so they run on one thread. Matrix products elsewhere keep every thread.
"""

import numpy as np
from threadpoolctl import threadpool_limits


def one_blas_thread():
    """A context in which BLAS and LAPACK use one thread (see the module docstring)."""
    return threadpool_limits(limits=1, user_api="blas")


def thin_svd(M):
    """``M = U diag(s) V^T`` with ``r = min(n, d)`` singular values, on one BLAS thread.

    Parameters
    ----------
    M : ndarray of shape (n, d)

    Returns
    -------
    U : ndarray of shape (n, r)
    s : ndarray of shape (r,), descending
    Vt : ndarray of shape (r, d)
    """
    with one_blas_thread():
        return np.linalg.svd(M, full_matrices=False)


def orthonormal_basis(M):
    """An orthonormal basis ``Q`` (d, k) of the column space of ``M`` (d, k), by QR on
    one BLAS thread."""
    with one_blas_thread():
        Q, _ = np.linalg.qr(M)
    return Q

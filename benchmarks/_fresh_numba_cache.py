"""Imported first by the word2vec benchmarks: compile every Numba kernel afresh.

Numba's on-disk cache is keyed by the source file of each jitted function, so it does not
notice a change in a helper inlined from another file (``w2v_scratch/kernels/common.py``):
a stale cache would time old code. Pointing ``NUMBA_CACHE_DIR`` at a new temporary folder
(unless the caller set one) makes the benchmark compile the code as it is now; processes
it starts inherit the folder and load the kernels it compiled.
"""

import os
import tempfile

os.environ.setdefault("NUMBA_CACHE_DIR", tempfile.mkdtemp(prefix="w2v-benchmark-numba-"))

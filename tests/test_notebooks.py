"""Every teaching notebook in notebooks/ runs top to bottom in fast mode.

Truth: nbclient executing the notebook in a fresh kernel of *this* interpreter, with
``W2VX_FAST=1`` and ``W2VX_HOME`` passed through. Required: no cell raises, and no cell
takes longer than ``CELL_TIMEOUT`` seconds.

The notebooks folder is copied to a temporary directory and executed there, so the
committed notebooks (and their saved outputs) are never modified. A notebook added later
(02, 03, ...) is picked up automatically. A notebook can list the files it needs under
``$W2VX_HOME`` in its metadata, ``{"w2vx": {"requires": ["data/text/english-17M.txt.gz"]}}``;
the test skips, saying which file is missing, when one is absent.
"""

import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 600  # seconds, per cell
KERNEL_NAME = "python3"


def _shared_home():
    """$W2VX_HOME as an absolute path (the kernel runs in another directory), or skip."""
    home = os.environ.get("W2VX_HOME")
    if not home:
        pytest.skip("W2VX_HOME is not set (it should point at a folder holding data/ and models/)")
    home = Path(home).resolve()
    if not (home / "data").is_dir():
        pytest.skip(f"{home / 'data'} is absent (W2VX_HOME={home})")
    return home


def _use_this_interpreter_kernel(jupyter_dir, monkeypatch):
    """Make the ``python3`` kernel spec point at the running interpreter.

    JUPYTER_PATH comes first in the kernel-spec search, so a ``python3`` spec installed
    for another Python (user or system wide) cannot be picked up instead of this venv's.
    """
    spec_dir = jupyter_dir / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (tests)", "language": "python"}
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    monkeypatch.setenv("JUPYTER_PATH", str(jupyter_dir))


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_notebook_runs_in_fast_mode(notebook, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")

    home = _shared_home()
    nb = nbformat.read(notebook, as_version=4)
    for required in nb.metadata.get("w2vx", {}).get("requires", []):
        if not (home / required).exists():
            pytest.skip(f"{notebook.name} needs {home / required}, which is absent")

    workdir = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS_DIR, workdir)  # sibling files the notebook may read
    _use_this_interpreter_kernel(tmp_path / "jupyter", monkeypatch)
    monkeypatch.setenv("W2VX_FAST", "1")
    monkeypatch.setenv("W2VX_HOME", str(home))

    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name=KERNEL_NAME,
                                     resources={"metadata": {"path": str(workdir)}})
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError (with the cell's traceback) on any error
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code_cells and all(cell.execution_count for cell in code_cells), "a cell did not run"
    assert not [out for cell in code_cells for out in cell.outputs if out.output_type == "error"]
    print(f"\n{notebook.name}: fast mode ran in {time.perf_counter() - start:.0f} s")

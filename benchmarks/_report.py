"""Shared by the benchmarks: what machine and code they ran on, and how tables are written."""

import os
import platform
import subprocess
from pathlib import Path

import numpy as np


def cpu_model():
    """The CPU's name from /proc/cpuinfo (or platform.processor elsewhere)."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def machine_description(**versions):
    """CPU, cores, load average now, Python, numpy and the given ``library=version`` pairs."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    libraries = ", ".join(f"{name} {version}" for name, version in versions.items())
    return (f"CPU {cpu_model()}, {os.cpu_count()} logical cores "
            f"({len(os.sched_getaffinity(0))} usable); load average at start {load}; "
            f"Python {platform.python_version()}, numpy {np.__version__}"
            + (f", {libraries}" if libraries else ""))


def code_revision(package):
    """The measured code: commit of the checkout, and whether ``package``/ differs from it."""
    root = Path(__file__).resolve().parent.parent
    git = ["git", "-C", str(root)]
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "unknown"
    dirty = subprocess.run([*git, "diff", "--quiet", "HEAD", "--", package]).returncode == 1
    return f"commit {commit}" + (f" plus uncommitted changes in {package}/" if dirty else "")


def write_report(path, text):
    """Write a temporary file next to ``path``, then rename it: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)

"""Shared by the benchmarks: what machine they ran on, and how their tables are written."""

import os
import platform
from pathlib import Path


def cpu_model():
    """The CPU's name from /proc/cpuinfo (or platform.processor elsewhere)."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def write_report(path, text):
    """Write a temporary file next to ``path``, then rename it: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)

"""What machine a benchmark ran on, for the results files."""

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

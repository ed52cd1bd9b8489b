"""What the DuckDB peer measurements (benches/duckdb_*.py) share: the peak memory of the
process, the cores available, and SQL string literals.

Imported by the scripts from their own folder (Python puts a script's folder first on its
path), so `python3 benches/<script>.py` works from anywhere.
"""

from __future__ import annotations

import os
import resource


def pic_memoire_mib():
    """Peak resident memory of this process, in MiB.

    Read from /proc/self/status (VmHWM), which belongs to this program only: getrusage's
    ru_maxrss also carries the peak of the process that started it (Linux keeps it across exec).
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"

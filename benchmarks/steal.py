"""CPU steal and run-queue delay: time this process wanted a CPU and did not get one.

On a shared virtual machine a burst of steal can slow one value and not its partner. Steal as the
kernel counts it (`/proc/stat`) is machine-wide, so on 2 CPUs a burst on one is diluted by half, and
it is blind to other processes of this machine taking the CPU. So every measured value also records
its own thread's run-queue delay (`/proc/thread-self/schedstat`: time runnable but waiting), as a
share of the value's wall time. A value over 10% on either is disturbed, and its pair is dropped
from comparisons (benchmarks/compare.py); None where the kernel does not say.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import TracebackType
from typing import Self

PROC_STAT = Path("/proc/stat")
SCHEDSTAT = Path("/proc/thread-self/schedstat")  # "on-cpu ns, run-queue wait ns, timeslices"
STEAL_FIELD = 8  # "cpu user nice system idle iowait irq softirq steal ..."
DISTURBED_ABOVE = 0.10  # a value taken while more than 10% of the machine's CPU time was stolen


def steal_seconds(stat: Path = PROC_STAT) -> float | None:
    """Total steal over all CPUs since boot, in seconds; None where the kernel does not say."""
    try:
        fields = stat.read_text().splitlines()[0].split()
        return int(fields[STEAL_FIELD]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def run_queue_seconds(schedstat: Path = SCHEDSTAT) -> float | None:
    """Time this thread has spent runnable but waiting for a CPU, in seconds; None where the kernel does not say."""
    try:
        return int(schedstat.read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None


class StealMeter:
    """During a `with` block: the share of the machine's CPU capacity stolen (`fraction`) and the share of the
    block this thread waited in the run queue (`run_queue`); None when unknown."""

    def __init__(self, stat: Path = PROC_STAT, schedstat: Path = SCHEDSTAT) -> None:
        self.stat = stat
        self.schedstat = schedstat
        self.fraction: float | None = None
        self.run_queue: float | None = None

    def __enter__(self) -> Self:
        self._steal = steal_seconds(self.stat)
        self._waited = run_queue_seconds(self.schedstat)
        self._started = time.perf_counter()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        elapsed = time.perf_counter() - self._started
        after, waited = steal_seconds(self.stat), run_queue_seconds(self.schedstat)
        if elapsed <= 0:
            return
        if self._steal is not None and after is not None:
            self.fraction = (after - self._steal) / (elapsed * (os.cpu_count() or 1))
        if self._waited is not None and waited is not None:
            self.run_queue = (waited - self._waited) / elapsed

"""CPU steal: time the hypervisor ran someone else while this machine wanted its CPUs.

On a shared virtual machine a burst of steal can slow one case and not the one it is compared
with, and no statistic over that case's values will show it (they were all taken in the same
burst). So every measured value records the share of the machine's CPU time stolen while it ran
(`/proc/stat`, Linux; None elsewhere), and comparisons involving a disturbed case are not
trusted by the verdicts.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import TracebackType
from typing import Self

PROC_STAT = Path("/proc/stat")
STEAL_FIELD = 8  # "cpu user nice system idle iowait irq softirq steal ..."
DISTURBED_ABOVE = 0.10  # a value taken while more than 10% of the machine's CPU time was stolen


def steal_seconds(stat: Path = PROC_STAT) -> float | None:
    """Total steal over all CPUs since boot, in seconds; None where the kernel does not say."""
    try:
        fields = stat.read_text().splitlines()[0].split()
        return int(fields[STEAL_FIELD]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


class StealMeter:
    """Share of the machine's CPU capacity stolen during a `with` block (None if unknown)."""

    def __init__(self, stat: Path = PROC_STAT) -> None:
        self.stat = stat
        self.fraction: float | None = None

    def __enter__(self) -> Self:
        self._steal = steal_seconds(self.stat)
        self._started = time.perf_counter()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        elapsed = time.perf_counter() - self._started
        after = steal_seconds(self.stat)
        if self._steal is not None and after is not None and elapsed > 0:
            self.fraction = (after - self._steal) / (elapsed * (os.cpu_count() or 1))

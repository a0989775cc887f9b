"""The pyperf Runner and progress display both pyperf suites (speed, micro) share, configured the same way."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from pathlib import Path

import pyperf
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from benchmarks.environment import environment, python_tag


def suite_runner(
    module: str,
    profile_name: str,
    profile_names: Iterable[str],
    sizes: tuple[int, int, int],
    forward: Callable[[list[str], argparse.Namespace], None],
) -> pyperf.Runner:
    """A Runner for `python -m <module>` with (processes, values, warmups) from the profile and one loop per value.

    Every value is milliseconds or more, far above timer resolution, so a value is one call of the time
    function; calibrating would cost an extra worker process per benchmark (`-l 0` brings it back).
    Callers add their own options to `runner.argparser`, then call `runner.parse_args()`."""
    processes, values, warmups = sizes
    runner = pyperf.Runner(
        processes=processes,
        values=values,
        warmups=warmups,
        loops=1,
        program_args=("-m", module),
        add_cmdline_args=forward,
    )
    parser = runner.argparser
    parser.add_argument("--bench-profile", choices=sorted(profile_names), default="default")
    parser.add_argument("--run-dir", type=Path, required=True, help="reports/<run-id>")
    # Spread is in our tables; pyperf's stability warnings would fire on every run of this noisy machine.
    parser.set_defaults(quiet=True)
    runner.metadata.update(environment())
    runner.metadata["bench_profile"] = profile_name
    return runner


def suite_progress(console: Console, label: str | None = None) -> Progress:
    """What runs now, seconds done of the estimated total, time elapsed and left."""
    return Progress(
        TextColumn(f"[bold]{label or 'Python ' + python_tag()}"),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.total:.0f} s est."),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=console,
    )

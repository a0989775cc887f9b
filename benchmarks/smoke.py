"""Run each shipped scenario once per variant, validate it, and print wall time and request counts.

A smoke check, not a benchmark: one run each, in one process, so read it for shape
(which variant waits where), never for a headline number.
"""

from __future__ import annotations

import argparse
import platform
import sys
from collections import Counter

from rich.markup import escape
from rich.table import Table

from benchmarks.terminal import table_console
from scenarios import ScenarioFilesError, load_scenarios
from scenarios.mock import add_transport_option
from scenarios.runner import execute
from scenarios.validate import ValidationFailed, validate
from workflow.events import RunError
from workflow.variants import REGISTRY


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.smoke", description=__doc__)
    parser.add_argument("--scenario", action="append", help="a shipped scenario name (repeatable)")
    parser.add_argument("--variant", action="append", choices=list(REGISTRY), help="a variant (repeatable)")
    parser.add_argument("--scenario-file", action="append", default=[], help="your own scenario file (repeatable)")
    add_transport_option(parser)
    args = parser.parse_args(argv)
    console = table_console()
    try:
        scenarios = load_scenarios(args.scenario_file)
    except ScenarioFilesError as exc:
        console.print(f"[red]bad scenario file(s):[/]\n{escape(str(exc))}")
        return 2
    names = args.scenario or list(scenarios)
    unknown = [n for n in names if n not in scenarios]
    if unknown:
        console.print(f"[red]unknown scenario(s) {unknown}; known: {sorted(scenarios)}[/]")
        return 2
    variants = args.variant or list(REGISTRY)

    table = Table(title=f"One validated run per scenario and variant — Python {platform.python_version()}")
    for column in ("scenario", "variant", "outcome", "wall s", "1st chunk s", "requests", "answered", "cancelled"):
        table.add_column(
            column, justify="left" if column in ("scenario", "variant", "outcome") else "right", no_wrap=True
        )
    with console.status("running") as status:
        # One untimed pass first, so import and first-call costs are not charged to whichever variant runs first.
        for variant in variants:
            status.update(f"warming up {variant}")
            validate(execute(scenarios[names[0]], variant))
        for name in names:
            for variant in variants:
                status.update(f"running {name} / {variant}")
                execution = execute(scenarios[name], variant)
                try:
                    validate(execution)
                except ValidationFailed as exc:
                    console.print(f"[red]{exc}[/]")
                    return 1
                outcomes = Counter(r.outcome for r in execution.requests)
                last = execution.turns[-1].events[-1]
                first = execution.turns[0].first_chunk_s
                table.add_row(
                    name,
                    variant,
                    f"error@{last.step}" if isinstance(last, RunError) else "completed",
                    f"{execution.wall_s:.3f}",
                    "-" if first is None else f"{first:.3f}",
                    str(len(execution.requests)),
                    str(outcomes["answered"]),
                    str(outcomes["cancelled"]),
                )
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())

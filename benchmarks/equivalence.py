"""Equivalence: does every variant do the same work and say the same thing as the sync one?

    python -m benchmarks.equivalence --bench-profile quick --run-dir reports/<run-id> [--scenario NAME]

Runs every shipped scenario once per variant under the mock and compares each run with the
`threads` run (the sync implementation the async ones must match): the final answer of every
turn, the workflow's events (as comparable keys), and the calls made. It also records what became
of every request (answered, failed, cancelled) and, for a run that ended in a RunError, which
siblings finished and which were cancelled: the evidence for claims C6 and C7. Writes
`raw/<python>.equivalence.json`. A run that fails validation is recorded as such, not hidden.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks.environment import python_tag
from benchmarks.matrix import PROFILES, VARIANTS
from benchmarks.run_dir import atomic_write_json
from benchmarks.suites import EQUIVALENCE
from benchmarks.terminal import table_console
from scenarios import ScenarioFilesError, own_scenarios, shipped_scenarios
from scenarios.mock import add_transport_option, selected_transport
from scenarios.runner import Execution, execute
from scenarios.validate import ValidationFailed, validate
from workflow.events import RunCompleted, RunError

REFERENCE = "threads"


def observe(execution: Execution) -> dict[str, Any]:
    """What a run did, in a form two runs can be compared by (and JSON can hold)."""
    try:
        validate(execution)
        problems: list[str] = []
    except ValidationFailed as exc:
        problems = exc.reasons
    errors = [e for turn in execution.turns for e in turn.events if isinstance(e, RunError)]
    return {
        "validated": not problems,
        "validation_problems": problems,
        "final": [_final(turn.events) for turn in execution.turns],
        "events": [sorted(map(repr, (e.key() for e in turn.events))) for turn in execution.turns],
        "calls": dict(sorted(Counter(r.call for r in execution.requests).items())),
        "outcomes": dict(sorted(Counter(r.outcome for r in execution.requests).items())),
        "run_errors": [
            {
                "step": e.step,
                "failed": [f.call for f in e.failures],
                "completed": list(e.completed),
                "cancelled": list(e.cancelled),
                "orphaned": list(e.orphaned),
            }
            for e in errors
        ],
        "wall_s": execution.wall_s,
    }


def differences(run: dict[str, Any], reference: dict[str, Any]) -> list[str]:
    """How a run departs from the reference in what a user sees or the work done; empty when it does not."""
    found = []
    if not run["validated"]:
        found.append("failed validation: " + "; ".join(run["validation_problems"]))
    for field, what in (("final", "final answer"), ("events", "events"), ("calls", "calls made")):
        if run[field] != reference[field]:
            found.append(f"{what} differ")
    return found


def compare(observed: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One scenario's runs, each compared with the reference variant's."""
    reference = observed[REFERENCE]
    per_variant = {variant: differences(run, reference) for variant, run in observed.items()}
    return {
        "variants": observed,
        "differences": {variant: found for variant, found in per_variant.items() if found},
        "agree": not any(per_variant.values()),
    }


def _final(events: tuple[object, ...]) -> str | None:
    last = events[-1] if events else None
    return last.content if isinstance(last, RunCompleted) else None


def render(scenarios: dict[str, dict[str, Any]]) -> Table:
    table = Table(title=f"Equivalence with {REFERENCE} (final answers, events, calls), and work done")
    counted = ("answered", "failed", "cancelled", "left running")
    for column in ("scenario", "variant", "same as threads", *counted):
        table.add_column(column, justify="right" if column in counted else "left")
    for name, result in scenarios.items():
        for variant, run in result["variants"].items():
            found = result["differences"].get(variant, [])
            outcomes = run["outcomes"]
            same = "yes" if not found else "[red]" + "; ".join(found) + "[/]"
            counts = [str(outcomes.get(k, 0)) for k in ("answered", "failed", "cancelled")]
            orphaned = sum(len(error.get("orphaned", ())) for error in run["run_errors"])
            table.add_row(name, variant, same, *counts, str(orphaned))
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.equivalence", description=__doc__)
    parser.add_argument("--bench-profile", choices=sorted(PROFILES), default="default")
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--scenario", action="append", help="a shipped scenario (default: the profile's)")
    parser.add_argument("--scenario-file", action="append", default=[], help="your own scenario file (repeatable)")
    add_transport_option(parser)
    args = parser.parse_args(argv)
    try:
        shipped = shipped_scenarios()
        own = {scenario.name: scenario for scenario in own_scenarios(args.scenario_file, shipped)}
    except ScenarioFilesError as exc:
        parser.error(f"bad scenario file(s):\n{exc}")
    known = shipped | own
    unknown = sorted(set(args.scenario or ()) - set(known))
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    console = Console(stderr=True)
    path = EQUIVALENCE.path(args.run_dir, python_tag())
    path.unlink(missing_ok=True)  # a re-used run id, or a failure below, must not leave an earlier result standing
    scenarios: dict[str, dict[str, Any]] = {}
    profile_names = PROFILES[args.bench_profile].equivalence_scenarios or sorted(shipped)
    names = args.scenario or [*profile_names, *own]
    with console.status("equivalence") as status:
        for name in names:
            observed = {}
            for variant in VARIANTS:
                status.update(f"Python {python_tag()} equivalence: {name}/{variant}")
                observed[variant] = observe(execute(known[name], variant))
            scenarios[name] = compare(observed)
    document = {
        "python": python_tag(),
        "transport": selected_transport(),
        "reference": REFERENCE,
        "scenarios": scenarios,
    }
    atomic_write_json(path, document)
    out = table_console()
    out.print(render(scenarios))
    console.print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The report: verdicts on every claim, rendered from a run folder's stored results without measuring.

    python -m benchmarks.report reports/<run-id>

Writes `results.json` (machine-readable verdicts), `figures/*.png` and `index.html` into the run
folder, each replaced atomically, then prints the verdict table and the report's path. Partial
results render: a claim without its data is inconclusive and the page lists the gaps.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from rich.table import Table

from benchmarks.advice import advise
from benchmarks.claims import Verdict, decide_all
from benchmarks.figures import draw_all, draw_layers, draw_users
from benchmarks.layer_map import LAYERS
from benchmarks.layer_results import case_rows
from benchmarks.layer_results import headline as layers_headline
from benchmarks.matrix import PROFILES
from benchmarks.openai_lines import SAME_WITHIN, headline, line_rows
from benchmarks.results import ResultsError, RunResults, load_run
from benchmarks.run_dir import atomic_write_json, atomic_write_text, raw_dir
from benchmarks.stats import MIN_PAIRS
from benchmarks.suites import INSTRUCTIONS
from benchmarks.suites import LAYERS as LAYERS_SUITE
from benchmarks.suites import REGISTRY as SUITE_REGISTRY
from benchmarks.summary import instruction_rows, users_rows
from benchmarks.terminal import table_console

TEMPLATES = Path(__file__).resolve().parent / "templates"
ENVIRONMENT_KEYS = (
    "python_version",
    "python_build",
    "platform",
    "cpu_count",
    "git_commit",
    "transport",
    "version_agno",
    "version_openai",
)
VERDICT_STYLE = {"holds": "green", "refuted": "red", "conditional": "yellow", "inconclusive": "white"}


def gaps(results: RunResults) -> list[str]:
    """What this run lacks, in words: missing interpreters and suites that did not run."""
    found = [f"Python {python} {results.why_missing(python)}" for python in results.missing]
    profile = PROFILES.get(str(results.manifest.get("profile")))
    expected = [
        suite
        for suite in SUITE_REGISTRY.values()
        if suite.expected_everywhere and (profile is None or suite.needed(profile))  # a profile may leave one out
    ]
    for python in results.pythons:
        absent = [suite.title for suite in expected if python not in results.of_suite(suite.name)]
        if absent:
            found.append(f"Python {python}: no {', '.join(absent)} results")
        measured = results.instructions.get(python)
        if measured is not None and measured.unavailable:
            found.append(f"Python {python}: instruction counts unavailable: {measured.unavailable}")
    if profile is not None and not INSTRUCTIONS.needed(profile):
        found.append(
            f"instruction counts are not measured in the {results.manifest.get('profile')} profile "
            "(callgrind start-up is ~12 s per interpreter)"
        )
    if profile is not None and not LAYERS_SUITE.needed(profile) and not results.layers:
        found.append(
            f"where the time goes (layers) is not measured by the {results.manifest.get('profile')} bench "
            f"(`nox -s profile -- --{results.manifest.get('profile')}` samples it alone)"
        )
    if not results.pythons:
        found.append("no results at all in raw/")
    return found + results.notes


TRANSPORT_TEXT = {
    "respx": "mocked at the HTTP layer inside the client (respx: no socket, no connection limit)",
    "loopback": "served by a mock HTTP server on 127.0.0.1 in its own process (loopback: real sockets and the "
    "client's connection pool; the server's CPU shares the machine's cores with the client; the memory suite "
    "holds its K calls in the server, with the connection limit raised to K)",
}


def run_conditions(results: RunResults) -> str:
    manifest = results.manifest
    profile = manifest.get("profile", "?")
    pythons = ", ".join(results.pythons) or "none"
    transport = str(manifest.get("transport", "respx"))
    line = str(manifest.get("openai_line", "2"))
    beside = "".join(
        f", and {label.split('@openai-', 1)[1]}.x beside it on Python {compared.python}'s workloads"
        for label, compared in sorted(results.openai_compared.items())
    )
    return (
        f"Profile {profile}; Python {pythons}; openai SDK {line}.x{beside} (the versions are in the table below); "
        f"LLM and market-data APIs {TRANSPORT_TEXT.get(transport, transport)}, "
        "with the latency of each scenario file; one machine, measured in one run: speed in interleaved rounds "
        "(every case once per round in each worker process, order shuffled per round, worker processes alternating "
        "between interpreters), never two timed things at once; options: "
        + (" ".join(manifest.get("options", [])) or "none")
        + "."
    )


def results_document(results: RunResults, verdicts: list[Verdict]) -> dict[str, Any]:
    environments = {python: _environment(results, python) for python in results.pythons}
    environments |= {label: compared.environment for label, compared in sorted(results.openai_compared.items())}
    lines = line_rows(results)
    layer_rows = case_rows(results)
    return {
        "run_id": results.run_dir.name,
        "profile": results.manifest.get("profile"),
        "interpreters_missing": results.missing,
        "environment": environments,
        "conditions": run_conditions(results),
        "gaps": gaps(results),
        "claims": [verdict.to_json() for verdict in verdicts],
        "instructions": instruction_rows(results),
        "users": users_rows(results),
        "advice": [sentence.to_json() for sentence in advise(results, verdicts)],
        "openai_lines": lines,
        "layers": layer_rows,
        "layers_headline": layers_headline(layer_rows),
        "openai_lines_headline": headline(lines),
    }


WRITE_FAILED_EXIT_CODE = 4  # the results were read and decided, the report could not be written


def render(run_dir: Path) -> tuple[Path, list[Verdict]]:
    """Write results.json, figures and index.html for a run folder; ResultsError if it cannot be read."""
    results = load_run(run_dir)
    if not results.pythons:
        raise ResultsError(f"{run_dir}: no results in {raw_dir(run_dir)} (no suite finished): nothing to report")
    verdicts = decide_all(results)
    document = results_document(results, verdicts)
    # Everything is made before anything is replaced, so a failure leaves the previous report whole.
    with tempfile.TemporaryDirectory(prefix=".figures-", dir=run_dir) as scratch:
        images = draw_all(verdicts, results, Path(scratch) / "figures")
        users_figure = draw_users(document["users"], Path(scratch) / "figures")
        if users_figure:
            images["users"] = users_figure
        layer_images = draw_layers(document["layers"], Path(scratch) / "figures")
        images |= {f"layers:{scenario}": image for scenario, image in layer_images.items()}
        html = _page(results, document, images)
        figures = run_dir / "figures"
        shutil.rmtree(figures, ignore_errors=True)
        shutil.move(Path(scratch) / "figures", figures)
    atomic_write_json(run_dir / "results.json", document)
    atomic_write_text(run_dir / "index.html", html)
    return run_dir / "index.html", verdicts


def _page(results: RunResults, document: dict[str, Any], images: dict[str, str]) -> str:
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    claims = []
    for claim in document["claims"]:
        evidence = [{**row, "ci_text": _interval(row["ci"])} for row in claim["evidence"]]
        claims.append(
            {**claim, "ci_text": _interval(claim["ci"]), "image": images.get(claim["id"]), "evidence": evidence}
        )
    run_dir = results.run_dir
    raw_links = sorted(str(path.relative_to(run_dir)) for path in raw_dir(run_dir).glob("*") if path.is_file())
    flamegraphs = sorted(str(path.relative_to(run_dir)) for path in run_dir.glob("memray/*/*.html"))
    return environment.get_template("report.html.j2").render(
        run_id=document["run_id"],
        profile=document["profile"] or "?",
        pythons=results.pythons,
        rendered=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        gaps=document["gaps"],
        claims=claims,
        conditions=document["conditions"],
        environments=document["environment"],
        environment_keys=ENVIRONMENT_KEYS,
        raw_links=raw_links,
        flamegraphs=flamegraphs,
        min_pairs=MIN_PAIRS,
        instructions=document["instructions"],
        users=document["users"],
        users_image=images.get("users"),
        advice=document["advice"],
        openai_lines=document["openai_lines"],
        openai_lines_headline=document["openai_lines_headline"],
        same_within=SAME_WITHIN,
        layers=document["layers"],
        layers_headline=document["layers_headline"],
        layers_images=[image for key, image in sorted(images.items()) if key.startswith("layers:")],
        layers_rate_text=_rates(results),
        layer_keys=LAYERS,
    )


def _rates(results: RunResults) -> str:
    rates = sorted({measured.rate for measured in results.layers.values()})
    return "at " + " / ".join(f"{rate}" for rate in rates) + " samples a second" if rates else ""


def _environment(results: RunResults, python: str) -> dict[str, Any]:
    if python in results.environments:
        return results.environments[python]
    memory = results.memory.get(python)
    return dict(memory.environment) if memory is not None else {}


def _interval(ci: list[float] | None) -> str:
    return "-" if ci is None else f"{ci[0]:.3g} to {ci[1]:.3g}"


def verdict_table(verdicts: list[Verdict]) -> Table:
    table = Table(title="Verdicts on the planning documents' claims")
    for column in ("claim", "verdict", "figure", "95% interval", "condition"):
        table.add_column(column, overflow="fold")
    for verdict in verdicts:
        style = VERDICT_STYLE[verdict.verdict]
        interval = "-" if verdict.ci is None else f"{verdict.ci[0]:.3g} to {verdict.ci[1]:.3g}"
        table.add_row(
            f"{verdict.claim.id} {verdict.claim.title}",
            f"[{style}]{verdict.verdict}[/]",
            verdict.figure_text,
            interval,
            verdict.condition,
        )
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report", description=__doc__)
    parser.add_argument("run_dir", type=Path, help="a run folder, e.g. reports/latest")
    args = parser.parse_args(argv)
    try:
        index, verdicts = render(args.run_dir)
    except ResultsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk, a read-only folder: the previous report is left as it was
        where = exc.filename or args.run_dir
        print(f"error: cannot write the report to {where}: {exc.strerror or exc}", file=sys.stderr)
        return WRITE_FAILED_EXIT_CODE
    console = table_console()
    console.print(verdict_table(verdicts))
    console.print(f"report: {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

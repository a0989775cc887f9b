"""The regression gate's logic on synthetic data: the decision table, exit codes, thresholds, unusable input."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from benchmarks import gate
from benchmarks.cli import BenchOptionsError, parse_gate_options
from benchmarks.gate_rules import (
    EXIT_PASS,
    EXIT_REGRESSION,
    EXIT_UNUSABLE,
    GateConfigError,
    Thresholds,
    exit_code,
    judge,
    load_thresholds,
    markdown,
)
from benchmarks.stats import Estimate
from tests.synthetic import case, write_speed_suite


@pytest.mark.parametrize(
    ("estimate", "decision"),
    [
        (Estimate(1.20, 1.12, 1.30), "regression"),  # significant and large
        (Estimate(1.04, 1.01, 1.07), "slower, within threshold"),  # significant and small: passes
        (Estimate(1.20, 0.95, 1.45), "not significant"),  # large, but the interval reaches 1: passes, reported
        (Estimate(1.01, 0.98, 1.04), "no change"),
        (Estimate(0.80, 0.75, 0.86), "faster"),
        (Estimate(1.50, None, None), "undecided"),  # too few values for an interval
        (None, "undecided"),
    ],
)
def test_the_decision_table(estimate: Estimate | None, decision: str) -> None:
    assert judge(estimate, 0.10) == decision


def test_exit_codes(tmp_path: Path) -> None:
    findings = _findings(tmp_path, {"taskgroup": 1.0, "gather": 1.0})
    assert exit_code(findings) == EXIT_PASS
    assert exit_code(_findings(tmp_path / "slow", {"taskgroup": 1.3, "gather": 1.0})) == EXIT_REGRESSION
    assert exit_code([]) == EXIT_UNUSABLE  # nothing compared is not a pass
    undecided = [replace(findings[0], decision="undecided"), *findings[1:]]
    assert exit_code(undecided) == EXIT_UNUSABLE


def _findings(
    run_dir: Path, slowdown: dict[str, float], noise: float = 0.01, waits: dict[str, float] | None = None
) -> list[gate.Finding]:
    """Candidate and baseline suites as the gate's driver writes them (3.12 and 3.12@baseline), then its findings.
    `waits`: seconds a variant's candidate sleeps per zero-latency run (wall and idle time, not CPU)."""
    now, before = [], []
    for variant, factor in slowdown.items():
        for name, scale, latency in (("report-5", 0.65, "default"), ("report-5@zero", 0.05, "zero")):
            slept = (waits or {}).get(variant, 0.0) if latency == "zero" else 0.0
            base = case(name, variant, scale, "3.12@baseline", noise=noise, first_chunk=scale / 2, latency=latency)
            cand = case(
                name,
                variant,
                scale * factor + slept,
                "3.12",
                noise=noise,
                first_chunk=scale / 2,
                latency=latency,
                idle=0.001 + slept,
            )
            before.append(replace(base, commit="base"))
            now.append(replace(cand, commit="cand"))
    write_speed_suite(run_dir, "3.12", now)
    write_speed_suite(run_dir, "3.12@baseline", before)
    return gate.findings(run_dir, ["3.12"], Thresholds())


def test_a_slower_variant_is_named_with_its_measure(tmp_path: Path) -> None:
    found = _findings(tmp_path, {"taskgroup": 1.25, "gather": 1.0})
    regressions = {(f.measure, f.case) for f in found if f.decision == "regression"}
    assert regressions == {("wall", "report-5/taskgroup"), ("overhead", "report-5@zero/taskgroup")}
    assert {(f.measure, f.case) for f in found if f.fails} == {("wall", "report-5/taskgroup")}
    assert all(f.decision != "regression" for f in found if "gather" in f.case)
    chunk = next(f for f in found if f.measure == "first_chunk" and f.case == "report-5/taskgroup")
    assert chunk.decision == "no change"  # its first chunk did not move
    table = markdown(found, "main (abc)", "the working tree")
    assert "**regression: report-5/taskgroup on 3.12: wall time per run at default latency +2" in table
    assert "| **regression** |" in table


def test_a_sleep_per_call_is_caught_as_idle_time_not_cpu(tmp_path: Path) -> None:
    """+10 ms of waiting per zero-latency run (5 ms per LLM call on the critical path) in gather: a regression of
    idle time, named, while the CPU-bound measures of the other variants do not move."""
    found = _findings(tmp_path, {"taskgroup": 1.0, "gather": 1.0}, waits={"gather": 0.010})
    assert {(f.measure, f.case) for f in found if f.fails} == {("idle", "report-5@zero/gather")}
    idle = next(f for f in found if f.measure == "idle" and f.case == "report-5@zero/gather")
    assert idle.ratio is not None and 0.009 < idle.ratio < 0.012 and idle.limit == "+5.0 ms"
    calm = next(f for f in found if f.measure == "idle" and f.case == "report-5@zero/taskgroup")
    assert calm.decision == "no change"


def test_an_advisory_measure_is_decided_and_shown_but_never_fails_the_gate(tmp_path: Path) -> None:
    found = _findings(tmp_path, {"taskgroup": 1.0, "gather": 1.0})
    slower = replace(found[0], measure="overhead", decision="regression", gating=False)
    assert exit_code([slower, *found[1:]]) == EXIT_PASS
    assert "regression (advisory)" in markdown([slower], "main", "tree")
    assert exit_code([replace(slower, gating=True), *found[1:]]) == EXIT_REGRESSION
    advisory = _findings(tmp_path / "zero", {"taskgroup": 1.3})
    overhead = [f for f in advisory if f.measure == "overhead"]
    assert overhead and not any(f.gating for f in overhead)  # from pyproject's advisory list (the default)


def test_gate_files_are_written_and_appended_to_the_github_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = _findings(tmp_path, {"taskgroup": 1.25})
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    gate.publish(tmp_path, found, "main (abc)", "the working tree", ["a note"])
    document = json.loads((tmp_path / "gate.json").read_text())
    assert document["exit_code"] == EXIT_REGRESSION and document["verdict"].startswith("regression: ")
    assert {row["decision"] for row in document["findings"]} >= {"regression", "no change"}
    assert (tmp_path / "gate.md").read_text() in summary.read_text()
    assert summary.read_text().startswith("earlier step\n")


def test_thresholds_come_from_pyproject_and_a_bad_table_is_named(tmp_path: Path) -> None:
    shipped = load_thresholds(Path(gate.ROOT / "pyproject.toml"))
    assert shipped == Thresholds()  # the shipped table states the defaults
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text("[tool.agno-bench.gate]\nwall = 0.05\n")
    assert load_thresholds(pyproject).wall == 0.05 and load_thresholds(pyproject).overhead == 0.15
    pyproject.write_text("[tool.agno-bench.gate]\nspeed = 0.05\n")
    with pytest.raises(GateConfigError, match=r"\[tool.agno-bench.gate\] speed: unknown measure"):
        load_thresholds(pyproject)
    pyproject.write_text('[tool.agno-bench.gate]\nadvisory = ["speed"]\n')
    with pytest.raises(GateConfigError, match="advisory: expected a list of measures"):
        load_thresholds(pyproject)
    pyproject.write_text('[tool.agno-bench.gate]\nwall = "10%"\n')
    with pytest.raises(GateConfigError, match=r"expected a fraction such as 0\.10"):
        load_thresholds(pyproject)


def test_a_ref_that_does_not_exist_is_unusable_input(tmp_path: Path) -> None:
    with pytest.raises(gate.GateInputError, match="--against no-such-branch: no such commit"):
        gate.resolve("no-such-branch")
    code = gate.main(["--run-dir", str(tmp_path), "--python", "3.12=/nonexistent", "--against", "no-such-branch"])
    assert code == EXIT_UNUSABLE
    assert not (tmp_path / "gate.md").exists()


def test_gate_options() -> None:
    assert parse_gate_options(["--against", "main", "--python", "3.12"]).driver_options() == ["--against", "main"]
    assert parse_gate_options([]).driver_options() == []
    with pytest.raises(BenchOptionsError, match="unknown option"):
        parse_gate_options(["--quick"])

"""The measuring code refuses broken runs, parses its options, and records why a level stopped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from benchmarks import speed, users
from benchmarks.cli import BenchOptionsError, openai_constraints, parse_bench_options
from benchmarks.matrix import EVERYDAY_VARIANTS, PROFILES, BenchCase, expand, on_interpreter
from benchmarks.results import load_run
from scenarios import own_scenarios
from scenarios.runner import Turn
from tests.conftest import SHIPPED, make_scenario

ROOT = Path(__file__).resolve().parent.parent


def _broken_case() -> BenchCase:
    # The scenario promises tickers AAA and ZZZ but the message names AAA and BBB: every run routes
    # elsewhere than the scenario says, so no run of it may count.
    good = make_scenario()
    return BenchCase("broken/taskgroup", replace(good, tickers=("AAA", "ZZZ")), "taskgroup", "scenario")


def test_a_validation_failure_aborts_the_measurement(capsys: pytest.CaptureFixture[str]) -> None:
    emitted: list[dict[str, object]] = []
    with pytest.raises(SystemExit) as exited:
        speed.work([_broken_case()], speed.Plan(1, 2), 0, emitted.append)
    assert exited.value.code == speed.VALIDATION_EXIT_CODE
    message = capsys.readouterr().err
    assert "benchmark broken/taskgroup" in message and "routed to" in message
    assert emitted == []  # nothing recorded from the broken run, not even its warm-up


def test_over_loopback_a_failing_case_is_reported_and_dropped_and_the_others_measured(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Real sockets can fail under load: that case gets no number and its reason, the run goes on."""
    ok = BenchCase("ok/taskgroup", SHIPPED["report-5"], "taskgroup", "scenario", transport="loopback")
    broken = replace(_broken_case(), transport="loopback")
    broken = replace(broken, scenario=replace(broken.scenario, content_hash="abc"))
    monkeypatch.setattr(speed, "_run_validated", lambda case, warmup=False: _fake_run(case))
    emitted: list[dict[str, Any]] = []
    speed.work([ok, broken], speed.Plan(1, 2), 0, emitted.append)
    assert [r["case"] for r in emitted if r["kind"] == "case_failed"] == ["broken/taskgroup"]  # once, at warm-up
    assert {r["case"] for r in emitted if r["kind"] == "value"} == {"ok/taskgroup"}

    results = speed.InterpreterResults("3.12")
    cases = {case.name: speed.case_metadata(case) for case in (ok, broken)}
    start = {"kind": "start", "metadata": speed.environment(), "cases": cases}
    results.add_worker(0, [start, *emitted], {})
    results.write(tmp_path)
    assert set(results.runs) == {"ok/taskgroup"} and results.failed.keys() == {"broken/taskgroup"}
    notes = load_run(tmp_path).notes
    assert any("broken/taskgroup on Python 3.12 has no number" in note for note in notes), notes


def _fake_run(case: BenchCase) -> speed.Execution:
    if case.name.startswith("broken"):
        raise speed.ValidationFailed(case.name, case.variant, ["a connection was reset"])
    turn = Turn(events=(), wall_s=0.1, first_chunk_s=0.05, cpu_s=0.01)
    return speed.Execution(case.scenario, case.variant, (turn,), (), (), ())


def _cases() -> list[BenchCase]:
    return [
        BenchCase(f"{scenario}/{variant}", replace(make_scenario(), name=scenario), variant, "scenario")
        for scenario in ("a", "b", "c")
        for variant in ("threads", "gather", "taskgroup")
    ]


def test_every_round_runs_every_case_once_in_a_seeded_shuffled_order() -> None:
    cases = _cases()
    orders = [[c.name for c, _ in speed.round_order(cases, 7, 0, r)] for r in range(6)]
    assert all(sorted(order) == sorted(c.name for c in cases) for order in orders)
    assert len({tuple(order) for order in orders}) > 1  # shuffled per round
    assert orders == [[c.name for c, _ in speed.round_order(cases, 7, 0, r)] for r in range(6)]  # and reproducible
    for order in orders:  # the variants of one scenario (what a verdict compares) run back to back
        scenarios = [name.split("/")[0] for name in order]
        assert all(len(set(scenarios[i : i + 3])) == 1 for i in (0, 3, 6))


def test_zero_latency_cases_run_several_times_a_round_paired_by_repeat() -> None:
    zero = [replace(c, params={"latency": "zero"}) for c in _cases()[:3]]
    planned = speed.round_order([*zero, *_cases()[3:6]], 7, 0, 0)
    counts = {c.name: [r for case, r in planned if case.name == c.name] for c in zero}
    assert all(repeats == list(range(speed.ZERO_LATENCY_REPEATS)) for repeats in counts.values())
    assert len(planned) == 3 * speed.ZERO_LATENCY_REPEATS + 3


def test_a_round_disturbed_by_steal_is_kept_and_run_again(monkeypatch: pytest.MonkeyPatch) -> None:
    fractions = iter([0.0, 0.5] + [0.0] * 20)  # the second value of the first round ran under 50% steal

    class FakeMeter:
        fraction: float | None = None
        run_queue: float | None = 0.0

        def __enter__(self) -> FakeMeter:
            self.fraction = next(fractions)
            return self

        def __exit__(self, *exc: object) -> None:
            pass

    monkeypatch.setattr(speed, "StealMeter", FakeMeter)
    cases = [BenchCase(f"ok/{v}", make_scenario(), v, "scenario") for v in ("threads", "taskgroup")]
    emitted: list[dict[str, Any]] = []
    speed.work(cases, speed.Plan(1, 2), 0, emitted.append)
    rounds = [r for r in emitted if r["kind"] == "round"]
    assert [r["disturbed"] for r in rounds] == [True, False, False]  # one extra round in place of the first
    values = [r for r in emitted if r["kind"] == "value"]
    assert len(values) == 6 and all(v["first_chunk_s"] is not None for v in values)


def test_the_driver_writes_a_pyperf_suite_and_samples_from_its_workers(tmp_path: Path) -> None:
    tag = f"{sys.version_info[0]}.{sys.version_info[1]}"
    code = speed.run_suite({tag: sys.executable}, "quick", tmp_path, ["report-5@zero"], ["taskgroup", "gather"])
    assert code == 0
    results = load_run(tmp_path)
    taskgroup = results.find("report-5@zero", "taskgroup", tag)
    assert taskgroup is not None and len(taskgroup.values_s) >= 10
    assert {s.worker for s in taskgroup.samples} == {0, 1}  # two processes, as the quick profile says
    assert results.environments[tag]["bench_processes"] == 2


def test_the_transport_option_reaches_the_driver_and_a_bad_one_is_named() -> None:
    assert parse_bench_options(["--transport", "loopback"]).filters()[-2:] == ["--transport", "loopback"]
    with pytest.raises(BenchOptionsError, match="carrier-pigeon"):
        parse_bench_options(["--transport", "carrier-pigeon"])


def test_the_openai_line_picks_a_constraints_file_that_exists() -> None:
    assert parse_bench_options([]).openai == "2"
    assert parse_bench_options(["--openai", "3"]).openai == "3"
    for line in ("2", "3"):
        assert f"openai>={line}" in Path(openai_constraints(line)).read_text()
    with pytest.raises(BenchOptionsError, match="'4'"):
        parse_bench_options(["--openai", "4"])


def test_two_openai_lines_measure_the_second_beside_the_first() -> None:
    options = parse_bench_options(["--openai", "2", "--openai", "3"])
    assert (options.openai, options.openai_compared) == ("2", "3")
    assert parse_bench_options([]).openai_compared is None
    with pytest.raises(BenchOptionsError, match="at most once"):
        parse_bench_options(["--openai", "3", "--openai", "3"])


def test_bench_options() -> None:
    assert parse_bench_options([]).profile == "default"
    options = parse_bench_options(["--quick", "--scenario", "report-5", "--variant", "gather", "--strict-interpreters"])
    assert (options.profile, options.scenarios, options.variants, options.strict_interpreters) == (
        "quick",
        ("report-5",),
        ("gather",),
        True,
    )
    assert options.filters() == ["--scenario", "report-5", "--variant", "gather", "--transport", "respx"]
    with pytest.raises(BenchOptionsError, match="unknown option"):
        parse_bench_options(["--fastest"])
    with pytest.raises(BenchOptionsError):
        parse_bench_options(["--quick", "--full"])


@pytest.mark.parametrize(
    ("posargs", "message"),
    [
        (["--variant", "asyncio"], "unknown variant(s) asyncio; valid: threads, gather, taskgroup"),
        (["--scenario", "report-6"], "unknown scenario(s) report-6 for the default profile; valid: "),
        (["--quick", "--scenario", "fanout-25"], "unknown scenario(s) fanout-25 for the quick profile"),
        (["--scenario-file", "/nonexistent/mine.toml"], "mine.toml: field '<file>': expected a readable TOML file"),
    ],
)
def test_bad_names_and_files_are_refused_before_anything_is_built(posargs: list[str], message: str) -> None:
    with pytest.raises(BenchOptionsError) as raised:
        parse_bench_options(posargs)
    assert message in str(raised.value)


def test_bad_shipped_files_are_all_named_before_anything_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import scenarios

    for name in ("alone", "report-5"):
        (tmp_path / f"{name}.toml").write_text('subflow = "report"\nmessage = "x"\ntickers = ["AAPL"]\nseed = "five"\n')
    monkeypatch.setattr(scenarios, "SHIPPED_DIR", tmp_path)
    with pytest.raises(BenchOptionsError) as raised:
        parse_bench_options(["--quick"])
    message = str(raised.value)
    assert "alone.toml: field 'seed'" in message and "report-5.toml: field 'seed'" in message


def test_a_scenario_file_is_measured_in_every_variant_at_the_profiles_latencies(tmp_path: Path) -> None:
    own = tmp_path / "mine.toml"
    own.write_text('subflow = "report"\nmessage = "Report on {tickers}."\ntickers = ["AAA", "BBB", "CCC"]\n')
    options = parse_bench_options(["--quick", "--scenario-file", str(own), "--scenario", "mine"])
    assert options.scenario_files == (str(own),) and options.filters()[-4:-2] == ["--scenario-file", str(own)]
    cases = expand(PROFILES["quick"], SHIPPED, None, None, own_scenarios(options.scenario_files))
    mine = {c.name for c in cases if c.params.get("own")}
    assert mine == {f"{s}/{v}" for s in ("mine", "mine@zero") for v in EVERYDAY_VARIANTS}
    default = PROFILES["default"]
    everywhere = on_interpreter(default, expand(default, SHIPPED, None, None, own_scenarios([own])), newest=False)
    assert {c.name for c in everywhere if c.params.get("own")} == {f"mine/{v}" for v in EVERYDAY_VARIANTS} | {
        f"mine@zero/{v}" for v in EVERYDAY_VARIANTS
    }


def test_percentiles() -> None:
    assert users.percentile([0.4], 0.99) == 0.4
    values = [float(v) for v in range(1, 101)]
    assert users.percentile(values, 0.50) == pytest.approx(50.5)
    assert users.percentile(values, 0.99) == pytest.approx(99.01)
    record = users.level_record(10, 2.0, [0.1] * 10, peak_threads=11, rss=1)
    assert record["throughput_runs_per_s"] == 5.0 and record["stopped"] is None


def test_a_worker_that_dies_is_recorded_as_the_reason_the_level_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    output = json.dumps(users.level_record(1, 1.0, [1.0], 2, 1)) + "\n"
    died = subprocess.CompletedProcess([], returncode=-9, stdout=output, stderr="Killed\n")
    monkeypatch.setattr(users.subprocess, "run", lambda *a, **k: died)
    records = users.measure_variant("threads", [1, 10, 100], console=None)  # type: ignore[arg-type]
    assert [r["users"] for r in records] == [1, 10]
    assert records[-1]["stopped"] == "worker died with exit code -9: Killed"


def test_a_level_over_its_budget_stops_with_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "LEVEL_BUDGET_S", 0.0)
    scenario = make_scenario(latency={"router": {"ttft_ms": 50}})
    with pytest.raises(users.LevelStopped, match="budget"):
        from scenarios.runner import ScenarioSession

        with ScenarioSession(scenario, "gather") as session:  # tasks are cancelled; threads would run on
            users._run_level(session, 3)


def test_pytest_benchmark_runs_a_validated_scenario(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    command = [sys.executable, "-m", "pytest", "benchmarks", "--benchmark-only", "-q", "-p", "no:cacheprovider"]
    command += ["-k", "alone and taskgroup", f"--benchmark-json={out}"]
    completed = subprocess.run(
        command, cwd=ROOT, env={**os.environ, "BENCH_ROUNDS": "1"}, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    (bench,) = json.loads(out.read_text())["benchmarks"]
    assert bench["name"] == "test_workflow[alone-taskgroup]"
    assert bench["extra_info"]["critical_path_s"] > 0 and bench["stats"]["rounds"] == 1


def test_a_stopped_speed_suite_names_only_files_that_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def dies(*args: Any, **kwargs: Any) -> Any:
        raise speed.SpeedSuiteFailed("worker 1 (3.12) exited with code 3")
        yield  # a generator, like the real one

    monkeypatch.setattr(speed, "_spawn", dies)
    code = speed.run_suite({"3.12": sys.executable}, "quick", tmp_path, ["report-5@zero"], ["taskgroup"])
    assert code == speed.VALIDATION_EXIT_CODE
    said = " ".join(capsys.readouterr().err.split())  # rich wraps at the terminal's width
    assert "Finished workers' values are none: no worker finished" in said
    assert not (tmp_path / "raw" / "3.12.json").exists()


def test_process_slot_k_has_one_hash_seed_on_every_interpreter_and_side(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, str | None]] = []

    class Recorder:
        def __init__(self, command: list[str], **kwargs: Any) -> None:
            seen.append((kwargs["env"]["PYTHONHASHSEED"], kwargs.get("cwd")))
            self.stdout = iter([json.dumps({"kind": "end"}) + "\n"])

        def __enter__(self) -> Recorder:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def wait(self) -> int:
            return 0

    monkeypatch.setattr(speed.subprocess, "Popen", Recorder)
    plan = speed.Plan(2, 1)
    side = speed.Side(Path("/baseline"), {"BENCH_GIT_COMMIT": "abc"})
    for worker in range(2):
        for chosen in (None, side):
            list(speed._spawn(sys.executable, worker, plan, {"profile": "quick"}, True, chosen))
    first, first_baseline, second, _ = seen
    assert first[0] == first_baseline[0] != second[0]  # a pair shares its string hashing; slots differ
    assert first_baseline[1] == Path("/baseline") and first[1] is None
    assert speed.hash_seed(plan.seed, 0) == int(first[0])

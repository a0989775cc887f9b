"""Every decision rule on synthetic results, in each direction: holds, refuted, conditional, inconclusive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks.results import CaseResult, RunResults
from benchmarks.verdicts import (
    decide_c1,
    decide_c2,
    decide_c3,
    decide_c4,
    decide_c5,
    decide_c6,
    decide_c7,
)

TIGHT = (1.0, 1.01, 0.99, 1.0, 1.02, 0.98)  # a case's values around 1, spread 2%
NOISY = (0.5, 1.0, 1.5, 2.0, 1.0, 3.0)


def values(scale: float, shape: tuple[float, ...] = TIGHT) -> tuple[float, ...]:
    return tuple(scale * v for v in shape)


def case(
    scenario: str,
    variant: str,
    scale: float,
    python: str = "3.12",
    *,
    shape: tuple[float, ...] = TIGHT,
    fanout: int = 20,
    pool: str = "default",
    failures: int = 0,
    first_chunk: float | None = None,
    latency: str = "default",
) -> CaseResult:
    return CaseResult(
        name=f"{scenario}/{variant}",
        python=python,
        scenario=scenario,
        variant=variant,
        group="fanout" if scenario.startswith("fanout-") else "scenario",
        params={"latency": latency},
        values_s=values(scale, shape),
        first_chunk_s=() if first_chunk is None else values(first_chunk),
        critical_path_s=0.1,
        critical_path_first_chunk_s=0.05,
        scenario_hash="ab",
        fanout=fanout,
        thread_pool_size=pool,
        injected_failures=failures,
    )


def run(cases: list[CaseResult] = (), **suites: Any) -> RunResults:  # type: ignore[assignment]
    environments = {c.python: {"python_version": c.python} for c in cases}
    return RunResults(Path("/nonexistent/run"), {"profile": "test"}, environments, list(cases), **suites)


# --- C1 -----------------------------------------------------------------------------------


def _fanout_pair(tickers: int, speedup: float, shape: tuple[float, ...] = TIGHT) -> list[CaseResult]:
    name = f"fanout-{tickers}"
    return [
        case(name, "threads", speedup, fanout=4 * tickers, shape=shape),
        case(name, "taskgroup", 1.0, fanout=4 * tickers),
    ]


def test_c1_holds_when_every_case_is_at_least_twice_as_fast() -> None:
    verdict = decide_c1(run([*_fanout_pair(1, 3.0), *_fanout_pair(25, 3.5)]))
    assert verdict.verdict == "holds"
    assert verdict.ci is not None and verdict.ci[0] >= 2


def test_c1_is_refuted_when_no_case_reaches_twice() -> None:
    verdict = decide_c1(run([*_fanout_pair(1, 1.0), *_fanout_pair(25, 1.3)]))
    assert verdict.verdict == "refuted"


def test_c1_is_conditional_on_calls_outnumbering_the_pool_and_names_the_crossover() -> None:
    verdict = decide_c1(run([*_fanout_pair(1, 1.0), *_fanout_pair(5, 1.1), *_fanout_pair(25, 2.6)]))
    assert verdict.verdict == "conditional"
    assert "outnumber the thread pool" in verdict.condition
    # fan-out 5 is 20 calls over the 6-thread stdlib pool, fan-out 25 is 100 calls over it
    assert "between 3.3 (below 2x) and 16.7 (2x or more) calls per pool thread" in verdict.condition


def test_c1_is_inconclusive_when_too_noisy_or_not_measured() -> None:
    assert decide_c1(run(_fanout_pair(25, 2.0, NOISY))).verdict == "inconclusive"
    missing = decide_c1(run([case("report-5", "taskgroup", 1.0)]))
    assert missing.verdict == "inconclusive" and missing.figure is None


def test_c1_ignores_failure_runs_and_zero_latency() -> None:
    cases = [
        case("report-5-failure", "threads", 9.0, failures=1),
        case("report-5-failure", "taskgroup", 1.0, failures=1),
        case("report-5@zero", "threads", 9.0, latency="zero"),
        case("report-5@zero", "taskgroup", 1.0, latency="zero"),
    ]
    assert decide_c1(run(cases)).verdict == "inconclusive"


# --- C2 -----------------------------------------------------------------------------------


def _memory(per_op: dict[str, float], jitter: float = 0.01) -> dict[str, Any]:
    samples = []
    for k in (12, 100, 1000):
        for sample, wobble in enumerate((1 - jitter, 1 + jitter)):
            record: dict[str, Any] = {"operations": k, "sample": sample}
            record.update({metric: 1e6 + k * slope * wobble for metric, slope in per_op.items()})
            samples.append(record)
    marginal = {metric: {"bytes_per_operation": slope, "low": slope, "high": slope} for metric, slope in per_op.items()}
    return {"samples": samples, "marginal": marginal}


METRICS = ("rss", "uss", "vms", "tracemalloc_peak", "memray_peak")


def _c2(threads: dict[str, float], taskgroup: dict[str, float], jitter: float = 0.01) -> RunResults:
    variants = {"threads": _memory(threads, jitter), "taskgroup": _memory(taskgroup, jitter)}
    return run(memory={"3.12": {"variants": variants}})


def test_c2_holds_when_every_metric_drops_by_95_percent() -> None:
    verdict = decide_c2(_c2(dict.fromkeys(METRICS, 8e6), dict.fromkeys(METRICS, 32e3)))
    assert verdict.verdict == "holds"
    assert verdict.figure == pytest.approx(1 - 32e3 / 8e6, rel=0.01)


def test_c2_is_refuted_when_no_metric_drops_that_far() -> None:
    assert decide_c2(_c2(dict.fromkeys(METRICS, 40e3), dict.fromkeys(METRICS, 15e3))).verdict == "refuted"


def test_c2_is_conditional_when_only_address_space_drops() -> None:
    threads = {**dict.fromkeys(METRICS, 40e3), "vms": 8.4e6}
    verdict = decide_c2(_c2(threads, dict.fromkeys(METRICS, 15e3)))
    assert verdict.verdict == "conditional"
    assert verdict.condition.startswith("only in vms")
    assert "address space" in verdict.condition
    assert verdict.figure == pytest.approx(1 - 15 / 40, rel=0.02)  # the headline is RSS, not VMS


def test_c2_is_inconclusive_when_noisy_or_not_measured() -> None:
    assert decide_c2(_c2(dict.fromkeys(METRICS, 200e3), dict.fromkeys(METRICS, 20e3), jitter=0.9)).verdict == (
        "inconclusive"
    )
    assert decide_c2(run()).verdict == "inconclusive"


# --- C3 -----------------------------------------------------------------------------------


def _c3(micro_speedup: float, workflow_speedup: float, pythons: tuple[str, ...] = ("3.11", "3.12")) -> RunResults:
    cases, micro = [], {}
    for python in pythons:
        micro_scale = 1.0 if python == "3.11" else 1 / micro_speedup
        flow_scale = 1.0 if python == "3.11" else 1 / workflow_speedup
        micro[python] = {"asyncio_stream_write": values(micro_scale), "asyncio_task_create_await": values(micro_scale)}
        cases += [
            case("report-5", "taskgroup", flow_scale, python),
            case("report-5@zero", "taskgroup", flow_scale, python),
        ]
    return run(cases, micro=micro)


def test_c3_holds_when_the_workflow_itself_is_75_percent_faster() -> None:
    verdict = decide_c3(_c3(2.0, 1.75))
    assert verdict.verdict == "holds"
    assert verdict.figure == pytest.approx(1.75, rel=0.02)


def test_c3_is_conditional_when_only_the_microbenchmarks_move() -> None:
    verdict = decide_c3(_c3(2.0, 1.0))
    assert verdict.verdict == "conditional"
    assert "stream write" in verdict.condition


def test_c3_is_refuted_when_nothing_moves() -> None:
    assert decide_c3(_c3(1.0, 1.02, ("3.11", "3.12", "3.13"))).verdict == "refuted"


def test_c3_is_inconclusive_without_both_interpreters() -> None:
    verdict = decide_c3(_c3(2.0, 2.0, ("3.12", "3.13")))
    assert verdict.verdict == "inconclusive"
    assert "3.11" in verdict.condition


# --- C4 -----------------------------------------------------------------------------------


def _c4(ratios: dict[str, float], shape: tuple[float, ...] = TIGHT) -> RunResults:
    cases = []
    for scenario, ratio in ratios.items():
        cases += [case(scenario, "taskgroup", ratio, shape=shape), case(scenario, "gather", 1.0)]
    return run(cases)


def test_c4_holds_when_taskgroup_is_never_more_than_5_percent_slower() -> None:
    assert decide_c4(_c4({"report-5": 1.0, "alone": 0.97, "report-25": 1.01})).verdict == "holds"


def test_c4_is_refuted_when_taskgroup_is_clearly_slower() -> None:
    verdict = decide_c4(_c4({"report-5": 1.2, "alone": 1.15}))
    assert verdict.verdict == "refuted"
    assert verdict.figure == pytest.approx((1.2 * 1.15) ** 0.5, rel=0.01)


def test_c4_is_conditional_when_one_case_is_clearly_slower() -> None:
    verdict = decide_c4(_c4({"a": 0.9, "b": 0.9, "c": 0.9, "d": 0.9, "e": 1.12}))
    assert verdict.verdict == "conditional"
    assert "e on 3.12" in verdict.condition


def test_c4_is_inconclusive_when_too_noisy_to_tell_five_percent() -> None:
    assert decide_c4(_c4({"report-5": 1.0}, NOISY)).verdict == "inconclusive"


def test_c4_leaves_out_failure_runs() -> None:
    cases = [
        case("report-5-failure", "taskgroup", 0.3, failures=1),
        case("report-5-failure", "gather", 1.0, failures=1),
    ]
    assert decide_c4(run(cases)).verdict == "inconclusive"


# --- C5 -----------------------------------------------------------------------------------


def _c5(legacy_first: dict[str, float]) -> RunResults:
    cases = []
    for scenario, first in legacy_first.items():
        cases += [
            case(scenario, "legacy", 1.0, first_chunk=first),
            case(scenario, "taskgroup", 1.0, first_chunk=0.3),
        ]
    return run(cases)


def test_c5_holds_when_the_collected_first_chunk_comes_at_the_end() -> None:
    verdict = decide_c5(_c5({"report-5": 0.98, "alone": 0.97}))
    assert verdict.verdict == "holds"
    assert verdict.figure == pytest.approx(0.98 / 0.3, rel=0.02)


def test_c5_is_refuted_when_collecting_does_not_delay_the_first_chunk() -> None:
    assert decide_c5(_c5({"report-5": 0.3})).verdict == "refuted"


def test_c5_is_conditional_when_only_some_scenarios_are_delayed() -> None:
    verdict = decide_c5(_c5({"report-5": 0.98, "alone": 0.3}))
    assert verdict.verdict == "conditional"
    assert "report-5" in verdict.condition


def test_c5_is_inconclusive_without_first_chunks_or_when_only_partly_later() -> None:
    assert decide_c5(run([case("report-5", "legacy", 1.0), case("report-5", "taskgroup", 1.0)])).verdict == (
        "inconclusive"
    )
    assert decide_c5(_c5({"report-5": 0.6})).verdict == "inconclusive"  # later, yet not at the end


# --- C6 and C7 ----------------------------------------------------------------------------


def _observed(outcomes: dict[str, int], cancelled: tuple[str, ...] = ()) -> dict[str, Any]:
    error = {"step": "fetch", "failed": ["quote:NVDA"], "completed": [], "cancelled": list(cancelled)}
    return {"outcomes": outcomes, "run_errors": [error]}


def _equivalence(
    taskgroup_outcomes: dict[str, int], differences: dict[str, list[str]] | None = None, cancelled: tuple[str, ...] = ()
) -> dict[str, Any]:
    same = {"answered": 20, "failed": 1}
    variants = {
        "threads": _observed(same),
        "gather": _observed(same),
        "taskgroup": _observed(taskgroup_outcomes, cancelled),
        "legacy": _observed(same),
    }
    return {
        "reference": "threads",
        "scenarios": {"report-5-failure": {"variants": variants, "differences": differences or {}}},
    }


def test_c6_holds_when_answers_events_calls_and_work_are_identical() -> None:
    assert decide_c6(run(equivalence={"3.12": _equivalence({"answered": 20, "failed": 1})})).verdict == "holds"


def test_c6_is_conditional_when_only_the_work_done_differs() -> None:
    verdict = decide_c6(run(equivalence={"3.12": _equivalence({"answered": 1, "failed": 1, "cancelled": 19})}))
    assert verdict.verdict == "conditional"
    assert "19 cancelled" in verdict.condition


def test_c6_is_refuted_by_any_difference_users_see() -> None:
    differing = _equivalence({"answered": 20, "failed": 1}, {"gather": ["final answer differ"]})
    verdict = decide_c6(run(equivalence={"3.12": differing}))
    assert verdict.verdict == "refuted"
    assert "gather" in verdict.condition


def test_c6_is_inconclusive_without_the_equivalence_suite() -> None:
    assert decide_c6(run()).verdict == "inconclusive"


def _c7(taskgroup_scale: float, cancelled: tuple[str, ...], shape: tuple[float, ...] = TIGHT) -> RunResults:
    cases = [
        case("report-5-failure", "taskgroup", taskgroup_scale, failures=1, shape=shape),
        case("report-5-failure", "gather", 1.0, failures=1),
        case("report-5-failure", "threads", 2.0, failures=1),
    ]
    equivalence = _equivalence({"answered": 1, "failed": 1, "cancelled": len(cancelled)}, cancelled=cancelled)
    return run(cases, equivalence={"3.12": equivalence})


def test_c7_holds_when_taskgroup_cancels_siblings_and_fails_sooner() -> None:
    verdict = decide_c7(_c7(0.4, ("quote:AAPL", "quote:MSFT")))
    assert verdict.verdict == "holds"
    assert verdict.figure == pytest.approx(0.4, rel=0.02)


def test_c7_is_refuted_when_taskgroup_cancels_nothing() -> None:
    assert decide_c7(_c7(0.4, ())).verdict == "refuted"


def test_c7_is_conditional_when_it_cancels_but_is_not_clearly_sooner() -> None:
    assert decide_c7(_c7(1.0, ("quote:AAPL",), NOISY)).verdict == "conditional"


def test_c7_is_inconclusive_without_the_failure_scenario() -> None:
    assert decide_c7(run([case("report-5", "taskgroup", 1.0)])).verdict == "inconclusive"

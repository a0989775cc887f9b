"""Every claim's decision rule on synthetic results shaped like a real run's: each outcome reachable.

Speed data is paired (values per worker process and round, tests/synthetic.py); holds, refuted,
conditional (the primary comparisons split) and inconclusive (unclear, too few values, or not measured).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from benchmarks import equivalence
from benchmarks.claims import CLAIMS, REGISTRY, decide_all
from benchmarks.claims.base import Evidence, ladder
from benchmarks.claims.c1_threads_speedup import decide as decide_c1
from benchmarks.claims.c1_threads_speedup import taskgroup_limit, threads_limit
from benchmarks.claims.c2_memory import decide_per_operation, decide_reduction
from benchmarks.claims.c3_python312 import decide_cited, decide_workflow
from benchmarks.claims.c4_gather import decide as decide_c4
from benchmarks.claims.c5_streaming import decide as decide_c5
from benchmarks.claims.c6_c7_behaviour import decide_identical, decide_structured
from benchmarks.environment import python_tag
from benchmarks.results import RunResults, load_run
from tests.synthetic import case, micro, run, write_instructions

# --- the ladder ---------------------------------------------------------------------------


def _row(supports: str, primary: bool = True) -> Evidence:
    return Evidence("x", "3.12", 1.0, 0.9, 1.1, supports, primary)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("supports", "outcome"),
    [
        (("yes", "yes"), "holds"),
        (("yes", "unclear"), "holds"),  # an unclear comparison is reported; it does not split the data
        (("yes", "no"), "conditional"),
        (("no", "unclear"), "refuted"),
        (("unclear",), "inconclusive"),
        ((), "inconclusive"),
    ],
)
def test_the_ladder(supports: tuple[str, ...], outcome: str) -> None:
    assert ladder([_row(s) for s in supports]) == outcome


def test_context_comparisons_never_decide() -> None:
    assert ladder([_row("yes"), _row("no", primary=False)]) == "holds"


def test_every_registered_claim_decides_an_empty_run_as_not_measured() -> None:
    verdicts = decide_all(run())
    assert [v.claim.id for v in verdicts] == [c.id for c in CLAIMS] == [e.claim.id for e in REGISTRY]
    assert all(v.verdict == "inconclusive" for v in verdicts)


# --- C1 -----------------------------------------------------------------------------------


def _c1(speedups: dict[str, float], noise: float = 0.01, **extra: Any) -> RunResults:
    cases = []
    for python, speedup in speedups.items():
        cases += [
            case("report-5", "threads", speedup, python, noise=noise, **extra),
            case("report-5", "taskgroup", 1.0, python, noise=noise),
        ]
    return run(cases)


def test_c1_holds_when_the_default_pool_is_at_least_twice_as_slow() -> None:
    verdict = decide_c1(_c1({"3.11": 2.6, "3.12": 2.4}))
    assert verdict.verdict == "holds"
    assert verdict.ci is not None and verdict.ci[0] >= 2 and verdict.n_pairs == 12
    assert verdict.min_detectable_effect is not None and verdict.method


def test_c1_is_refuted_at_the_planning_documents_setting() -> None:
    verdict = decide_c1(_c1({"3.11": 1.15, "3.12": 1.13}))
    assert verdict.verdict == "refuted"
    assert "below 2x" in verdict.condition


def test_c1_is_conditional_when_interpreters_split() -> None:
    verdict = decide_c1(_c1({"3.11": 1.2, "3.13": 2.5}))
    assert verdict.verdict == "conditional"
    assert "3.13" in verdict.condition


def test_c1_is_inconclusive_with_too_few_undisturbed_pairs() -> None:
    verdict = decide_c1(_c1({"3.12": 3.0}, steal=0.3))  # every round of threads ran under 30% steal
    assert verdict.verdict == "inconclusive"
    assert "too few values" in verdict.reason
    assert decide_c1(run()).verdict == "inconclusive"


def test_c1_sweep_is_context_stated_as_a_fitted_relation() -> None:
    cases = list(_c1({"3.12": 1.15}).cases)
    for tickers, speedup in ((1, 1.0), (5, 1.4), (25, 2.3), (100, 4.0)):
        name = f"fanout-{tickers}"
        cases += [case(name, "threads", speedup, fanout=4 * tickers), case(name, "taskgroup", 1.0, fanout=4 * tickers)]
    verdict = decide_c1(run(cases))
    assert verdict.verdict == "refuted"  # the sweep's 2x+ cases do not vote
    assert "calls per pool thread" in verdict.condition and "reaching 2x" in verdict.condition


def test_c1_fits_the_sweep_once_per_transport() -> None:
    """respx and loopback sweeps measured side by side are two populations: one fitted relation each."""
    cases = list(_c1({"3.12": 1.15}).cases)
    for transport, gain in (("respx", 1.0), ("loopback", 0.5)):
        for tickers, speedup in ((1, 1.0), (5, 1.4), (25, 2.3), (100, 4.0)):
            name = f"fanout-{tickers}" + ("@respx" if transport == "respx" else "")
            for variant, scale in (("threads", 1 + (speedup - 1) * gain), ("taskgroup", 1.0)):
                swept = replace(case(name, variant, scale, fanout=4 * tickers), transport=transport)
                cases.append(swept)
    condition = decide_c1(run(cases)).condition
    assert "over loopback: speed-up" in condition and "over respx: speed-up" in condition


def test_c1_says_which_limit_bounded_each_variant() -> None:
    """Over respx threads wait on their pool and taskgroup on nothing; over loopback at 400 calls the 100
    connections bound taskgroup too, and a 32-thread pool is still smaller than the connection pool."""
    results = _c1({"3.12": 1.15})
    verdict = decide_c1(results)
    assert "Bounded by: threads, the thread pool; taskgroup, nothing" in verdict.condition
    for variant, scale in (("threads", 3.0), ("taskgroup", 1.0)):
        swept = case("fanout-100", variant, scale, fanout=400, max_workers=32)
        results.cases.append(replace(swept, transport="loopback", max_connections=100))
    verdict = decide_c1(results)
    assert "the connection pool bounded taskgroup too in fanout-100" in verdict.condition
    (swept_row,) = [e for e in verdict.evidence if e.facts["scenario"] == "fanout-100"]
    assert swept_row.facts["threads_limit"] == "the thread pool (32)"
    assert swept_row.facts["taskgroup_limit"] == "the connection pool (100)"
    assert threads_limit(200, 100) == "the connection pool (100)" and taskgroup_limit(20, 100).startswith("nothing")


def test_c1_is_decided_on_its_named_primaries_only() -> None:
    results = _c1({"3.12": 2.5})
    for name in ("alone", "chat-3-turns", "my-workflow"):  # no queue on a default pool, or a user's own file
        results.cases += [case(name, "threads", 1.0, group="scenario"), case(name, "taskgroup", 1.0, group="scenario")]
    verdict = decide_c1(results)
    assert verdict.verdict == "holds"
    assert {e.facts["scenario"] for e in verdict.evidence if e.primary} == {"report-5"}


# --- C2 -----------------------------------------------------------------------------------

METRICS = ("rss", "uss", "vms", "tracemalloc_peak", "memray_peak")


def _memory(per_op: dict[str, float], jitter: float = 0.01) -> dict[str, Any]:
    samples = []
    for k in (12, 100, 1000):
        for sample, wobble in enumerate((1 - jitter, 1 + jitter)):
            record: dict[str, Any] = {"operations": k, "sample": sample}
            record.update({metric: 1e6 + k * slope * wobble for metric, slope in per_op.items()})
            samples.append(record)
    spread = {m: (slope * (1 - 3 * jitter), slope * (1 + 3 * jitter)) for m, slope in per_op.items()}
    marginal = {m: {"bytes_per_operation": s, "low": spread[m][0], "high": spread[m][1]} for m, s in per_op.items()}
    return {"samples": samples, "marginal": marginal}


def _c2(per_python: dict[str, tuple[float, float]], jitter: float = 0.01, vms: float = 8.4e6) -> RunResults:
    """Per interpreter: (threads, taskgroup) bytes per operation in RSS and USS; VMS shows the stack."""
    memory = {}
    for python, (threads, taskgroup) in per_python.items():
        variants = {
            "threads": _memory({**dict.fromkeys(METRICS, threads), "vms": vms}, jitter),
            "taskgroup": _memory(dict.fromkeys(METRICS, taskgroup), jitter),
        }
        memory[python] = {"variants": variants}
    return run(memory=memory)


def test_c2a_is_refuted_when_the_8mb_is_address_space_only() -> None:
    verdict = decide_per_operation(_c2({"3.12": (44e3, 15e3)}))
    assert verdict.verdict == "refuted"
    assert "address space" in verdict.condition and "VMS" in verdict.figure_text


def test_c2a_holds_conditional_and_inconclusive() -> None:
    assert decide_per_operation(_c2({"3.12": (8e6, 32e3)})).verdict == "holds"
    assert decide_per_operation(_c2({"3.11": (8e6, 32e3), "3.12": (44e3, 15e3)})).verdict == "conditional"
    assert decide_per_operation(_c2({"3.12": (4.2e6, 32e3)}, jitter=0.1)).verdict == "inconclusive"


def test_c2b_every_outcome() -> None:
    assert decide_reduction(_c2({"3.12": (8e6, 32e3)})).verdict == "holds"
    assert decide_reduction(_c2({"3.12": (44e3, 15e3)})).verdict == "refuted"  # 66% less: VMS does not vote
    assert decide_reduction(_c2({"3.11": (8e6, 32e3), "3.12": (44e3, 15e3)})).verdict == "conditional"
    assert decide_reduction(_c2({"3.12": (200e3, 20e3)}, jitter=0.9)).verdict == "inconclusive"
    assert decide_reduction(run()).verdict == "inconclusive"


# --- C3 -----------------------------------------------------------------------------------


def _c3(micro_speedup: dict[str, float], workflow_speedup: dict[str, float]) -> RunResults:
    cases, micros = [], {}
    for python in ("3.11", *micro_speedup):
        micro_scale = 1.0 if python == "3.11" else 1 / micro_speedup[python]
        flow_scale = 1.0 if python == "3.11" else 1 / workflow_speedup[python]
        micros[python] = {
            "asyncio_stream_write": micro("asyncio_stream_write", python, 0.03 * micro_scale),
            "asyncio_task_create_await": micro("asyncio_task_create_await", python, 0.004),
        }
        # report-5: 0.59 s of mock waits on every interpreter, plus overhead an interpreter can change
        cases += [
            case("report-5", "taskgroup", 0.59 + 0.06 * flow_scale, python, noise=0.002, bound=0.59),
            case("report-5@zero", "taskgroup", 0.04 * flow_scale, python, latency="zero", group="latency"),
        ]
    return run(cases, micro=micros)


def test_c3_parts_hold_when_both_move() -> None:
    results = _c3({"3.12": 2.0, "3.13": 1.9}, {"3.12": 1.8, "3.13": 1.8})
    assert decide_cited(results).verdict == "holds"
    verdict = decide_workflow(results)
    assert verdict.verdict == "holds"  # whole wall time moved ~4%, but the overhead above the bound moved 1.8x
    assert verdict.figure == pytest.approx(1.8, rel=0.05)


def test_c3_cited_benchmark_reproduces_while_the_workflow_does_not() -> None:
    results = _c3({"3.12": 2.0, "3.13": 2.0}, {"3.12": 1.05, "3.13": 1.0})
    assert decide_cited(results).verdict == "holds"
    assert decide_workflow(results).verdict == "refuted"


def test_c3_conditional_when_interpreters_split_and_inconclusive_without_311() -> None:
    results = _c3({"3.12": 2.0, "3.13": 1.1}, {"3.12": 1.8, "3.13": 1.0})
    assert decide_cited(results).verdict == "conditional"
    assert decide_workflow(results).verdict == "conditional"
    only_new = run([case("report-5@zero", "taskgroup", 0.04, "3.12", latency="zero")])
    verdict = decide_workflow(only_new)
    assert verdict.verdict == "inconclusive" and "3.11" in verdict.condition
    assert decide_cited(_c3({"3.12": 1.5}, {"3.12": 1.0})).verdict == "inconclusive"  # straddles 1.5x


# --- C4 -----------------------------------------------------------------------------------


def _c4(ratios: dict[str, float], noise: float = 0.01) -> RunResults:
    cases = []
    for python, ratio in ratios.items():
        cases += [
            case("report-5@zero", "taskgroup", 0.04 * ratio, python, noise=noise, latency="zero"),
            case("report-5@zero", "gather", 0.04, python, noise=noise, latency="zero"),
        ]
    return run(cases)


def test_c4_non_inferiority_every_outcome() -> None:
    holds = decide_c4(_c4({"3.11": 0.97, "3.12": 1.0}))
    assert holds.verdict == "holds"
    assert "smallest difference this run could detect" in holds.reason
    assert decide_c4(_c4({"3.12": 1.2})).verdict == "refuted"
    assert decide_c4(_c4({"3.11": 1.0, "3.12": 1.2})).verdict == "conditional"
    assert decide_c4(_c4({"3.12": 1.05}, noise=0.1)).verdict == "inconclusive"


def test_c4_is_decided_at_zero_latency_and_leaves_out_failure_runs() -> None:
    results = _c4({"3.12": 1.0})
    results.cases += [
        case("report-5-failure", "taskgroup", 0.07, failures=1),
        case("report-5-failure", "gather", 0.2, failures=1),
        case("report-5", "taskgroup", 0.8),
        case("report-5", "gather", 0.6),
    ]
    verdict = decide_c4(results)
    assert verdict.verdict == "holds"  # report-5 at default latency is context
    assert {e.label for e in verdict.evidence} == {"report-5@zero", "report-5"}


# --- C5 -----------------------------------------------------------------------------------


def _c5(first_chunks: dict[str, float]) -> RunResults:
    cases = []
    for scenario, legacy_first in first_chunks.items():
        cases += [
            case(scenario, "legacy", 1.0, first_chunk=legacy_first),
            case(scenario, "taskgroup", 0.9, first_chunk=0.4),
        ]
    return run(cases)


def test_c5_every_outcome() -> None:
    assert decide_c5(_c5({"report-5": 0.99, "alone": 0.98})).verdict == "holds"
    assert decide_c5(_c5({"report-5": 0.4})).verdict == "refuted"
    assert decide_c5(_c5({"report-5": 0.99, "alone": 0.4})).verdict == "conditional"
    assert decide_c5(_c5({"report-5": 0.6})).verdict == "inconclusive"  # later, but not at the end
    assert decide_c5(run()).verdict == "inconclusive"


# --- C6 and C7 ----------------------------------------------------------------------------


def _observed(
    outcomes: dict[str, int], cancelled: tuple[str, ...] = (), validated: bool = True, orphaned: tuple[str, ...] = ()
) -> dict[str, Any]:
    error = {"step": "fetch", "failed": ["quote:NVDA"], "completed": [], "cancelled": list(cancelled)}
    return {"outcomes": outcomes, "run_errors": [error | {"orphaned": list(orphaned)}], "validated": validated}


def _equivalence(
    taskgroup_outcomes: dict[str, int],
    differences: dict[str, list[str]] | None = None,
    cancelled: tuple[str, ...] = (),
    scenario: str = "report-5-failure",
    validated: bool = True,
) -> dict[str, Any]:
    same = {"answered": 20, "failed": 1}
    variants = {
        "threads": _observed(same),
        "gather": _observed(same),
        "taskgroup": _observed(taskgroup_outcomes, cancelled, validated),
        "legacy": _observed(same),
        "gather-plain": _observed(same, orphaned=("quote:AAPL", "news:AAPL")),
    }
    return {"reference": "threads", "scenarios": {scenario: {"variants": variants, "differences": differences or {}}}}


def _merge(*equivalences: dict[str, Any]) -> dict[str, Any]:
    return {"reference": "threads", "scenarios": {k: v for e in equivalences for k, v in e["scenarios"].items()}}


def test_c6_every_outcome_with_the_work_done_as_a_caveat() -> None:
    cancelling = _equivalence({"answered": 1, "failed": 1, "cancelled": 19}, cancelled=("quote:AAPL",))
    holds = decide_identical(run(equivalence={"3.12": cancelling}))
    assert holds.verdict == "holds"  # the cancellations are C7's point, not a second strike
    assert "the work done differs" in holds.condition
    every_variant = {v: ["final answer differ"] for v in ("gather", "taskgroup", "legacy", "gather-plain")}
    differing = _equivalence({"answered": 20, "failed": 1}, every_variant, scenario="report-5")
    assert decide_identical(run(equivalence={"3.12": differing})).verdict == "refuted"
    split = decide_identical(run(equivalence={"3.12": _merge(differing, cancelling)}))
    assert split.verdict == "conditional" and "final answer differ" in split.condition
    failed = _equivalence({"answered": 20, "failed": 1}, validated=False)
    assert [e.supports for e in decide_identical(run(equivalence={"3.12": failed})).evidence].count("unclear") == 1
    assert decide_identical(run()).verdict == "inconclusive"


def _c7(taskgroup_scale: float, cancelled: tuple[str, ...], noise: float = 0.01) -> RunResults:
    cases = [
        case("report-5-failure", "taskgroup", taskgroup_scale, failures=1, noise=noise),
        case("report-5-failure", "gather", 0.2, failures=1, noise=noise),
    ]
    equivalence = _equivalence({"answered": 1, "failed": 1, "cancelled": len(cancelled)}, cancelled=cancelled)
    return run(cases, equivalence={"3.12": equivalence})


def test_c7_every_outcome() -> None:
    holds = decide_structured(_c7(0.07, ("quote:AAPL",)))
    assert holds.verdict == "holds" and holds.figure == pytest.approx(0.35, rel=0.03)
    assert decide_structured(_c7(0.07, ())).verdict == "refuted"  # cancels nothing
    assert decide_structured(_c7(0.2, ("quote:AAPL",), noise=0.1)).verdict == "inconclusive"
    split = _c7(0.07, ("quote:AAPL",))
    split.cases += [
        case("report-5-failure", "taskgroup", 0.3, "3.13", failures=1),
        case("report-5-failure", "gather", 0.2, "3.13", failures=1),
    ]
    split.equivalence["3.13"] = split.equivalence["3.12"]  # the same observations on 3.13
    assert decide_structured(split).verdict == "conditional"
    assert decide_structured(run()).verdict == "inconclusive"


@pytest.mark.parametrize(("plain_scale", "as_quick"), [(0.07, "as quick to report"), (0.2, "not as quick to report")])
def test_c7_says_which_gather_each_statement_is_about(plain_scale: float, as_quick: str) -> None:
    results = _c7(0.07, ("quote:AAPL",))
    results.cases.append(case("report-5-failure", "gather-plain", plain_scale, failures=1))
    verdict = decide_structured(results)
    assert verdict.verdict == "holds"  # plain gather is context: it never decides the verdict
    assert "gather(return_exceptions=True)" in verdict.condition
    assert f"plain gather() (the first exception raised at once), taskgroup is {as_quick}" in verdict.condition
    assert "plain gather leaves 2 sibling(s) running" in verdict.condition
    context = [e for e in verdict.evidence if not e.primary]
    assert len(context) == 1 and context[0].facts["versus"] == "gather-plain"


# --- incomplete and stale runs -------------------------------------------------------------


def test_a_run_stopped_before_its_primary_cases_is_not_measured_never_refuted() -> None:
    results = _c1({"3.12": 1.1})  # on its own this would refute C1
    names = ["report-5/threads", "report-5/taskgroup", "fanout-25/threads@pool-default", "fanout-25/taskgroup"]
    results.speed_plan = {"profile": "default", "cases": {"3.12": names, "3.13": names}}
    verdict = decide_c1(results)
    assert verdict.verdict == "inconclusive"
    assert (
        verdict.reason.startswith("not measured: 2 of 4 primary cases") and "report-5/threads on 3.13" in verdict.reason
    )
    results.speed_plan["cases"] = {"3.12": names}
    assert decide_c1(results).verdict == "refuted"  # whole again: the fan-out cases are not primary


def test_the_equivalence_suite_leaves_no_stale_result_when_it_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = tmp_path / "raw" / f"{python_tag()}.equivalence.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")

    def broken(*_: object) -> None:
        raise RuntimeError("the workflow broke")

    monkeypatch.setattr(equivalence, "execute", broken)
    with pytest.raises(RuntimeError):
        equivalence.main(["--bench-profile", "quick", "--run-dir", str(tmp_path)])
    assert not stale.exists()


def test_instruction_counts_are_context_in_c1_and_c3b_never_a_vote(tmp_path: Path) -> None:
    for python, counts in (("3.11", [415e6, 415.2e6]), ("3.12", [420e6, 420.1e6])):
        write_instructions(
            tmp_path, python, {"threads": [412_000_000, 412_100_000], "taskgroup": [int(c) for c in counts]}
        )
    counted = load_run(tmp_path).instructions
    results = _c3({"3.12": 2.0}, {"3.12": 1.8})
    results.cases += _c1({"3.11": 2.5, "3.12": 2.5}).cases
    results.instructions = counted
    c1 = decide_c1(results)
    assert c1.verdict == "holds"  # threads cost ~1% fewer instructions, yet wait 2.5x longer: time decides
    (row,) = [e for e in c1.evidence if e.facts.get("kind") == "instructions" and e.python == "3.12"]
    assert not row.primary and row.value == pytest.approx(412.05 / 420.05, rel=1e-3) and row.supports == "no"
    c3 = decide_workflow(results)
    assert c3.verdict == "holds"
    (row,) = [e for e in c3.evidence if e.facts.get("kind") == "instructions"]
    assert not row.primary and row.value == pytest.approx(415.1 / 420.05, rel=1e-3)

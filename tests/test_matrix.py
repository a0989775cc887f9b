"""Sweep expansion: which cases each profile measures, and how sweep points are derived."""

from __future__ import annotations

import pytest

from benchmarks.cli import PROFILE_NAMES
from benchmarks.matrix import PROFILES, expand, on_interpreter, with_fanout, with_latency, with_pool
from scenarios.critical_path import critical_path
from tests.conftest import SHIPPED
from workflow.variants import REGISTRY


def test_profile_names_agree_with_the_nox_options() -> None:
    assert set(PROFILES) == {*PROFILE_NAMES, "gate"}  # the gate profile is nox -s gate's, not a --option of bench


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_case_names_are_unique_and_scenarios_valid(profile: str) -> None:
    cases = expand(PROFILES[profile], SHIPPED)
    names = [case.name for case in cases]
    assert len(names) == len(set(names))
    assert all(case.variant in REGISTRY for case in cases)


def test_default_profile_covers_the_issue_sweeps() -> None:
    cases = expand(PROFILES["default"], SHIPPED)
    fanout = [c for c in cases if c.group == "fanout"]
    assert sorted({c.params["tickers"] for c in fanout}) == [1, 2, 5, 10, 25, 50, 100]
    assert all(c.scenario.fanout == 4 * int(c.params["tickers"]) for c in fanout)
    pools = {(c.variant, c.params.get("pool")) for c in fanout}
    threads_pools = {("threads", p) for p in ("default", "fanout", "32")}
    unpooled = {(name, None) for name, v in REGISTRY.items() if not v.pooled and not v.failure_only}
    assert {("taskgroup", None), ("gather", None)} <= unpooled
    assert pools == {*unpooled, ("legacy", "default"), *threads_pools}
    full_pools = {(c.variant, c.params.get("pool")) for c in expand(PROFILES["full"], SHIPPED) if c.group == "fanout"}
    assert {("legacy", p) for p in ("default", "fanout", "32")} <= full_pools
    assert {c.scenario.name for c in cases if c.group == "scenario"} == set(SHIPPED)


def test_full_adds_the_realistic_profile_and_1000_users() -> None:
    full = expand(PROFILES["full"], SHIPPED)
    assert any(c.params.get("latency") == "realistic" for c in full)
    assert not any(c.params.get("latency") == "realistic" for c in expand(PROFILES["default"], SHIPPED))
    assert PROFILES["full"].users[-1] == 1000


def test_quick_measures_what_every_verdict_decides_on() -> None:
    names = {c.name for c in expand(PROFILES["quick"], SHIPPED)}
    assert {"report-5/threads", "report-5/taskgroup"} <= names  # C1's primary comparison
    assert {"report-5@zero/taskgroup", "report-5@zero/gather"} <= names  # C4's, and C3b's with report-5
    assert "report-5/legacy" in names  # C5's
    assert {"report-5-failure/taskgroup", "report-5-failure/gather"} <= names  # C7's
    assert "report-5-failure/gather-plain" in names  # C7's context: the gather that does not wait


def test_default_measures_its_breadth_on_the_newest_interpreter_and_report_5_everywhere() -> None:
    default = PROFILES["default"]
    cases = expand(default, SHIPPED)
    elsewhere = on_interpreter(default, cases, newest=False)
    assert {c.scenario.name for c in elsewhere} == {"report-5", "report-5@zero", "report-5-failure"}
    assert on_interpreter(default, cases, newest=True) == cases
    quick = expand(PROFILES["quick"], SHIPPED)
    assert on_interpreter(PROFILES["quick"], quick, newest=False) == quick  # quick measures everything everywhere


def test_filters_narrow_by_scenario_base_and_variant() -> None:
    cases = expand(PROFILES["default"], SHIPPED, ["report-5"], ["gather"])
    assert [c.name for c in cases] == ["report-5/gather", "report-5@zero/gather"]
    assert expand(PROFILES["default"], SHIPPED, ["fanout-10"], ["threads"])[0].name == "fanout-10/threads@pool-default"
    assert expand(PROFILES["quick"], SHIPPED, ["no-such-scenario"]) == []


def test_zero_latency_has_a_zero_bound_and_realistic_is_in_the_stated_range() -> None:
    base = SHIPPED["report-5"]
    assert critical_path(with_latency(base, "zero")).wall_s == 0
    realistic = with_latency(base, "realistic")
    first_tokens = [realistic.delays("writer", 0).first_s, realistic.delays("analyst:AAPL", 0).first_s]
    assert all(0.1 < t < 2.0 for t in first_tokens)  # hundreds of milliseconds
    gaps = realistic.delays("writer", 0).gaps_s
    assert 0.005 < sum(gaps) / len(gaps) < 0.1  # tens of milliseconds per token


def test_the_fanout_sweep_has_its_own_scenario_file() -> None:
    from benchmarks.matrix import FANOUT_BASE_FILE

    case = next(c for c in expand(PROFILES["default"], SHIPPED) if c.group == "fanout")
    assert case.scenario.source == str(FANOUT_BASE_FILE)
    assert case.scenario.latency_for("quote").ttft.value == 20


def test_derived_scenarios_carry_their_own_stable_hash() -> None:
    base = SHIPPED["report-5"]
    first, again = with_fanout(base, 10), with_fanout(base, 10)
    assert first.content_hash == again.content_hash != base.content_hash
    assert with_pool(first, "32").thread_pool_size == 32
    assert with_pool(first, "32").content_hash == first.content_hash  # the same workload: comparable with taskgroup
    assert first.messages[0].count("$T0") == 10 and first.failures == ()


def test_pools_that_would_run_alike_are_measured_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks import matrix

    monkeypatch.setattr(matrix.os, "cpu_count", lambda: 2)  # stdlib default pool: 6 threads
    monkeypatch.setattr(matrix.os, "process_cpu_count", lambda: 2, raising=False)  # what 3.13 counts
    assert matrix.distinct_pools(("default", "fanout", "32"), 4) == [("default", ["fanout", "32"])]
    assert matrix.distinct_pools(("default", "fanout", "32"), 20) == [("default", []), ("fanout", ["32"])]
    assert matrix.distinct_pools(("default", "fanout", "32"), 100) == [("default", []), ("fanout", []), ("32", [])]


def test_over_loopback_the_fanout_sweep_also_runs_over_respx(monkeypatch: pytest.MonkeyPatch) -> None:
    """The two transports side by side in one run: each loopback fan-out case has a respx twin of its own name."""
    monkeypatch.setenv("AGNO_BENCH_TRANSPORT", "respx")
    over_respx = [c for c in expand(PROFILES["default"], SHIPPED) if c.group == "fanout"]
    monkeypatch.setenv("AGNO_BENCH_TRANSPORT", "loopback")
    both = [c for c in expand(PROFILES["default"], SHIPPED) if c.group == "fanout"]
    twins = [c for c in both if c.transport == "respx"]
    assert len(both) == 2 * len(over_respx) and len(twins) == len(over_respx)
    assert all(c.scenario.name.endswith("@respx") and c.connection_limit is None for c in twins)
    assert {c.connection_limit for c in both if c.transport is None} == {100}

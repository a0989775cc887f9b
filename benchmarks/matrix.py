"""What a profile measures: the scenarios, the sweeps, and how hard pyperf works on each case.

A case is one (scenario, variant) pair with a pyperf benchmark name:
  report-25/taskgroup                 a shipped scenario at its own (default) latency
  report-5@zero/gather                the same workload with every wait set to zero
  alone@realistic/threads             with the realistic LLM latency profile
  fanout-10/threads@pool-32           the fan-out sweep: a report over N tickers, pool size for threads/legacy
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from benchmarks.sampler import Budget
from scenarios.model import (
    LLM_CALL_KINDS,
    Distribution,
    LatencyModel,
    PoolSize,
    Scenario,
    load_scenario,
    synthetic_tickers,
)
from scenarios.transport import Transport, selected_transport
from workflow.variants import pooled_names, variant_names

VARIANTS = variant_names()  # every registered variant (workflow/variants.py)
EVERYDAY_VARIANTS = variant_names(failing=False)  # for workloads no failure is injected into
POOLED_VARIANTS = pooled_names()
LatencyProfile = Literal["zero", "default", "realistic"]
PoolChoice = Literal["default", "fanout", "32"]
FANOUT_BASE_FILE = Path(__file__).resolve().parent.parent / "scenarios" / "sweeps" / "fanout.toml"

# Realistic hosted-LLM waits: first token in the hundreds of ms, tens of ms per further token.
REALISTIC_LLM = LatencyModel(
    ttft=Distribution(kind="lognormal", median=450.0, sigma=0.35),
    gap=Distribution(kind="lognormal", median=25.0, sigma=0.3),
)
REALISTIC_MARKET_DATA = LatencyModel(ttft=Distribution(kind="lognormal", median=120.0, sigma=0.4))


DEFAULT_SAMPLING = Budget()


@dataclass(frozen=True)
class Profile:
    name: str
    processes: int  # speed worker processes per interpreter, interleaved with the other interpreters'
    rounds: int  # per process: one value of every case per round (benchmarks/speed.py)
    scenarios: tuple[str, ...]  # shipped scenarios at their own latency
    zero_latency: tuple[str, ...]
    realistic: tuple[str, ...]
    fanout: tuple[int, ...]
    pools: tuple[PoolChoice, ...]
    users: tuple[int, ...]
    fanout_variants: tuple[str, ...] = EVERYDAY_VARIANTS
    legacy_pools: tuple[PoolChoice, ...] | None = None  # None: the same pools as threads
    memory_levels: tuple[int, ...] = (10, 100, 1000)  # calls in flight at once
    memory_samples: int = 3
    memory_variants: tuple[str, ...] = EVERYDAY_VARIANTS
    # The traced heap (tracemalloc, memray and its flamegraphs) and the report-25 whole-process peak: context that
    # no verdict decides on (C2 decides on RSS and USS), and most of the memory suite's CPU.
    memory_extras: bool = True
    users_variants: tuple[str, ...] = EVERYDAY_VARIANTS
    # The concurrent-users levels over the loopback transport (`--transport loopback`): scale, up to 10,000.
    loopback_users: tuple[int, ...] = ()
    # Instruction counts (callgrind, benchmarks/instructions.py): counted runs per variant after the warm-ups;
    # 0 runs: not measured (callgrind's start-up is ~12 s per interpreter).
    instruction_runs: int = 0
    instruction_warmups: int = 1
    # The layers suite (benchmarks/layers.py): the cases (by scenario name) sampled to say where their CPU goes, by
    # layer; the pools of the threaded variants there; how long each is sampled. () : not measured. `nox -s profile`
    # samples them; `nox -s bench` too unless layers_in_bench is off.
    profiled: tuple[str, ...] = ()
    layers_in_bench: bool = True
    profiled_pools: tuple[PoolChoice, ...] = ("default", "fanout")
    profiled_variants: tuple[str, ...] = EVERYDAY_VARIANTS
    sampling: Budget = DEFAULT_SAMPLING
    equivalence_scenarios: tuple[str, ...] = ()  # shipped scenarios checked for equivalence; () = all
    # Cases of a scenario (by case scenario name, e.g. "report-5@zero") kept to fewer variants.
    narrowed: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Speed cases measured on every interpreter (by scenario name); the rest only on the run's newest one.
    # None: every case everywhere. What a cross-interpreter verdict compares must be in here.
    everywhere: tuple[str, ...] | None = None
    description: str = ""


PROFILES: dict[str, Profile] = {
    "quick": Profile(
        name="quick",
        processes=2,
        rounds=5,
        scenarios=("report-5", "report-5-failure"),
        zero_latency=("report-5",),
        realistic=(),
        fanout=(),
        pools=("default",),
        users=(),  # no claim's verdict needs them; default and full measure them
        fanout_variants=("threads", "taskgroup"),
        memory_levels=(10, 100),
        memory_samples=2,
        memory_variants=("threads", "taskgroup"),
        memory_extras=False,
        users_variants=("threads", "taskgroup"),
        equivalence_scenarios=("report-5", "report-5-failure", "chat-3-turns"),
        narrowed=(
            ("report-5", ("threads", "taskgroup", "legacy")),
            ("report-5@zero", ("gather", "taskgroup")),
            ("report-5-failure", ("gather", "taskgroup", "gather-plain")),
        ),
        profiled=("report-5@zero",),
        profiled_variants=("threads", "taskgroup"),
        sampling=Budget(timed_runs=3, profiled_s=1.5),
        layers_in_bench=False,  # its 4 minutes have no room: `nox -s profile -- --quick` samples these alone
        description="CI gating: 8 cases x 10 paired values (40 at zero latency; 2 processes x 5 rounds), memory "
        "at K=10 and 100 (RSS, USS, VMS only): data for every claim's verdict; no fan-out sweep, "
        "no instruction counts",
    ),
    "default": Profile(
        name="default",
        processes=2,
        rounds=4,  # 8 pairs: one disturbed pair still leaves the 6 an interval needs
        scenarios=("alone", "report-5", "report-25", "chat-3-turns", "report-5-failure"),
        zero_latency=("report-5",),
        realistic=(),
        fanout=(1, 2, 5, 10, 25, 50, 100),
        pools=("default", "fanout", "32"),
        users=(1, 10, 100),
        loopback_users=(1, 10, 100, 1000, 10000),
        legacy_pools=("default",),
        memory_samples=2,
        profiled=("report-5@zero", "fanout-25", "fanout-100"),
        instruction_runs=2,
        everywhere=("report-5", "report-5@zero", "report-5-failure"),
        description="report-5 (default and zero latency, and its failure) on every interpreter; every shipped "
        "scenario and the fan-out and pool sweeps on the newest; users up to 100",
    ),
    "gate": Profile(
        name="gate",
        processes=2,
        rounds=4,
        scenarios=("report-5",),
        zero_latency=("report-5",),
        realistic=(),
        fanout=(),
        pools=("default",),
        users=(),
        memory_levels=(10, 100),
        memory_samples=2,
        memory_extras=False,
        equivalence_scenarios=("report-5",),
        # One counted run per variant and side, as CodSpeed counts: runs in one process repeat within 0.6% and
        # between processes within 0.1%, far inside the 5% threshold, and each run costs ~7 s of the budget.
        instruction_runs=1,
        # legacy is the pre-refactor baseline nobody should ship: gating it would cost a third of the gate's time
        narrowed=(
            ("report-5", ("threads", "gather", "taskgroup")),
            ("report-5@zero", ("threads", "gather", "taskgroup")),
        ),
        description="the CI regression gate (nox -s gate): report-5 at its own and at zero latency for threads, "
        "gather and taskgroup, baseline and candidate interleaved process by process: 8 paired values per "
        "comparison (32 at zero latency)",
    ),
    "full": Profile(
        name="full",
        processes=10,
        rounds=3,
        scenarios=("alone", "report-5", "report-25", "chat-3-turns", "report-5-failure"),
        zero_latency=("alone", "report-5", "report-25", "chat-3-turns"),
        realistic=("alone", "report-5", "report-25", "chat-3-turns"),
        fanout=(1, 2, 5, 10, 25, 50, 100),
        pools=("default", "fanout", "32"),
        users=(1, 10, 100, 1000),
        loopback_users=(1, 10, 100, 1000, 10000),
        profiled=("report-5@zero", "fanout-25", "fanout-100"),
        sampling=Budget(warmups=2, timed_runs=10, profiled_s=6.0, profiled_runs=5),
        instruction_runs=5,
        instruction_warmups=2,
        description="publication: more processes and values, the realistic LLM latency profile, users up to 1000",
    ),
}


@dataclass(frozen=True)
class BenchCase:
    name: str
    scenario: Scenario
    variant: str
    group: Literal["scenario", "latency", "fanout"]
    params: dict[str, str | int] = field(default_factory=dict)
    transport: Transport | None = None  # None: the run's (--transport); set for the respx reference sweep

    @property
    def runs_over(self) -> Transport:
        return self.transport or selected_transport()

    @property
    def connection_limit(self) -> int | None:
        """The client's connection limit where the transport has one (loopback), else None."""
        return self.scenario.max_connections if self.runs_over == "loopback" else None


def with_latency(scenario: Scenario, profile: LatencyProfile) -> Scenario:
    if profile == "default":
        return scenario
    if profile == "zero":
        latency = {kind: LatencyModel(tokens=model.tokens) for kind, model in scenario.latency.items()}
    else:
        latency = {
            kind: replace(REALISTIC_LLM if kind in LLM_CALL_KINDS else REALISTIC_MARKET_DATA, tokens=model.tokens)
            for kind, model in scenario.latency.items()
        }
    return _derived(scenario, f"{scenario.name}@{profile}", latency=latency)


def with_fanout(scenario: Scenario, tickers: int) -> Scenario:
    symbols = synthetic_tickers(tickers)
    message = "Write an investment report comparing " + ", ".join(f"${s}" for s in symbols) + "."
    return _derived(scenario, f"fanout-{tickers}", tickers=symbols, messages=(message,), failures=())


def with_pool(scenario: Scenario, pool: PoolChoice) -> Scenario:
    """The same workload run by a thread pool of another size. The pool is how the threaded variants run the
    scenario, not the scenario: its hash, which cases must share to be compared, stays (the case name and
    `bench_thread_pool_size` say which pool), so threads@pool-32 compares with taskgroup on the same fan-out."""
    size: PoolSize = int(pool) if pool.isdigit() else pool  # type: ignore[assignment]  # "default" | "fanout"
    return replace(scenario, thread_pool_size=size)


def expand(
    profile: Profile,
    shipped: dict[str, Scenario],
    scenario_names: list[str] | None = None,
    variants: list[str] | None = None,
    own: Sequence[Scenario] = (),
) -> list[BenchCase]:
    """Every case of a profile, optionally narrowed to scenarios (base or sweep names) and variants. A user's own
    scenarios (`own`, from --scenario-file) are measured in every variant, at their own latency and at every
    latency profile the profile sweeps, on every interpreter."""
    cases: list[BenchCase] = []
    for name in profile.scenarios:
        cases += _variant_cases(shipped[name], "scenario", {"latency": "default"})
    latency_sweeps: tuple[tuple[LatencyProfile, tuple[str, ...]], ...] = (
        ("zero", profile.zero_latency),
        ("realistic", profile.realistic),
    )
    for latency, names in latency_sweeps:
        for name in names:
            cases += _variant_cases(with_latency(shipped[name], latency), "latency", {"latency": latency, "base": name})
    for scenario in own:
        cases += _variant_cases(scenario, "scenario", {"latency": "default", "own": 1})
        for latency, names in latency_sweeps:
            if names:
                swept = with_latency(scenario, latency)
                cases += _variant_cases(swept, "latency", {"latency": latency, "base": scenario.name, "own": 1})
    base = load_scenario(FANOUT_BASE_FILE)
    # Over loopback the fan-out sweep also runs over respx, in the same rounds: the two transports side by side,
    # where the connection pool (loopback only) starts to queue calls.
    references: tuple[Transport | None, ...] = (None, "respx") if selected_transport() == "loopback" else (None,)
    for reference in references:
        for tickers in profile.fanout:
            scenario = with_fanout(base, tickers)
            if reference is not None:
                scenario = _derived(scenario, f"{scenario.name}@{reference}")
            cases += _fanout_cases(profile, scenario, tickers, reference)
    narrowed = dict(profile.narrowed)
    cases = [c for c in cases if c.variant in narrowed.get(c.scenario.name, (c.variant,))]
    if scenario_names:
        wanted = set(scenario_names)
        cases = [c for c in cases if c.scenario.name in wanted or c.params.get("base") in wanted]
    if variants:
        cases = [c for c in cases if c.variant in variants]
    return cases


def _fanout_cases(profile: Profile, scenario: Scenario, tickers: int, transport: Transport | None) -> list[BenchCase]:
    params: dict[str, str | int] = {"tickers": tickers, "fanout": scenario.fanout, "latency": "default"}
    if transport is not None:
        params["transport"] = transport
    cases: list[BenchCase] = []
    for variant in profile.fanout_variants:
        if variant not in POOLED_VARIANTS:
            cases.append(BenchCase(f"{scenario.name}/{variant}", scenario, variant, "fanout", params, transport))
            continue
        pools = profile.legacy_pools if variant == "legacy" and profile.legacy_pools else profile.pools
        for pool, same_as in distinct_pools(pools, scenario.fanout):
            cases.append(
                BenchCase(
                    f"{scenario.name}/{variant}@pool-{pool}",
                    with_pool(scenario, pool),
                    variant,
                    "fanout",
                    {**params, "pool": pool, "equivalent_pools": ",".join(same_as)},
                    transport,
                )
            )
    return cases


def on_interpreter(profile: Profile, cases: list[BenchCase], newest: bool) -> list[BenchCase]:
    """The cases an interpreter measures: all on the run's newest, those the profile names `everywhere` elsewhere."""
    if newest or profile.everywhere is None:
        return cases
    return [case for case in cases if case.scenario.name in profile.everywhere or case.params.get("own")]


def without_sweeps(cases: list[BenchCase]) -> list[BenchCase]:
    """The workloads as a user runs them (the shipped and own scenarios, their latency profiles): no sweep point."""
    return [case for case in cases if case.group != "fanout"]


def pool_workers(pool: PoolChoice | PoolSize, fanout: int) -> int:
    """Threads a pool may start: the stdlib default is min(32, cpu + 4), counting the CPUs this process may
    use from 3.13 on (os.process_cpu_count) and all of the machine's before."""
    if pool == "default":
        cpus = getattr(os, "process_cpu_count", os.cpu_count)()
        return min(32, (cpus or 1) + 4)
    return fanout if pool == "fanout" else int(pool)


def distinct_pools(pools: tuple[PoolChoice, ...], fanout: int) -> list[tuple[PoolChoice, list[str]]]:
    """Drop pool sizes that would run exactly alike, keeping the first and naming the others.

    A ThreadPoolExecutor starts threads only as jobs arrive, so every pool at least as large
    as the widest stage (the fetch, `fanout` jobs) behaves the same: one thread per job.
    """
    kept: list[tuple[PoolChoice, list[str]]] = []
    unlimited: list[str] | None = None
    for pool in pools:
        if pool_workers(pool, fanout) >= fanout:
            if unlimited is not None:
                unlimited.append(pool)
                continue
            unlimited = []
            kept.append((pool, unlimited))
        else:
            kept.append((pool, []))
    return kept


def _variant_cases(
    scenario: Scenario, group: Literal["scenario", "latency"], params: dict[str, str | int]
) -> list[BenchCase]:
    return [
        BenchCase(f"{scenario.name}/{variant}", scenario, variant, group, params) for variant in variants_for(scenario)
    ]


def variants_for(scenario: Scenario) -> tuple[str, ...]:
    """The variants a scenario is measured in: those that differ only on failure need a failure injected."""
    return VARIANTS if scenario.failures else EVERYDAY_VARIANTS


def _derived(scenario: Scenario, name: str, **changes: object) -> Scenario:
    """A sweep point: a changed copy whose hash still ties it to the file it came from."""
    derivation = f"{scenario.content_hash}:{name}:{sorted((k, repr(v)) for k, v in changes.items())}"
    content_hash = hashlib.sha256(derivation.encode()).hexdigest()
    return replace(scenario, name=name, content_hash=content_hash, **changes)  # type: ignore[arg-type]

"""Reading the layers suite's files, and what they say: each layer's cost per run and per call, its share of the CPU
and of the gap to the critical path.

A layer's cost per run = its share of the samples x the case's median CPU per run (from unprofiled runs: py-spy
pauses the process to sample it). Per call: the samples inside LLM calls over the LLM calls a run makes, the same
for market-data calls; orchestration (the fan-out, the loop's or pool's own work) per run. The gap = median wall -
critical-path bound (the speed suite's median of the same case in the same run when there is one, else the
suite's own timed runs); a layer explains (its CPU per run) / gap of it. CPU that overlapped a wait explains less
than it costs, so the shares are upper bounds; what the CPU does not cover is time spent waiting (for a pool
thread, a connection, the GIL, the scheduler).
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.interpreters import version_key
from benchmarks.layer_map import BY_KEY, KINDS, LAYERS

if TYPE_CHECKING:
    from benchmarks.results import RunResults

SCHEMA = 1
HARNESS = "harness"


class LayersFileError(ValueError):
    """A layers file that cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True)
class LayerCase:
    name: str
    python: str
    scenario: str
    variant: str
    scenario_hash: str
    transport: str
    fanout: int
    llm_calls: int
    market_data_calls: int
    bound_s: float
    timed_wall_s: tuple[float, ...]
    timed_cpu_s: tuple[float, ...]
    runs: int  # profiled runs, every one validated
    samples: int
    rate: int  # samples per second
    profiled_wall_s: float  # the profiled runs together
    profiled_cpu_s: float
    counts: dict[str, dict[str, int]]  # layer -> kind -> samples
    rest_sources: dict[str, int]
    files: dict[str, str]  # flamegraph, folded: relative to the run folder

    @property
    def calls(self) -> int:
        return self.llm_calls + self.market_data_calls

    @property
    def cpu_per_run_s(self) -> float:
        return statistics.median(self.timed_cpu_s)

    @property
    def wall_median_s(self) -> float:
        return statistics.median(self.timed_wall_s)

    def layer_samples(self, layer: str) -> int:
        return sum(self.counts[layer].values())

    def share(self, layer: str, kind: str | None = None) -> float:
        """The layer's share of the samples (within one kind of work, if given)."""
        taken = self.layer_samples(layer) if kind is None else self.counts[layer][kind]
        return taken / self.samples

    def share_error(self, layer: str) -> float:
        """One standard error of the share from sampling alone (samples treated as independent: a lower bound)."""
        share = self.share(layer)
        return math.sqrt(share * (1 - share) / self.samples)

    def cpu_s(self, layer: str, kind: str | None = None) -> float:
        """The layer's CPU per run (within one kind of work, if given)."""
        return self.share(layer, kind) * self.cpu_per_run_s

    def per_call_s(self, layer: str, kind: str) -> float | None:
        """The layer's CPU per call of a kind (llm, market_data); None if a run makes no such call."""
        calls = self.llm_calls if kind == "llm" else self.market_data_calls
        return self.cpu_s(layer, kind) / calls if calls else None

    @property
    def sampling_slowdown(self) -> float:
        """A profiled run's wall time over an unprofiled one's (py-spy pauses the process for each sample)."""
        return self.profiled_wall_s / self.runs / self.wall_median_s

    @property
    def cpu_per_call_s(self) -> float:
        return self.cpu_per_run_s / self.calls

    @property
    def cpu_per_call_without_harness_s(self) -> float:
        """What a user's process would spend per call: the mock's and the harness's share taken out."""
        return self.cpu_per_call_s * (1 - self.share(HARNESS))


@dataclass(frozen=True)
class LayerResults:
    python: str
    unavailable: str | None
    method: str
    rate: int
    cases: dict[str, LayerCase]
    failures: dict[str, str]  # case -> why it has no profile


def read_layers(path: Path) -> LayerResults:
    """A raw layers file, checked: LayersFileError (a ValueError) names the file and the fault."""

    def fault(what: str) -> LayersFileError:
        return LayersFileError(f"{path}: {what}")

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise fault(f"not readable as JSON: {exc}") from exc
    try:
        if data["schema"] != SCHEMA:
            raise fault(f"schema {data['schema']!r}, expected {SCHEMA}")
        python = str(data["python"])
        cases = {name: _case(name, python, raw, fault) for name, raw in data["cases"].items()}
        failures = {str(name): str(why) for name, why in data["failures"].items()}
        return LayerResults(python, data["unavailable"], str(data["method"]), int(data["rate"]), cases, failures)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        if isinstance(exc, LayersFileError):
            raise
        raise fault(f"missing or malformed field: {exc!r}") from exc


def _case(name: str, python: str, raw: dict[str, Any], fault: Any) -> LayerCase:
    counts = {str(layer): {str(kind): int(n) for kind, n in kinds.items()} for layer, kinds in raw["layers"].items()}
    samples = int(raw["profiled"]["samples"])
    unknown = set(counts) - set(BY_KEY)
    if unknown or set(counts) != set(BY_KEY) or any(set(kinds) != set(KINDS) for kinds in counts.values()):
        raise fault(f"case {name}: layers {sorted(counts)} (unknown: {sorted(unknown)}), expected {sorted(BY_KEY)}")
    counted = sum(sum(kinds.values()) for kinds in counts.values())
    if samples <= 0 or counted != samples:
        raise fault(f"case {name}: the layers hold {counted} samples, not the {samples} taken")
    timed = raw["timed"]
    if not timed:
        raise fault(f"case {name}: no timed runs")
    calls = raw["calls"]
    return LayerCase(
        name=name,
        python=python,
        scenario=str(raw["scenario"]),
        variant=str(raw["variant"]),
        scenario_hash=str(raw["scenario_hash"]),
        transport=str(raw["transport"]),
        fanout=int(raw["fanout"]),
        llm_calls=int(calls["llm"]),
        market_data_calls=int(calls["market_data"]),
        bound_s=float(raw["bound_s"]),
        timed_wall_s=tuple(float(run["wall_s"]) for run in timed),
        timed_cpu_s=tuple(float(run["cpu_s"]) for run in timed),
        runs=int(raw["profiled"]["runs"]),
        samples=samples,
        rate=int(raw["profiled"]["rate"]),
        profiled_wall_s=float(raw["profiled"]["wall_s"]),
        profiled_cpu_s=float(raw["profiled"]["cpu_s"]),
        counts=counts,
        rest_sources={str(k): int(v) for k, v in raw["rest_sources"].items()},
        files={str(k): str(v) for k, v in raw["files"].items()},
    )


# --- what the report shows --------------------------------------------------------------------


def wall_and_source(results: RunResults, case: LayerCase) -> tuple[float, float, str]:
    """(median wall, bound, where the median comes from): the speed suite's, same case, interpreter and scenario
    bytes, when the run has it, else this suite's own timed runs."""
    speed = next(
        (
            c
            for c in results.cases
            if c.name == case.name and c.python == case.python and c.scenario_hash == case.scenario_hash
        ),
        None,
    )
    if speed is not None:
        return speed.median_s, speed.critical_path_s, f"speed suite, median of {len(speed.values_s)}"
    return case.wall_median_s, case.bound_s, f"this suite's {len(case.timed_wall_s)} timed runs"


def case_rows(results: RunResults) -> list[dict[str, Any]]:
    """Per interpreter and profiled case: CPU per call, the gap, and per layer its cost and shares."""
    rows: list[dict[str, Any]] = []
    for python in sorted(results.layers):
        for case in sorted(results.layers[python].cases.values(), key=lambda c: c.name):
            wall, bound, source = wall_and_source(results, case)
            gap = wall - bound
            layers = [_layer_row(case, layer.key, gap) for layer in LAYERS]
            rows.append(
                {
                    "python": python,
                    "case": case.name,
                    "scenario": case.scenario,
                    "variant": case.variant,
                    "transport": case.transport,
                    "calls": {"llm": case.llm_calls, "market_data": case.market_data_calls},
                    "cpu_per_run_s": case.cpu_per_run_s,
                    "cpu_per_call_s": case.cpu_per_call_s,
                    "cpu_per_call_without_harness_s": case.cpu_per_call_without_harness_s,
                    "wall_s": wall,
                    "bound_s": bound,
                    "gap_s": gap,
                    "wall_source": source,
                    "cpu_over_gap": case.cpu_per_run_s / gap if gap > 0 else None,
                    "samples": case.samples,
                    "runs": case.runs,
                    "sampling_slowdown": case.sampling_slowdown,
                    "layers": layers,
                    "top_layer": max(layers, key=lambda row: row["share"])["layer"],
                    "rest_sources": case.rest_sources,
                    "files": case.files,
                }
            )
    return rows


def _layer_row(case: LayerCase, layer: str, gap: float) -> dict[str, Any]:
    return {
        "layer": layer,
        "title": BY_KEY[layer].title,
        "share": case.share(layer),
        "share_error": case.share_error(layer),
        "cpu_per_run_s": case.cpu_s(layer),
        "per_llm_call_s": case.per_call_s(layer, "llm"),
        "per_market_data_call_s": case.per_call_s(layer, "market_data"),
        "orchestration_per_run_s": case.cpu_s(layer, "orchestration"),
        "gap_share": case.cpu_s(layer) / gap if gap > 0 else None,
    }


def headline(rows: list[dict[str, Any]]) -> list[str]:
    """Sentences on the high-fan-out case (the largest fan-out profiled, newest interpreter): which layer
    dominates in which variants, the mock's share to discount, and how much of the gap CPU explains."""
    if not rows:
        return []
    newest = max((str(row["python"]) for row in rows), key=version_key)
    mine = [row for row in rows if row["python"] == newest]
    widest = max(mine, key=lambda row: (row["calls"]["market_data"], row["scenario"]))["scenario"]
    chosen = [row for row in mine if row["scenario"] == widest]
    by_top: dict[str, list[str]] = {}
    for row in chosen:
        share = next(layer["share"] for layer in row["layers"] if layer["layer"] == row["top_layer"])
        by_top.setdefault(row["top_layer"], []).append(f"{row['case'].split('/', 1)[1]} ({share:.0%})")
    parts = [f"{BY_KEY[top].title} in {', '.join(names)}" for top, names in sorted(by_top.items())]
    sentences = [f"In {widest} on Python {newest} the largest share of the CPU is " + "; ".join(parts) + "."]
    harness = [next(layer["share"] for layer in row["layers"] if layer["layer"] == HARNESS) for row in chosen]
    sentences.append(
        f"The mock and the harness take {_span(harness)} of it: discount that share, as the 'without the mock' "
        "column does."
    )
    explained = [row["cpu_over_gap"] for row in chosen if row["cpu_over_gap"] is not None]
    if explained:
        sentences.append(
            f"The process's CPU per run is {_span(explained)} of the gap to the critical path; below 100% the rest "
            "of the gap is waiting (for a pool thread, a connection, the GIL or the scheduler), above it CPU "
            "overlapped the waits."
        )
    return sentences


def _span(values: list[float]) -> str:
    low, high = min(values), max(values)
    return f"{low:.0%}" if round(low * 100) == round(high * 100) else f"{low:.0%}-{high:.0%}"

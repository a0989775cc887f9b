"""The suites a run is made of: one registry owning each suite's raw file names and how the driver runs it.

A suite writes `raw/<label><suffix>.json` per interpreter (label "3.12"; the gate's speed adds "3.12@baseline"),
some with a `.samples.jsonl` companion. The writers, the loader (benchmarks/results.py), the report's gaps
and the driver (benchmarks/bench.py) all loop over REGISTRY, so a new suite is one entry here plus its
reader in results.READERS (a test fails if one is missing).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.run_dir import raw_dir
from workflow.variants import REGISTRY as VARIANTS

if TYPE_CHECKING:
    from benchmarks.matrix import Profile

INTERPRETER = r"\d+\.\d+"  # what a run's files are labelled with; the gate's "3.12@baseline" files are its own
OPENAI_COMPARED = rf"{INTERPRETER}@openai-\d+"  # the speed suite's values with a second openai SDK line


def openai_label(python: str, line: str) -> str:
    """The label of an interpreter's values measured with another openai SDK line: "3.13@openai-3"."""
    return f"{python}@openai-{line}"


def _always(profile: Profile) -> bool:
    return True


@dataclass(frozen=True)
class Suite:
    name: str  # also its module: python -m benchmarks.<name>
    title: str  # in words, for gaps
    suffix: str  # raw/<label><suffix>.json
    samples: bool = False  # raw/<label><suffix>.samples.jsonl beside it (per-value steal, rounds, ...)
    driven: bool = True  # run per interpreter by the driver's loop (speed and micro interleave interpreters themselves)
    timing: bool = False  # its figures are times: it runs alone
    narrowable: bool = True  # accepts --variant
    needed: Callable[[Profile], bool] = _always  # whether a profile measures this suite
    breadth: bool = False  # no verdict compares it across interpreters: where a profile measures its breadth
    # on the newest interpreter only (Profile.everywhere), so does this suite
    elsewhere_variants: tuple[str, ...] = ()  # there, on the other interpreters, only these (what verdicts read)
    failures: bool = False  # its workloads inject failures, so it measures the variants that differ only on failure
    own_scenarios: bool = False  # accepts --scenario-file: a user's own scenarios join its workloads
    expected_everywhere: bool = True  # the report names an interpreter without it as a gap
    # told `--elsewhere` on an interpreter that is not the run's newest (when the profile measures its breadth on
    # the newest only): it then takes only the cases the profile measures everywhere
    narrows_elsewhere: bool = False

    def path(self, run_dir: Path, label: str) -> Path:
        return raw_dir(run_dir) / f"{label}{self.suffix}.json"

    def samples_path(self, run_dir: Path, label: str) -> Path:
        return raw_dir(run_dir) / f"{label}{self.suffix}.samples.jsonl"

    def failures_path(self, run_dir: Path, label: str) -> Path:
        """Cases whose runs failed over loopback and so have no number: case -> why (written only if any)."""
        return raw_dir(run_dir) / f"{label}{self.suffix}.failures.json"

    def files(self, label: str) -> tuple[str, ...]:
        """The raw file names this suite owns for `label` (what a re-used run id must not keep)."""
        names = (f"{label}{self.suffix}.json", f"{label}{self.suffix}.failures.json")
        return names + ((f"{label}{self.suffix}.samples.jsonl",) if self.samples else ())

    def found(self, run_dir: Path, labels: str = INTERPRETER) -> list[tuple[str, Path]]:
        """(label, path) of this suite's result files in a run folder, sorted: by default one per interpreter (not
        the gate's side labels, nor the values of a second openai line: `labels=OPENAI_COMPARED` finds those)."""
        pattern = re.compile(rf"^({labels}){re.escape(self.suffix)}\.json$")
        matches = ((pattern.match(path.name), path) for path in sorted(raw_dir(run_dir).glob("*.json")))
        return [(match.group(1), path) for match, path in matches if match]

    def measures(self, variant: str) -> bool:
        return self.failures or not VARIANTS[variant].failure_only


SPEED = Suite("speed", "speed", "", samples=True, driven=False, timing=True, failures=True, own_scenarios=True)
MICRO = Suite("micro", "micro", ".micro", samples=True, driven=False, timing=True, narrowable=False)
USERS = Suite(
    "users",
    "users",
    ".users",
    timing=True,
    needed=lambda profile: bool(profile.users),
    breadth=True,
    expected_everywhere=False,
)
MEMORY = Suite("memory", "memory", ".memory", elsewhere_variants=("threads", "taskgroup"), own_scenarios=True)
EQUIVALENCE = Suite("equivalence", "equivalence", ".equivalence", narrowable=False, failures=True, own_scenarios=True)
INSTRUCTIONS = Suite(
    "instructions",
    "instructions",
    ".instructions",
    needed=lambda profile: profile.instruction_runs > 0,
)
LAYERS = Suite(
    "layers",
    "where the time goes (layers)",
    ".layers",
    timing=True,  # its timed runs give the wall and CPU per run its shares are scaled by
    needed=lambda profile: bool(profile.profiled) and profile.layers_in_bench,
    narrows_elsewhere=True,
)

REGISTRY: dict[str, Suite] = {
    suite.name: suite for suite in (SPEED, MEMORY, EQUIVALENCE, MICRO, INSTRUCTIONS, USERS, LAYERS)
}
# The per-interpreter suites the driver runs after speed and micro (benchmarks/bench.py orders them).
DRIVEN: tuple[Suite, ...] = tuple(suite for suite in REGISTRY.values() if suite.driven)

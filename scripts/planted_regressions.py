"""Planted regressions: does `nox -s gate` catch each one, naming the variant and the measure?

    python scripts/planted_regressions.py [--python 3.11=PATH] [--only NAME ...] [--baseline FILE]

Never touches this checkout: each planted change is made in a throw-away copy of HEAD (a git
worktree in a temporary folder), left uncommitted so the copy's gate compares it with its own HEAD
(the gate's default), and the gate runs there with an existing bench environment's interpreter
(the copy's own code comes first on its path). It must exit 1 and name the planted variant with
one of the expected measures in gate.json. Prints a table and exits 1 if any plant was missed.
With --baseline FILE (a stored baseline written from HEAD with --update-baseline), the copies are gated
against it instead: only the deterministic measures (instructions, heap), in about a minute a plant.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BURN = """

def _planted_burn() -> int:
    total = 0
    for i in range(40_000):  # ~2 ms here, twice per report run: ~10% of a zero-latency run's CPU
        total += i
    return total
"""


@dataclass(frozen=True)
class Plant:
    name: str
    what: str
    path: str
    old: str
    new: str
    variant: str
    measures: frozenset[str]  # any of these named as a regression of `variant` counts as caught
    append: str = ""


PLANTS = (
    Plant(
        "cpu",
        "+10% CPU work per run in taskgroup",
        "workflow/taskgroup.py",
        "        cancelled: list[str] = []\n",
        "        cancelled: list[str] = []\n        _planted_burn()\n",
        "taskgroup",
        frozenset({"instructions", "overhead"}),
        append=BURN,
    ),
    Plant(
        "llm-delay",
        "+5 ms per LLM call (router, analysts) in gather",
        "workflow/gather.py",
        "class GatherFinancialAssistant(AsyncFinancialAssistant):\n",
        "class GatherFinancialAssistant(AsyncFinancialAssistant):\n"
        "    async def route(self, message):  # type: ignore[no-untyped-def]\n"
        "        await asyncio.sleep(0.005)\n"
        "        return await super().route(message)\n\n"
        "    async def _analysis(self, ticker, data):  # type: ignore[no-untyped-def]\n"
        "        await asyncio.sleep(0.005)\n"
        "        return await super()._analysis(ticker, data)\n\n",
        "gather",
        frozenset({"idle", "overhead", "wall", "first_chunk"}),
    ),
    Plant(
        "serialised",
        "threads' fan-out serialised (one job at a time)",
        "workflow/threads.py",
        "ThreadPoolExecutor(max_workers=self.config.thread_pool_size)",
        "ThreadPoolExecutor(max_workers=1)",
        "threads",
        frozenset({"wall", "first_chunk", "overhead"}),
    ),
    Plant(
        "leak",
        "a per-run memory leak in threads (each fan-out's results kept in a module list, ~64 KiB a run)",
        "workflow/threads.py",
        "        return results_or_step_failed(step, jobs, [_outcome(f) for f in futures])",
        "        _PLANTED_KEPT.append(bytearray(32 * 1024))\n"
        "        return results_or_step_failed(step, jobs, [_outcome(f) for f in futures])",
        "threads",
        frozenset({"retained"}),
        append="\n_PLANTED_KEPT: list[bytearray] = []\n",
    ),
)


def _git(*args: str, cwd: Path = ROOT) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)


def plant(copy: Path, change: Plant) -> None:
    path = copy / change.path
    text = path.read_text(encoding="utf-8")
    if change.old not in text:
        raise SystemExit(f"{change.name}: {change.path} no longer contains the line to change; update the plant")
    path.write_text(text.replace(change.old, change.new, 1) + change.append, encoding="utf-8")


def run_one(change: Plant, python: str, executable: str, baseline: Path | None) -> tuple[bool, str, float]:
    with tempfile.TemporaryDirectory(prefix=f"planted-{change.name}-") as scratch:
        copy = Path(scratch) / "copy"
        _git("worktree", "add", "--detach", str(copy), "HEAD")
        try:
            plant(copy, change)
            run_dir = copy / "reports" / f"planted-{change.name}"
            command = [
                executable,
                "-m",
                "benchmarks.gate",
                "--run-dir",
                str(run_dir),
                "--python",
                f"{python}={executable}",
            ]
            if baseline is not None:
                command += ["--baseline", str(baseline.absolute())]
            started = time.perf_counter()
            done = subprocess.run(command, cwd=copy, check=False)
            elapsed = time.perf_counter() - started
            gate_json = run_dir / "gate.json"
            if not gate_json.exists():
                return False, f"gate exited {done.returncode} without gate.json", elapsed
            document = json.loads(gate_json.read_text(encoding="utf-8"))
            named = {
                (row["case"].split("/", 1)[1], row["measure"])
                for row in document["findings"]
                if row["decision"] == "regression"
            }
            caught = done.returncode == 1 and any((change.variant, m) in named for m in change.measures)
            return caught, f"exit {done.returncode}; {document['verdict']}", elapsed
        finally:
            _git("worktree", "remove", "--force", str(copy))
            _git("worktree", "prune")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    default = ROOT / ".nox" / "bench_env-3-11" / "bin" / "python"
    parser.add_argument("--python", default=f"3.11={default}", metavar="X.Y=PATH")
    parser.add_argument("--only", action="append", choices=[p.name for p in PLANTS])
    parser.add_argument("--baseline", type=Path, help="a stored baseline of HEAD: gate the plants against it")
    args = parser.parse_args(argv)
    python, executable = args.python.split("=", 1)
    if not Path(executable).exists():
        parser.error(f"{executable}: no such interpreter (build it with `nox -s bench_env-{python}` first)")
    results = []
    for change in PLANTS:
        if args.only and change.name not in args.only:
            continue
        print(f"planted {change.name}: {change.what}", flush=True)
        caught, said, elapsed = run_one(change, python, executable, args.baseline)
        results.append((change, caught, said, elapsed))
    print("\n| plant | change | expected | caught | gate said | time |\n| --- | --- | --- | --- | --- | --- |")
    for change, caught, said, elapsed in results:
        expected = f"{change.variant}: {' or '.join(sorted(change.measures))}"
        print(
            f"| {change.name} | {change.what} | {expected} | {'yes' if caught else 'NO'} | {said} | {elapsed:.0f} s |"
        )
    return 0 if all(caught for _, caught, _, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Instruction counts: callgrind's output parsed, the raw file checked, valgrind's absence recorded, one real count."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from benchmarks import instructions
from benchmarks.environment import python_tag
from benchmarks.instructions import (
    Callgrind,
    InstructionsFileError,
    measure_case,
    parse_callgrind_totals,
    read_instructions,
)
from benchmarks.matrix import Profile
from scenarios.validate import VALIDATION_EXIT_CODE
from tests.conftest import make_scenario

ROOT = Path(__file__).resolve().parent.parent

DUMP = """# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 1663
cmd:  python t3.py
part: 1

desc: Trigger: dump

positions: line
events: Ir
summary: 0

fn=(1) totals: not a header
0 294

totals: 91682063
"""


def test_the_totals_line_gives_the_ir_count() -> None:
    assert parse_callgrind_totals(DUMP) == 91682063  # totals wins over summary (0 when instrumentation toggles)
    assert parse_callgrind_totals("events: Dr Ir Dw\nsummary: 5 7 9\n") == 7
    assert parse_callgrind_totals("events: Ir Dr\ntotals: 0\n") == 0
    with pytest.raises(ValueError, match="no Ir total"):
        parse_callgrind_totals("events: Ir\n0 294\n")


def _raw(cases: dict[str, Any], unavailable: str | None = None) -> dict[str, Any]:
    header = {"schema": 1, "python": "3.12", "profile": "quick", "metadata": {}, "method": "counted"}
    return {**header, "unavailable": unavailable, "cases": cases}


def _case(counts: list[Any]) -> dict[str, Any]:
    case = {"scenario": "report-5@zero", "variant": "taskgroup", "scenario_hash": "ab"}
    return {**case, "instructions": counts, "warmups": 1}


def test_the_reader_returns_typed_cases(tmp_path: Path) -> None:
    path = tmp_path / "3.12.instructions.json"
    path.write_text(json.dumps(_raw({"report-5@zero/taskgroup": _case([3, 1, 2])})))
    results = read_instructions(path)
    case = results.cases["report-5@zero/taskgroup"]
    assert (results.python, results.unavailable, results.method) == ("3.12", None, "counted")
    assert (case.name, case.python, case.variant, case.instructions, case.median) == (
        "report-5@zero/taskgroup", "3.12", "taskgroup", (3, 1, 2), 2
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        ("{not json", "not readable as JSON"),
        (json.dumps(_raw({"report-5@zero/taskgroup": _case([420, -1])})), "count -1 is not a positive integer"),
        (json.dumps(_raw({"report-5@zero/taskgroup": _case([420, True])})), "count True is not a positive integer"),
        (json.dumps(_raw({"report-5@zero/taskgroup": _case([])})), "no instruction counts"),
        (json.dumps({"schema": 1, "python": "3.12"}), "missing or malformed field"),
    ],
)
def test_the_reader_rejects_a_bad_file_naming_it(tmp_path: Path, text: str, fault: str) -> None:
    path = tmp_path / "3.12.instructions.json"
    path.write_text(text)
    with pytest.raises(InstructionsFileError, match=fault) as raised:
        read_instructions(path)
    assert str(path) in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_without_valgrind_the_file_says_why_and_holds_no_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    stale = tmp_path / "raw" / f"{python_tag()}.instructions.json"
    stale.parent.mkdir()
    stale.write_text(json.dumps(_raw({"report-5@zero/taskgroup": _case([1])})))
    output = StringIO()
    assert instructions.measure_all("default", tmp_path, [], Console(file=output)) == 0
    results = read_instructions(stale)
    assert results.unavailable is not None and "valgrind not found on PATH" in results.unavailable
    assert results.cases == {}
    assert "valgrind not found on PATH" in output.getvalue()


def test_a_failed_case_is_left_out_and_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def run_variants(variants: list[str], profile: Profile) -> tuple[dict[str, dict[str, Any]], str]:
        counted = {"report-5@zero/taskgroup": {**_case([5, 6]), "run_s": 1.0}}  # threads failed validation
        return counted, "worker exited with 3: failed validation"

    monkeypatch.setattr(instructions, "unavailable_reason", lambda: None)
    monkeypatch.setattr(instructions, "run_variants", run_variants)
    output = StringIO()
    assert instructions.measure_all("default", tmp_path, [], Console(file=output, width=200)) == 1
    results = read_instructions(tmp_path / "raw" / f"{python_tag()}.instructions.json")
    assert list(results.cases) == ["report-5@zero/taskgroup"]
    assert "no result for report-5@zero/threads" in output.getvalue()


def test_a_run_that_fails_validation_stops_the_worker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The scenario promises tickers AAA and ZZZ but the message names AAA and BBB: no run of it may count.
    broken = replace(make_scenario(), tickers=("AAA", "ZZZ"))
    callgrind = Callgrind(tmp_path / "callgrind.out")
    monkeypatch.setattr(callgrind, "count", lambda run: pytest.fail("a broken warm-up must stop before counting"))
    with pytest.raises(SystemExit) as exited:
        measure_case(broken, "taskgroup", 1, 2, callgrind)
    assert exited.value.code == VALIDATION_EXIT_CODE
    message = capsys.readouterr().err
    assert "instructions test-scenario/taskgroup (warm-up 1)" in message and "routed to" in message


def test_outside_valgrind_the_client_request_is_a_harmless_no_op(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="not running under valgrind"):
        Callgrind(tmp_path / "callgrind.out").count(lambda: None)


TINY = """
import json, sys
from pathlib import Path
from benchmarks.instructions import Callgrind, measure
labels = []
counts = measure(lambda: sum(i * i for i in range(20_000)), lambda r, label: labels.append(label), 1, 3,
                 Callgrind(Path(sys.argv[1])))
print(json.dumps({"counts": counts, "labels": labels}))
"""


def _count_tiny(scratch: Path) -> dict[str, Any]:
    out_file = scratch / "callgrind.out"
    command = instructions.callgrind_command(out_file, sys.executable, "-c", TINY, str(out_file))
    env = {**os.environ, "PYTHONHASHSEED": instructions.HASH_SEED}
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_callgrind_counts_only_the_bracketed_runs_and_repeats_between_processes(tmp_path: Path) -> None:
    if shutil.which("valgrind") is None:
        if os.environ.get("CI"):
            pytest.fail("valgrind is not installed, and CI must run the real count")
        pytest.skip("valgrind not found on PATH (apt-get install valgrind)")
    first = _count_tiny(tmp_path)
    (tmp_path / "second").mkdir()
    second = _count_tiny(tmp_path / "second")
    assert first["labels"] == ["warm-up 1", "run 1", "run 2", "run 3"]
    counts = first["counts"] + second["counts"]
    # Some millions per run; start-up and importing this module alone cost ~400 M, so they were not counted.
    assert all(1_000_000 < count < 50_000_000 for count in counts), counts
    # The same run in two processes. This tiny run's count moved 1.3% between processes once in CI (where the
    # allocator stood); a whole workflow run repeats within 0.1%, the gate's threshold is 5%.
    for one, other in zip(first["counts"], second["counts"], strict=True):
        assert abs(one - other) / one < 0.03, (first, second)
    assert max(counts) / min(counts) < 1.1, counts  # runs of one process differ a little (allocator state)

"""The suite registry: every suite has a reader and a place in RunResults, and owns its file names."""

from __future__ import annotations

from pathlib import Path

from benchmarks.results import READERS, RunResults
from benchmarks.run_dir import raw_dir
from benchmarks.suites import DRIVEN, REGISTRY, SPEED


def test_every_registered_suite_is_read_and_has_its_place_in_a_run() -> None:
    results = RunResults(run_dir=Path(), manifest={})
    for name in REGISTRY:
        assert name in READERS, f"suite {name} has no reader in benchmarks/results.READERS"
        assert isinstance(results.of_suite(name), dict)
    assert set(READERS) == set(REGISTRY)
    assert {suite.name for suite in DRIVEN} == {"users", "memory", "equivalence", "instructions", "layers"}


def test_a_suite_finds_its_own_files_only(tmp_path: Path) -> None:
    raw = raw_dir(tmp_path)
    raw.mkdir(parents=True)
    for name in ("3.12.json", "3.12.samples.jsonl", "3.12.users.json", "3.13.memory.json", "3.12@baseline.json"):
        (raw / name).write_text("{}")
    assert [label for label, _ in SPEED.found(tmp_path)] == ["3.12"]  # not users', not the gate's side label
    assert [label for label, _ in REGISTRY["memory"].found(tmp_path)] == ["3.13"]
    assert SPEED.files("3.12") == ("3.12.json", "3.12.failures.json", "3.12.samples.jsonl")
    assert REGISTRY["users"].path(tmp_path, "3.11") == raw / "3.11.users.json"

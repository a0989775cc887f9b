"""The driver of `nox -s bench`: which suites run where, alone or sharing the machine (no measuring here)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.bench import Job, plan_jobs

PYTHONS = {"3.11": "/envs/3.11/python", "3.12": "/envs/3.12/python", "3.13": "/envs/3.13/python"}


def _where(jobs: list[Job], module: str) -> dict[str, list[str]]:
    return {python: command for suite, python, command in jobs if suite.name == module}


def test_quick_runs_memory_and_equivalence_everywhere_and_no_users_or_instruction_counts() -> None:
    timed, shared = plan_jobs(PYTHONS, "quick", Path("run"), [])
    assert timed == []  # no users; no layers either: `nox -s profile -- --quick` samples them alone
    assert {suite.name for suite, _, _ in shared} == {"memory", "equivalence"}
    assert [suite.name for suite, _, _ in shared][:3] == ["memory"] * 3  # the longest start first
    assert all(command[0] == PYTHONS[python] for _, python, command in shared)


def test_default_keeps_its_breadth_on_the_newest_interpreter() -> None:
    timed, shared = plan_jobs(PYTHONS, "default", Path("run"), [])
    assert list(_where(timed, "users")) == ["3.13"]  # no verdict compares users across interpreters
    memory = _where(shared, "memory")
    assert "--variant" not in memory["3.13"]  # every variant on the newest
    assert memory["3.11"][-4:] == ["--variant", "threads", "--variant", "taskgroup"]  # what C2 compares, elsewhere
    assert set(_where(shared, "instructions")) == set(PYTHONS)  # every variant on every interpreter
    assert all("--variant" not in command for command in _where(shared, "instructions").values())
    layers = _where(timed, "layers")  # its timed runs give the CPU its shares are scaled by: it runs alone
    assert "--elsewhere" not in layers["3.13"] and "--elsewhere" in layers["3.11"] and "--elsewhere" in layers["3.12"]


def test_full_measures_everything_everywhere_and_a_variant_filter_is_passed_on() -> None:
    timed, shared = plan_jobs(PYTHONS, "full", Path("run"), ["gather"])
    assert set(_where(timed, "users")) == set(PYTHONS)
    assert all(command[-2:] == ["--variant", "gather"] for command in _where(shared, "memory").values())
    assert "--variant" not in _where(shared, "equivalence")["3.11"]  # equivalence compares every variant


def test_a_variant_that_differs_only_on_failure_skips_the_suites_that_inject_none() -> None:
    timed, shared = plan_jobs(PYTHONS, "full", Path("run"), ["gather-plain"])
    assert timed == [] and {suite.name for suite, _, _ in shared} == {"equivalence"}
    _, shared = plan_jobs(PYTHONS, "full", Path("run"), ["gather-plain", "taskgroup"])
    assert all(command[-2:] == ["--variant", "taskgroup"] for command in _where(shared, "memory").values())


def test_a_users_scenario_file_goes_to_the_suites_that_take_one() -> None:
    _, shared = plan_jobs(PYTHONS, "quick", Path("run"), [], ["/home/me/mine.toml"])
    for module in ("memory", "equivalence"):
        assert all(
            command[-2:] == ["--scenario-file", "/home/me/mine.toml"] for command in _where(shared, module).values()
        )

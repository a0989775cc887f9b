"""Workloads (TOML scenario files), the HTTP mock that serves them, and the run checker."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from scenarios.model import Scenario, ScenarioError, load_scenario

SHIPPED_DIR = Path(__file__).parent / "shipped"


class ScenarioFilesError(ValueError):
    """One or more scenario files cannot be used; the message has one line per file and fault."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


def shipped_scenarios() -> dict[str, Scenario]:
    """The scenarios that ship with the harness, by name; every bad file is named, not only the first."""
    return _load_all(sorted(SHIPPED_DIR.glob("*.toml")), {})


def load_scenarios(extra_files: Sequence[Path | str] = ()) -> dict[str, Scenario]:
    """The shipped scenarios and a user's own files (`--scenario-file`), by name. A user file whose name a shipped
    scenario (or another user file) already has is an error, never a silent replacement."""
    shipped = shipped_scenarios()
    return shipped | _load_all([Path(path) for path in extra_files], shipped)


def own_scenarios(files: Sequence[Path | str], shipped: dict[str, Scenario] | None = None) -> tuple[Scenario, ...]:
    """Only the user's own scenario files, checked as `load_scenarios` checks them (against `shipped`, loaded if
    not given)."""
    if not files:
        return ()
    return tuple(_load_all([Path(path) for path in files], shipped or shipped_scenarios()).values())


def _load_all(paths: Sequence[Path], taken: dict[str, Scenario]) -> dict[str, Scenario]:
    loaded: dict[str, Scenario] = {}
    problems: list[str] = []
    for path in paths:
        try:
            scenario = load_scenario(path)
        except ScenarioError as exc:
            problems.append(str(exc))
            continue
        earlier = taken.get(scenario.name) or loaded.get(scenario.name)
        if earlier is not None:
            problems.append(
                f"{path}: field 'name': expected a name no other scenario has, got {scenario.name!r} "
                f'(already the name of {earlier.source}; set `name = "..."` in the file)'
            )
            continue
        loaded[scenario.name] = scenario
    if problems:
        raise ScenarioFilesError(problems)
    return loaded


__all__ = [
    "SHIPPED_DIR",
    "Scenario",
    "ScenarioError",
    "ScenarioFilesError",
    "load_scenario",
    "load_scenarios",
    "own_scenarios",
    "shipped_scenarios",
]

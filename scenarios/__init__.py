"""Workloads (TOML scenario files), the HTTP mock that serves them, and the run checker."""

from __future__ import annotations

from pathlib import Path

from scenarios.model import Scenario, ScenarioError, load_scenario

SHIPPED_DIR = Path(__file__).parent / "shipped"


def shipped_scenarios() -> dict[str, Scenario]:
    """The scenarios that ship with the harness, by name."""
    loaded = (load_scenario(path) for path in sorted(SHIPPED_DIR.glob("*.toml")))
    return {scenario.name: scenario for scenario in loaded}


__all__ = ["SHIPPED_DIR", "Scenario", "ScenarioError", "load_scenario", "shipped_scenarios"]

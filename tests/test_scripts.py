"""The gate's proof scripts (scripts/): each plant still applies to today's workflow, and the false-alarm tally."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


planted = _script("planted_regressions")
false_alarms = _script("false_alarms")


@pytest.mark.parametrize("change", planted.PLANTS, ids=lambda change: change.name)
def test_every_plant_still_applies_and_compiles(tmp_path: Path, change: Any) -> None:
    shutil.copytree(ROOT / "workflow", tmp_path / "workflow")
    planted.plant(tmp_path, change)
    text = (tmp_path / change.path).read_text()
    assert text != (ROOT / change.path).read_text()
    compile(text, change.path, "exec")  # a plant that breaks the syntax would be "caught" for the wrong reason


def test_the_plants_cover_the_issue() -> None:
    names = {change.name for change in planted.PLANTS}
    assert names == {"cpu", "llm-delay", "serialised", "leak"}


def _finding(measure: str, decision: str, low: float, high: float, gating: bool = True) -> dict[str, Any]:
    found = {"measure": measure, "decision": decision, "low": low, "high": high, "gating": gating}
    return found | {"case": "report-5/gather", "python": "3.12"}


def test_the_tally_counts_false_alarms_advisory_alarms_and_the_widest_interval() -> None:
    runs = [
        {"run": 1, "exit_code": 0, "seconds": 200, "findings": [_finding("wall", "no change", 0.98, 1.03)]},
        {
            "run": 2,
            "exit_code": 1,
            "seconds": 210,
            "findings": [
                _finding("wall", "regression", 1.11, 1.30),
                _finding("overhead", "regression", 1.2, 1.6, gating=False),
            ],
        },
        {"run": 3, "exit_code": 2, "seconds": 190, "findings": []},
    ]
    tally = false_alarms.tally(runs)
    assert tally["runs"] == 3 and tally["failed_runs"] == 1 and tally["unusable_runs"] == 1
    wall, overhead = tally["measures"]["wall"], tally["measures"]["overhead"]
    assert wall["comparisons"] == 2 and wall["false_alarms"] == 1 and wall["widest"]["run"] == 2
    assert overhead["false_alarms"] == 0 and overhead["advisory_alarms"] == 1
    assert tally["seconds"] == [190, 200, 210]


def test_a_series_is_decided_again_with_todays_thresholds(tmp_path: Path) -> None:
    """A false alarm at a threshold since raised is re-decided, not hidden: the tally reports both counts."""
    shipped = {"measure": "idle", "case": "report-5@zero/threads", "python": "3.13", "gating": True}
    near = shipped | {"ratio": 0.0030, "low": 0.0006, "high": 0.0039, "decision": "regression"}
    far = shipped | {"ratio": 0.0100, "low": 0.0095, "high": 0.0104, "decision": "regression"}
    runs = [{"run": 1, "exit_code": 1, "seconds": 1, "findings": [near]}, {"run": 2, "exit_code": 1, "seconds": 1}]
    runs[1]["findings"] = [far]
    decided = false_alarms.rejudge(runs)
    assert [run["exit_code"] for run in decided] == [0, 1]  # 3.0 ms is within today's 5 ms; 10 ms is not
    assert decided[0]["findings"][0]["decision"] == "slower, within threshold"

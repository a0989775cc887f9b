"""The agno Workflow paragraph beside C1 and C7: computed from the run, absent when agno was not measured."""

from __future__ import annotations

import re
from typing import Any

import pytest

from benchmarks.claims.agno_aside import c1_aside, c7_aside
from tests import synthetic


def _cases(agno_sync: float, agno_async: float, scenario: str = "report-25") -> list:
    return [
        synthetic.case(scenario, "taskgroup", 1.0, "3.13"),
        synthetic.case(scenario, "agno-sync", agno_sync, "3.13"),
        synthetic.case(scenario, "agno-async", agno_async, "3.13"),
    ]


def _ratio(variant: str, text: str) -> float:
    found = re.search(rf"{variant} ([\d.]+)x", text)
    assert found is not None, text
    return float(found.group(1))


@pytest.mark.parametrize(("agno_sync", "agno_async"), [(1.4, 1.1), (0.9, 1.6)])
def test_c1_states_each_agno_variant_against_taskgroup(agno_sync: float, agno_async: float) -> None:
    text = c1_aside(synthetic.run(_cases(agno_sync, agno_async)), ("report-25", "report-5"))
    assert "on report-25 (Python 3.13)" in text and "one thread per branch" in text
    assert _ratio("agno-sync", text) == pytest.approx(agno_sync, rel=0.03)
    assert _ratio("agno-async", text) == pytest.approx(agno_async, rel=0.03)


def test_no_agno_variant_measured_means_no_paragraph() -> None:
    only_tasks = synthetic.run([synthetic.case("report-25", "taskgroup", 1.0, "3.13")])
    assert c1_aside(only_tasks, ("report-25",)) == ""
    assert c7_aside(only_tasks, "report-5-failure") == ""


def _observed(cancelled: int) -> dict[str, Any]:
    error = {"step": "fetch", "failed": ["quote:NVDA"], "completed": [], "cancelled": ["x"] * cancelled, "orphaned": []}
    return {"outcomes": {"answered": 20, "failed": 1}, "run_errors": [error], "validated": True}


def test_c7_counts_the_siblings_agno_cancelled() -> None:
    variants = {"agno-sync": _observed(0), "agno-async": _observed(0), "taskgroup": _observed(19)}
    equivalence = {"reference": "threads", "scenarios": {"report-5-failure": {"variants": variants}}}
    text = c7_aside(
        synthetic.run(_cases(2.8, 2.9, "report-5-failure"), equivalence={"3.13": equivalence}), "report-5-failure"
    )
    assert "agno-async's RunErrors named 0 cancelled sibling(s)" in text
    assert _ratio("agno-sync", text) == pytest.approx(2.8, rel=0.03)

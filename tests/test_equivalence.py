"""C6: every variant does the same work and says the same thing, for every shipped scenario."""

from __future__ import annotations

from collections import Counter

import pytest

from benchmarks.equivalence import compare, observe
from scenarios.validate import validate
from tests.conftest import SHIPPED, VARIANT_NAMES
from workflow.events import RunCompleted


@pytest.mark.parametrize("scenario", sorted(SHIPPED))
@pytest.mark.parametrize("variant", VARIANT_NAMES)
def test_every_run_passes_validation(executed, scenario: str, variant: str) -> None:
    validate(executed(scenario, variant))


@pytest.mark.parametrize("scenario", sorted(SHIPPED))
def test_variants_agree_on_content_events_and_requests(executed, scenario: str) -> None:
    runs = {variant: executed(scenario, variant) for variant in VARIANT_NAMES}
    reference = runs["threads"]
    for variant, run in runs.items():
        assert [_final(t.events) for t in run.turns] == [_final(t.events) for t in reference.turns], variant
        for turn, reference_turn in zip(run.turns, reference.turns, strict=True):
            assert Counter(e.key() for e in turn.events) == Counter(e.key() for e in reference_turn.events), variant
        assert Counter(r.call for r in run.requests) == Counter(r.call for r in reference.requests), variant


def _final(events: tuple[object, ...]) -> str | None:
    last = events[-1]
    return last.content if isinstance(last, RunCompleted) else None


def test_the_equivalence_suite_names_a_variant_that_departs_from_threads(executed) -> None:
    observed = {variant: observe(executed("report-5", variant)) for variant in VARIANT_NAMES}
    assert compare(observed)["agree"]
    observed["gather"] = {**observed["gather"], "final": ["something else"]}
    result = compare(observed)
    assert not result["agree"]
    assert result["differences"] == {"gather": ["final answer differ"]}


def test_the_equivalence_suite_records_the_work_cancelled_under_a_failure(executed) -> None:
    taskgroup = observe(executed("report-5-failure", "taskgroup"))
    gather = observe(executed("report-5-failure", "gather"))
    assert taskgroup["outcomes"].get("cancelled", 0) > 0
    assert gather["outcomes"].get("cancelled", 0) == 0
    assert taskgroup["run_errors"][0]["failed"] == ["quote:NVDA"]

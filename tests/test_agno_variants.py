"""What the agno-sync and agno-async variants must set against agno's Workflow defaults (workflow/agno_workflow.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from agno.workflow import OnError, Parallel, Router, Step, Steps

from scenarios.runner import ScenarioSession
from tests.conftest import make_scenario
from workflow import agno_workflow
from workflow.agno_async import AgnoAsyncFinancialAssistant
from workflow.agno_sync import AgnoSyncFinancialAssistant
from workflow.config import WorkflowConfig
from workflow.events import RunCompleted, RunError, WorkflowEvent
from workflow.prompts import SUBFLOWS, Route

AGNO_VARIANTS = {"agno-sync": AgnoSyncFinancialAssistant, "agno-async": AgnoAsyncFinancialAssistant}
ROUTES = {"chat": Route("chat", ()), "alone": Route("alone", ("AAA",)), "report": Route("report", ("AAA", "BBB"))}


def _steps(step: object) -> Iterator[Step]:
    """Every Step of a workflow's step tree (a Router's chosen subflows are built per run, walked separately)."""
    if isinstance(step, Step):
        yield step
    elif isinstance(step, Steps | Parallel):
        for child in step.steps:
            yield from _steps(child)


@pytest.mark.parametrize("variant", sorted(AGNO_VARIANTS))
def test_no_step_is_retried_and_a_failed_route_stops_the_workflow(variant: str) -> None:
    """agno retries a failing step 3 times (repeating its calls) and skips a failed top-level step by default."""
    assistant = AGNO_VARIANTS[variant](WorkflowConfig())
    try:
        top = list(assistant.workflow.steps or [])
        route, router = top
        assert isinstance(route, Step) and route.name == agno_workflow.ROUTE
        assert route.human_review.on_error == OnError.fail
        assert isinstance(router, Router) and [getattr(c, "name", None) for c in router.choices] == list(SUBFLOWS)
        for subflow, chosen in ROUTES.items():
            built = agno_workflow.subflow_steps(chosen, assistant.config, assistant.sessions, assistant)
            assert built.name == subflow
            steps = [*_steps(route), *_steps(built)]
            assert steps and all(step.max_retries == 0 for step in steps)
    finally:
        if isinstance(assistant, AgnoSyncFinancialAssistant):
            assistant.close()


@pytest.mark.parametrize("variant", sorted(AGNO_VARIANTS))
def test_runs_leave_no_ledger_open(variant: str) -> None:
    failing = make_scenario(failures=[{"call": "news:BBB", "kind": "http_500", "after_ms": 1}])
    for scenario in (failing, make_scenario()):
        with ScenarioSession(scenario, variant) as session:
            workflow = session.new_workflow()
            assert isinstance(workflow, AgnoSyncFinancialAssistant | AgnoAsyncFinancialAssistant)
            events = asyncio.run(_run_async(workflow)) if session.is_async else _run_sync(workflow)
        assert isinstance(events[-1], RunError if scenario is failing else RunCompleted)
        assert len(workflow.ledgers) == 0


def _run_sync(workflow: object) -> list[WorkflowEvent]:
    assert isinstance(workflow, AgnoSyncFinancialAssistant)
    with workflow:
        return list(workflow.run("Write a report on $AAA, $BBB."))


async def _run_async(workflow: object) -> list[WorkflowEvent]:
    assert isinstance(workflow, AgnoAsyncFinancialAssistant)
    async with workflow:
        return [event async for event in workflow.arun("Write a report on $AAA, $BBB.")]

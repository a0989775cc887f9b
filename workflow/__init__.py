"""The financial-assistant workflow on agno, in four concurrency shapes."""

from __future__ import annotations

import os

# agno reads this when an agent runs and it overrides Agent(telemetry=...): force it off.
os.environ["AGNO_TELEMETRY"] = "false"

from workflow.flow import AsyncFinancialAssistant, SyncFinancialAssistant
from workflow.gather import GatherFinancialAssistant
from workflow.legacy import LegacyFinancialAssistant
from workflow.taskgroup import TaskGroupFinancialAssistant
from workflow.threads import ThreadsFinancialAssistant

VARIANTS: dict[str, type[SyncFinancialAssistant] | type[AsyncFinancialAssistant]] = {
    "threads": ThreadsFinancialAssistant,
    "gather": GatherFinancialAssistant,
    "taskgroup": TaskGroupFinancialAssistant,
    "legacy": LegacyFinancialAssistant,
}

__all__ = ["VARIANTS", "AsyncFinancialAssistant", "SyncFinancialAssistant"]

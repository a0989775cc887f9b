"""What a workflow instance needs to know about its surroundings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MOCK_LLM_BASE_URL = "http://llm.mock.invalid/v1"
MOCK_MARKET_DATA_BASE_URL = "http://market-data.mock.invalid/v1"


@dataclass(frozen=True)
class WorkflowConfig:
    """Endpoints, streaming, pool size and session storage of one workflow instance.

    `thread_pool_size=None` means the standard library's default
    (`min(32, os.cpu_count() + 4)`). `session_db_file=None` keeps sessions in memory.
    """

    llm_base_url: str = MOCK_LLM_BASE_URL
    market_data_base_url: str = MOCK_MARKET_DATA_BASE_URL
    api_key: str = "sk-mock-not-a-real-key"
    model_id: str = "gpt-4o-mini"
    streaming: bool = True
    thread_pool_size: int | None = None
    session_db_file: Path | None = None
    session_id: str = "default-session"
    request_timeout_s: float = 30.0

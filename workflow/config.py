"""What a workflow instance needs to know about its surroundings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

MOCK_LLM_BASE_URL = "http://llm.mock.invalid/v1"
MOCK_MARKET_DATA_BASE_URL = "http://market-data.mock.invalid/v1"


@dataclass(frozen=True)
class WorkflowConfig:
    """Endpoints, streaming, pool size and session storage of one workflow instance.

    `thread_pool_size=None` means the standard library's default
    (`min(32, os.cpu_count() + 4)`). `session_db_file=None` keeps sessions in memory. `max_connections`
    bounds the connections open at once per client (httpx's pool); more requests wait for one.
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
    max_connections: int = 100  # the httpx clients' connection limit (httpx's default)


def http_client_options(config: WorkflowConfig) -> dict[str, Any]:
    """Keyword arguments for the workflow's httpx clients: its timeout and connection limit (the keep-alive
    pool stays httpx's 20). trust_env=False: a proxy from the environment must not carry the mock's traffic."""
    return {
        "timeout": config.request_timeout_s,
        "limits": httpx.Limits(max_connections=config.max_connections, max_keepalive_connections=20),
        "trust_env": False,
    }

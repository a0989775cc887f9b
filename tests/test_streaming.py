"""C5: streaming variants hand out the first chunk before the answer's last chunk is even sent;
`legacy` collects the stream first, so nothing reaches the caller before the end.

Ordering is read from one numbered timeline shared by mock and consumer, not from clocks.
"""

from __future__ import annotations

import pytest

from scenarios.runner import FIRST_CHUNK_MARK, execute
from tests.conftest import STREAMING_VARIANTS, make_scenario
from workflow.events import ContentChunk

ANSWERING_CALL = {"report-5": "writer", "alone": "analyst:AAPL", "chat-3-turns": "chat"}


def _order(timeline: tuple[tuple[int, str], ...], answering_call: str) -> tuple[int, int]:
    first_received = next(seq for seq, label in timeline if label == FIRST_CHUNK_MARK)
    last_sent = next(seq for seq, label in timeline if label == f"{answering_call}:last-chunk-sent")
    return first_received, last_sent


@pytest.mark.parametrize("scenario", sorted(ANSWERING_CALL))
@pytest.mark.parametrize("variant", STREAMING_VARIANTS)
def test_streaming_variants_deliver_before_the_last_chunk_is_sent(executed, scenario: str, variant: str) -> None:
    first_received, last_sent = _order(executed(scenario, variant).timeline, ANSWERING_CALL[scenario])
    assert first_received < last_sent


@pytest.mark.parametrize("scenario", sorted(ANSWERING_CALL))
def test_legacy_delivers_nothing_before_the_end(executed, scenario: str) -> None:
    first_received, last_sent = _order(executed(scenario, "legacy").timeline, ANSWERING_CALL[scenario])
    assert first_received > last_sent


@pytest.mark.parametrize("variant", [*STREAMING_VARIANTS, "legacy"])
def test_without_streaming_the_answer_arrives_as_one_chunk(variant: str) -> None:
    execution = execute(make_scenario(streaming=False), variant)
    chunks = [e for e in execution.turns[0].events if isinstance(e, ContentChunk)]
    assert len(chunks) == 1 and chunks[0].content

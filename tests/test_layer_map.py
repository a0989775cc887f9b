"""Which layer a sampled frame and a whole sample count for: every frame has a place, every sample one layer."""

from __future__ import annotations

import random
import sysconfig
from pathlib import Path

import pytest

from benchmarks.layer_map import (
    BY_KEY,
    KINDS,
    LAYERS,
    REPO,
    REST,
    attribute,
    kind_of_stack,
    layer_of_frame,
    layer_of_stack,
    short_frame,
)

SITE = "/venv/lib/python3.12/site-packages"
STDLIB = sysconfig.get_paths()["stdlib"]


def frame(name: str, path: str, line: int = 1) -> str:
    return f"{name} ({path}:{line})"


@pytest.mark.parametrize(
    ("path", "layer"),
    [
        (f"{SITE}/agno/agent/agent.py", "agno"),
        (f"{SITE}/openai/_base_client.py", "openai"),
        (f"{SITE}/httpx/_client.py", "http"),
        (f"{SITE}/httpcore/_async/connection_pool.py", "http"),
        (f"{SITE}/h11/_connection.py", "http"),
        (f"{SITE}/pydantic/main.py", "pydantic"),
        (f"{SITE}/pydantic_core/__init__.py", "pydantic"),
        (f"{SITE}/sqlalchemy/engine/base.py", "storage"),
        (f"{SITE}/respx/router.py", "harness"),
        (f"{SITE}/jiter/__init__.py", REST),  # a package no layer names
        (f"{STDLIB}/asyncio/base_events.py", "asyncio"),
        (f"{STDLIB}/selectors.py", "asyncio"),
        (f"{STDLIB}/threading.py", "threading"),
        (f"{STDLIB}/concurrent/futures/thread.py", "threading"),
        (f"{STDLIB}/sqlite3/dbapi2.py", "storage"),
        ("/root/.pyenv/versions/3.13.0/lib/python3.13/asyncio/events.py", "asyncio"),  # another interpreter's
        (str(REPO / "workflow" / "flow.py"), "workflow"),
        (str(REPO / "scenarios" / "mock" / "routes.py"), "harness"),
        (str(REPO / "benchmarks" / "sampler.py"), "harness"),
    ],
)
def test_a_frame_belongs_to_the_layer_its_file_lives_in(path: str, layer: str) -> None:
    assert layer_of_frame(frame("f", path)) == layer


@pytest.mark.parametrize(
    "path",
    [
        f"{STDLIB}/json/encoder.py",
        f"{STDLIB}/copy.py",
        "<frozen importlib._bootstrap>",
        "<string>",
        f"{SITE}/typing_extensions.py",
    ],
)
def test_the_rest_of_the_standard_library_and_generated_code_count_for_their_caller(path: str) -> None:
    assert layer_of_frame(frame("f", path)) is None
    caller = frame("Agent.run", f"{SITE}/agno/agent/agent.py")
    assert layer_of_stack([frame("main", str(REPO / "workflow" / "flow.py")), caller, frame("f", path)]) == "agno"


def test_the_innermost_named_frame_decides() -> None:
    stack = [
        frame("run", str(REPO / "workflow" / "flow.py")),
        frame("Agent.run", f"{SITE}/agno/agent/agent.py"),
        frame("create", f"{SITE}/openai/resources/chat.py"),
        frame("Client.send", f"{SITE}/httpx/_client.py"),
        frame("dumps", f"{STDLIB}/json/__init__.py"),
    ]
    assert layer_of_stack(stack) == "http"
    assert layer_of_stack(stack[:3]) == "openai"


def test_a_sample_without_any_named_frame_is_the_rest() -> None:
    assert layer_of_stack([]) == REST
    assert layer_of_stack([frame("dumps", f"{STDLIB}/json/__init__.py"), "a frame py-spy could not name"]) == REST


def test_the_kind_of_work_comes_from_the_calls_on_the_stack() -> None:
    tool = frame("MarketDataTools.get_market_data", str(REPO / "workflow" / "tools.py"))
    agent = frame("Agent.run", f"{SITE}/agno/agent/agent.py")
    sdk = frame("Completions.create", f"{SITE}/openai/resources/chat.py")
    loop = frame("BaseEventLoop._run_once", f"{STDLIB}/asyncio/base_events.py")
    httpx = frame("Client.send", f"{SITE}/httpx/_client.py")
    assert kind_of_stack([loop, tool, httpx]) == "market_data"
    assert kind_of_stack([loop, agent, httpx]) == "llm"
    assert kind_of_stack([sdk]) == "llm"
    assert kind_of_stack([loop, frame("Workflow.arun", f"{SITE}/agno/workflow/workflow.py")]) == "orchestration"


def test_every_sample_lands_in_exactly_one_layer_and_kind() -> None:
    """Nothing silently dropped: random stacks over every kind of frame, odd ones included, add up."""
    pool = [
        frame("f", f"{SITE}/agno/agent/agent.py"),
        frame("g", f"{SITE}/httpx/_client.py"),
        frame("h", f"{STDLIB}/json/encoder.py"),
        frame("i", f"{STDLIB}/asyncio/events.py"),
        frame("t", str(REPO / "workflow" / "tools.py")),
        frame("j", f"{SITE}/mystery/core.py"),
        frame("<module>", "<string>"),
        "no parentheses at all",
        frame("weird (name)", "/odd path/with spaces.py"),
    ]
    chooser = random.Random(7)
    stacks = [
        (tuple(chooser.choice(pool) for _ in range(chooser.randrange(0, 8))), chooser.randrange(1, 50))
        for _ in range(500)
    ]
    counted = attribute(stacks)
    assert counted.samples == sum(count for _, count in stacks)
    assert set(counted.by_layer) == set(BY_KEY) and all(set(k) == set(KINDS) for k in counted.by_layer.values())
    assert sum(sum(kinds.values()) for kinds in counted.by_layer.values()) == counted.samples
    assert sum(counted.rest_sources.values()) == sum(counted.by_layer[REST].values())
    assert "mystery" in counted.rest_sources


def test_short_frames_name_the_package_path_as_py_spy_does() -> None:
    assert short_frame(frame("Agent.run", f"{SITE}/agno/agent/agent.py", 12)) == "Agent.run (agno/agent/agent.py:12)"
    assert short_frame(frame("run", str(REPO / "workflow" / "flow.py"), 3)) == "run (workflow/flow.py:3)"
    assert short_frame(frame("x", f"{STDLIB}/asyncio/events.py", 4)) == "x (asyncio/events.py:4)"
    assert short_frame("no file") == "no file"


def test_layers_have_distinct_keys_and_colours() -> None:
    assert len({layer.key for layer in LAYERS}) == len({layer.color for layer in LAYERS}) == len(LAYERS)
    assert LAYERS[-1].key == REST
    assert Path(REPO / "workflow").is_dir()

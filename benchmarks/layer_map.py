"""Which layer of the stack a sampled frame belongs to, and which layer and kind of work a whole sample counts for.

A sample (one stack, root to leaf) counts for the innermost frame that belongs to a named layer: agno, the
openai SDK, httpx/httpcore, pydantic, session storage, the mock and the harness, asyncio's event loop,
threading, the workflow's own code. Frames of the rest of the standard library (json, re, copy, typing,
logging, importlib, ...) are transparent: their cost belongs to whoever called them (agno's json.dumps is
agno's cost). A sample with no frame of a named layer counts for "the rest", so every sample lands in exactly
one layer and the layers add up to the whole.

A sample also counts for one kind of work: a market-data call (a frame of the market-data tool), an LLM call
(a frame of an agno Agent or the openai SDK), or orchestration (everything else: the fan-out, the event loop's
and the pool's own work, the harness between calls).
"""

from __future__ import annotations

import contextlib
import re
import sysconfig
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

REPO = Path(__file__).resolve().parent.parent
REST = "rest"
GENERATED = "generated code"
TRANSPARENT_PACKAGES = ("typing_extensions",)  # a typing backport: its cost is whoever's types it serves
Kind = Literal["llm", "market_data", "orchestration"]
KINDS: tuple[Kind, ...] = ("llm", "market_data", "orchestration")


@dataclass(frozen=True)
class Layer:
    key: str
    title: str
    color: str  # the same in the stacked bars and the flame graphs
    packages: tuple[str, ...] = ()  # top-level packages installed in site-packages
    stdlib: tuple[str, ...] = ()  # top-level standard-library modules or packages
    repo: tuple[str, ...] = ()  # this repository's folders


LAYERS: tuple[Layer, ...] = (
    Layer("agno", "agno", "#4c72b0", packages=("agno",)),
    Layer("openai", "openai SDK", "#55a868", packages=("openai",)),
    Layer(
        "http",
        "httpx / httpcore",
        "#c44e52",
        packages=("httpx", "httpcore", "h11", "h2", "anyio", "sniffio", "certifi", "idna"),
    ),
    Layer(
        "pydantic",
        "pydantic",
        "#8172b3",
        packages=("pydantic", "pydantic_core", "annotated_types", "typing_inspection"),
    ),
    Layer("storage", "session storage (sqlalchemy, sqlite3)", "#937860", packages=("sqlalchemy",), stdlib=("sqlite3",)),
    Layer(
        "harness",
        "mock & harness",
        "#8c8c8c",
        packages=("respx", "pyperf", "psutil", "aiohttp"),
        repo=("scenarios", "benchmarks", "tests"),
    ),
    Layer("asyncio", "asyncio event loop", "#dd8452", stdlib=("asyncio", "selectors")),
    Layer("threading", "threading / concurrent.futures", "#da8bc3", stdlib=("threading", "concurrent", "queue")),
    Layer("workflow", "workflow code", "#ccb974", repo=("workflow",)),
    Layer(REST, "the rest", "#64b5cd"),
)
BY_KEY: dict[str, Layer] = {layer.key: layer for layer in LAYERS}

_PACKAGES = {package: layer.key for layer in LAYERS for package in layer.packages}
_STDLIB = {module: layer.key for layer in LAYERS for module in layer.stdlib}
_REPO = {folder: layer.key for layer in LAYERS for folder in layer.repo}
_FRAME = re.compile(r"^(?P<name>.*) \((?P<file>.*):(?P<line>\d+)\)$")
_SITE = re.compile(r"[/\\](?:site|dist)-packages[/\\](?P<top>[^/\\]+)")
_STDLIB_ROOTS = tuple(
    {str(Path(sysconfig.get_paths()[key]).resolve()) for key in ("stdlib", "platstdlib")}
    | {str(Path(sysconfig.get_paths()[key])) for key in ("stdlib", "platstdlib")}
)
_PY_LIB = re.compile(r"[/\\]lib[/\\]python3\.\d+t?[/\\](?P<top>[^/\\]+)")


def frame_file(frame: str) -> str:
    """The file of a py-spy frame "name (file:line)"; "" for a frame without one."""
    match = _FRAME.match(frame)
    return match.group("file") if match else ""


def frame_name(frame: str) -> str:
    match = _FRAME.match(frame)
    return match.group("name") if match else frame


def _top(name: str) -> str:
    """A module file's top-level name: "asyncio" for asyncio/events.py, "threading" for threading.py."""
    return name.removesuffix(".py")


@lru_cache(maxsize=4096)
def package_of(path: str) -> str:
    """Where a frame's file comes from, for "the rest"'s breakdown: a package, "stdlib <module>", a repository
    folder, or the path itself."""
    site = _SITE.search(path)
    if site:
        return _top(site.group("top"))
    if path.startswith("<frozen "):
        return "stdlib " + path.removeprefix("<frozen ").rstrip(">").split(".")[0]
    if path.startswith("<") or not path:
        return GENERATED  # <string>: code made at run time (dataclasses' __init__, namedtuples), or no file at all
    for root in _STDLIB_ROOTS:
        if path.startswith(root + "/"):
            return "stdlib " + _top(path[len(root) + 1 :].split("/")[0])
    lib = _PY_LIB.search(path)
    if lib:
        return "stdlib " + _top(lib.group("top"))
    try:
        relative = Path(path).resolve().relative_to(REPO)
    except (ValueError, OSError):
        return path or "(no file)"
    return "repo " + relative.parts[0] if relative.parts else path


@lru_cache(maxsize=16384)
def short_frame(frame: str) -> str:
    """A frame with its file shortened as py-spy's default does: from the package, stdlib module or repository
    folder on ("Agent.run (agno/agent/agent.py:1020)"), for people and the tools that read collapsed stacks."""
    path = frame_file(frame)
    if not path:
        return frame
    short = path
    site = _SITE.search(path)
    lib = _PY_LIB.search(path)
    if site:
        short = path[site.start("top") :]
    elif lib:
        short = path[lib.start("top") :]
    else:
        with contextlib.suppress(ValueError, OSError):
            short = str(Path(path).resolve().relative_to(REPO))
    line = frame.rsplit(":", 1)[1]
    return f"{frame_name(frame)} ({short}:{line}"


@lru_cache(maxsize=16384)
def layer_of_frame(frame: str) -> str | None:
    """The layer a frame belongs to, or None for a transparent standard-library frame (its caller's layer)."""
    source = package_of(frame_file(frame))
    if source == GENERATED or source in TRANSPARENT_PACKAGES:
        return None
    if source.startswith("stdlib "):
        return _STDLIB.get(source.removeprefix("stdlib "))
    if source.startswith("repo "):
        return _REPO.get(source.removeprefix("repo "), REST)
    return _PACKAGES.get(source, REST)


def layer_of_stack(frames: Sequence[str]) -> str:
    """The layer a sample counts for: its innermost frame of a named layer, else the rest."""
    return deciding_frame(frames)[0]


def deciding_frame(frames: Sequence[str]) -> tuple[str, str | None]:
    """(the layer a sample counts for, the frame that decided it; None when no frame did)."""
    for frame in reversed(frames):
        layer = layer_of_frame(frame)
        if layer is not None:
            return layer, frame
    return REST, None


def kind_of_stack(frames: Sequence[str]) -> Kind:
    """The kind of work a sample is part of: inside a market-data call, inside an LLM call, or neither."""
    files = [frame_file(frame) for frame in frames]
    if any(_is_market_data(path) for path in files):
        return "market_data"
    if any(_is_llm(path) for path in files):
        return "llm"
    return "orchestration"


def _is_market_data(path: str) -> bool:
    return Path(path).name == "tools.py" and package_of(path) == "repo workflow"


def _is_llm(path: str) -> bool:
    parts = Path(path).parts
    return package_of(path) == "openai" or ("agno" in parts and "agent" in parts[parts.index("agno") :])


@dataclass(frozen=True)
class Attribution:
    samples: int
    by_layer: dict[str, dict[str, int]]  # layer -> kind of work -> samples; every sample in exactly one cell
    rest_sources: dict[str, int]  # where the rest's samples were (package or stdlib module of the innermost frame)


def attribute(stacks: Sequence[tuple[Sequence[str], int]]) -> Attribution:
    """Every sample counted once, in its layer and kind of work."""
    by_layer: dict[str, dict[str, int]] = {layer.key: dict.fromkeys(KINDS, 0) for layer in LAYERS}
    rest: dict[str, int] = {}
    for frames, count in stacks:
        layer, frame = deciding_frame(frames)
        by_layer[layer][kind_of_stack(frames)] += count
        if layer == REST:
            leaf = f"only the standard library ({package_of(frame_file(frames[-1]))})" if frames else "no Python frame"
            source = package_of(frame_file(frame)) if frame else leaf
            rest[source] = rest.get(source, 0) + count
    return Attribution(sum(count for _, count in stacks), by_layer, rest)

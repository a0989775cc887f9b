"""Scenario files: the typed workload definition and its validating TOML loader.

A scenario names the subflow, the user messages (one per turn of one session), the
latency model of every call kind, streaming, the thread pool size and injected failures.
Everything the mock and the validator need to know about a run comes from here.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
import tomllib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from scenarios.content import classify
from workflow.calls import MARKET_DATA_KINDS
from workflow.prompts import SUBFLOWS

LLM_CALL_KINDS = ("router", "analyst", "writer", "chat")
CALL_KINDS = LLM_CALL_KINDS + MARKET_DATA_KINDS
# http_500/http_429: an error status; timeout: no answer within the wait (respx raises the client's ReadTimeout
# after after_ms; loopback holds the answer until the client's own timeout fires); drop: the connection closes
# mid-answer (after the first chunk of a stream); reset: the connection is reset (TCP RST) instead of answered.
FAILURE_KINDS = ("http_500", "http_429", "timeout", "drop", "reset")
DEFAULT_TOKENS = {"router": 1, "analyst": 24, "writer": 64, "chat": 32}
TICKER_PATTERN = re.compile(r"^[A-Z][A-Z0-9]{0,7}(\.[A-Z])?$")
# Stated limits: what a scenario may ask of one run. Beyond them a run takes minutes to hours or gigabytes.
MAX_TICKERS = 100  # the fan-out sweep's largest: 400 market-data calls in one step
MAX_TURNS = 20
MAX_TOKENS = 4096  # per answer
MAX_WAIT_MS = 60_000.0  # any one wait (first token, gap, injected failure); a lognormal's 99.9th percentile
MAX_POOL = 1024
MAX_CONNECTIONS = 10_000  # the client's connection limit (httpx's default is 100)
DEFAULT_MAX_CONNECTIONS = 100
DEFAULT_REQUEST_TIMEOUT_S = 30.0  # the workflow's per-request timeout (openai and httpx clients)
MAX_SERIAL_S = 600.0  # the whole run with every call made one after another: bounds its timeout

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
Subflow = Literal["report", "alone", "chat"]
FailureKind = Literal["http_500", "http_429", "timeout", "drop", "reset"]
PoolSize = int | Literal["default", "fanout"]


class ScenarioError(ValueError):
    """A scenario file is malformed; the message names the file, the field and the expectation."""

    def __init__(self, source: str, field_path: str, expected: str, got: object = None) -> None:
        shown = "" if got is None else f", got {got!r}"
        super().__init__(f"{source}: field '{field_path}': expected {expected}{shown}")
        self.source = source
        self.field_path = field_path


@dataclass(frozen=True)
class Distribution:
    """Milliseconds drawn per call: constant, uniform or lognormal, seeded by the call's identity."""

    kind: Literal["constant", "uniform", "lognormal"] = "constant"
    value: float = 0.0
    low: float = 0.0
    high: float = 0.0
    median: float = 0.0
    sigma: float = 0.0

    def sample_ms(self, key: str) -> float:
        if self.kind == "constant":
            return self.value
        rng = random.Random(int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big"))
        if self.kind == "uniform":
            return rng.uniform(self.low, self.high)
        return self.median * math.exp(rng.gauss(0.0, self.sigma))

    @property
    def max_ms(self) -> float:
        """Upper bound of a draw (lognormal has none; its 99.9th percentile stands in)."""
        if self.kind == "constant":
            return self.value
        if self.kind == "uniform":
            return self.high
        return self.median * math.exp(3.09 * self.sigma)


@dataclass(frozen=True)
class LatencyModel:
    """One call kind's latency: time to first token, gap per further token, token count."""

    ttft: Distribution = field(default_factory=Distribution)
    gap: Distribution = field(default_factory=Distribution)
    tokens: int = 16


@dataclass(frozen=True)
class CallDelays:
    """Seconds before the first token, then before each further token."""

    first_s: float
    gaps_s: tuple[float, ...]

    @property
    def total_s(self) -> float:
        return self.first_s + sum(self.gaps_s)


def call_kind(call: str) -> str:
    """ "analyst:AAPL" -> "analyst", "quote:AAPL" -> "quote", "writer" -> "writer"."""
    return call.split(":", 1)[0]


@dataclass(frozen=True)
class Failure:
    """An injected failure: `call` (e.g. "quote:NVDA", "analyst:AAPL") answers `kind` after `after_ms`."""

    call: str
    kind: FailureKind
    after_ms: float


@dataclass(frozen=True)
class Scenario:
    name: str
    source: str
    subflow: Subflow
    messages: tuple[str, ...]
    tickers: tuple[str, ...]
    streaming: bool
    thread_pool_size: PoolSize
    seed: int
    session_store: Literal["sqlite", "memory"]
    latency: Mapping[str, LatencyModel]
    failures: tuple[Failure, ...]
    max_connections: int = DEFAULT_MAX_CONNECTIONS  # per httpx client; only the loopback transport has a pool
    request_timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S  # over loopback, a `timeout` failure fires at this
    description: str = ""
    content_hash: str = ""

    @property
    def fanout(self) -> int:
        """Independent market-data calls waiting together in one fetch step."""
        return len(self.tickers) * len(MARKET_DATA_KINDS)

    def latency_for(self, call_kind: str) -> LatencyModel:
        return self.latency[call_kind]

    def tokens_for(self, call: str) -> int:
        """Tokens a call answers with: the router's JSON and market data come whole."""
        kind = call_kind(call)
        return 1 if kind == "router" or kind in MARKET_DATA_KINDS else self.latency[kind].tokens

    def delays(self, call: str, occurrence: int = 0) -> CallDelays:
        """The waits of the `occurrence`-th request of `call`: the same for every variant and order."""
        model = self.latency[call_kind(call)]
        key = f"{self.seed}:{call}:{occurrence}"
        gaps = tuple(model.gap.sample_ms(f"{key}:gap:{i}") / 1000 for i in range(1, self.tokens_for(call)))
        return CallDelays(first_s=model.ttft.sample_ms(f"{key}:ttft") / 1000, gaps_s=gaps)

    def failure_for(self, call_id: str) -> Failure | None:
        return next((f for f in self.failures if f.call == call_id), None)


def call_stages(scenario: Scenario) -> list[list[str]]:
    """The calls of one turn, grouped in the order the workflow makes them; a stage's calls run at once."""
    stages = [["router"]]
    if scenario.subflow == "chat":
        return [*stages, ["chat"]]
    stages.append([f"{kind}:{t}" for t in scenario.tickers for kind in MARKET_DATA_KINDS])
    if scenario.subflow == "alone":
        return [*stages, [f"analyst:{scenario.tickers[0]}"]]
    return [*stages, [f"analyst:{t}" for t in scenario.tickers], ["writer"]]


def expected_calls(scenario: Scenario) -> Counter[str]:
    """Every call of every turn; with an injected failure, only up to the failing stage."""
    failing = {f.call for f in scenario.failures}
    per_turn: list[str] = []
    for stage in call_stages(scenario):
        per_turn.extend(stage)
        if failing & set(stage):
            break
    return Counter(per_turn * len(scenario.messages))


def calls_per_run(scenario: Scenario) -> tuple[int, int]:
    """(LLM calls, market-data calls) a whole run makes: what a cost per call divides by."""
    calls = expected_calls(scenario)
    market_data = sum(count for call, count in calls.items() if call_kind(call) in MARKET_DATA_KINDS)
    return sum(calls.values()) - market_data, market_data


def load_scenario(path: Path) -> Scenario:
    """Read and validate one scenario file; raise ScenarioError naming file, field and expectation."""
    source = str(path)
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(source, "<file>", "a readable TOML file", exc.strerror) from exc
    try:
        data = tomllib.loads(raw_bytes.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(source, "<file>", f"valid UTF-8 TOML ({exc})") from exc
    return parse_scenario(data, source=source, default_name=path.stem, raw=raw_bytes)


def parse_scenario(data: Mapping[str, Any], *, source: str, default_name: str, raw: bytes = b"") -> Scenario:
    known = {
        "name", "description", "subflow", "message", "messages", "tickers", "streaming",
        "thread_pool_size", "seed", "session_store", "latency", "failures", "max_connections",
        "request_timeout_s",
    }  # fmt: skip
    for key in data:
        if key not in known:
            raise ScenarioError(source, key, f"one of {sorted(known)}", "unknown field")

    name = _typed(data, "name", str, source, default_name)
    subflow = _typed(data, "subflow", str, source)
    if subflow not in SUBFLOWS:
        raise ScenarioError(source, "subflow", f"one of {list(SUBFLOWS)}", subflow)

    tickers = _parse_tickers(data.get("tickers", []), source)
    messages = _parse_messages(data, source, tickers)
    if subflow == "chat" and tickers:
        raise ScenarioError(source, "tickers", "no tickers for a chat scenario", list(tickers))
    if subflow == "alone" and len(tickers) != 1:
        raise ScenarioError(source, "tickers", "exactly one ticker for an alone scenario", list(tickers))
    if subflow == "report" and not tickers:
        raise ScenarioError(source, "tickers", "at least one ticker for a report scenario", [])
    if subflow != "chat" and len(messages) != 1:
        raise ScenarioError(source, "messages", f"exactly one message for a {subflow} scenario", len(messages))

    pool = data.get("thread_pool_size", "default")
    if not (
        pool in ("default", "fanout") or (isinstance(pool, int) and not isinstance(pool, bool) and 0 < pool <= MAX_POOL)
    ):
        raise ScenarioError(source, "thread_pool_size", f'"default", "fanout" or an integer from 1 to {MAX_POOL}', pool)
    seed = _typed(data, "seed", int, source, 0)
    max_connections = _typed(data, "max_connections", int, source, DEFAULT_MAX_CONNECTIONS)
    if not 0 < max_connections <= MAX_CONNECTIONS:
        raise ScenarioError(source, "max_connections", f"an integer from 1 to {MAX_CONNECTIONS:,}", max_connections)
    request_timeout_s = data.get("request_timeout_s", DEFAULT_REQUEST_TIMEOUT_S)
    if isinstance(request_timeout_s, bool) or not isinstance(request_timeout_s, int | float):
        raise ScenarioError(source, "request_timeout_s", "a number of seconds", request_timeout_s)
    if not 0 < request_timeout_s <= MAX_WAIT_MS / 1000:
        raise ScenarioError(source, "request_timeout_s", f"from 0 to {MAX_WAIT_MS / 1000:.0f} s", request_timeout_s)
    streaming = _typed(data, "streaming", bool, source, True)
    store = _typed(data, "session_store", str, source, "sqlite")
    if store not in ("sqlite", "memory"):
        raise ScenarioError(source, "session_store", '"sqlite" or "memory"', store)

    if not NAME_PATTERN.match(name):
        raise ScenarioError(source, "name", "letters, digits, '-' and '_' (it names cases and files)", name)
    _check_routes(messages, subflow, tickers, source, "message" if "message" in data else "messages")
    scenario = Scenario(
        name=name,
        source=source,
        subflow=subflow,  # type: ignore[arg-type]  # checked against SUBFLOWS above
        messages=messages,
        tickers=tickers,
        streaming=streaming,
        thread_pool_size=pool,
        seed=seed,
        session_store=store,  # type: ignore[arg-type]  # checked above
        latency=_parse_latency(data.get("latency", {}), source),
        failures=_parse_failures(data.get("failures", []), source, subflow, tickers),
        max_connections=max_connections,
        request_timeout_s=float(request_timeout_s),
        description=_typed(data, "description", str, source, ""),
        content_hash=hashlib.sha256(raw).hexdigest() if raw else "",
    )
    serial_s = serial_seconds(scenario)
    if serial_s > MAX_SERIAL_S:
        raise ScenarioError(
            source,
            "latency",
            f"a run of at most {MAX_SERIAL_S:.0f} s with every call made one after another (the stated limit; "
            "fewer tickers, turns or tokens, or shorter waits)",
            f"{serial_s:,.0f} s",
        )
    return scenario


def serial_seconds(scenario: Scenario) -> float:
    """The whole run with every call made one after another: no variant should take longer (its timeout's base)."""
    total = 0.0
    for turn in range(len(scenario.messages)):
        for stage in call_stages(scenario):
            total += sum(scenario.delays(call, turn).total_s for call in stage)
    return total


def _check_routes(
    messages: tuple[str, ...], subflow: str, tickers: tuple[str, ...], source: str, field_name: str
) -> None:
    """Each message must route to the declared subflow and tickers under the mock router's rule, or every run
    would fail validation: found here, naming the message, rather than as a traceback at run time."""
    expected = {"subflow": subflow, "tickers": list(tickers)}
    for index, message in enumerate(messages):
        routed = classify(message)
        if routed != expected:
            got = f"{routed['subflow']} with tickers {routed['tickers']}"
            rule = "no $TICKER: chat; the word 'report' or several $TICKERs: report; one $TICKER: alone"
            where = f"{field_name}[{index}]" if field_name == "messages" else field_name
            wanted = f"a message routed to {subflow} with tickers {list(tickers)} ({rule})"
            raise ScenarioError(source, where, wanted, f"{message!r}, routed to {got}")


def synthetic_tickers(count: int) -> tuple[str, ...]:
    """Deterministic made-up symbols for fan-out sweeps (T001, T002, ...)."""
    return tuple(f"T{i:03d}" for i in range(1, count + 1))


def _typed(data: Mapping[str, Any], key: str, kind: type, source: str, default: Any = ...) -> Any:
    if key not in data:
        if default is ...:
            raise ScenarioError(source, key, f"a {kind.__name__} (required)", "missing")
        return default
    value = data[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ScenarioError(source, key, f"a {kind.__name__}", value)
    return value


def _parse_tickers(value: Any, source: str) -> tuple[str, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        if not 1 <= value <= MAX_TICKERS:
            raise ScenarioError(source, "tickers", f"a count from 1 to {MAX_TICKERS} or a list of symbols", value)
        return synthetic_tickers(value)
    if not isinstance(value, list):
        raise ScenarioError(source, "tickers", "a list of symbols or a count", value)
    for index, ticker in enumerate(value):
        if not isinstance(ticker, str) or not TICKER_PATTERN.match(ticker):
            raise ScenarioError(source, f"tickers[{index}]", "an upper-case symbol like AAPL", ticker)
    if len(set(value)) != len(value):
        raise ScenarioError(source, "tickers", "distinct symbols", value)
    if len(value) > MAX_TICKERS:
        raise ScenarioError(source, "tickers", f"at most {MAX_TICKERS} symbols (the stated limit)", len(value))
    return tuple(value)


def _parse_messages(data: Mapping[str, Any], source: str, tickers: tuple[str, ...]) -> tuple[str, ...]:
    if ("message" in data) == ("messages" in data):
        raise ScenarioError(source, "message", "exactly one of 'message' (a string) or 'messages' (a list)")
    raw = [data["message"]] if "message" in data else data["messages"]
    field_name = "message" if "message" in data else "messages"
    if not isinstance(raw, list) or not raw:
        raise ScenarioError(source, field_name, "a non-empty list of strings", raw)
    if len(raw) > MAX_TURNS:
        raise ScenarioError(source, field_name, f"at most {MAX_TURNS} turns (the stated limit)", len(raw))
    cashtags = ", ".join(f"${t}" for t in tickers)
    messages = []
    for index, message in enumerate(raw):
        if not isinstance(message, str) or not message.strip():
            raise ScenarioError(source, f"{field_name}[{index}]", "a non-empty string", message)
        messages.append(message.replace("{tickers}", cashtags))
    return tuple(messages)


def _milliseconds(value: Any, source: str, where: str, what: str = "milliseconds") -> float:
    """A finite number of milliseconds in [0, MAX_WAIT_MS] (TOML allows inf and nan: refused here)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
        raise ScenarioError(source, where, f"finite {what} >= 0", value)
    if value > MAX_WAIT_MS:
        raise ScenarioError(source, where, f"{what} <= {MAX_WAIT_MS:,.0f} (the limit of one wait)", value)
    return float(value)


def _parse_distribution(value: Any, source: str, where: str) -> Distribution:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Distribution(value=_milliseconds(value, source, where))
    if not isinstance(value, dict):
        raise ScenarioError(source, where, "milliseconds or a table with 'dist'", value)
    dist = value.get("dist")
    required = {"constant": ("value",), "uniform": ("low", "high"), "lognormal": ("median", "sigma")}
    if dist not in required:
        raise ScenarioError(source, f"{where}.dist", f"one of {list(required)}", dist)
    params: dict[str, float] = {}
    for key in value:
        if key != "dist" and key not in required[dist]:
            raise ScenarioError(source, f"{where}.{key}", f"only {list(required[dist])} for {dist}", "unknown")
    for key in required[dist]:
        params[key] = _milliseconds(value.get(key), source, f"{where}.{key}", "sigma" if key == "sigma" else "ms")
    if dist == "uniform" and params["low"] > params["high"]:
        raise ScenarioError(source, f"{where}.low", "low <= high", params["low"])
    distribution = Distribution(kind=dist, **params)
    if distribution.max_ms > MAX_WAIT_MS:
        limit = f"a 99.9th percentile <= {MAX_WAIT_MS:,.0f} ms (the limit of one wait)"
        raise ScenarioError(source, where, limit, f"{distribution.max_ms:,.0f} ms")
    return distribution


def _parse_latency(value: Any, source: str) -> dict[str, LatencyModel]:
    if not isinstance(value, dict):
        raise ScenarioError(source, "latency", "a table of call kinds", value)
    allowed = (*CALL_KINDS, "market_data")
    tables: dict[str, dict[str, Any]] = {}
    for kind, table in value.items():
        if kind not in allowed:
            raise ScenarioError(source, f"latency.{kind}", f"a call kind, one of {list(allowed)}", "unknown")
        if not isinstance(table, dict):
            raise ScenarioError(source, f"latency.{kind}", "a table with ttft_ms, gap_ms, tokens", table)
        for key in table:
            if key not in ("ttft_ms", "gap_ms", "tokens"):
                raise ScenarioError(source, f"latency.{kind}.{key}", "ttft_ms, gap_ms or tokens", "unknown")
        tables[kind] = table
    models: dict[str, LatencyModel] = {}
    for kind in CALL_KINDS:
        # The four market-data endpoints inherit the shared [latency.market_data] table.
        table = tables.get(kind) or (tables.get("market_data", {}) if kind in MARKET_DATA_KINDS else {})
        where = f"latency.{kind}" if kind in tables or kind in LLM_CALL_KINDS else "latency.market_data"
        tokens = table.get("tokens", DEFAULT_TOKENS.get(kind, 1))
        if not isinstance(tokens, int) or isinstance(tokens, bool) or not 1 <= tokens <= MAX_TOKENS:
            raise ScenarioError(source, f"{where}.tokens", f"an integer from 1 to {MAX_TOKENS}", tokens)
        models[kind] = LatencyModel(
            ttft=_parse_distribution(table.get("ttft_ms", 0), source, f"{where}.ttft_ms"),
            gap=_parse_distribution(table.get("gap_ms", 0), source, f"{where}.gap_ms"),
            tokens=tokens,
        )
    return models


def _parse_failures(value: Any, source: str, subflow: str, tickers: tuple[str, ...]) -> tuple[Failure, ...]:
    if not isinstance(value, list):
        raise ScenarioError(source, "failures", "an array of tables ([[failures]])", value)
    valid_calls = {"router", "writer", "chat"}
    valid_calls |= {f"analyst:{t}" for t in tickers}
    valid_calls |= {f"{kind}:{t}" for kind in MARKET_DATA_KINDS for t in tickers}
    failures: list[Failure] = []
    for index, table in enumerate(value):
        where = f"failures[{index}]"
        if not isinstance(table, dict):
            raise ScenarioError(source, where, "a table with call, kind, after_ms", table)
        for key in table:
            if key not in ("call", "kind", "after_ms"):
                raise ScenarioError(source, f"{where}.{key}", "call, kind or after_ms", "unknown")
        call = table.get("call")
        if call not in valid_calls:
            raise ScenarioError(source, f"{where}.call", f"a call of this {subflow} scenario", call)
        kind = table.get("kind")
        if kind not in FAILURE_KINDS:
            raise ScenarioError(source, f"{where}.kind", f"one of {list(FAILURE_KINDS)}", kind)
        after = _milliseconds(table.get("after_ms", 0), source, f"{where}.after_ms")
        failures.append(Failure(call=call, kind=kind, after_ms=after))
    if len({f.call for f in failures}) != len(failures):
        raise ScenarioError(source, "failures", "at most one failure per call")
    return tuple(failures)

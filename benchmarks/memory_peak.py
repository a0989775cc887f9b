"""A run's K market-data calls held at the mock until all K wait together, and a hook run at that moment.

The memory suite samples its process while K calls are in flight at once. Over either transport the mock
holds every market-data call at a gate until the K-th arrives:

- respx: the gate (`InFlightGate`) and the arrival hook are in this process; the hook runs as the K-th call
  arrives, and the gate then opens by itself.
- loopback: the calls wait in the server process. The gate is armed there with the run's reset. With a hook,
  the gate opens only when this process says so: a watcher thread (started before the caller's baseline, on
  a plain connection of its own, never the workflow's httpx clients) long-polls the server until all K wait,
  runs the hook, and opens the gate; the server says how many calls it still held when they were let go, so
  a hook run while fewer than K waited does not count. Without a hook (warm-up and traced runs) the server's
  gate opens by itself at the K-th arrival, as respx's does, and no thread runs beside the run.

Every wait is bounded: a held call goes on alone after PEAK_TIMEOUT_S without the other calls (and over
loopback after RELEASE_TIMEOUT_S more without being let go), so a peak never reached ends the run and shows
as `Peak.reached` False.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from scenarios.mock import InFlightGate, MockServer
from scenarios.mock.loopback import LoopbackMock
from scenarios.mock.loopback_gate import CONTROL_MARGIN_S, GateControl, GateSpec
from scenarios.runner import ScenarioSession

PEAK_TIMEOUT_S = 60.0  # how long a held call waits for the others (respx's gate has always given 60 s)
RELEASE_TIMEOUT_S = 30.0  # loopback: how long all K wait for this process to sample itself and let them go
POLL_S = 0.5  # loopback: the watcher's long poll (the server answers at once when all K wait)


@dataclass
class Peak:
    """Whether the hook ran while all `count` calls waited together (only meaningful with a hook)."""

    count: int
    reached: bool = False


@contextmanager
def held_at_peak(session: ScenarioSession, count: int, on_peak: Callable[[], None] | None = None) -> Iterator[Peak]:
    """Within: the session's runs hold their market-data calls until `count` are in flight; `on_peak` (once per
    block) runs while all of them wait. Enter it before taking a baseline: over loopback it starts a thread."""
    mock = session.mock
    if isinstance(mock, MockServer):
        with _in_process(mock, count, on_peak) as peak:
            yield peak
    else:
        with _in_server(mock, count, on_peak) as peak:
            yield peak


@contextmanager
def _in_process(mock: MockServer, count: int, on_peak: Callable[[], None] | None) -> Iterator[Peak]:
    peak = Peak(count)

    def on_arrival(pending: int) -> None:
        if on_peak is not None and pending >= count and not peak.reached:
            peak.reached = True
            on_peak()

    mock.market_gate = InFlightGate(count, PEAK_TIMEOUT_S)
    mock.on_arrival = on_arrival if on_peak is not None else None
    try:
        yield peak
    finally:
        mock.market_gate = None
        mock.on_arrival = None


@contextmanager
def _in_server(mock: LoopbackMock, count: int, on_peak: Callable[[], None] | None) -> Iterator[Peak]:
    spec = GateSpec(count, "arrival" if on_peak is None else "client", PEAK_TIMEOUT_S, RELEASE_TIMEOUT_S)
    mock.market_gate = spec  # armed on the server by each run's reset
    try:
        if on_peak is None:
            yield Peak(count)
            return
        with mock.gate_control(spec, POLL_S) as control:
            watcher = PeakWatcher(control, count, on_peak)
            with watcher:
                yield watcher.peak
    finally:
        mock.market_gate = None


class PeakWatcher:
    """A thread that waits for the server's gate to hold all `count` calls, runs the hook, and opens the gate.
    Use as a context manager around the run: it stops and re-raises the thread's error on exit."""

    def __init__(self, control: GateControl, count: int, on_peak: Callable[[], None]) -> None:
        self.control, self.on_peak = control, on_peak
        self.peak = Peak(count)
        self.error: Exception | None = None
        self._run_over = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="memory-peak-watcher", daemon=True)

    def __enter__(self) -> PeakWatcher:
        self.control.connect()  # its socket exists before the caller's baseline, like the thread
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._run_over.set()
        self._thread.join(POLL_S + CONTROL_MARGIN_S + RELEASE_TIMEOUT_S)
        if self._thread.is_alive():
            raise RuntimeError("the memory peak watcher did not stop")
        if self.error is not None and exc == (None, None, None):
            raise self.error

    def _watch(self) -> None:
        try:
            while not self._run_over.is_set():
                state = self.control.state()
                if state.reached:
                    self._sample_and_open(all_held=state.held >= self.peak.count)
                    return
        except Exception as exc:  # handed to the caller's thread in __exit__
            self.error = exc

    def _sample_and_open(self, all_held: bool) -> None:
        try:
            if all_held:
                self.on_peak()
        finally:
            released = self.control.open()  # whatever happened, the calls go on now
        self.peak.reached = all_held and released.held >= self.peak.count

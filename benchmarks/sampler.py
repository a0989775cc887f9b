"""Sample a worker process's measured runs with py-spy, and nothing else: not its start-up, warm-ups or checks.

Why py-spy: it samples from outside the process (no tracing hook in the interpreter, so no cost per call that
would inflate the layers making many small calls, as cProfile's and yappi's do), and it sees every thread (a
thread pool's workers too; pyinstrument samples only the thread that started it). It samples the thread holding
the GIL (--gil): the one running Python at that instant. Its default, every thread the OS calls running, counted
threads woken to wait for the GIL: in a zero-latency taskgroup run it took 2.1 s of samples over 1.5 s of wall
and 1.1 s of CPU, a fifth of them a pool thread between jobs. Its biases:
CPU spent in C with the GIL released (a socket's system calls, sqlite) and in handing the GIL between threads
is not sampled, and a share estimated from n samples has a sampling error of about sqrt(p(1-p)/n), more since
consecutive samples are not independent. py-spy pauses the process (every thread) for each sample, which slowed
CPU-bound runs here by 5-65% at 500 samples a second (the suite records by how much): the figures per run come
from unprofiled runs, only the shares from profiled ones.

The protocol, one JSON line each way at a time (worker stdout / stdin):
  worker: warm-ups and timed runs, each checked   -> {"ready": pid, "timed": [{"wall_s", "cpu_s"}, ...]}
  master: attaches py-spy to pid, once it samples -> "go"
  worker: profiled runs, kept, not yet checked    -> {"done": runs, "wall_s", "cpu_s"}  (then waits, idle)
  master: stops py-spy, which writes its samples  -> "stopped"
  worker: checks every profiled run               -> {"valid": runs} or {"failed": why}
A profile is kept only if every profiled run passed its check: a failed run's samples are never counted.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

T = TypeVar("T")
Stack = tuple[tuple[str, ...], int]  # frames root -> leaf, samples
PR_SET_PTRACER, PR_SET_PTRACER_ANY = 0x59616D61, 2**64 - 1  # Yama: let a sibling (py-spy) attach to this process
READY_TIMEOUT_S = 600.0  # start-up, imports, warm-ups and timed runs
ATTACH_TIMEOUT_S = 30.0


class SamplingError(RuntimeError):
    """The profile of a case could not be taken; the message says why (a failed check, py-spy, a worker)."""


# --- the worker's side ------------------------------------------------------------------------


@dataclass(frozen=True)
class Budget:
    warmups: int = 1
    timed_runs: int = 5  # unprofiled: the case's wall and CPU time per run
    profiled_s: float = 3.0  # profiled runs go on until this much wall time has passed ...
    profiled_runs: int = 3  # ... and at least this many ran
    rate: int = 500  # samples per second: ~1,500 per profiled second of CPU-bound work at 3 s


def serve(
    run: Callable[[], T],
    check: Callable[[T], str | None],
    budget: Budget,
    out: IO[str] = sys.stdout,
    commands: IO[str] = sys.stdin,
) -> int:
    """The worker: `run()` one run, `check(result)` why it failed or None. Returns the exit code."""
    _allow_tracing()

    def say(message: dict[str, Any]) -> None:
        out.write(json.dumps(message) + "\n")
        out.flush()

    for index in range(1, budget.warmups + 1):
        why = check(run())
        if why:
            say({"failed": f"warm-up {index}: {why}"})
            return 1
    timed: list[dict[str, float]] = []
    for index in range(1, budget.timed_runs + 1):
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        result = run()
        timed.append({"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu})
        why = check(result)
        if why:
            say({"failed": f"timed run {index}: {why}"})
            return 1
    say({"ready": os.getpid(), "timed": timed})
    if commands.readline().strip() != "go":
        return 1
    gc.collect()
    kept: list[T] = []
    wall, cpu = time.perf_counter(), time.process_time()
    while len(kept) < budget.profiled_runs or time.perf_counter() - wall < budget.profiled_s:
        kept.append(run())
    say({"done": len(kept), "wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu})
    if commands.readline().strip() != "stopped":
        return 1
    for index, result in enumerate(kept, 1):
        why = check(result)
        if why:
            say({"failed": f"profiled run {index} of {len(kept)}: {why}"})
            return 1
    say({"valid": len(kept)})
    return 0


def _allow_tracing() -> None:
    """Under Yama's ptrace scope 1 only an ancestor may attach; py-spy is our sibling, so say it may."""
    if sys.platform != "linux":
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PTRACER, ctypes.c_ulong(PR_SET_PTRACER_ANY), 0, 0, 0)


# --- the master's side ------------------------------------------------------------------------


@dataclass(frozen=True)
class Profiled:
    stacks: tuple[Stack, ...]
    samples: int
    timed: tuple[dict[str, float], ...]  # the unprofiled runs: wall_s and cpu_s each
    runs: int  # profiled runs, every one checked
    wall_s: float  # of the profiled runs together
    cpu_s: float


def py_spy() -> str | None:
    """py-spy beside this interpreter (installed with the project), else on PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def py_spy_command(pid: int, rate: int, out: Path) -> list[str]:
    executable = py_spy()
    if executable is None:
        raise SamplingError("py-spy not found beside the interpreter or on PATH (pip install py-spy)")
    # --function: a frame is a function, not a line in it (flame graphs merge by function); --gil: the thread running
    # Python (see above); --full-filenames: the layer map reads where a frame's file lives.
    options = ["--rate", str(rate), "--format", "raw", "--function", "--gil", "--full-filenames"]
    return [executable, "record", "--pid", str(pid), *options, "--output", str(out)]


def profile_worker(command: Sequence[str], rate: int, log: Path, env: dict[str, str] | None = None) -> Profiled:
    """Run a worker that `serve`s, sample its profiled runs, and return the samples (SamplingError if not kept)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as errors, tempfile.TemporaryDirectory(prefix="py-spy-") as scratch:
        worker = subprocess.Popen(
            list(command), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors, text=True, env=env
        )
        assert worker.stdin is not None and worker.stdout is not None
        lines = _lines(worker.stdout)
        try:
            ready = _expect(lines, "ready", READY_TIMEOUT_S, worker, log)
            out = Path(scratch) / "samples.txt"
            with _sampling(int(ready["ready"]), rate, out, log) as sampler:
                _say(worker.stdin, "go")
                done = _expect(lines, "done", READY_TIMEOUT_S, worker, log)
                sampler.stop()
            _say(worker.stdin, "stopped")
            valid = _expect(lines, "valid", READY_TIMEOUT_S, worker, log)
            stacks = parse_raw(out.read_text(encoding="utf-8") if out.exists() else "", str(out))
        finally:
            with contextlib.suppress(OSError):
                worker.stdin.close()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
    samples = sum(count for _, count in stacks)
    if samples == 0:
        raise SamplingError(f"py-spy took no sample of {valid['valid']} run(s) (rate {rate}/s)")
    return Profiled(stacks, samples, tuple(ready["timed"]), int(valid["valid"]), done["wall_s"], done["cpu_s"])


class _Sampler:
    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process

    def stop(self) -> None:
        """Ctrl-C, as a person would: py-spy then writes what it sampled and exits."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise SamplingError("py-spy did not stop within 60 s of Ctrl-C") from None


ATTACH_ATTEMPTS = 3  # py-spy now and then fails to read the interpreter's version on attaching; again works


@contextlib.contextmanager
def _sampling(pid: int, rate: int, out: Path, log: Path) -> Iterator[_Sampler]:
    """py-spy sampling `pid` until stopped; SamplingError if it cannot start after a few attempts."""
    why = ""
    for _attempt in range(ATTACH_ATTEMPTS):
        with log.open("a", encoding="utf-8") as errors:
            process = subprocess.Popen(py_spy_command(pid, rate, out), stdout=subprocess.PIPE, stderr=errors, text=True)
        try:
            assert process.stdout is not None
            if _started(_lines(process.stdout), process):
                yield _Sampler(process)
                return
            why = f"exit {process.returncode}"
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    raise SamplingError(f"py-spy could not sample pid {pid} in {ATTACH_ATTEMPTS} attempts ({why}); see {log}")


def _started(said: queue.Queue[str | None], process: subprocess.Popen[str]) -> bool:
    """Whether py-spy says (on stdout) "Sampling process N times a second", i.e. it has attached."""
    deadline = time.monotonic() + ATTACH_TIMEOUT_S
    while True:
        try:
            line = said.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise SamplingError(f"py-spy said nothing within {ATTACH_TIMEOUT_S:.0f} s of attaching") from None
        if line is None:
            process.wait()
            return False
        if "Sampling process" in line:
            return True


def _lines(stream: IO[str]) -> queue.Queue[str | None]:
    """A stream's lines as they come (None at its end), read on a daemon thread so waits can time out."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _expect(
    lines: queue.Queue[str | None], key: str, timeout: float, worker: subprocess.Popen[str], log: Path
) -> dict[str, Any]:
    """The worker's next message carrying `key`; SamplingError if it failed, ended or went quiet."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            worker.kill()
            raise SamplingError(f"the worker sent no '{key}' within {timeout:.0f} s; see {log}") from None
        if line is None:
            raise SamplingError(f"the worker ended (exit {worker.wait()}) before '{key}'; see {log}")
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            continue  # a library's stray print: the protocol's lines are JSON objects
        if isinstance(message, dict) and "failed" in message:
            raise SamplingError(f"a run failed its check, so its profile is not kept: {message['failed']}")
        if isinstance(message, dict) and key in message:
            return message


def _say(stream: IO[str], command: str) -> None:
    stream.write(command + "\n")
    stream.flush()


def parse_raw(text: str, source: str) -> tuple[Stack, ...]:
    """py-spy's raw (collapsed) output: "frame;frame;... count" per line. A line that is not that is an error
    naming the file and line, never skipped: a dropped sample would shift every share."""
    stacks: list[Stack] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        frames, _, count = line.rpartition(" ")
        if not count.isdigit():
            raise SamplingError(f"{source}:{number}: not 'frames count': {line[:120]!r}")
        stacks.append((tuple(frames.split(";")) if frames else (), int(count)))  # no frame: a thread in C only
    return tuple(stacks)

"""Asyncio microbenchmarks under pyperf: the measurement behind "Python 3.12+ makes asyncio ~75% faster".

    python -m benchmarks.micro --bench-profile quick --run-dir reports/<run-id>

Why: the planning doc's figure is the 3.12 What's New release highlight "The asyncio package has had a
number of performance improvements, with some benchmarks showing a 75% speed up"
(https://docs.python.org/3.12/whatsnew/3.12.html#summary-release-highlights). It names no benchmark;
the traceable one is gh-91166 (zero-copy socket writes with sendmsg()), whose What's New entry was first
written as "80%" from pyperformance's `asyncio_tcp`, 10 MiB writes over loopback, 3.12 alpha against 3.10
(python/cpython#103370). The workflow never writes like that, so this module measures that shape on
each interpreter beside two closer to the workflow: small streamed writes, and creating and awaiting
many tasks. Nothing here touches agno or any network but 127.0.0.1.

A value is the wall time of one iteration (pyperf's inner loops divide it out). Set-up (server,
connection, event loop) is outside it; a value only counts if every byte arrived or every task
returned its own result. The master writes `raw/<python>.micro.json` (a pyperf suite) after every
benchmark, atomically, and prints median and spread at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import pyperf
from rich.console import Console
from rich.table import Table

from benchmarks.cli import preparse_profile
from benchmarks.environment import python_tag
from benchmarks.pyperf_runner import suite_progress, suite_runner
from benchmarks.run_dir import raw_dir, write_pyperf_suite
from benchmarks.steal import StealMeter
from benchmarks.suites import MICRO
from benchmarks.terminal import table_console

LOOPBACK = "127.0.0.1"
READ_SIZE = 1 << 20
MIB = 1 << 20
KIB = 1 << 10
WORKER_STARTUP_S = 0.5  # pyperf, rich and a git call; no agno
CHECK_FAILED_EXIT_CODE = 3


class Measured(NamedTuple):
    seconds: float
    work: int  # bytes received or tasks that returned their own result, over all iterations


@dataclass(frozen=True)
class MicroProfile:
    processes: int
    values: int
    warmups: int
    only: tuple[str, ...] = ()  # benchmarks measured; () = all


PROFILES: dict[str, MicroProfile] = {
    # Quick measures only what C3a decides on, in more processes: loopback throughput differs from one process to
    # the next, and the interval resamples processes.
    "quick": MicroProfile(processes=4, values=5, warmups=1, only=("asyncio_stream_write",)),
    "default": MicroProfile(processes=6, values=5, warmups=1),
    "full": MicroProfile(processes=20, values=20, warmups=2),
}


@dataclass(frozen=True)
class MicroBench:
    name: str
    description: str
    unit: str  # what one iteration is, for the table
    iterations: int  # per value, as pyperf's inner loops
    work_per_iteration: int
    measure: Callable[[int], Coroutine[Any, Any, Measured]]  # runs that many iterations
    params: dict[str, int]
    estimate_s: float  # one iteration, for the progress bar


async def stream_write(total_bytes: int, chunk_bytes: int, iterations: int) -> Measured:
    """Over one loopback connection, `iterations` times: write `total_bytes` as `chunk_bytes` writes, each
    followed by drain(), while the peer reads; an iteration ends when the peer has every byte."""
    loop = asyncio.get_running_loop()
    accepted: asyncio.Future[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = loop.create_future()

    def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set_result((reader, writer))

    server = await asyncio.start_server(on_connect, LOOPBACK, 0)
    port: int = server.sockets[0].getsockname()[1]
    _, writer = await asyncio.open_connection(LOOPBACK, port)
    reader, peer = await accepted
    payload = b"x" * chunk_bytes
    seconds = 0.0
    received = 0
    try:
        for _ in range(iterations):
            started = time.perf_counter()
            reading = asyncio.create_task(_read_count(reader, total_bytes))
            await _write_all(writer, payload, total_bytes)
            received += await reading
            seconds += time.perf_counter() - started
    finally:
        for stream in (writer, peer):
            stream.close()
            with contextlib.suppress(ConnectionError):
                await stream.wait_closed()
        server.close()
        await server.wait_closed()
    return Measured(seconds, received)


async def _write_all(writer: asyncio.StreamWriter, payload: bytes, total_bytes: int) -> None:
    full, rest = divmod(total_bytes, len(payload))
    for _ in range(full):
        writer.write(payload)
        await writer.drain()
    if rest:
        writer.write(memoryview(payload)[:rest])
        await writer.drain()


async def _read_count(reader: asyncio.StreamReader, expected: int) -> int:
    """Bytes read until `expected` arrived or the peer closed."""
    count = 0
    while count < expected:
        data = await reader.read(READ_SIZE)
        if not data:
            break
        count += len(data)
    return count


async def task_create_await(tasks: int, iterations: int) -> Measured:
    """`iterations` times: start `tasks` tasks in a TaskGroup, each yielding once, and await them all."""
    seconds = 0.0
    completed = 0
    for _ in range(iterations):
        started = time.perf_counter()
        async with asyncio.TaskGroup() as group:
            spawned = [group.create_task(_yield_once(index)) for index in range(tasks)]
        seconds += time.perf_counter() - started
        completed += sum(1 for index, task in enumerate(spawned) if task.result() == index)
    return Measured(seconds, completed)


async def _yield_once(value: int) -> int:
    await asyncio.sleep(0)  # one trip through the scheduler, as any awaited I/O makes
    return value


BENCHMARKS: tuple[MicroBench, ...] = (
    MicroBench(
        name="asyncio_stream_write",
        description="loopback TCP, 20 MiB as two 10 MiB StreamWriter.write()+drain() calls, peer reads it all: "
        "pyperformance asyncio_tcp's write size, the case gh-91166 (zero-copy writes, 3.12) sped up",
        unit="20 MiB in 10 MiB writes",
        iterations=1,
        work_per_iteration=20 * MIB,
        measure=partial(stream_write, 20 * MIB, 10 * MIB),
        params={"bench_total_bytes": 20 * MIB, "bench_chunk_bytes": 10 * MIB},
        estimate_s=0.04,
    ),
    MicroBench(
        name="asyncio_stream_write_small",
        description="loopback TCP, 1 MiB as 256 4 KiB write()+drain() calls, peer reads it all: "
        "streamed chunks, closer to what an LLM client or server writes",
        unit="1 MiB in 4 KiB writes",
        iterations=8,
        work_per_iteration=MIB,
        measure=partial(stream_write, MIB, 4 * KIB),
        params={"bench_total_bytes": MIB, "bench_chunk_bytes": 4 * KIB},
        estimate_s=0.003,
    ),
    MicroBench(
        name="asyncio_task_create_await",
        description="1000 tasks of a coroutine that yields once, created and awaited in an asyncio.TaskGroup",
        unit="1000 tasks",
        iterations=5,
        work_per_iteration=1000,
        measure=partial(task_create_await, 1000),
        params={"bench_tasks": 1000},
        estimate_s=0.005,
    ),
)


def profile_benchmarks(profile: MicroProfile) -> tuple[MicroBench, ...]:
    return tuple(bench for bench in BENCHMARKS if not profile.only or bench.name in profile.only)


def main() -> int:
    profile_name = preparse_profile(sys.argv[1:], PROFILES)
    profile = PROFILES[profile_name]
    slot = _preparse_slot(sys.argv[1:])
    # Each benchmark sets its own inner loops so a value is milliseconds and the work is the same everywhere.
    # With --slot (benchmarks.bench), one process per call, appended: interpreters alternate process by process.
    processes = profile.processes if slot is None else 1
    sizes = (processes, profile.values, profile.warmups)
    runner = suite_runner("benchmarks.micro", profile_name, PROFILES, sizes, _forward_our_arguments)
    runner.argparser.add_argument("--slot", type=int, help="process slot: 0 starts the suite, later ones append")
    args = runner.parse_args()

    if args.worker:
        for bench in profile_benchmarks(profile):  # pyperf picks the one matching --worker-task
            _bench(runner, bench, _steal_path(args), args.warmups)
        return 0
    return _master(runner, args)


def _bench(
    runner: pyperf.Runner, bench: MicroBench, steal_path: Path | None = None, warmups: int = 0
) -> pyperf.Benchmark | None:
    metadata: dict[str, str | int] = {"bench_micro": "1", "bench_description": bench.description, **bench.params}
    time_function = _time_function(bench, steal_path, warmups)
    return runner.bench_time_func(bench.name, time_function, inner_loops=bench.iterations, metadata=metadata)


def _steal_path(args: argparse.Namespace) -> Path:
    return MICRO.samples_path(args.run_dir, python_tag())


def _time_function(bench: MicroBench, steal_path: Path | None = None, warmups: int = 0) -> Callable[[int], float]:
    """pyperf calls this with `loops`; it runs loops x inner loops iterations and returns their seconds.
    Each measured value's CPU steal goes to `steal_path`, as the speed suite's samples do."""
    calls = 0

    def time_iterations(loops: int) -> float:
        nonlocal calls
        calls += 1
        iterations = loops * bench.iterations
        with StealMeter() as steal:
            measured = asyncio.run(bench.measure(iterations))
        if steal_path is not None and calls > warmups:
            line = {
                "benchmark": bench.name,
                "pid": os.getpid(),
                "steal_fraction": steal.fraction,
                "run_queue_share": steal.run_queue,
            }
            with steal_path.open("a", encoding="utf-8") as stream:  # workers run one at a time
                stream.write(json.dumps(line) + "\n")
        expected = iterations * bench.work_per_iteration
        if measured.work != expected:
            print(f"benchmark {bench.name}: expected {expected}, got {measured.work}", file=sys.stderr, flush=True)
            sys.exit(CHECK_FAILED_EXIT_CODE)
        return measured.seconds

    return time_iterations


def _master(runner: pyperf.Runner, args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    suite_path = MICRO.path(args.run_dir, python_tag())
    raw_dir(args.run_dir).mkdir(parents=True, exist_ok=True)
    appending = bool(args.slot)
    if not appending:  # this invocation owns this interpreter's files: a re-used run id starts them afresh
        _steal_path(args).unlink(missing_ok=True)
        suite_path.unlink(missing_ok=True)
    earlier = {b.get_name(): b for b in pyperf.BenchmarkSuite.load(str(suite_path))} if appending else {}
    benchmarks: list[pyperf.Benchmark] = []
    with suite_progress(console) as progress:
        chosen = profile_benchmarks(PROFILES[args.bench_profile])
        estimates = [_estimate_s(bench, args) for bench in chosen]
        task = progress.add_task("starting", total=sum(estimates))
        for index, (bench, estimate) in enumerate(zip(chosen, estimates, strict=True), start=1):
            progress.update(task, description=f"[{index}/{len(chosen)}] {bench.name}")
            try:
                result = _bench(runner, bench)
            except RuntimeError as exc:
                progress.stop()
                console.print(f"[red]stopped at {bench.name}: a worker failed ({exc}); its message is above.[/]")
                return CHECK_FAILED_EXIT_CODE
            assert result is not None
            if bench.name in earlier:
                earlier[bench.name].add_runs(result)
                result = earlier[bench.name]
            benchmarks.append(result)
            progress.advance(task, estimate)
    write_pyperf_suite(suite_path, benchmarks)  # once the process slot is whole: slots stay aligned across files
    console.print(f"wrote {suite_path} ({len(benchmarks)} benchmarks, {benchmarks[0].get_nrun()} processes)")
    out = table_console()
    out.print(summary_table(benchmarks, args.bench_profile))
    return 0


def summary_table(benchmarks: list[pyperf.Benchmark], profile: str) -> Table:
    table = Table(title=f"asyncio microbenchmarks, Python {python_tag()} (profile {profile}): time per iteration")
    for column in ("benchmark", "one iteration", "values", "median", "IQR", "spread"):
        table.add_column(column, justify="left" if column in ("benchmark", "one iteration") else "right", no_wrap=True)
    units = {bench.name: bench.unit for bench in BENCHMARKS}
    for bench in benchmarks:
        values = bench.get_values()
        median = statistics.median(values)
        q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else (median,) * 3
        table.add_row(
            bench.get_name(),
            units.get(bench.get_name(), ""),
            str(len(values)),
            _ms(median),
            f"{q1 * 1e3:.3g}-{_ms(q3)}",
            f"{(q3 - q1) / median:.0%}" if median > 0 else "-",
        )
    return table


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms"


def _estimate_s(bench: MicroBench, args: argparse.Namespace) -> float:
    """Seconds a benchmark should take, for the progress bar."""
    per_value = bench.estimate_s * bench.iterations * max(args.loops, 1)
    return args.processes * (WORKER_STARTUP_S + (args.warmups + args.values) * per_value)


def _forward_our_arguments(cmd: list[str], args: argparse.Namespace) -> None:
    cmd.extend(["--bench-profile", args.bench_profile, "--run-dir", str(args.run_dir)])
    if args.slot is not None:
        cmd.extend(["--slot", str(args.slot)])


def _preparse_slot(argv: list[str]) -> int | None:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--slot", type=int)
    known, _ = parser.parse_known_args(argv)
    return known.slot


if __name__ == "__main__":
    sys.exit(main())

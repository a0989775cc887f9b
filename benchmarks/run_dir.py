"""The run folder: reports/<run-id>/raw/..., the `latest` link, and writes that never leave half a file."""

from __future__ import annotations

import io
import json
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.environment import commit_date, git_commit, machine_name

if TYPE_CHECKING:
    import pyperf

REPORTS_ROOT = Path("reports")
MANIFEST = "run.json"
PLAN_FILE = "speed-plan.json"  # raw/: the speed cases and interpreters a run set out to measure


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime())


def raw_dir(run_dir: Path) -> Path:
    return run_dir / "raw"


def atomic_write_text(path: Path, text: str) -> None:
    """Write beside the target, then rename: a reader sees the old file or the new one, never half."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        Path(temporary).chmod(0o644)  # mkstemp makes it private; results are meant to be read
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def write_manifest(
    run_dir: Path,
    *,
    profile: str,
    requested: list[str],
    missing: list[str],
    options: list[str],
    interpreters: dict[str, dict[str, str]] | None = None,
    transport: str = "respx",
    openai: str = "2",
    openai_compared: str | None = None,
) -> None:
    """What the run was asked to do, including the interpreters it could not find (and, probed, why), and where it
    belongs in a history: the machine, the commit and its date (benchmarks/history.py files runs by these)."""
    atomic_write_json(
        run_dir / MANIFEST,
        {
            "run_id": run_dir.name,
            "machine": machine_name(),
            "commit": git_commit(),
            "commit_date": commit_date(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "profile": profile,
            "interpreters_requested": requested,
            "interpreters_missing": missing,
            "interpreters": interpreters or {},
            "options": options,
            "transport": transport,
            "openai_line": openai,
            "openai_compared_line": openai_compared,  # measured beside it on the newest interpreter, or None
        },
    )


def point_latest(run_dir: Path) -> None:
    """reports/latest -> <run-id>, replaced atomically."""
    link = run_dir.parent / "latest"
    temporary = run_dir.parent / f".latest.{os.getpid()}"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(run_dir.name)
    temporary.replace(link)


def write_pyperf_suite(path: Path, benchmarks: list[pyperf.Benchmark]) -> None:
    """A pyperf suite file, written atomically like every result file."""
    import pyperf  # here, not at the top: the noxfile imports this module where pyperf is not installed

    buffer = io.StringIO()
    pyperf.BenchmarkSuite(benchmarks).dump(buffer)
    atomic_write_text(path, buffer.getvalue())

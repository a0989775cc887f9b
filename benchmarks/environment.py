"""What produced a result: interpreter, platform, CPUs, package versions, git commit."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

from scenarios.transport import selected_transport

PACKAGES = ("agno", "openai", "httpx", "respx", "pyperf", "memray", "psutil")


def python_tag() -> str:
    """ "3.12" for CPython 3.12.x: the key of a per-interpreter result file."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


COMMIT_OVERRIDE = "BENCH_GIT_COMMIT"  # set by the gate for its baseline workers: the code measured is that commit's


def _git(*args: str, root: Path | None = None) -> str:
    """git's output in the checkout (stripped); OSError or SubprocessError if git cannot answer."""
    cwd = root or Path(__file__).resolve().parent.parent
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=10
    ).stdout.strip()


def git_commit(root: Path | None = None) -> str:
    """The checkout's commit, with "+dirty" when it has uncommitted changes; "unknown" outside git."""
    if os.environ.get(COMMIT_OVERRIDE):
        return os.environ[COMMIT_OVERRIDE]
    try:
        commit = _git("rev-parse", "HEAD", root=root)
        dirty = _git("status", "--porcelain", "--untracked-files=no", root=root)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit}+dirty" if dirty else commit


def commit_date(root: Path | None = None) -> str:
    """The committer date of the checkout's HEAD (ISO 8601): where a run sits in a history; "" outside git."""
    try:
        return _git("show", "-s", "--format=%cI", "HEAD", root=root)
    except (OSError, subprocess.SubprocessError):
        return ""


MACHINE_ENV = "BENCH_MACHINE"  # names the machine a run's results are filed under (a history never mixes two)


def machine_name(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """$BENCH_MACHINE, else what the hardware is: CPU model, CPU count and memory, e.g.
    "intel-xeon-platinum-8370c-2cpu-24gib". Not the host name: CI runners of one class share hardware, not names."""
    if os.environ.get(MACHINE_ENV):
        return os.environ[MACHINE_ENV]
    model = platform.machine() or "unknown-cpu"
    try:
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2]
                break
    except OSError:
        pass
    try:
        memory = f"-{round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)}gib"
    except (ValueError, OSError, AttributeError):
        memory = ""
    words = "".join(c if c.isalnum() else " " for c in model.replace("(R)", "").replace("(TM)", "").lower()).split()
    return f"{'-'.join(w for w in words if w not in ('cpu', 'processor')) or 'unknown-cpu'}-{os.cpu_count()}cpu{memory}"


def python_build(config_args: str | None = None) -> str:
    """How the interpreter was compiled, as far as speed goes: PGO and LTO change it by 10-30%."""
    args = sysconfig.get_config_var("CONFIG_ARGS") if config_args is None else config_args
    if not isinstance(args, str):
        return "unknown"
    pgo = "PGO" if "--enable-optimizations" in args else "no PGO"
    lto = "LTO" if "--with-lto" in args else "no LTO"
    shared = ", shared libpython" if "--enable-shared" in args else ""
    return f"{pgo}, {lto}{shared}"


def environment() -> dict[str, str | int]:
    """Flat str/int values, so they fit pyperf's metadata as they are."""
    info: dict[str, str | int] = {
        "python_tag": python_tag(),
        "python_version": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "python_build": python_build(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count() or 0,
        "git_commit": git_commit(),
        "transport": selected_transport(),
    }
    info.update({f"version_{name}": version for name, version in package_versions().items()})
    return info

"""Finding the Python interpreters a matrix asks for by running them, and saying by name which are missing.

`shutil.which("python3.12")` is not enough: under pyenv a shim answers for every version, selected
or not, and fails only when run. So each candidate is run (`pythonX.Y -c ...`) and counts as found
only when it starts and reports the version it was asked for.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field

SUPPORTED_PYTHONS = ("3.11", "3.12", "3.13")
PYENV_HINT = "pyenv global 3.11.7 3.12.1 3.13.0"
PROBE = "import sys; print('.'.join(map(str, sys.version_info[:3])))"
PROBE_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class InterpreterSurvey:
    found: dict[str, str]  # version -> path
    missing: tuple[str, ...]
    versions: dict[str, str] = field(default_factory=dict)  # version -> the full version it reported (3.12.1)
    reasons: dict[str, str] = field(default_factory=dict)  # missing version -> why

    def missing_message(self) -> str:
        names = "; ".join(f"python{v} ({self.reasons.get(v, 'not on PATH')})" for v in self.missing)
        return f"interpreter(s) not found: {names} (expose them, e.g. `{PYENV_HINT}`)"

    def to_json(self) -> dict[str, dict[str, str]]:
        """For run.json: per requested version, the path and version found, or why it is missing."""
        found = {v: {"path": path, "version": self.versions.get(v, "")} for v, path in self.found.items()}
        return found | {v: {"missing": self.reasons.get(v, "not on PATH")} for v in self.missing}


def version_key(python: str) -> tuple[int, ...]:
    """ "3.12" -> (3, 12): interpreters in order, 3.9 before 3.10."""
    return tuple(int(part) for part in python.split("."))


def newest(pythons: Iterable[str]) -> str:
    return max(pythons, key=version_key)


def probe(executable: str, version: str) -> tuple[str | None, str]:
    """Run the interpreter: (the full version it reports, "") or (None, why it does not count)."""
    try:
        done = subprocess.run(
            [executable, "-c", PROBE], capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"{executable} could not be run: {exc}"
    if done.returncode != 0:
        said = (done.stderr.strip().splitlines() or ["no output"])[0]
        return None, f"{executable} exited {done.returncode}: {said}"
    reported = done.stdout.strip()
    if reported.rsplit(".", 1)[0] != version:
        return None, f"{executable} is Python {reported or '(nothing)'}, not {version}"
    return reported, ""


def survey(versions: tuple[str, ...] = SUPPORTED_PYTHONS, path: str | None = None) -> InterpreterSurvey:
    found: dict[str, str] = {}
    reported: dict[str, str] = {}
    reasons: dict[str, str] = {}
    for version in versions:
        location = shutil.which(f"python{version}", path=path)
        if location is None:
            reasons[version] = "not on PATH"
            continue
        full, why = probe(location, version)
        if full is None:
            reasons[version] = why
        else:
            found[version], reported[version] = location, full
    missing = tuple(v for v in versions if v not in found)
    return InterpreterSurvey(found, missing, reported, reasons)

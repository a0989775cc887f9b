"""Finding the Python interpreters a matrix asks for, and saying by name which are missing."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass

SUPPORTED_PYTHONS = ("3.11", "3.12", "3.13")
PYENV_HINT = "pyenv global 3.11.7 3.12.1 3.13.0"


@dataclass(frozen=True)
class InterpreterSurvey:
    found: dict[str, str]  # version -> path
    missing: tuple[str, ...]

    def missing_message(self) -> str:
        names = ", ".join(f"python{v}" for v in self.missing)
        return f"interpreter(s) not found on PATH: {names} (expose them, e.g. `{PYENV_HINT}`)"


def version_key(python: str) -> tuple[int, ...]:
    """ "3.12" -> (3, 12): interpreters in order, 3.9 before 3.10."""
    return tuple(int(part) for part in python.split("."))


def newest(pythons: Iterable[str]) -> str:
    return max(pythons, key=version_key)


def survey(versions: tuple[str, ...] = SUPPORTED_PYTHONS, path: str | None = None) -> InterpreterSurvey:
    found: dict[str, str] = {}
    missing: list[str] = []
    for version in versions:
        location = shutil.which(f"python{version}", path=path)
        if location is None:
            missing.append(version)
        else:
            found[version] = location
    return InterpreterSurvey(found, tuple(missing))

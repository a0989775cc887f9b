"""Sessions: tests (3.11-3.13), lint, bench.

A missing interpreter is named at start-up. It is an error when `--strict-interpreters`
is given after `--`, when nox's own `--error-on-missing-interpreters` is given, or when
the CI environment variable is set (nox's default there).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

sys.path.insert(0, str(Path(__file__).parent))
from benchmarks.interpreters import SUPPORTED_PYTHONS, survey

nox.options.sessions = ["tests", "lint"]
nox.options.reuse_existing_virtualenvs = True
nox.options.default_venv_backend = "venv"

_SURVEY = survey()
if _SURVEY.missing:
    print(f"nox: {_SURVEY.missing_message()}", file=sys.stderr)


def _strict(session: nox.Session) -> bool:
    return "--strict-interpreters" in session.posargs or "CI" in os.environ


def _check_interpreters(session: nox.Session) -> None:
    if _SURVEY.missing and _strict(session):
        session.error(_SURVEY.missing_message())


def _posargs(session: nox.Session) -> list[str]:
    return [arg for arg in session.posargs if arg != "--strict-interpreters"]


@nox.session(python=list(SUPPORTED_PYTHONS))
def tests(session: nox.Session) -> None:
    """The unit and behaviour tests, on each interpreter."""
    _check_interpreters(session)
    session.install("-e", ".[test]")
    session.run("pytest", *_posargs(session), env={"AGNO_TELEMETRY": "false"})


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff (lint and format check) and pyright."""
    session.install("-e", ".[lint]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("pyright")


@nox.session(python=list(SUPPORTED_PYTHONS))
def bench(session: nox.Session) -> None:
    """For now: every shipped scenario once per variant, validated, as a table."""
    _check_interpreters(session)
    session.install("-e", ".")
    session.run("python", "-m", "benchmarks.smoke", *_posargs(session), env={"AGNO_TELEMETRY": "false"})

"""A missing interpreter is found and named, never silently skipped: each candidate is run, not only looked up."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from benchmarks.interpreters import survey

THIS = ".".join(map(str, sys.version_info[:2]))


def _script(directory: Path, name: str, body: str) -> None:
    path = directory / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _real(directory: Path, version: str) -> None:
    """An interpreter that runs: this one, answering to the name python<version> (so version must be THIS)."""
    (directory / f"python{version}").symlink_to(sys.executable)


def test_survey_runs_each_interpreter_and_records_the_version_found(tmp_path: Path) -> None:
    _real(tmp_path, THIS)
    result = survey((THIS,), path=str(tmp_path))
    assert result.found == {THIS: str(tmp_path / f"python{THIS}")}
    assert result.versions[THIS].startswith(THIS + ".")
    assert result.to_json()[THIS]["version"] == result.versions[THIS]


def test_a_pyenv_shim_for_a_version_not_selected_is_missing_with_its_own_words(tmp_path: Path) -> None:
    # What pyenv's shim does when python3.99 is installed but not selected: exists on PATH, fails when run.
    _script(tmp_path, "python3.99", "echo 'pyenv: python3.99: command not found' >&2; exit 127")
    _script(tmp_path, "python3.98", "echo 3.97.0")  # answers, but is another version
    result = survey(("3.99", "3.98", "3.97"), path=str(tmp_path))
    assert result.found == {} and result.missing == ("3.99", "3.98", "3.97")
    assert "exited 127: pyenv: python3.99: command not found" in result.reasons["3.99"]
    assert "is Python 3.97.0, not 3.98" in result.reasons["3.98"]
    assert result.reasons["3.97"] == "not on PATH"
    message = result.missing_message()
    assert "python3.99 (" in message and "pyenv global" in message
    assert result.to_json()["3.99"] == {"missing": result.reasons["3.99"]}


def test_survey_finds_all_on_a_complete_path(tmp_path: Path) -> None:
    _real(tmp_path, THIS)
    assert survey((THIS,), path=str(tmp_path) + os.pathsep).missing == ()

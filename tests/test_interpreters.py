"""A missing interpreter is found and named, never silently skipped."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from benchmarks.interpreters import survey


def _fake_python(directory: Path, version: str) -> None:
    path = directory / f"python{version}"
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_survey_names_the_missing_interpreters(tmp_path: Path) -> None:
    _fake_python(tmp_path, "3.11")
    _fake_python(tmp_path, "3.13")
    result = survey(("3.11", "3.12", "3.13"), path=str(tmp_path))
    assert set(result.found) == {"3.11", "3.13"}
    assert result.missing == ("3.12",)
    assert "python3.12" in result.missing_message() and "pyenv global" in result.missing_message()


def test_survey_finds_all_on_a_complete_path(tmp_path: Path) -> None:
    for version in ("3.11", "3.12", "3.13"):
        _fake_python(tmp_path, version)
    assert survey(path=str(tmp_path) + os.pathsep).missing == ()

"""Sessions: tests (3.11-3.13), lint, bench, memory, profile, report, gate, publish, compare (and bench's environments).

A missing interpreter is named at start-up. It is an error when `--strict-interpreters`
is given after `--`, when nox's own `--error-on-missing-interpreters` is given, or when
the CI environment variable is set (nox's default there).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nox

sys.path.insert(0, str(Path(__file__).parent))
from benchmarks.cli import BenchOptions, BenchOptionsError, openai_constraints, parse_bench_options, parse_gate_options
from benchmarks.interpreters import SUPPORTED_PYTHONS, survey
from benchmarks.interpreters import newest as newest_python
from benchmarks.run_dir import REPORTS_ROOT, new_run_id, point_latest, write_manifest

nox.options.sessions = ["tests", "lint"]
nox.options.reuse_existing_virtualenvs = True
nox.options.default_venv_backend = "venv"

_SURVEY = survey()
# One id per nox invocation, so the sessions for 3.11, 3.12 and 3.13 fill the same run folder.
RUN_ID = os.environ.get("BENCH_RUN_ID") or new_run_id()
if _SURVEY.missing:
    print(f"nox: {_SURVEY.missing_message()}", file=sys.stderr)
# Only interpreters that ran when probed: a pyenv shim for a version not selected is missing, named at start-up
# and in the run, rather than a session that fails creating its environment.
FOUND_PYTHONS = [version for version in SUPPORTED_PYTHONS if version in _SURVEY.found] or list(SUPPORTED_PYTHONS)


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
    session.install("-e", ".[test]", "-c", openai_constraints())
    session.run("pytest", *_posargs(session), env={"AGNO_TELEMETRY": "false"})


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff (lint and format check), pyright, and the GitHub workflow against GitHub's schema."""
    session.install("-e", ".[lint]", "-c", openai_constraints())
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("pyright")
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", ".github/workflows/bench.yml")


def _prepare_run(session: nox.Session) -> tuple[BenchOptions, Path]:
    """Parse the options after --, check interpreters, install, and record the run's manifest."""
    try:
        options = parse_bench_options(list(session.posargs))
    except BenchOptionsError as exc:
        session.error(str(exc))
    _check_interpreters(session)
    session.install("-e", ".", "-c", openai_constraints(options.openai))
    run_dir = REPORTS_ROOT / RUN_ID
    write_manifest(
        run_dir,
        profile=options.profile,
        requested=list(SUPPORTED_PYTHONS),
        missing=list(_SURVEY.missing),
        options=list(session.posargs),
        interpreters=_SURVEY.to_json(),
        transport=options.transport,
        openai=options.openai,
    )
    return options, run_dir


def _run_suite(session: nox.Session, suite: str, options: BenchOptions, run_dir: Path, *extra: str) -> None:
    command = ["python", "-m", f"benchmarks.{suite}", "--bench-profile", options.profile, "--run-dir", str(run_dir)]
    session.run(*command, "--transport", options.transport, *extra)


ENV_MARK = "bench-run-id"  # which nox invocation last prepared a bench environment


@nox.session(python=FOUND_PYTHONS, default=False)
def bench_env(session: nox.Session) -> None:
    """The project installed for one interpreter; `bench` runs its workers (not meant to be run alone)."""
    line = "2"
    try:  # bad options fail here, before anything is installed (bench_env serves bench and gate alike)
        line = parse_bench_options(list(session.posargs)).openai
    except BenchOptionsError as exc:
        try:
            parse_gate_options(list(session.posargs))
        except BenchOptionsError:
            session.error(str(exc))
    _check_interpreters(session)
    _install_line(session, line)  # the SDK line asked for (the gate always gets 2.x)
    Path(session.virtualenv.location, ENV_MARK).write_text(RUN_ID)


LINE_MARK = "openai-line"  # which openai SDK line the project was last installed with in an environment


def _install_line(session: nox.Session, line: str) -> None:
    """The project with the openai line asked for. Under `-R` nox skips `session.install` in a reused environment,
    which would keep another line (or nothing, for an environment a skipped session created): when the mark does
    not name this line, pip runs whatever the flags say, and moves the environment to it."""
    mark = Path(session.virtualenv.location, LINE_MARK)
    if mark.exists() and mark.read_text() == line:
        session.install("-e", ".", "-c", openai_constraints(line))  # skipped under -R: already installed
        return
    session.run("python", "-m", "pip", "install", "--quiet", "-e", ".", "-c", openai_constraints(line), silent=True)
    mark.write_text(line)


def _compared_python(options: BenchOptions) -> str | None:
    """The interpreter the second openai line is measured on: the newest of those asked for and found."""
    found = [version for version in options.pythons or SUPPORTED_PYTHONS if version in _SURVEY.found]
    return newest_python(found) if found and options.openai_compared else None


@nox.session(python=FOUND_PYTHONS, default=False)
def sdk_env(session: nox.Session) -> None:
    """The project with the second openai line of `--openai 2 --openai 3`, on the newest interpreter (not run alone)."""
    try:
        options = parse_bench_options(list(session.posargs))
    except BenchOptionsError:
        session.skip("not a bench invocation")  # the gate's options; bench_env reports bad ones
    if options.openai_compared is None or session.python != _compared_python(options):
        session.skip("no second openai line asked for on this interpreter")
    _install_line(session, options.openai_compared)
    Path(session.virtualenv.location, ENV_MARK).write_text(RUN_ID)


def _prepared_envs(wanted: tuple[str, ...], session_name: str = "bench_env") -> dict[str, str]:
    """Interpreter -> python of the environments of a session this nox invocation prepared (a skipped one is absent)."""
    found = {}
    for version in wanted or SUPPORTED_PYTHONS:
        location = Path(".nox", f"{session_name}-{version.replace('.', '-')}")
        mark = location / ENV_MARK
        if mark.exists() and mark.read_text() == RUN_ID:
            found[version] = str((location / "bin" / "python").absolute())
    return found


def _drivers(session: nox.Session, wanted: tuple[str, ...]) -> dict[str, str]:
    """Interpreter -> python of this invocation's bench environments; an error naming what is missing if none."""
    _check_interpreters(session)
    pythons = _prepared_envs(wanted)
    if not pythons:
        session.error("no bench environment was prepared: " + (_SURVEY.missing_message() if _SURVEY.missing else "?"))
    return pythons


def _specs(pythons: dict[str, str]) -> list[str]:
    return [arg for version, python in pythons.items() for arg in ("--python", f"{version}={python}")]


@nox.session(python=False, requires=["bench_env", "sdk_env"])
def bench(session: nox.Session) -> None:
    """Speed, microbenchmarks, concurrent users, memory, equivalence and instruction counts into
    reports/<run-id>/raw/, then the summary tables and the report (reports/<run-id>/index.html).

    nox -s bench [-- --quick | --full] [--python 3.12] [--scenario NAME] [--variant NAME]
                 [--transport respx|loopback] [--openai 2|3 [--openai 3|2]]

    One driver measures every interpreter, so cross-interpreter comparisons are interleaved; a second
    --openai line is measured by the speed suite on the newest interpreter, interleaved with the first.
    """
    try:
        options = parse_bench_options(list(session.posargs))
    except BenchOptionsError as exc:
        session.error(str(exc))
    pythons = _drivers(session, options.pythons)
    run_dir = REPORTS_ROOT / RUN_ID
    requested = list(options.pythons or SUPPORTED_PYTHONS)
    write_manifest(
        run_dir,
        profile=options.profile,
        requested=requested,
        missing=[v for v in requested if v not in pythons],
        options=list(session.posargs),
        interpreters=_SURVEY.to_json(),
        transport=options.transport,
        openai=options.openai,
        openai_compared=options.openai_compared,
    )
    command = [next(iter(pythons.values())), "-m", "benchmarks.bench", "--bench-profile", options.profile]
    command += ["--run-dir", str(run_dir), *_specs(pythons), *options.filters()]
    compared = _compared_python(options)
    if compared is not None:
        second = _prepared_envs((compared,), "sdk_env").get(compared)
        if second is None:
            session.error(f"the openai {options.openai_compared}.x environment for Python {compared} was not prepared")
        command += ["--openai-compared", f"{options.openai_compared}={second}"]
    session.run(*command, external=True)  # reports/latest moves once the report is whole


@nox.session(python=False, requires=["bench_env"])
def gate(session: nox.Session) -> None:
    """Is the working tree slower than a baseline commit? Both measured interleaved in one run.

    nox -s gate [-- --against REF] [--python 3.12]
    Exit 0: no regression; 1: a regression (named in the table); 2: unusable input (says which).
    """
    try:
        options = parse_gate_options(list(session.posargs))
    except BenchOptionsError as exc:
        session.error(str(exc))
    pythons = _drivers(session, options.pythons)
    run_dir = REPORTS_ROOT / f"{RUN_ID}-gate"
    command = [next(iter(pythons.values())), "-m", "benchmarks.gate", "--run-dir", str(run_dir)]
    command += [*_specs(pythons), *options.driver_options()]
    session.log(" ".join(command))
    code = subprocess.run(command, check=False).returncode
    if code:  # nox would turn every failure into 1; CI needs to tell a regression (1) from unusable input (2)
        raise SystemExit(code)


@nox.session(python=FOUND_PYTHONS)
def memory(session: nox.Session) -> None:
    """The memory suite alone, into the same kind of run folder.

    nox -s memory [-p 3.12] [-- --quick | --full] [--variant NAME] [--transport respx|loopback]
    """
    options, run_dir = _prepare_run(session)
    if options.scenarios:
        session.error("memory measures its own workload: --scenario applies to `nox -s bench`; use --scenario-file")
    _run_suite(session, "memory", options, run_dir, *options.variant_filters(), *options.scenario_file_options())
    session.run("python", "-m", "benchmarks.report", str(run_dir))  # C2's verdict; the rest is stated as a gap
    point_latest(run_dir)  # only once the report rendered


@nox.session(python=FOUND_PYTHONS)
def profile(session: nox.Session) -> None:
    """Where the time goes: the layers suite alone (py-spy samples by layer), into the same kind of run folder.

    nox -s profile [-p 3.12] [-- --quick | --full] [--variant NAME] [--transport respx|loopback]
    As in `nox -s bench`, interpreters other than the newest take only the cases the profile measures everywhere.
    """
    options, run_dir = _prepare_run(session)
    if options.scenarios or options.scenario_files:
        session.error("the layers suite samples its profile's own cases: --scenario/--scenario-file apply to bench")
    elsewhere = ["--elsewhere"] if session.python != newest_python(FOUND_PYTHONS) else []
    _run_suite(session, "layers", options, run_dir, *options.variant_filters(), *elsewhere)
    session.run("python", "-m", "benchmarks.report", str(run_dir))  # the other suites are stated as gaps
    point_latest(run_dir)  # only once the report rendered


@nox.session(python="3.11")
def report(session: nox.Session) -> None:
    """Re-render a run's verdicts and HTML report from its stored results, without measuring.

    nox -s report -- reports/<run-id>      (default: reports/latest)
    """
    session.install("-e", ".", "-c", openai_constraints())
    run_dir = session.posargs[0] if session.posargs else str(REPORTS_ROOT / "latest")
    session.run("python", "-m", "benchmarks.report", run_dir)


@nox.session(python="3.11")
def publish(session: nox.Session) -> None:
    """Distil runs into results/ and build the static site in site/ (index, histories, steps, comparisons).

    nox -s publish [-- RUN_DIR ...] [--results DIR] [--out DIR]     (default: every run folder in reports/)
    """
    session.install("-e", ".", "-c", openai_constraints())
    session.run("python", "-m", "benchmarks.site", *session.posargs)


@nox.session(python="3.11")
def compare(session: nox.Session) -> None:
    """Every case and measure two runs share: B / A with its interval, decided as the gate decides (never fails).

    nox -s compare -- RUN_A RUN_B [--out DIR]      (run folders or distilled results/<machine>/*.json files)
    """
    if len([arg for arg in session.posargs if not arg.startswith("-")]) < 2:
        session.error("compare needs two runs: nox -s compare -- reports/<run-a> reports/<run-b>")
    session.install("-e", ".", "-c", openai_constraints())
    session.run("python", "-m", "benchmarks.compare_runs", *session.posargs)

"""The options users give `nox -s bench -- ...`, parsed and checked before any environment is built.

The noxfile runs in nox's own environment, which has neither agno nor pyperf: what is imported here
(the variant registry, the scenario loader, the profiles) needs neither.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.interpreters import SUPPORTED_PYTHONS
from benchmarks.matrix import PROFILES, expand
from scenarios import ScenarioFilesError, own_scenarios, shipped_scenarios
from scenarios.transport import TRANSPORTS
from workflow.variants import REGISTRY

PROFILE_NAMES = ("quick", "default", "full")
OPENAI_LINES = ("2", "3")  # constraints/openai-<line>.txt
CONSTRAINTS = Path(__file__).resolve().parent.parent / "constraints"


def openai_constraints(line: str = "2") -> str:
    """The constraints file pinning the openai SDK line an environment gets."""
    return str(CONSTRAINTS / f"openai-{line}.txt")


class BenchOptionsError(ValueError):
    pass


@dataclass(frozen=True)
class BenchOptions:
    profile: str
    scenarios: tuple[str, ...]
    variants: tuple[str, ...]
    strict_interpreters: bool
    pythons: tuple[str, ...] = ()  # narrow `nox -s bench` to these interpreters; () = every supported one
    scenario_files: tuple[str, ...] = ()  # a user's own scenario files, as absolute paths
    transport: str = "respx"  # how the mock is reached: respx (inside the client) or loopback (real sockets)
    openai: str = "2"  # the openai SDK line the bench environments get (constraints/openai-<line>.txt)
    openai_compared: str | None = None  # a second line, measured beside the first on the newest interpreter

    def variant_filters(self) -> list[str]:
        return [arg for variant in self.variants for arg in ("--variant", variant)]

    def scenario_file_options(self) -> list[str]:
        return [arg for path in self.scenario_files for arg in ("--scenario-file", path)]

    def filters(self) -> list[str]:
        names = [arg for name in self.scenarios for arg in ("--scenario", name)]
        return names + self.variant_filters() + self.scenario_file_options() + ["--transport", self.transport]


def parse_bench_options(posargs: list[str]) -> BenchOptions:
    parser = argparse.ArgumentParser(prog="nox -s bench --", exit_on_error=False, add_help=False)
    profile = parser.add_mutually_exclusive_group()
    profile.add_argument("--quick", action="store_true", help="CI gating profile (within 4 minutes)")
    profile.add_argument("--full", action="store_true", help="publication profile")
    parser.add_argument("--scenario", action="append", default=[])
    parser.add_argument("--variant", action="append", default=[])
    parser.add_argument("--strict-interpreters", action="store_true")
    parser.add_argument("--python", action="append", default=[], choices=SUPPORTED_PYTHONS)
    parser.add_argument("--scenario-file", action="append", default=[])
    parser.add_argument("--transport", choices=TRANSPORTS, default="respx")
    parser.add_argument("--openai", action="append", choices=OPENAI_LINES, default=[])
    try:
        args, unknown = parser.parse_known_args(posargs)
    except argparse.ArgumentError as exc:
        raise BenchOptionsError(str(exc)) from exc
    if unknown:
        raise BenchOptionsError(
            f"unknown option(s) {unknown}; use --quick | --full, --python X.Y, --scenario NAME, --variant NAME, "
            "--scenario-file PATH, --transport respx|loopback, --openai 2|3 (twice: both lines side by side), "
            "--strict-interpreters"
        )
    lines = args.openai or ["2"]
    if len(lines) > len(OPENAI_LINES) or len(set(lines)) != len(lines):
        raise BenchOptionsError(f"--openai {' --openai '.join(lines)}: give each SDK line at most once")
    name = "quick" if args.quick else "full" if args.full else "default"
    files = tuple(str(Path(path).absolute()) for path in args.scenario_file)
    options = BenchOptions(
        name,
        tuple(args.scenario),
        tuple(args.variant),
        args.strict_interpreters,
        tuple(args.python),
        files,
        args.transport,
        lines[0],
        lines[1] if len(lines) > 1 else None,
    )
    check_names(options)
    return options


def check_names(options: BenchOptions) -> None:
    """Unknown variants or scenarios, or a bad scenario file: BenchOptionsError listing what is valid."""
    unknown = [variant for variant in options.variants if variant not in REGISTRY]
    if unknown:
        raise BenchOptionsError(f"unknown variant(s) {', '.join(unknown)}; valid: {', '.join(REGISTRY)}")
    try:  # a bad shipped file is named here too, with every other bad file, never as a traceback
        shipped, own = shipped_scenarios(), own_scenarios(options.scenario_files)
    except ScenarioFilesError as exc:
        raise BenchOptionsError(f"bad scenario file(s):\n{exc}") from exc
    cases = expand(PROFILES[options.profile], shipped, own=own)
    known = {case.scenario.name for case in cases} | {
        str(case.params["base"]) for case in cases if "base" in case.params
    }
    unknown = [name for name in options.scenarios if name not in known]
    if unknown:
        raise BenchOptionsError(
            f"unknown scenario(s) {', '.join(unknown)} for the {options.profile} profile; valid: "
            + ", ".join(sorted(known))
        )


@dataclass(frozen=True)
class GateOptions:
    against: str | None  # the baseline commit; None: the gate's default (merge-base with main, or HEAD)
    pythons: tuple[str, ...] = ()
    baseline: str | None = None  # a stored baseline file: deterministic measures only, on one interpreter
    update_baseline: bool = False

    def driver_options(self) -> list[str]:
        options = ["--against", self.against] if self.against else []
        options += ["--baseline", self.baseline] if self.baseline else []
        return options + (["--update-baseline"] if self.update_baseline else [])


def parse_gate_options(posargs: list[str]) -> GateOptions:
    parser = argparse.ArgumentParser(prog="nox -s gate --", exit_on_error=False, add_help=False)
    parser.add_argument("--against", metavar="REF")
    parser.add_argument("--baseline", metavar="FILE")
    parser.add_argument("--update-baseline", action="store_true")
    parser.add_argument("--python", action="append", default=[], choices=SUPPORTED_PYTHONS)
    parser.add_argument("--strict-interpreters", action="store_true")
    try:
        args, unknown = parser.parse_known_args(posargs)
    except argparse.ArgumentError as exc:
        raise BenchOptionsError(str(exc)) from exc
    if unknown:
        raise BenchOptionsError(
            f"unknown option(s) {unknown}; use --against REF or --baseline FILE [--update-baseline], --python X.Y, "
            "--strict-interpreters"
        )
    if args.against and args.baseline:
        raise BenchOptionsError("--against REF and --baseline FILE are two different baselines: give one")
    if args.update_baseline and not args.baseline:
        raise BenchOptionsError("--update-baseline needs --baseline FILE (where to write it)")
    if args.baseline and len(args.python) > 1:
        raise BenchOptionsError("a stored baseline is one interpreter's: give at most one --python with --baseline")
    return GateOptions(args.against, tuple(args.python), args.baseline, args.update_baseline)


def preparse_profile(argv: list[str], profiles: Iterable[str]) -> str:
    """A pyperf suite's profile sets pyperf's defaults, so it must be known before pyperf parses the rest."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--bench-profile", choices=sorted(profiles), default="default")
    known, _ = parser.parse_known_args(argv)
    return known.bench_profile

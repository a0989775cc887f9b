"""The options users give `nox -s bench -- ...`, parsed without importing the harness.

The noxfile runs in nox's own environment, which has neither agno nor pyperf.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import dataclass

from benchmarks.interpreters import SUPPORTED_PYTHONS

PROFILE_NAMES = ("quick", "default", "full")


class BenchOptionsError(ValueError):
    pass


@dataclass(frozen=True)
class BenchOptions:
    profile: str
    scenarios: tuple[str, ...]
    variants: tuple[str, ...]
    strict_interpreters: bool
    pythons: tuple[str, ...] = ()  # narrow `nox -s bench` to these interpreters; () = every supported one

    def variant_filters(self) -> list[str]:
        return [arg for variant in self.variants for arg in ("--variant", variant)]

    def filters(self) -> list[str]:
        return [arg for name in self.scenarios for arg in ("--scenario", name)] + self.variant_filters()


def parse_bench_options(posargs: list[str]) -> BenchOptions:
    parser = argparse.ArgumentParser(prog="nox -s bench --", exit_on_error=False, add_help=False)
    profile = parser.add_mutually_exclusive_group()
    profile.add_argument("--quick", action="store_true", help="CI gating profile (within 4 minutes)")
    profile.add_argument("--full", action="store_true", help="publication profile")
    parser.add_argument("--scenario", action="append", default=[])
    parser.add_argument("--variant", action="append", default=[])
    parser.add_argument("--strict-interpreters", action="store_true")
    parser.add_argument("--python", action="append", default=[], choices=SUPPORTED_PYTHONS)
    try:
        args, unknown = parser.parse_known_args(posargs)
    except argparse.ArgumentError as exc:
        raise BenchOptionsError(str(exc)) from exc
    if unknown:
        raise BenchOptionsError(
            f"unknown option(s) {unknown}; use --quick | --full, --python X.Y, --scenario NAME, --variant NAME, "
            "--strict-interpreters"
        )
    name = "quick" if args.quick else "full" if args.full else "default"
    return BenchOptions(name, tuple(args.scenario), tuple(args.variant), args.strict_interpreters, tuple(args.python))


def preparse_profile(argv: list[str], profiles: Iterable[str]) -> str:
    """A pyperf suite's profile sets pyperf's defaults, so it must be known before pyperf parses the rest."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--bench-profile", choices=sorted(profiles), default="default")
    known, _ = parser.parse_known_args(argv)
    return known.bench_profile

"""The variant registry (workflow/variants.py) is the one list: every suite's matrix is derived from it."""

from __future__ import annotations

import pytest

from benchmarks import equivalence, instructions, speed
from benchmarks.matrix import EVERYDAY_VARIANTS, POOLED_VARIANTS, PROFILES, VARIANTS, expand
from benchmarks.suites import DRIVEN
from tests.conftest import SHIPPED, STREAMING_VARIANTS, VARIANT_NAMES
from workflow.flow import AsyncFinancialAssistant, SyncFinancialAssistant
from workflow.variants import REGISTRY


@pytest.mark.parametrize("name", list(REGISTRY))
def test_each_variant_loads_and_its_traits_match_its_class(name: str) -> None:
    variant = REGISTRY[name]
    assert variant.name == name
    assert issubclass(variant.workflow, AsyncFinancialAssistant if variant.is_async else SyncFinancialAssistant)
    if variant.failure_only:
        assert variant.same_as in REGISTRY and not REGISTRY[variant.same_as].failure_only


def _suite_variants(profile: str) -> dict[str, set[str]]:
    """What each suite of a profile measures, read from the suites' own sources."""
    cases = expand(PROFILES[profile], SHIPPED)
    chosen = PROFILES[profile]
    return {
        "speed, shipped scenarios with a failure": {c.variant for c in cases if c.scenario.failures},
        "speed, shipped scenarios": {c.variant for c in cases if c.group == "scenario" and not c.scenario.failures},
        "speed, fan-out sweep": {c.variant for c in cases if c.group == "fanout"},
        "memory": set(chosen.memory_variants),
        "users": set(chosen.users_variants),
        "equivalence": set(equivalence.VARIANTS),
        "instructions": set(instructions.EVERYDAY_VARIANTS),
    }


FAILING_SUITES = {"speed, shipped scenarios with a failure", "equivalence"}


@pytest.mark.parametrize("profile", ["default", "full"])
def test_every_registered_variant_is_in_every_suite_that_can_tell_it_apart(profile: str) -> None:
    for suite, measured in _suite_variants(profile).items():
        for name, variant in REGISTRY.items():
            if variant.failure_only and suite not in FAILING_SUITES:
                assert name not in measured, f"{suite} re-measures {name}, which runs like {variant.same_as} there"
                assert variant.same_as in measured, f"{suite} lacks {variant.same_as}"
            else:
                assert name in measured, f"the {profile} profile's {suite} lacks the registered variant {name}"


def test_the_derived_lists_follow_the_registry() -> None:
    assert VARIANTS == tuple(REGISTRY) == VARIANT_NAMES
    assert set(EVERYDAY_VARIANTS) == {n for n, v in REGISTRY.items() if not v.failure_only}
    assert set(POOLED_VARIANTS) == {n for n, v in REGISTRY.items() if v.pooled}
    assert set(STREAMING_VARIANTS) == {n for n, v in REGISTRY.items() if v.streams}
    assert speed.POOLED_VARIANTS == POOLED_VARIANTS


def test_a_variant_that_differs_only_on_failure_is_passed_only_to_suites_that_inject_failures() -> None:
    failure_only = next(n for n, v in REGISTRY.items() if v.failure_only)
    for suite in DRIVEN:
        assert suite.measures(failure_only) == (suite.name == "equivalence")
        assert all(suite.measures(n) for n in EVERYDAY_VARIANTS)

"""Synthetic offender records with a known programme effect: the demo and the test oracle."""

from synthetic_data.generator import (
    NATIONAL,
    SCENARIOS,
    SOUTHAMPTON,
    GeneratedData,
    Scenario,
    UnrecordedTrait,
    generate,
    scenario_with,
)

__all__ = ["NATIONAL", "SCENARIOS", "SOUTHAMPTON", "GeneratedData", "Scenario", "UnrecordedTrait", "generate", "scenario_with"]

"""Synthetic national populations of beneficiary households (CAF) and C2S households (CNAM)."""

from profilage.population.generator import (
    POPULATION_COLUMNS,
    POPULATION_SCHEMA,
    generate_population,
    iter_population,
)

__all__ = ["POPULATION_COLUMNS", "POPULATION_SCHEMA", "generate_population", "iter_population"]

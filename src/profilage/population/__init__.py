"""Synthetic national populations of beneficiary households (CAF) and C2S households (CNAM)."""

from profilage.population.generator import (
    C2S_COLUMNS,
    POPULATION_COLUMNS,
    POPULATION_SCHEMA,
    generate_c2s_population,
    generate_population,
    iter_population,
)

__all__ = ["C2S_COLUMNS", "POPULATION_COLUMNS", "POPULATION_SCHEMA", "generate_c2s_population",
           "generate_population", "iter_population"]

"""Compatibility alias: the fact checks live in :mod:`profilage.facts`."""

from profilage.facts import FACTS, Fact, all_hold, check_model, facts_for

__all__ = ["FACTS", "Fact", "all_hold", "check_model", "facts_for"]

"""The audit: whom the model sends controllers to, how unequal that is, through which criteria,
and how it adds up month after month.

>>> from profilage.audit import audit_population
>>> report = audit_population(population, "cnaf-2014", by=["famille_type"])   # doctest: +SKIP
>>> report["groups"][0]["selection_rate"]                                      # doctest: +SKIP

Modules: ``frame`` (score a population, built-in groups), ``selection`` (control budget, quotas,
random baseline), ``table`` (group table with bootstrap intervals), ``experiments``
(archetypes and counterfactual copies), ``thresholds``, ``proxies``, ``months``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from profilage.audit.ensemble import RANGE_KEYS, audit_ranges, conclusions, resolve_ensemble
from profilage.audit.frame import (
    BUILTIN_GROUPS,
    SEUIL_BAS_REVENUS,
    SEUIL_BAS_REVENUS_SOURCE,
    frame_columns,
    prepare,
    prepare_coded,
)
from profilage.audit.selection import (
    BUDGET_SOURCE,
    CONTROLES_PAR_AN,
    FOYERS_NATIONAUX,
    Selection,
    cutoff_scores,
    default_budget_per_month,
    select,
)
from profilage.audit.table import BAND, group_table, parse_by
from profilage.errors import ProfilageError
from profilage.models import Model, load_model

__all__ = [
    "BAND", "BUDGET_SOURCE", "BUILTIN_GROUPS", "CONTROLES_PAR_AN", "FOYERS_NATIONAUX",
    "SEUIL_BAS_REVENUS", "SEUIL_BAS_REVENUS_SOURCE", "AuditResult", "Selection",
    "audit_population", "cutoff_scores", "default_budget_per_month", "group_table",
    "parse_by", "prepare", "run_audit", "select",
]

#: Keys of each group in the JSON output (the issue's shape first, then extras).
GROUP_KEYS = ("by", "group", "households", "selected", "population_share", "selected_share",
              "selection_rate", "ratio_to_overall", "ratio_to_reference", "ci_low", "ci_high",
              "mean_score", "ratio_ci_low", "ratio_ci_high", "reference", "flag",
              "top_decile_share", "random_selected", "random_selection_rate")


def _clean(v: Any) -> Any:
    return None if isinstance(v, float) and not math.isfinite(v) else v


@dataclass
class AuditResult:
    """A finished audit: the model, the selection rule, the per-household selections and the
    group table. ``as_dict()`` is the ``profilage audit --json`` object."""

    model: Model
    selection: Selection
    households: int
    selections: pl.DataFrame  # household_id, month, score, selected (+ groups, top_decile...)
    table: pl.DataFrame
    cutoffs: dict
    ensemble: Any = None  # the Ensemble when the audit ran over its members
    conclusions: list | None = None

    def as_dict(self) -> dict[str, Any]:
        m = self.model
        sel = self.selection.describe()
        keys = GROUP_KEYS + (RANGE_KEYS if self.ensemble is not None else ())
        out = {
            "model": {"id": m.id, "title": m.title, "sha256": m.sha256,
                      "coefficients_status": m.coefficients_status(),
                      "provenance": m.provenance_line()},
            "budget": {**sel, "households": self.households,
                       "selected": int(self.selections["selected"].sum()),
                       "cutoff_score": {k: _clean(v) for k, v in self.cutoffs.items()}},
            "groups": [{k: _clean(r[k]) for k in keys}
                       for r in self.table.iter_rows(named=True)],
            "notes": {
                "bootstrap": "intervalles à 95 % : rééchantillonnage des foyers (tirage "
                             "multinomial), sélection fixée / households resampled, selection fixed",
                "band": f"flag : rapport au groupe de référence hors de [{BAND[0]}, {BAND[1]}]",
                "bas_revenus": SEUIL_BAS_REVENUS_SOURCE,
                "random_baseline": "random_selected : même nombre de contrôles tirés au hasard",
            },
        }
        if self.ensemble is not None:
            e = self.ensemble
            out["ensemble"] = {"size": e.size, "model": e.model, "seed": e.seed,
                               "facts": list(e.facts), "method": e.method}
            out["conclusions"] = [{k: _clean(v) for k, v in c.items()}
                                  for c in (self.conclusions or [])]
            out["notes"]["ensemble"] = (
                "*_min|median|max : plage sur les membres de l'ensemble de reconstructions "
                "(coefficients non officiels, chacun compatible avec les faits publiés), même "
                "règle de sélection / range over the ensemble's members")
        return out

    def selections_table(self) -> pl.DataFrame:
        """The ``selections.parquet`` columns: household_id, month, score, selected."""
        return self.selections.select("household_id", "month", "score", "selected")


def run_audit(population: pl.DataFrame | pl.LazyFrame | str | Path,
              model: Model | str = "cnaf-2014", *, budget: int | None = None,
              share: float | None = None, threshold: float | None = None,
              quota_by: str | None = None, by: str | list[str] | None = None,
              reference: dict | None = None, n_boot: int = 200, seed: int = 0,
              ensemble: bool = False, limits: dict | None = None) -> AuditResult:
    """Score ``population``, select the month's controls and build the group table.

    ``budget`` is the number of controls per month (default: 166,000 a year scaled to the
    population); ``by`` a list of columns (each, and their intersection), default the built-in
    groups; ``reference`` maps a grouping (``"famille_type"``) to its reference group label;
    ``ensemble`` adds, per group, the range of its figures over the model's ensemble of
    reconstructions, and plain-French conclusions (:mod:`profilage.audit.ensemble`).
    ``limits``: ``max_groups`` and ``max_boot_cells`` for :func:`group_table` (the web API's
    are lower than the command line's).
    """
    m = load_model(model)
    ens = resolve_ensemble(m) if ensemble else None
    from_file = str(population) if isinstance(population, (str, Path)) else None
    if from_file:  # a Parquet file is scanned: only the columns the audit needs are read
        population = scan_population(population)
    sel = Selection(budget_per_month=budget, share=share, threshold=threshold, quota_by=quota_by,
                    seed=seed)
    sel.check()
    specs = parse_by(by, frame_columns(population), list(BUILTIN_GROUPS))
    wanted = {c for spec in specs for c in spec} | ({quota_by} if quota_by else set())
    try:
        frame, coded = prepare_coded(population, m, groups=wanted)
    except (pl.exceptions.PolarsError, OSError) as e:
        if not from_file:
            raise
        raise ProfilageError(f"cannot read table: {str(e).splitlines()[0]}",
                             field="--population", source=from_file) from None
    if frame.height == 0:
        raise ProfilageError("the population has no household (no row)", field="--population")
    selected = select(frame, sel, rank=False)  # partial selection: no household is ranked
    table = group_table(selected, specs, reference=reference, n_boot=n_boot, seed=seed,
                        **(limits or {}))
    concl = None
    if ens is not None:
        table = audit_ranges(selected, coded, ens, sel, specs, table)
        concl = conclusions(table, ens.size)
    return AuditResult(m, sel, frame.height, selected, table, cutoff_scores(selected), ens, concl)


def audit_population(population: pl.DataFrame | pl.LazyFrame | str | Path,
                     model: Model | str = "cnaf-2014", **kwargs: Any) -> dict[str, Any]:
    """The audit as a JSON-ready dict (see :func:`run_audit` for the options)."""
    return run_audit(population, model, **kwargs).as_dict()


def scan_population(path: str | Path) -> pl.LazyFrame:
    """A population file as a lazy frame (Parquet: read later, only the columns needed; CSV:
    read now), with a one-line error naming the file when it is missing or not a table."""
    p = Path(path)
    if not p.is_file():
        raise ProfilageError("file not found", field="--population", source=str(p))
    if p.suffix.lower() == ".csv":
        return read_population(p).lazy()
    try:
        lf = pl.scan_parquet(p, glob=False)  # the name as given: no glob pattern
        lf.collect_schema()
    except Exception as e:  # polars raises several types for unreadable files
        raise ProfilageError(f"cannot read table: {str(e).splitlines()[0]}", field="--population",
                             source=str(p)) from None
    return lf


def read_population(path: str | Path) -> pl.DataFrame:
    """Read a population table (Parquet or CSV), with a one-line error naming the file."""
    p = Path(path)
    if not p.is_file():
        raise ProfilageError("file not found", field="--population", source=str(p))
    try:
        if p.suffix.lower() == ".csv":
            return pl.read_csv(p, infer_schema_length=10_000, try_parse_dates=True, glob=False)
        return pl.read_parquet(p, glob=False)  # the name as given: no glob pattern
    except Exception as e:  # polars raises several types for unreadable files
        raise ProfilageError(f"cannot read table: {str(e).splitlines()[0]}", field="--population",
                             source=str(p)) from None

"""Months of re-scoring: the score recomputed every month under the monthly control budget.

Each month, all households are re-scored and the month's highest scores up to the budget are
controlled, except households controlled in the last ``cooldown`` months (a household is not
controlled twice within a year: our assumption, the CNAF does not publish its rule). Between
months, simple documented transitions (``TRANSITIONS``, monthly probabilities; our assumptions,
not published figures) change the households:

- everyone ages (ages come from birth dates and the reference month), so partners turn 60 and
  children cross 12 and 19;
- a couple separates (the holder stays, ``separe``, the partner's income leaves, address change);
- a household moves (address and rent change), its rent changes, it contacts the CAF;
- a salaried holder becomes unemployed (income x 0.6) and an unemployed one finds work back;
- months worked over the last 12 months follow the activity;
- a controlled household's count of past controls goes up (the model reads it).

The result: each group's probability (groups fixed at month 0) of at least one control within
the horizons asked (default 12, 36 and 60 months), beside a random draw of the same budget.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl

from profilage.audit.frame import BUILTIN_GROUPS, prepare
from profilage.audit.selection import default_budget_per_month
from profilage.errors import ProfilageError
from profilage.models import Model, load_model

TRANSITIONS = {
    "separation": 0.002,       # per couple and month (about 2.4 % a year)
    "demenagement": 0.01,      # per household and month (about 11 % a year)
    "changement_loyer": 0.02,  # rent revised or changed
    "contact_caf": 0.15,       # e-mail or visit to the CAF
    "perte_emploi": 0.01,      # salaried holder -> unemployed
    "reprise_emploi": 0.05,    # unemployed holder -> salaried
}


def _add_month(d: pl.Expr) -> pl.Expr:
    return d.dt.offset_by("1mo")


def step(pop: pl.DataFrame, rng: np.random.Generator, controlled: np.ndarray,
         rates: dict[str, float] = TRANSITIONS) -> pl.DataFrame:
    """One month of transitions (vectorised); ``controlled`` flags last month's controls."""
    n = pop.height

    def draw(p: float) -> pl.Series:
        return pl.Series(rng.random(n) < p)

    pop = pop.with_columns(
        _sep=draw(rates["separation"]), _move=draw(rates["demenagement"]),
        _rent=draw(rates["changement_loyer"]), _contact=draw(rates["contact_caf"]),
        _lose=draw(rates["perte_emploi"]), _find=draw(rates["reprise_emploi"]),
        _ctrl=pl.Series(controlled),
    )
    month = _add_month(pl.col("reference_month"))
    couple = pl.col("conjoint").fill_null(False)
    sep = couple & pl.col("_sep")
    move = pl.col("_move") | sep
    lose = (pl.col("alloc_activite") == "salarie") & pl.col("_lose")
    find = (pl.col("alloc_activite") == "chomage") & pl.col("_find")
    working = pl.col("alloc_activite").is_in(["salarie", "independant"])
    return pop.with_columns(
        reference_month=month,
        conjoint=pl.when(sep).then(False).otherwise(pl.col("conjoint")),
        situation_familiale=pl.when(sep).then(pl.lit("separe"))
        .otherwise(pl.col("situation_familiale")),
        date_separation=pl.when(sep).then(month).otherwise(pl.col("date_separation")),
        date_changement_adresse=pl.when(move).then(month)
        .otherwise(pl.col("date_changement_adresse")),
        date_changement_loyer=pl.when(move | pl.col("_rent")).then(month)
        .otherwise(pl.col("date_changement_loyer")),
        date_dernier_contact=pl.when(pl.col("_contact")).then(month)
        .otherwise(pl.col("date_dernier_contact")),
        alloc_activite=pl.when(lose).then(pl.lit("chomage")).when(find).then(pl.lit("salarie"))
        .otherwise(pl.col("alloc_activite")),
        alloc_revenu_mensuel=pl.when(lose).then(pl.col("alloc_revenu_mensuel") * 0.6)
        .when(find).then(pl.col("alloc_revenu_mensuel") / 0.6)
        .otherwise(pl.col("alloc_revenu_mensuel")),
        alloc_mois_travailles_12m=pl.when(working & ~lose | find)
        .then((pl.col("alloc_mois_travailles_12m") + 1).clip(upper_bound=12))
        .otherwise((pl.col("alloc_mois_travailles_12m") - 1).clip(lower_bound=0)),
        nb_controles_passes=pl.col("nb_controles_passes").fill_null(0)
        + pl.col("_ctrl").cast(pl.Int32),
    ).drop("_sep", "_move", "_rent", "_contact", "_lose", "_find", "_ctrl")


def simulate(population: pl.DataFrame, model: Model | str = "cnaf-2014", *, months: int = 60,
             budget_per_month: int | None = None, cooldown: int = 12,
             horizons: tuple[int, ...] = (12, 36, 60), by: list[str] | None = None,
             seed: int = 0, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Simulate ``months`` months of re-scoring; per group, P(at least one control) by horizon.

    Groups are the households' groups at month 0. The random baseline draws the same number of
    households each month among those not controlled within ``cooldown`` months.
    """
    m = load_model(model)
    if months < 1:
        raise ProfilageError(f"expected a whole number >= 1, got {months}", field="--months")
    horizons = tuple(h for h in horizons if h <= months) or (months,)
    pop = population
    if "household_id" not in pop.columns:
        pop = pop.with_row_index("household_id").with_columns(pl.col("household_id").cast(pl.Int64))
    pop = pop.sort("household_id")
    n = pop.height
    budget = budget_per_month or default_budget_per_month(n)
    if budget > n:
        raise ProfilageError(f"budget {budget} exceeds the {n} households",
                             field="--budget-per-month")
    rng = np.random.default_rng([seed, 0x3047])  # salted: independent of a population seed
    first = prepare(pop, m).sort("household_id")
    groups = by or [g for g in BUILTIN_GROUPS if g in first.columns]
    base = first.select("household_id", *groups)
    first_ctrl = np.full(n, -1, dtype=np.int64)  # month of the first control, -1 never
    last_ctrl = np.full(n, -10**6, dtype=np.int64)
    first_rand = np.full(n, -1, dtype=np.int64)
    last_rand = np.full(n, -10**6, dtype=np.int64)
    ids = pop["household_id"].to_numpy()
    controlled = np.zeros(n, dtype=bool)
    for t in range(months):
        if t > 0:
            pop = step(pop, rng, controlled)
        scored = prepare(pop, m, keep=["household_id"]).sort("household_id")
        score = scored["score"].to_numpy().astype(np.float64)
        eligible = (t - last_ctrl) >= cooldown
        score = np.where(eligible & np.isfinite(score), score, -np.inf)
        # highest scores first, ties by household_id (ids sorted ascending): stable sort
        order = np.lexsort((ids, -score))
        take = order[:budget]
        take = take[np.isfinite(score[take])]
        controlled = np.zeros(n, dtype=bool)
        controlled[take] = True
        last_ctrl[take] = t
        first_ctrl[(first_ctrl < 0) & controlled] = t
        # random baseline: same budget among households eligible under the same rule
        elig_r = np.flatnonzero((t - last_rand) >= cooldown)
        pick = rng.choice(elig_r, size=min(budget, len(elig_r)), replace=False)
        last_rand[pick] = t
        newly = np.zeros(n, dtype=bool)
        newly[pick] = True
        first_rand[(first_rand < 0) & newly] = t
        if progress:
            progress(t)
    cols = {}
    for h in horizons:
        cols[f"p_{h}"] = pl.Series((first_ctrl >= 0) & (first_ctrl < h))
        cols[f"r_{h}"] = pl.Series((first_rand >= 0) & (first_rand < h))
    res = base.with_columns(**cols)
    out = []
    overall = {f"within_{h}": float(res[f"p_{h}"].mean()) for h in horizons}
    for g in groups:
        aggs = [pl.col(f"p_{h}").mean().alias(f"within_{h}") for h in horizons]
        aggs += [pl.col(f"r_{h}").mean().alias(f"random_{h}") for h in horizons]
        t = res.group_by(g).agg(pl.len().alias("households"), *aggs).sort(g, nulls_last=True)
        for r in t.iter_rows(named=True):
            lab = r[g]
            lab = "inconnu" if lab is None else ("oui" if lab is True else "non" if lab is False
                                                 else (f"D{lab}" if g == "decile_revenu_uc"
                                                       else str(lab)))
            out.append({"by": g, "group": lab, "households": r["households"],
                        **{k: v for k, v in r.items() if k.startswith(("within_", "random_"))}})
    return {"model": m.id, "months": months, "budget_per_month": budget, "cooldown": cooldown,
            "households": n, "horizons": list(horizons), "overall": overall,
            "transitions": TRANSITIONS, "groups": out}

"""Figures over an ensemble of reconstructions: the range of each audit figure, one household's
score and the direction of each criterion's effect across every member.

A reconstruction is one coefficient vector among all those consistent with the published facts
(:mod:`profilage.models.ensemble`). The audit scores the population once per member from the
same modality codes (:mod:`profilage.fastpath`: features derived and matched once), applies the
same selection rule (budgets, quotas, ties), and reports, for every group row, the minimum,
median and maximum of its share of the controls, its selection rate and its ratio to the overall
rate. A conclusion is *robust* when the whole range lies on one side of parity.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from profilage.errors import ProfilageError
from profilage.fastpath import CodedPopulation, Tables
from profilage.models import Model, load_model
from profilage.models.ensemble import Ensemble, has_ensemble, load_ensemble, load_ensemble_file

#: A directory searched before the shipped ensembles (a user's own ensemble, the tests' fixtures).
ENV_DIR = "PROFILAGE_ENSEMBLES"

RANGE_KEYS = tuple(f"{k}_{s}" for k in ("selected_share", "selection_rate", "ratio_to_overall")
                   for s in ("min", "median", "max"))


def resolve_ensemble(model: Model | str) -> Ensemble:
    """The ensemble of reconstructions of ``model`` (``--ensemble``): the one in the directory
    named by ``PROFILAGE_ENSEMBLES`` if any, else the shipped one. One-line errors naming
    ``--ensemble`` and the model when there is none, or when it was drawn for another version."""
    m = load_model(model)
    d = os.environ.get(ENV_DIR)
    own = Path(d) / f"{m.id}.json" if d else None
    if own is not None and own.is_file():
        ens = load_ensemble_file(own)
    elif has_ensemble(m.id):
        ens = load_ensemble(m.id)
    else:
        from profilage.models.ensemble import ENSEMBLES_DIR

        shipped = sorted(p.stem for p in ENSEMBLES_DIR.glob("*.json"))
        raise ProfilageError(f"no ensemble of reconstructions for model {m.id!r} (ensembles "
                             f"shipped: {', '.join(shipped) or 'none'})", field="--ensemble")
    if ens.base_sha256 != m.sha256:
        raise ProfilageError(
            f"the ensemble of {m.id!r} was drawn for another version of the model (sha256 "
            f"{ens.base_sha256[:12]}, this file {m.sha256[:12]})", field="--ensemble")
    return ens


def member_tables(ens: Ensemble) -> list[Tables]:
    """Each member as coefficient tables: the point model's tables with the member's values in
    place of the varying coefficients (the same numbers as ``Tables.of(ens.member(i))``, without
    parsing a hundred TOML texts; tested)."""
    base = ens.base()
    bt = Tables.of(base)
    pos = {c.id: j for j, c in enumerate(bt.categorical)}
    plan = []  # (key column, criterion position, modality position) or the intercept
    for col, key in enumerate(ens.keys):
        if key == "intercept":
            plan.append((col, None, None))
            continue
        cid, mid = key.split(".", 1)
        if cid not in pos:  # a numeric predictor varies: render the members
            return [Tables.of(m) for m in ens.members()]
        c = bt.categorical[pos[cid]]
        plan.append((col, pos[cid], [mo.id for mo in c.modalities].index(mid)))
    redacted = [c.contribution for c in base.redacted if c.contribution is not None]

    def base_bounds(v: float) -> tuple[float, float]:  # as Model.base_bounds adds them
        lo = hi = v
        for a, b in redacted:
            lo, hi = lo + a, hi + b
        return lo, hi

    out = []
    for row in ens.matrix:
        low, high = [t.copy() for t in bt.low], [t.copy() for t in bt.high]
        basebounds = bt.base
        touched = set()
        for col, j, k in plan:
            v = float(row[col])
            if j is None:
                basebounds = base_bounds(v)
            else:
                low[j][k] = high[j][k] = v
                touched.add(j)
        for j in touched:  # the unknown input's interval follows the modalities
            if bt.categorical[j].unknown is None:  # (not a source evaluator's fixed rule)
                low[j][-1], high[j][-1] = low[j][:-1].min(), high[j][:-1].max()
        out.append(Tables(base, bt.categorical, tuple(low), tuple(high), bt.numeric, basebounds))
    return out


def member_scores(coded: CodedPopulation, ens: Ensemble) -> list[np.ndarray]:
    """Every member's scores of the coded households (NaN: no score)."""
    return [coded.score(t)["score"] for t in member_tables(ens)]


def score_range(scores: np.ndarray) -> dict[str, Any]:
    """``{"size", "score_min", "score_median", "score_max"}`` of one household's member scores."""
    ok = scores[~np.isnan(scores)]
    if not len(ok):
        return {"size": int(len(scores)), "score_min": None, "score_median": None,
                "score_max": None}
    return {"size": int(len(scores)), "score_min": float(ok.min()),
            "score_median": float(np.median(ok)), "score_max": float(ok.max())}


# --------------------------------------------------------------------------------------------
# The audit


def audit_ranges(selected: pl.DataFrame, coded: CodedPopulation, ens: Ensemble, sel,
                 specs: list[list[str]], table: pl.DataFrame) -> pl.DataFrame:
    """``table`` with, per group row, the min / median / max over the members of its share of
    the controls, its selection rate and its ratio to the overall rate."""
    from profilage.audit.selection import Selector
    from profilage.audit.table import selected_by_group

    selector = Selector(selected, sel)
    # member by member: only the selected rows are kept (not a hundred score columns)
    rows = [selector.rows(coded.score(t)["score"]) for t in member_tables(ens)]
    counts, totals = selected_by_group(selected, specs, rows)
    n = selected.height
    cols: dict[str, list] = {k: [] for k in RANGE_KEYS}
    for r in table.iter_rows(named=True):
        c = counts[(r["by"], r["group"])].astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = c / totals
            rate = c / r["households"] if r["households"] else np.full(len(c), np.nan)
            ratio = rate / (totals / n)
        for name, v in (("selected_share", share), ("selection_rate", rate),
                        ("ratio_to_overall", ratio)):
            v = v[np.isfinite(v)]
            lo, med, hi = (float(v.min()), float(np.median(v)), float(v.max())) if len(v) \
                else (float("nan"),) * 3
            cols[f"{name}_min"].append(lo)
            cols[f"{name}_median"].append(med)
            cols[f"{name}_max"].append(hi)
    return table.with_columns([pl.Series(k, v, dtype=pl.Float64) for k, v in cols.items()])


#: How a group reads in a sentence: (grouping, group label) -> French noun phrase.
_PHRASES = {
    ("famille_type", "monoparentale"): "les familles monoparentales",
    ("famille_type", "personne_seule"): "les personnes seules",
    ("famille_type", "couple_sans_enfant"): "les couples sans enfant",
    ("famille_type", "couple_avec_enfants"): "les couples avec enfants",
    ("sexe_allocataire", "F"): "les allocataires femmes",
    ("sexe_allocataire", "M"): "les allocataires hommes",
    ("tranche_age", "moins_25"): "les allocataires de moins de 25 ans",
    ("tranche_age", "25_34"): "les allocataires de 25 à 34 ans",
    ("tranche_age", "35_49"): "les allocataires de 35 à 49 ans",
    ("tranche_age", "50_59"): "les allocataires de 50 à 59 ans",
    ("tranche_age", "60_plus"): "les allocataires de 60 ans ou plus",
    ("rsa", "oui"): "les foyers au RSA", ("rsa", "non"): "les foyers sans RSA",
    ("aah", "oui"): "les foyers touchant l'AAH", ("aah", "non"): "les foyers sans AAH",
    ("aah_travaille", "oui"): "les foyers touchant l'AAH en emploi",
    ("qpv", "oui"): "les foyers en quartier prioritaire",
    ("qpv", "non"): "les foyers hors quartier prioritaire",
    ("bas_revenus", "oui"): "les foyers sous le seuil de bas revenus",
    ("bas_revenus", "non"): "les foyers au-dessus du seuil de bas revenus",
}


def _phrase(by: str, group: str) -> str:
    if (by, group) in _PHRASES:
        return _PHRASES[(by, group)]
    if by == "decile_revenu_uc":
        return f"les foyers du décile {group} de revenu par UC"
    from profilage.audit.frame import BUILTIN_GROUPS

    label = BUILTIN_GROUPS.get(by, (by, by))[0]
    return f"le groupe « {label} = {group} »"


def _pc(x: float) -> str:
    return f"{100 * x:.1f} %".replace(".", ",")


def conclusions(table: pl.DataFrame, size: int, *, min_households: int = 1) -> list[dict[str, Any]]:
    """One plain-French sentence per group of a single grouping (intersections are left to the
    table), robust when every member puts the group on the same side of parity (its share of
    the controls above, or below, its share of the households)."""
    out = []
    for r in table.iter_rows(named=True):
        if " × " in r["by"] or r["households"] < min_households or r["selected_share_min"] is None:
            continue
        lo, hi, pop = r["selected_share_min"], r["selected_share_max"], r["population_share"]
        if not (np.isfinite(lo) and np.isfinite(hi)):
            continue
        who = _phrase(r["by"], r["group"])
        text = (f"Dans les {size} reconstructions compatibles avec les faits publiés, {who} "
                f"reçoivent entre {_pc(lo)} et {_pc(hi)} des contrôles, pour {_pc(pop)} des foyers.")
        if r["ratio_to_overall_min"] > 1:
            direction, robust = "above", True
            text += " Surreprésentation robuste : plus que leur part dans toutes les reconstructions."
        elif r["ratio_to_overall_max"] < 1:
            direction, robust = "below", True
            text += " Sous-représentation robuste : moins que leur part dans toutes les reconstructions."
        else:
            direction, robust = "mixed", False
            text += (" Conclusion non robuste : selon la reconstruction, plus ou moins que leur "
                     "part.")
        point = r["selected_share"]
        if point is not None and np.isfinite(point) and not (lo - 1e-12 <= point <= hi + 1e-12):
            text += (f" Le modèle ponctuel ({_pc(point)}) est hors de cette plage : il n'est pas "
                     "un membre de l'ensemble.")
        out.append({"by": r["by"], "group": r["group"], "robust": robust, "direction": direction,
                    "selected_share_min": lo, "selected_share_max": hi, "population_share": pop,
                    "text_fr": text})
    return out


# --------------------------------------------------------------------------------------------
# One household


def dossier_members(features: pl.DataFrame, ens: Ensemble) -> tuple[list[np.ndarray], CodedPopulation]:
    """Member scores of a few households (rows of ``features``) and their codes."""
    coded = CodedPopulation(features)
    return member_scores(coded, ens), coded


def effect_directions(features: pl.DataFrame, ens: Ensemble) -> list[dict[str, Any]]:
    """For the household in ``features`` (one row), each criterion's contribution sign in every
    member: the same in all of them, or not (counts of raising, lowering and null effects)."""
    coded = CodedPopulation(features)
    tables = member_tables(ens)
    base = ens.base()
    coded.encode(base)
    out = []
    for j, c in enumerate(tables[0].categorical):
        code = int(coded.codes(c)[0])
        mids = np.array([(t.low[j][code] + t.high[j][code]) / 2 if np.isfinite(t.low[j][code])
                         and np.isfinite(t.high[j][code]) else 0.0 for t in tables])
        up, down = int((mids > 0).sum()), int((mids < 0).sum())
        zero = len(mids) - up - down
        same = max(up, down, zero) == len(mids)
        direction = "hausse" if up == len(mids) else "baisse" if down == len(mids) else \
            "nul" if zero == len(mids) else "variable"
        out.append({"criterion": c.id, "label_fr": c.label_fr, "label_en": c.label_en,
                    "unknown_input": code == len(c.modalities),
                    "modality": None if code == len(c.modalities) else c.modalities[code].id,
                    "same_direction": same, "direction": direction, "raises": up,
                    "lowers": down, "none": zero, "contribution_min": float(mids.min()),
                    "contribution_max": float(mids.max())})
    for j, c in enumerate(tables[0].numeric):
        vals = []
        for t in tables:
            lo, hi = coded._numeric_bounds(t.numeric[j])
            a, b = float(lo[0]), float(hi[0])
            vals.append((a + b) / 2 if np.isfinite(a) and np.isfinite(b) else 0.0)
        mids = np.array(vals)
        up, down = int((mids > 0).sum()), int((mids < 0).sum())
        zero = len(mids) - up - down
        direction = "hausse" if up == len(mids) else "baisse" if down == len(mids) else \
            "nul" if zero == len(mids) else "variable"
        out.append({"criterion": c.id, "label_fr": c.label_fr, "label_en": c.label_en,
                    "unknown_input": bool(np.isnan(coded._numeric[(c.feature, c.presence)][0][0])),
                    "modality": None, "same_direction": max(up, down, zero) == len(mids),
                    "direction": direction, "raises": up, "lowers": down, "none": zero,
                    "contribution_min": float(mids.min()), "contribution_max": float(mids.max())})
    return out

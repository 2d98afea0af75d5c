"""Fact 7 on the shipped sample of synthetic household profiles, for any model.

``data/fact7_profils.parquet`` holds a fixed synthetic sample (built by
:mod:`profilage.reconstruct.fact7`) reduced to *profiles*: the modality id each household
matches on every criterion of ``cnaf-2014``, two flags (single parent, below the CNAF low-income
threshold) and a count ``n``. A model with the same criteria and modality ids is checked by
ranking the profiles by its log-odds and taking an exact top 1.2 % (a year's controls), the last
profile partially. Vectorised: one gather per criterion, one sort; the sample is read once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import polars as pl

from profilage.facts.published import (
    ANNUAL_SHARE,
    FACT7_SCOPE,
    LOW_INCOME_CONTROLS,
    LOW_INCOME_TOLERANCE,
    SINGLE_PARENTS_CONTROLS,
    SINGLE_PARENTS_TOLERANCE,
)
from profilage.resources import resource_dir

PROFILES_FILE = "fact7_profils.parquet"
FLAGS = ("single_parent", "low_income", "n")


def profiles_path() -> Path:
    return resource_dir("data") / PROFILES_FILE


@dataclass(frozen=True)
class Sample:
    """The profiles as arrays: per criterion, modality ids and one integer code per profile."""

    criteria: dict[str, tuple[tuple[str, ...], np.ndarray]]
    weight: np.ndarray
    single_parent: np.ndarray
    low_income: np.ndarray

    @property
    def budget(self) -> float:
        return ANNUAL_SHARE * float(self.weight.sum())

    def logits(self, intercept: float, tables: dict[str, dict[str, float]]) -> np.ndarray:
        """Log-odds of every profile; ``tables[criterion][modality id]`` is a coefficient."""
        z = np.full(len(self.weight), float(intercept))
        for cid, (ids, codes) in self.criteria.items():
            z += np.array([tables[cid][m] for m in ids], dtype=np.float64)[codes]
        return z


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> Sample:
    prof = pl.read_parquet(path)
    crits = {}
    for col in prof.columns:
        if col in FLAGS:
            continue
        s = prof[col]
        if s.null_count():
            raise ValueError(f"fact 7 profiles: unknown input for {col}")
        ids = tuple(sorted(s.unique().to_list()))
        codes = s.replace_strict(list(ids), list(range(len(ids))), return_dtype=pl.Int32)
        crits[col] = (ids, codes.to_numpy())
    return Sample(crits, prof["n"].to_numpy().astype(np.float64),
                  prof["single_parent"].to_numpy(), prof["low_income"].to_numpy())


def load_sample(path: Path | None = None) -> Sample:
    p = path or profiles_path()
    return _load(str(p), p.stat().st_mtime)


def top_shares(z: np.ndarray, weight: np.ndarray, masks: list[np.ndarray], k: float
               ) -> list[float]:
    """Share of each mask among an exact top-k of weighted rows (highest z first, stable)."""
    order = np.argsort(-z, kind="stable")
    w = weight[order]
    take = np.clip(k - (np.cumsum(w) - w), 0, w)  # the last row taken partially
    total = take.sum()
    return [float(take[m[order]].sum() / total) for m in masks]


def bands() -> dict[str, tuple[float, float]]:
    return {"single_parents": (SINGLE_PARENTS_CONTROLS - SINGLE_PARENTS_TOLERANCE,
                               SINGLE_PARENTS_CONTROLS + SINGLE_PARENTS_TOLERANCE),
            "low_income": (LOW_INCOME_CONTROLS - LOW_INCOME_TOLERANCE,
                           LOW_INCOME_CONTROLS + LOW_INCOME_TOLERANCE)}


def measure(model, sample: Sample | None = None) -> dict | str:
    """Fact-7 figures of a model on the sample, or a French reason why it cannot be measured."""
    s = sample or load_sample()
    known = {c.id: c for c in model.criteria}
    if set(known) != set(s.criteria):
        return "critères différents de cnaf-2014 : non évaluable sur l'échantillon"
    if model.intercept.value is None:
        return "constante inconnue : non évaluable"
    tables = {}
    for cid, (ids, _) in s.criteria.items():
        values = {m.id: m.coefficient.value for m in known[cid].modalities}
        if any(v is None for v in values.values()):
            return f"coefficient inconnu dans {cid} : non évaluable"
        if set(ids) - set(values):
            return f"modalités de {cid} différentes de l'échantillon : non évaluable"
        tables[cid] = values
    z = s.logits(model.intercept.value, tables)
    sp, low = top_shares(z, s.weight, [s.single_parent, s.low_income], s.budget)
    return {"single_parents_share_of_controls": sp, "low_income_share_of_controls": low,
            "single_parents_share_of_households": float(
                s.weight[s.single_parent].sum() / s.weight.sum()),
            "low_income_share_of_households": float(
                s.weight[s.low_income].sum() / s.weight.sum()),
            "bands": {k: list(v) for k, v in bands().items()}}


def check(model) -> tuple[bool | None, str, dict | None]:
    """Fact 7: pass when both shares fall in their bands; the detail gives the achieved figures."""
    f = measure(model)
    if isinstance(f, str):
        return None, f, None
    b = bands()
    sp, low = f["single_parents_share_of_controls"], f["low_income_share_of_controls"]
    ok_sp = b["single_parents"][0] <= sp <= b["single_parents"][1]
    ok_low = b["low_income"][0] <= low <= b["low_income"][1]

    def pct(x: float) -> str:
        return f"{100 * x:.1f} %"

    detail = (f"contrôles d'une année (1,2 % des foyers de l'échantillon) : parents isolés "
              f"{pct(sp)} (publié : 36 % ; bande {pct(b['single_parents'][0])}-"
              f"{pct(b['single_parents'][1])}{'' if ok_sp else ' : HORS BANDE'} ; "
              f"{pct(f['single_parents_share_of_households'])} des foyers), sous le seuil de bas "
              f"revenus {pct(low)} (publié : deux tiers ; bande {pct(b['low_income'][0])}-"
              f"{pct(b['low_income'][1])}{'' if ok_low else ' : HORS BANDE'}) — {FACT7_SCOPE}")
    return ok_sp and ok_low, detail, f

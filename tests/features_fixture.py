"""Hostile dossier rows for the feature-derivation parity test, and their frozen features.

``tests/data/features_parity.parquet`` holds dossier rows covering every edge the derivation
handles (unknown values, NaN and infinities, out-of-range numbers, events after the reference
month, several and unknown reference months, children lists with unknown, future, empty and
unknown lists) and, beside them (``exp__`` columns), every feature as
:func:`profilage.features.derive_features` gave it before it was made faster (commit 48c62fe).
A faster derivation must give exactly these. Regenerate only on an intended change of the
features' semantics: ``PYTHONPATH=src python tests/features_fixture.py``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

from profilage.features import (
    ACTIVITES,
    DOSSIER_COLUMNS,
    LOGEMENTS,
    NATIONALITES,
    NEVER,
    SITUATIONS,
    derive_features,
)

FIXTURE = Path(__file__).parent / "data" / "features_parity.parquet"

_CATEGORIES = {"alloc_activite": ACTIVITES, "conj_activite": ACTIVITES,
               "situation_familiale": SITUATIONS, "statut_logement": LOGEMENTS,
               "alloc_nationalite": NATIONALITES, "alloc_sexe": ("F", "M"),
               "conj_sexe": ("F", "M")}
_REFS = [dt.date(2024, 3, 1), dt.date(2023, 6, 1), dt.date(2024, 3, 17), dt.date(2019, 12, 1)]


def hostile_dossiers(n: int = 3000, seed: int = 14) -> pl.DataFrame:
    """``household_id`` and every dossier column, each with its edge cases (see the module)."""
    rng = np.random.default_rng(seed)
    epoch = dt.date(1970, 1, 1)
    lo, hi = (dt.date(1905, 1, 1) - epoch).days, (dt.date(2026, 12, 31) - epoch).days

    def dates(k: int, recent: bool = False) -> np.ndarray:
        a = rng.integers((dt.date(1995, 1, 1) - epoch).days if recent else lo, hi, k)
        return a

    def nulls(s: pl.Series, p: float) -> pl.Series:
        mask = rng.random(len(s)) < p
        return s.scatter(np.flatnonzero(mask), None) if mask.any() else s

    cols: dict[str, pl.Series] = {"household_id": pl.Series(np.arange(n, dtype=np.int64))}
    for name, dtype in DOSSIER_COLUMNS.items():
        if name == "reference_month":
            s = pl.Series(name, [_REFS[i] for i in rng.integers(0, len(_REFS), n)])
            s = nulls(s, 0.03)
        elif name == "enfants_dates_naissance":
            lens = rng.choice([0, 0, 1, 2, 3, 5, 9], n)
            vals = dates(int(lens.sum()), recent=True)
            flat = pl.Series(vals, dtype=pl.Int32).cast(pl.Date)
            flat = nulls(flat, 0.05)  # an unknown birth date in a list
            offsets = np.r_[0, np.cumsum(lens)]
            unknown = rng.random(n) < 0.04  # an unknown list
            lists = [None if u else flat[int(a):int(b)].to_list()
                     for a, b, u in zip(offsets[:-1], offsets[1:], unknown)]
            s = pl.Series(name, lists, dtype=pl.List(pl.Date))
        elif dtype == pl.Date:
            v = dates(n)
            v[rng.random(n) < 0.15] = (NEVER - epoch).days
            s = nulls(pl.Series(name, v, dtype=pl.Int32).cast(pl.Date), 0.08)
        elif dtype == pl.Int32:
            s = nulls(pl.Series(name, rng.integers(-3, 140, n), dtype=pl.Int32), 0.08)
            if name.endswith("mois_travailles_12m"):
                s = nulls(pl.Series(name, rng.integers(-1, 14, n), dtype=pl.Int32), 0.08)
        elif dtype == pl.Float64:
            v = rng.gamma(1.5, 700.0, n) * rng.choice([0.0, 0.01, 1.0, 1.0, 1.0, 40.0], n)
            special = rng.random(n)
            v[special < 0.03] = np.nan
            v[(special >= 0.03) & (special < 0.05)] = np.inf
            v[(special >= 0.05) & (special < 0.07)] = -50.0
            v[(special >= 0.07) & (special < 0.09)] = 0.0
            s = nulls(pl.Series(name, v), 0.06)
        elif dtype == pl.Boolean:
            s = nulls(pl.Series(name, rng.random(n) < 0.4), 0.08)
        else:
            cats = [*_CATEGORIES.get(name, ("a", "b")), "inconnue"]
            s = nulls(pl.Series(name, np.array(cats, dtype=object)[rng.integers(0, len(cats), n)],
                                dtype=pl.String), 0.06)
        cols[name] = s.alias(name)
    return pl.DataFrame(cols)


def build() -> pl.DataFrame:
    rows = hostile_dossiers()
    feats = derive_features(rows, keep=["household_id"]).collect()
    return rows.join(feats.rename({c: f"exp__{c}" for c in feats.columns if c != "household_id"}),
                     on="household_id", how="left", maintain_order="left")


if __name__ == "__main__":
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    build().write_parquet(FIXTURE, compression="zstd", compression_level=19)
    print(FIXTURE, FIXTURE.stat().st_size, "bytes")

"""Benchmark: the audit's group table for 13.8 million households (target: <= 5 s on 2 cores).

Builds a frame shaped like the audit's (household_id, month, score, the selection flags and
the nine built-in group columns with realistic cardinalities), selects a year's budget, then
times ``group_table`` over the nine groupings with 200 bootstrap replicates.

    python bench/audit_table.py [--households 13800000] [--boot 200]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time

import numpy as np
import polars as pl

from profilage.audit import Selection, group_table, select
from profilage.audit.frame import BUILTIN_GROUPS


def frame(n: int, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    cats = {"famille_type": ["personne_seule", "couple_sans_enfant", "couple_avec_enfants",
                             "monoparentale"],
            "sexe_allocataire": ["F", "M"],
            "tranche_age": ["moins_25", "25_34", "35_49", "50_59", "60_plus"]}
    cols = {"household_id": np.arange(n, dtype=np.int64), "score": rng.random(n)}
    df = pl.DataFrame(cols).with_columns(month=pl.lit(dt.date(2024, 3, 1)))
    extra = []
    for c, values in cats.items():
        # as the audit frame has them (profilage.audit.frame.prepare): categoricals
        extra.append(pl.Series(c, np.array(values)[rng.integers(0, len(values), n)])
                     .cast(pl.Categorical))
    for c in ("rsa", "aah", "aah_travaille", "qpv", "bas_revenus"):
        extra.append(pl.Series(c, rng.random(n) < 0.2))
    extra.append(pl.Series("decile_revenu_uc", rng.integers(1, 11, n).astype(np.int8)))
    return df.with_columns(extra)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--households", type=int, default=13_800_000)
    ap.add_argument("--boot", type=int, default=200)
    a = ap.parse_args()
    df = frame(a.households)
    t0 = time.perf_counter()
    sel = select(df, Selection(share=166_000 / 13_800_000))
    t1 = time.perf_counter()
    table = group_table(sel, [[g] for g in BUILTIN_GROUPS], n_boot=a.boot)
    t2 = time.perf_counter()
    res = {"households": a.households, "groupings": len(BUILTIN_GROUPS), "rows": table.height,
           "bootstrap": a.boot, "select_s": round(t1 - t0, 2), "group_table_s": round(t2 - t1, 2)}
    res["pass"] = res["group_table_s"] <= 5.0
    print(json.dumps(res))


if __name__ == "__main__":
    main()

"""Random tables of model inputs covering every modality, unknown inputs and absent partners."""

from __future__ import annotations

import numpy as np
import polars as pl

from profilage.features import FEATURES
from profilage.models import load_model


def random_features(model: str, n: int, seed: int = 0, unknown: float = 0.1) -> pl.DataFrame:
    """household_id + the model's features; each value unknown (null) with probability ``unknown``."""
    m = load_model(model)
    rng = np.random.default_rng(seed)
    cols: dict[str, pl.Series] = {"household_id": pl.Series(np.arange(1, n + 1, dtype=np.int64))}
    for f in m.features:
        spec = FEATURES.get(f) or m.raw.get("features", {}).get(f, {})
        kind = spec.get("kind", "float")
        if kind == "bool":
            s = pl.Series(f, rng.random(n) < 0.5)
        elif kind == "category":
            cats = list(spec["categories"])
            s = pl.Series(f, np.array(cats, dtype=object)[rng.integers(0, len(cats), n)],
                          dtype=pl.String)
        elif kind == "int":
            s = pl.Series(f, rng.integers(0, 90, n).astype(np.int32))
        else:
            s = pl.Series(f, rng.gamma(2.0, 400.0, n) * rng.choice([0.001, 1.0], n))
        mask = rng.random(n) < unknown
        cols[f] = s.scatter(np.flatnonzero(mask), None) if mask.any() else s
    return pl.DataFrame(cols)

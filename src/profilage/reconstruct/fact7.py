"""Published fact 7 as a constraint of the ``cnaf-2014`` reconstruction.

Fact 7 (sources.md section 1): single-parent families are 16 % of beneficiary households but
36 % of home controls; about two thirds of controls target the most precarious households.

How it enters the fit (documented in the README):
- a fixed sample of synthetic households (``profilage population generate``, 300,000 households,
  seed 0) is reduced to *profiles*: the modality each household matches on every criterion, plus
  two flags, single parent (``famille_type == "monoparentale"``) and below the CNAF low-income
  threshold (1,097 euros per unit, resources including benefits); the table of profiles and
  their counts is shipped in ``data/fact7_profils.parquet`` so the fit does not depend on later
  changes of the generator;
- the controls of one year are the households with the highest scores up to the CNAF's 166,000
  data-mining controls for 13.8 M households (1.2 %): a household is controlled at most once a year;
- the selection is smoothed so the optimiser can follow it: a household is selected with
  probability sigmoid((logit(score) - c) / TAU), with the cut-off c solved (bisection) so that
  the expected number selected is 1.2 % of the sample;
- constraints: the single-parent share among the selected within SP_BAND, the share below the
  low-income threshold within LOW_BAND.
``audit fact7`` then checks the result with the real engine and an exact top-k selection.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from profilage.resources import resource_dir

SAMPLE_HOUSEHOLDS = 300_000
SAMPLE_SEED = 0
ANNUAL_SHARE = 166_000 / 13_800_000
SP_TARGET, LOW_TARGET = 0.36, 2 / 3
SP_BAND = (0.34, 0.38)
LOW_BAND = (0.64, 0.69)
TAU = 0.05
PROFILES_FILE = "fact7_profils.parquet"


def profiles_path() -> Path:
    return resource_dir("data") / PROFILES_FILE


def build_profiles(model="cnaf-2014", households: int = SAMPLE_HOUSEHOLDS,
                   seed: int = SAMPLE_SEED) -> pl.DataFrame:
    """Profiles (matched modality id per criterion + flags) and their counts."""
    from profilage.audit.frame import prepare
    from profilage.models import load_model
    from profilage.population import generate_population

    m = load_model(model)
    f = prepare(generate_population(households, seed), m, contributions=True)
    cols = []
    for c in m.criteria:
        ids = [mod.id for mod in c.modalities]
        cols.append(pl.col(f"m__{c.id}").replace_strict(list(range(len(ids))), ids,
                                                         default=None).alias(c.id))
    f = f.select(*cols, single_parent=pl.col("famille_type") == "monoparentale",
                 low_income=pl.col("bas_revenus").fill_null(False))
    return f.group_by(f.columns).agg(n=pl.len()).sort(f.columns)


def write_profiles(path: Path | None = None) -> Path:
    path = path or profiles_path()
    tmp = path.with_name(path.name + ".part")
    build_profiles().write_parquet(tmp, compression="zstd", compression_level=19)
    tmp.replace(path)
    return path


class Fact7:
    """Smoothed fact-7 shares as functions of the fit's parameter vector."""

    def __init__(self, problem, profiles: pl.DataFrame | None = None) -> None:
        from profilage.reconstruct.cnaf2014 import CRITERIA

        prof = profiles if profiles is not None else pl.read_parquet(profiles_path())
        self.w = prof["n"].to_numpy().astype(np.float64)
        self.sp = prof["single_parent"].to_numpy()
        self.low = prof["low_income"].to_numpy()
        # One column per criterion: position of the matched parameter (0 = a fixed zero slot).
        n = problem.n_beta
        idx = []
        self.unknown = []
        for c in CRITERIA:
            col = prof[c.id].to_list()
            pos = np.zeros(len(col), dtype=np.int64)
            for i, mid in enumerate(col):
                if mid is None:
                    raise ValueError(f"fact 7 profiles: unknown input for {c.id}")
                key = (c.id, mid)
                pos[i] = problem.pos.get(key, n)  # reference modality -> zero slot
            idx.append(pos)
        self.idx = np.stack(idx, axis=1)
        self.n_beta = n
        self.k = ANNUAL_SHARE * self.w.sum()

    def logits(self, x: np.ndarray) -> np.ndarray:
        full = np.concatenate([x[:self.n_beta], [0.0]])
        return x[0] + full[self.idx].sum(axis=1)

    def _solve(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Smoothed selection weights p and their derivative g wrt the logit (memoised)."""
        key = x[:self.n_beta].tobytes()
        if getattr(self, "_key", None) == key:
            return self._cache
        z = self.logits(x)
        order = np.argsort(-z)
        cum = np.cumsum(self.w[order])
        c0 = z[order][min(np.searchsorted(cum, self.k), len(z) - 1)]
        lo, hi = c0 - 10 * TAU, c0 + 10 * TAU
        for _ in range(50):  # bisection on the cut-off: expected selections = budget
            c = (lo + hi) / 2
            sel = (self.w / (1 + np.exp(-(z - c) / TAU))).sum()
            lo, hi = (c, hi) if sel > self.k else (lo, c)
        s = 1 / (1 + np.exp(-(z - (lo + hi) / 2) / TAU))
        p, g = self.w * s, self.w * s * (1 - s) / TAU
        self._key, self._cache = key, (p, g)
        return p, g

    def shares(self, x: np.ndarray) -> tuple[float, float]:
        p, _ = self._solve(x)
        return float(p[self.sp].sum() / p.sum()), float(p[self.low].sum() / p.sum())

    def exact_shares(self, x: np.ndarray) -> tuple[float, float]:
        """Shares among an exact top-k of the sample (households, highest logits first)."""
        z = self.logits(x)
        order = np.argsort(-z, kind="stable")
        w = self.w[order]
        take = np.clip(self.k - (np.cumsum(w) - w), 0, w)  # partial last profile
        tot = take.sum()
        return float(take[self.sp[order]].sum() / tot), float(take[self.low[order]].sum() / tot)

    def _grad(self, x: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """d share / d x with the cut-off moving to keep the expected budget (implicit)."""
        p, g = self._solve(x)
        n = self.n_beta
        def dz(weights: np.ndarray) -> np.ndarray:  # sum_i weights_i * dz_i/dx
            out = np.bincount(self.idx.ravel(), weights=np.repeat(weights, self.idx.shape[1]),
                              minlength=n + 1)[:n]
            out[0] = weights.sum()  # intercept
            return out
        total = p.sum()
        grad = (dz(g * mask) - (g * mask).sum() * dz(g) / g.sum()) / total
        full = np.zeros(len(x))
        full[:n] = grad
        return full

    def constraints(self) -> list[dict]:
        sp, low = self.sp, self.low
        return [
            {"type": "ineq", "fun": lambda x: self.shares(x)[0] - SP_BAND[0],
             "jac": lambda x: self._grad(x, sp)},
            {"type": "ineq", "fun": lambda x: SP_BAND[1] - self.shares(x)[0],
             "jac": lambda x: -self._grad(x, sp)},
            {"type": "ineq", "fun": lambda x: self.shares(x)[1] - LOW_BAND[0],
             "jac": lambda x: self._grad(x, low)},
            {"type": "ineq", "fun": lambda x: LOW_BAND[1] - self.shares(x)[1],
             "jac": lambda x: -self._grad(x, low)},
        ]


if __name__ == "__main__":
    print(write_profiles())


#: Tolerances of the published fact-7 check on the shipped sample (not the fit's bands).
SP_TOLERANCE, LOW_TOLERANCE = 0.04, 0.05


def check_model(model) -> tuple[bool | None, str]:
    """Fact 7 for any model with the cnaf-2014 criteria: exact top 1.2 % of the shipped sample's
    profiles ranked by the model's log-odds (undetermined if a criterion is missing)."""
    prof = pl.read_parquet(profiles_path())
    known = {c.id for c in model.criteria}
    crit_cols = [c for c in prof.columns if c not in ("single_parent", "low_income", "n")]
    if set(crit_cols) - known or known - set(crit_cols):
        return None, "critères différents de cnaf-2014 : non évaluable sur l'échantillon"
    z = np.full(prof.height, model.intercept.value or 0.0)
    for c in model.criteria:
        values = {m.id: m.coefficient.value for m in c.modalities}
        if any(v is None for v in values.values()):
            return None, f"coefficient inconnu dans {c.id} : non évaluable"
        z += prof[c.id].replace_strict(values, return_dtype=pl.Float64).to_numpy()
    w = prof["n"].to_numpy().astype(np.float64)
    k = ANNUAL_SHARE * w.sum()
    order = np.argsort(-z, kind="stable")
    ws = w[order]
    take = np.clip(k - (np.cumsum(ws) - ws), 0, ws)
    sp = float(take[prof["single_parent"].to_numpy()[order]].sum() / take.sum())
    low = float(take[prof["low_income"].to_numpy()[order]].sum() / take.sum())
    holds = abs(sp - SP_TARGET) <= SP_TOLERANCE and abs(low - LOW_TARGET) <= LOW_TOLERANCE
    return holds, (f"contrôles d'une année (1,2 % des foyers de l'échantillon) : parents isolés "
                   f"{100 * sp:.1f} % (publié : 36 %), sous le seuil de bas revenus "
                   f"{100 * low:.1f} % (publié : deux tiers)")

"""Published fact 7 as a constraint of the ``cnaf-2014`` reconstruction.

Fact 7 (sources.md section 1, seed 003): single-parent families are 16 % of beneficiary
households but 36 % of home controls; about two thirds of these controls target the most
precarious households. Le Monde's figures are about home controls, from 2015 data; we compare
them with a year of the 2024 data-mining budget (1.2 % of households), which is our reading.
Seed 003 says single parents are reached *indirectly* (months of activity): the model has no
single-parent criterion, and this constraint can only move the criteria the sources describe.

How it enters the fit (documented in the README):
- a fixed sample of synthetic households (``profilage population generate``, 300,000 households,
  seed 0) is reduced to *profiles*: the modality each household matches on every criterion, plus
  two flags, single parent (``famille_type == "monoparentale"``) and below the CNAF low-income
  threshold (1,097 euros per unit, resources including benefits); the table of profiles and
  their counts is shipped in ``data/fact7_profils.parquet`` so the fit does not depend on later
  changes of the generator (``python -m profilage.reconstruct.fact7`` rebuilds it);
- the controls of one year are the households with the highest scores up to the CNAF's 166,000
  data-mining controls for 13.8 M households (1.2 %): a household is controlled at most once a year;
- the selection is smoothed so the optimiser can follow it: a household is selected with
  probability sigmoid((logit(score) - c) / TAU), with the cut-off c solved (bisection) so that
  the expected number selected is 1.2 % of the sample;
- constraints: the single-parent share among the selected within FIT_SP_BAND, the share below
  the low-income threshold within FIT_LOW_BAND (SP_BAND / LOW_BAND, wider, for the ensemble).
``profilage models check`` (:mod:`profilage.facts.fact7`) then checks the result with an exact
top-k selection, and the README's audit with the real engine on a population the fit never saw.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
from scipy.special import expit

from profilage.facts.fact7 import profiles_path, top_shares
from profilage.facts.published import ANNUAL_SHARE

SAMPLE_HOUSEHOLDS = 300_000
SAMPLE_SEED = 0
#: Fact 7 in the reconstruction's constraints (the point fit and the ensemble): single parents'
#: and low-income households' shares of a year's controls (inside the check's wider bands,
#: profilage.facts.fact7).
SP_BAND = (0.34, 0.38)
LOW_BAND = (0.64, 0.69)
#: The point fit constrains the *smoothed* shares to narrower bands around the published figures,
#: so that its exact shares land near 36 % and two thirds rather than on an edge of SP_BAND.
FIT_SP_BAND = (0.35, 0.37)
FIT_LOW_BAND = (0.65, 0.68)
TAU = 0.005


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
            sel = (self.w * expit((z - c) / TAU)).sum()
            lo, hi = (c, hi) if sel > self.k else (lo, c)
        s = expit((z - (lo + hi) / 2) / TAU)
        p, g = self.w * s, self.w * s * (1 - s) / TAU
        self._key, self._cache = key, (p, g)
        return p, g

    def shares(self, x: np.ndarray) -> tuple[float, float]:
        p, _ = self._solve(x)
        return float(p[self.sp].sum() / p.sum()), float(p[self.low].sum() / p.sum())

    def exact_shares(self, x: np.ndarray) -> tuple[float, float]:
        """Shares among an exact top-k of the sample (households, highest logits first)."""
        sp, low = top_shares(self.logits(x), self.w, [self.sp, self.low], self.k)
        return sp, low

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
            {"type": "ineq", "fun": lambda x: self.shares(x)[0] - FIT_SP_BAND[0],
             "jac": lambda x: self._grad(x, sp)},
            {"type": "ineq", "fun": lambda x: FIT_SP_BAND[1] - self.shares(x)[0],
             "jac": lambda x: -self._grad(x, sp)},
            {"type": "ineq", "fun": lambda x: self.shares(x)[1] - FIT_LOW_BAND[0],
             "jac": lambda x: self._grad(x, low)},
            {"type": "ineq", "fun": lambda x: FIT_LOW_BAND[1] - self.shares(x)[1],
             "jac": lambda x: -self._grad(x, low)},
        ]


if __name__ == "__main__":
    print(write_profiles())



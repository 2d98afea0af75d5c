"""An ensemble of ``cnaf-2014`` reconstructions: coefficient vectors that all satisfy the facts.

The point model (``profilage.reconstruct.cnaf2014``) is one vector among the many that satisfy the
published facts. This module draws ``SIZE`` of them *uniformly* from the set

    F = { coefficients in the plausibility box |beta| <= BOX
          that satisfy every constraint of the point model's fit }

with a hit-and-run sampler (Smith 1984) using the shrinkage procedure of slice sampling (Neal
2003), which keeps the uniform distribution on F invariant even where F is not convex:

- the constraints are the fit's own (``cnaf2014.build_constraints``: published directions, facts
  1 to 6) plus fact 7 on the fit's fixed sample of synthetic households (``fact7.Fact7``), where
  fact 7 is evaluated with the *exact* selection of a year's controls (top 1.2 % of the sample),
  not the smoothed one the optimiser needs, within the fit's bands;
- fact 1 (Nathalie's score = 0.24) is an equality: the intercept is not sampled, it is solved
  from the other coefficients; fact 4's epigraph variables are set to their smallest valid value;
- the linear constraints on the other coefficients (directions, the box) give each line's chord
  exactly; every point tried on the chord is then checked against all the other constraints;
- moves follow one coordinate, or all the modalities of one criterion together, or a random
  direction: isotropic during the first half of the burn-in, then from the covariance of the
  chain's own burn-in (rounding a thin set makes the chain move; any fixed symmetric direction
  law keeps the uniform law invariant);
- several independent chains start next to the point model; members are taken every ``THIN``
  steps after ``BURN_IN``;
- each member is rounded to 4 decimals and checked by the same code as ``profilage models check``;
  a member failing any fact after rounding is rejected and the chain continues to the next draw
  (the number of rejections is recorded in the method text and the ranges file).

Run ``python -m profilage.reconstruct.ensemble`` to rewrite ``models/ensembles/cnaf-2014.json``
and its ranges table ``models/ensembles/cnaf-2014.md`` (byte for byte reproducible: fixed seed,
one independent random stream per chain, deterministic order and rounding).
"""

from __future__ import annotations

import math
import sys
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from profilage.models import MODELS_DIR, Model, load_model, parse_model
from profilage.reconstruct import cnaf2014
from profilage.reconstruct.fact7 import ANNUAL_SHARE, LOW_BAND, SP_BAND, Fact7

MODEL_ID = cnaf2014.MODEL_ID
SEED = 20261207
SIZE = 100
CHAINS = 20  # independent chains; SIZE / CHAINS members each
BURN_IN = 600  # steps per chain before the first member (half isotropic, half adapted)
THIN = 300  # steps between two members of a chain
COORDINATE = 1 / 2  # share of moves along one coordinate
BLOCK = 1 / 4  # share of moves along all the modalities of one criterion (the rest: random)
BOX = 2.0  # plausibility box for every non-reference coefficient (log-odds)
DECIMALS = 4
TOL = 1e-9  # the optimiser's solution sits on active constraints up to rounding noise
ENSEMBLES_DIR = MODELS_DIR / "ensembles"
PERSONAS = ("nathalie", "nathalie-plus-3-ans", "michel", "abel")

# The first sentence (up to the first full stop) is quoted in every member's coefficient source.
METHOD_FR = (
    "Tirage uniforme (échantillonneur hit-and-run) parmi les coefficients compatibles avec les "
    "faits publiés 1 à 7 et compris entre -{box} et +{box}. Mêmes contraintes que l'ajustement du "
    "modèle ponctuel {model} (directions publiées, faits 1 à 6 ; fait 7 sur l'échantillon "
    "synthétique fixe, avec la sélection exacte des 1,2 % de scores les plus élevés) ; la "
    "constante est déduite du fait 1 (Nathalie à 0,24). {chains} chaînes indépendantes partent du "
    "modèle ponctuel : {burn} pas de chauffe, puis un membre tous les {thin} pas (cordes "
    "aléatoires, rétrécissement de Neal). Chaque membre est arrondi à 4 décimales puis vérifié par "
    "le code de « profilage models check » ; {rejected} tirage(s) rejeté(s) après arrondi et "
    "remplacé(s). Graine {seed}. Reconstructions non officielles.")
METHOD_EN = (
    "Uniform draws (hit-and-run sampler) from the coefficients consistent with published facts "
    "1 to 7 and within -{box}..+{box}. The constraints of the {model} point model's fit "
    "(published directions, facts 1 to 6; fact 7 on the fixed synthetic sample, with the exact "
    "selection of the top 1.2 % of scores); the intercept is solved from fact 1 (Nathalie at "
    "0.24). {chains} independent chains start at the point model: {burn} burn-in steps, then one "
    "member every {thin} steps (random chords, Neal's shrinkage). Every member is rounded to 4 "
    "decimals and checked by the code of `profilage models check`; {rejected} draw(s) rejected "
    "after rounding and replaced. Seed {seed}. Unofficial reconstructions.")


def _fact4_allowed(c: cnaf2014.C) -> list[str]:
    return cnaf2014.FACT4_RESTRICT.get(c.id, [m.id for m in c.modalities])


class Feasible:
    """Exact membership in the fit's constraint set, parametrised by the non-intercept betas.

    ``free`` is x[1:n_beta] of the fit's parameter vector (``cnaf2014.Problem``): one value per
    non-reference modality, in ``Problem.keys`` order.
    """

    def __init__(self, p: cnaf2014.Problem, matched: dict, f7: Fact7, box: float = BOX) -> None:
        import scipy.sparse as sp

        self.p, self.matched, self.f7, self.box = p, matched, f7, box
        cons = cnaf2014.build_constraints(p, matched)
        eq = [c["fun"] for c in cons if c["type"] == "eq"]
        if len(eq) != 1:
            raise RuntimeError(f"expected one equality (fact 1) in the fit, found {len(eq)}")
        self.eq = eq[0]
        ineq = [c["fun"] for c in cons if c["type"] == "ineq"]
        # Split the inequalities: linear ones on the free betas only (exact chords), the rest
        # (scores, fact 4 with the intercept and epigraph variables) checked point by point.
        self.A, self.b, self.other = self._linearise(ineq)
        nfree = p.n_beta - 1
        self.A = np.vstack([self.A, np.eye(nfree), -np.eye(nfree)])
        self.b = np.concatenate([self.b, np.full(2 * nfree, box)])
        # Fact 7: profile logits without the intercept (shares do not depend on it).
        n_prof, n_crit = f7.idx.shape
        rows = np.repeat(np.arange(n_prof), n_crit)
        cols = f7.idx.ravel()
        keep = cols < p.n_beta  # the zero slot (reference modality) is dropped
        self.M = sp.csr_matrix((np.ones(int(keep.sum())), (rows[keep], cols[keep] - 1)),
                               shape=(n_prof, nfree))
        self.k = ANNUAL_SHARE * f7.w.sum()
        self.n_top = min(int(math.ceil(self.k)) + 1, n_prof)
        self.calls = 0
        # criteria with several non-reference modalities (free-vector positions), for block moves
        by: dict[str, list[int]] = {}
        for i, (cid, _) in enumerate(p.keys):
            by.setdefault(cid, []).append(i)
        self.blocks = [np.array(v) for v in by.values() if len(v) > 1]

    def _linearise(self, funs: list[Callable]) -> tuple[np.ndarray, np.ndarray, list[Callable]]:
        """Linear rows on the free betas; the other constraints with their linear form if any."""
        p = self.p
        rng = np.random.default_rng(0)
        base = np.concatenate([p.prior, np.ones(p.n - p.n_beta)])
        probes = [base + rng.normal(0, 0.5, p.n) for _ in range(3)]
        rows, rhs, other = [], [], []
        self.other_linear: list[tuple[np.ndarray, float] | None] = []  # (g, c): g.x + c in x
        for f in funs:
            f0 = f(base)
            g = np.array([f(base + np.eye(p.n)[i]) - f0 for i in range(p.n)])
            linear = all(abs(f(y) - (f0 + g @ (y - base))) < 1e-9 for y in probes)
            if linear and g[0] == 0 and not g[p.n_beta:].any():
                rows.append(g[1:p.n_beta])
                rhs.append(f0 - g @ base)
            else:
                other.append(f)
                self.other_linear.append((g, f0 - g @ base) if linear else None)
        return np.array(rows), np.array(rhs), other

    def full(self, free: np.ndarray) -> np.ndarray | None:
        """The fit's parameter vector for these betas: intercept from fact 1, fact-4 epigraphs."""
        from scipy.optimize import brentq

        p = self.p
        x = np.zeros(p.n)
        x[1:p.n_beta] = free

        def g(t: float) -> float:
            x[0] = t
            return self.eq(x)

        try:
            x[0] = brentq(g, -30.0, 30.0, xtol=1e-12, rtol=1e-14)
        except ValueError:
            return None
        for j, c in enumerate(cnaf2014.CRITERIA):
            x[p.n_beta + j] = max(p.beta(x, c.id, mid) for mid in _fact4_allowed(c))
        return x

    def fact7_shares(self, z: np.ndarray) -> tuple[float, float]:
        """Exact top-k shares (same as ``Fact7.exact_shares``) from intercept-free logits."""
        f7 = self.f7
        top = np.argpartition(-z, self.n_top - 1)[:self.n_top]
        thr = z[top].min()
        cand = np.flatnonzero(z >= thr)  # ascending index: ties keep the stable order
        order = cand[np.argsort(-z[cand], kind="stable")]
        w = f7.w[order]
        take = np.clip(self.k - (np.cumsum(w) - w), 0, w)
        tot = take.sum()
        return float(take[f7.sp[order]].sum() / tot), float(take[f7.low[order]].sum() / tot)

    def member(self, free: np.ndarray, z: np.ndarray | None = None) -> np.ndarray | None:
        """The full parameter vector if ``free`` satisfies every constraint, else None."""
        self.calls += 1
        if (self.A @ free + self.b < -TOL).any():
            return None
        x = self.full(free)
        if x is None or any(f(x) < -TOL for f in self.other):
            return None
        sp_share, low_share = self.fact7_shares(self.M @ free if z is None else z)
        if not (SP_BAND[0] <= sp_share <= SP_BAND[1] and LOW_BAND[0] <= low_share <= LOW_BAND[1]):
            return None
        return x

    def interior_start(self, free: np.ndarray, radius: float = 0.2) -> np.ndarray | None:
        """A feasible point strictly inside the constraints, near ``free``.

        The optimiser's solution lies on many active constraints (a vertex), where random chords
        have length ~0. Linearise the constraints at ``free`` (exactly where they are linear in the
        fit's variables: fact 4 keeps its epigraph variables; the intercept, solved from fact 1,
        and the persona scores by finite differences; fact 7 with the fit's smoothed gradient),
        find the point of largest slack within ``radius`` (LP), and move towards it as far as the
        exact membership allows.
        """
        from scipy.optimize import linprog

        p = self.p
        nfree, nt = len(free), p.n - p.n_beta
        x = self.full(free)
        eps = 1e-6
        d_x0, d_other = np.zeros(nfree), np.zeros((len(self.other), nfree))
        for i in range(nfree):
            e = np.zeros(nfree)
            e[i] = eps
            xp, xm = self.full(free + e), self.full(free - e)
            d_x0[i] = (xp[0] - xm[0]) / (2 * eps)
            d_other[:, i] = [(f(xp) - f(xm)) / (2 * eps) for f in self.other]
        # LP variables v = (y, t, s); rows R v <= q. Maximise s.
        R, q = [], []

        def row(gy: np.ndarray, gt: np.ndarray, c: float, ws: float) -> None:
            """gy.y + gt.t + c >= ws * s."""
            R.append(np.r_[-gy, -gt, ws])
            q.append(c)

        for i in range(len(self.b)):
            row(self.A[i], np.zeros(nt), self.b[i], 1.0)
        for f, lin, d in zip(self.other, self.other_linear, d_other):
            if lin is not None:  # g.x + c, with x0 ~ x0(free) + d_x0.(y - free)
                g, c = lin
                gy = g[1:p.n_beta] + g[0] * d_x0
                c0 = c + g[0] * (x[0] - d_x0 @ free)
                epigraph = g[0] == 0  # t_j >= beta: exact, no slack needed
                row(gy, g[p.n_beta:], c0, 0.0 if epigraph else 1.0)
            else:
                row(d, np.zeros(nt), f(x) - d @ free, 1.0)
        # fact 7: the exact shares are piecewise constant; difference them over a wide step
        shares = np.array(self.fact7_shares(self.M @ free))
        step = 0.02
        d_sh = np.zeros((2, nfree))
        for i in range(nfree):
            e = np.zeros(nfree)
            e[i] = step
            d_sh[:, i] = (np.array(self.fact7_shares(self.M @ (free + e)))
                          - np.array(self.fact7_shares(self.M @ (free - e)))) / (2 * step)
        for share, g, (lo, hi) in zip(shares, d_sh, (SP_BAND, LOW_BAND)):
            row(g, np.zeros(nt), share - lo - g @ free, 0.1)
            row(-g, np.zeros(nt), hi - share + g @ free, 0.1)
        res = linprog(np.r_[np.zeros(nfree + nt), -1.0], A_ub=np.array(R), b_ub=np.array(q),
                      bounds=[(v - radius, v + radius) for v in free] + [(None, None)] * nt
                      + [(None, 0.1)], method="highs")
        if not res.success:
            raise RuntimeError(f"no interior point for the linearised constraints: {res.message}")
        centre = res.x[:nfree]
        for lam in (1.0, 0.5, 0.3, 0.2, 0.1, 0.05, 0.02, 0.01):
            y = free + lam * (centre - free)
            if self.member(y) is not None:
                return y
        return None

    def start(self, free: np.ndarray, rounds: int = 4) -> np.ndarray:
        """``interior_start`` repeated while it succeeds: each round moves further inside.

        ``free`` may be slightly outside (the shipped point model, rounded to 4 decimals).
        """
        for _ in range(rounds):
            y = self.interior_start(free)
            if y is None:
                break
            free = y
        if self.member(free) is None:
            raise RuntimeError("no feasible start near the point model")
        return free

    def chord(self, free: np.ndarray, d: np.ndarray) -> tuple[float, float]:
        """[lo, hi] of t such that the linear constraints hold at free + t d."""
        ad = self.A @ d
        slack = self.A @ free + self.b + TOL  # >= 0
        with np.errstate(divide="ignore"):
            t = -slack / ad
        lo = t[ad > 0].max(initial=-np.inf)
        hi = t[ad < 0].min(initial=np.inf)
        return min(max(lo, -4 * self.box), 0.0), max(min(hi, 4 * self.box), 0.0)


def hit_and_run(feas: Feasible, free: np.ndarray, rng: np.random.Generator, steps: int,
                chol: np.ndarray | None = None, trace: list | None = None) -> np.ndarray:
    """``steps`` hit-and-run moves from a feasible point (uniform law on the feasible set)."""
    nfree = len(free)
    z = feas.M @ free
    for _ in range(steps):
        # moves along one coordinate (wide where other coefficients are squeezed), along all the
        # modalities of one criterion at once (their published order is kept), or along a random
        # direction (from the burn-in's covariance once adapted)
        u = rng.random()
        if u < COORDINATE:
            d = np.zeros(nfree)
            d[rng.integers(nfree)] = 1.0
        elif u < COORDINATE + BLOCK:
            d = np.zeros(nfree)
            d[feas.blocks[rng.integers(len(feas.blocks))]] = 1.0
            d /= np.linalg.norm(d)
        else:
            d = rng.standard_normal(nfree)
            if chol is not None:
                d = chol @ d
            d /= np.linalg.norm(d)
        lo, hi = feas.chord(free, d)
        dz = feas.M @ d
        while True:  # shrinkage: the current point (t = 0) is feasible, so this ends
            t = rng.uniform(lo, hi)
            if feas.member(free + t * d, z + t * dz) is not None:
                free, z = free + t * d, z + t * dz
                break
            if hi - lo < 1e-12:
                break
            lo, hi = (t, hi) if t < 0 else (lo, t)
        if trace is not None:
            trace.append(free.copy())
    return free


# ---------------------------------------------------------------------------------------------
# members: rounding, rendering, the published facts' check


def ensemble_keys(p: cnaf2014.Problem) -> list[str]:
    return ["intercept"] + [f"{cid}.{mid}" for cid, mid in p.keys]


def candidate(base: Model, keys: list[str], member_id: str, values: list[float]) -> Model:
    """A member rendered exactly as the shipped file renders it (``profilage.models.ensemble``)."""
    import hashlib

    from profilage.models.ensemble import Ensemble, _render_member

    ens = Ensemble(model=base.id, base_sha256=base.sha256, method="", method_en="", seed=SEED,
                   facts=tuple(base.facts), keys=tuple(keys), member_ids=(member_id,),
                   matrix=np.array([values], dtype=float), path=Path(f"{base.id}.json"))
    text = _render_member(ens, 0)
    return parse_model(tomllib.loads(text), member_id,
                       sha256=hashlib.sha256(text.encode()).hexdigest())


def facts_hold(model: Model) -> bool:
    """Every fact the model declares holds, by the code of ``profilage models check``."""
    from profilage.facts import check_model

    return all(r["holds"] is True for r in check_model(model))


def _setup(model_id: str = MODEL_ID) -> tuple[Feasible, Model, np.ndarray]:
    """The fit's constraint set, the point model, and the chains' common feasible start."""
    import functools

    base = load_model(model_id)
    p = cnaf2014.Problem()
    # the fit's criterion and modality lookups are linear searches; memoise them (same values)
    p._c = functools.lru_cache(maxsize=None)(p._c)
    p._m = functools.lru_cache(maxsize=None)(p._m)
    matched = cnaf2014._matched_modalities(Path(base.path), list(PERSONAS))
    feas = Feasible(p, matched, Fact7(p))
    point = np.array([base.criterion(c).modality(m).coefficient.value for c, m in p.keys])
    return feas, base, point


_WORKER: dict = {}


def run_chain(c: int, per: int, seed: int = SEED, chains: int = CHAINS,
              only: int | None = None) -> tuple[list[tuple[str, list[float]]], int, int]:
    """Chain ``c``: its first ``only`` (default ``per``) members, rejections, membership checks.

    Independent of the other chains (its own random stream), so any subset re-runs identically.
    """
    if "feas" not in _WORKER:
        feas, base, point = _setup()
        _WORKER.update(feas=feas, base=base, start=feas.start(point))
    feas, base, start = _WORKER["feas"], _WORKER["base"], _WORKER["start"]
    p = feas.p
    keys = ensemble_keys(p)
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(chains)[c])
    calls0 = feas.calls
    free = hit_and_run(feas, start, rng, BURN_IN // 2)
    trace: list[np.ndarray] = []
    free = hit_and_run(feas, free, rng, BURN_IN - BURN_IN // 2, trace=trace)
    chol = np.linalg.cholesky(np.cov(np.array(trace).T) + 1e-6 * np.eye(len(free)))
    out, rejected = [], 0
    while len(out) < (per if only is None else only):
        free = hit_and_run(feas, free, rng, THIN, chol)
        x = feas.full(free)
        values = [round(float(v), DECIMALS) + 0.0 for v in x[:p.n_beta]]
        mid = f"{base.id}-e{c * per + len(out) + 1:03d}"
        if facts_hold(candidate(base, keys, mid, values)):
            out.append((mid, values))
        else:
            rejected += 1
    return out, rejected, feas.calls - calls0


def _run_chain_star(args: tuple) -> tuple:
    return run_chain(*args)


@dataclass
class Draws:
    keys: list[str]
    members: list[tuple[str, list[float]]]
    rejected: int
    calls: int


def draw(size: int = SIZE, chains: int = CHAINS, seed: int = SEED, jobs: int = 2,
         log: Callable[[str], None] | None = None) -> Draws:
    """Every chain (``jobs`` processes at most; the result does not depend on ``jobs``)."""
    per = size // chains
    if per * chains != size:
        raise ValueError("size must be a multiple of the number of chains")
    args = [(c, per, seed, chains) for c in range(chains)]
    if jobs > 1:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(min(jobs, 2)) as pool:
            results = pool.map(_run_chain_star, args, chunksize=1)
    else:
        results = [run_chain(*a) for a in args]
    members, rejected, calls = [], 0, 0
    for c, (got, rej, n) in enumerate(results):
        members += got
        rejected += rej
        calls += n
        if log:
            log(f"chaîne {c} : {len(got)} membres, {rej} rejet(s), {n} vérifications")
    return Draws(ensemble_keys(cnaf2014.Problem()), members, rejected, calls)


def method_texts(rejected: int, size: int = SIZE) -> tuple[str, str]:
    kw = dict(model=MODEL_ID, box=f"{BOX:g}", chains=CHAINS, burn=BURN_IN, thin=THIN,
              rejected=rejected, seed=SEED, size=size)
    return METHOD_FR.format(**kw), METHOD_EN.format(**kw)


# ---------------------------------------------------------------------------------------------
# what the ensemble says: per-coefficient ranges, personas' scores (the generated table)


def summary(path: Path | None = None) -> dict:
    """Per-key ranges and the personas' score ranges of the shipped ensemble."""
    from profilage.models.ensemble import load_ensemble, load_ensemble_file
    from profilage.scoring import score_dossier

    ens = load_ensemble_file(path) if path else load_ensemble(MODEL_ID)
    base = ens.base()
    point = {"intercept": base.intercept.value}
    for c in base.criteria:
        for m in c.modalities:
            point[f"{c.id}.{m.id}"] = m.coefficient.value
    rows = []
    for j, key in enumerate(ens.keys):
        col = ens.matrix[:, j]
        rows.append({"key": key, "point": point[key], "min": float(col.min()),
                     "median": float(np.median(col)), "max": float(col.max()),
                     "sd": float(col.std())})
    members = ens.members()
    scores = {}
    for persona in PERSONAS:
        vals = np.array([score_dossier(persona, m)["score"] for m in members])
        scores[persona] = {"point": score_dossier(persona, base)["score"], "min": float(vals.min()),
                           "median": float(np.median(vals)), "max": float(vals.max())}
    X = ens.matrix
    p0 = np.array([point[k] for k in ens.keys])
    pair = np.linalg.norm(X[:, None, :] - X[None, :, :], axis=2)[np.triu_indices(ens.size, 1)]
    spread = X.max(axis=0) - X.min(axis=0)
    diag = {"wide_1": int((spread > 1.0).sum()), "wide_01": int((spread > 0.1).sum()),
            "keys": len(ens.keys), "min_dist_point": float(np.linalg.norm(X - p0, axis=1).min()),
            "median_pair": float(np.median(pair)), "rhat_max": None}
    if ens.size % CHAINS == 0 and ens.size // CHAINS >= 2:  # Gelman-Rubin across the chains
        C = X.reshape(CHAINS, ens.size // CHAINS, -1)
        n = C.shape[1]
        w = C.var(axis=1, ddof=1).mean(axis=0)
        b = n * C.mean(axis=1).var(axis=0, ddof=1)
        ok = w > 1e-12
        diag["rhat_max"] = float(np.sqrt(((n - 1) / n * w[ok] + b[ok] / n) / w[ok]).max())
    return {"size": ens.size, "rows": rows, "scores": scores, "diag": diag}


def ranges_markdown(rejected: int, path: Path | None = None) -> str:
    s = summary(path)
    fr, en = method_texts(rejected, s["size"])
    lines = [
        f"# Ensemble de reconstructions `{MODEL_ID}` / ensemble of reconstructions",
        "",
        f"Généré par `python -m profilage.reconstruct.ensemble` (ne pas modifier à la main). "
        f"{s['size']} membres, graine {SEED}, {rejected} tirage(s) rejeté(s) après arrondi.",
        "",
        fr,
        "",
        en,
        "",
        "## Scores des personas / personas' scores",
        "",
        "| persona | modèle ponctuel | min | médiane | max |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, v in s["scores"].items():
        lines.append(f"| {name} | {v['point']:.3f} | {v['min']:.3f} | {v['median']:.3f} | "
                     f"{v['max']:.3f} |")
    g = s["diag"]
    lines += [
        "",
        "## Couverture / coverage",
        "",
        f"- coefficients dont l'étendue dépasse 1 / range over 1: {g['wide_1']} sur {g['keys']} ; "
        f"dépasse 0,1 / over 0.1: {g['wide_01']}",
        f"- distance euclidienne minimale au modèle ponctuel / smallest distance to the point "
        f"model: {g['min_dist_point']:.2f} ; distance médiane entre deux membres / median distance "
        f"between two members: {g['median_pair']:.2f}",
    ]
    if g["rhat_max"] is not None:
        lines.append(f"- R-hat de Gelman-Rubin maximal entre les {CHAINS} chaînes / largest "
                     f"Gelman-Rubin R-hat across the {CHAINS} chains: {g['rhat_max']:.2f}")
    lines += [
        "",
        "Les étendues sont celles des membres tirés, pas les valeurs extrêmes possibles : "
        "l'ensemble des coefficients compatibles est au moins aussi large. / The ranges are "
        "those of the members drawn, not the extreme feasible values: the feasible set is at "
        "least as wide.",
        "",
        "## Coefficients (log-odds) / coefficients",
        "",
        f"Les coefficients que les faits publiés ne bornent pas vont jusqu'à la boîte de "
        f"plausibilité (±{BOX:g}). Coefficients the published facts do not bound reach the "
        f"plausibility box (±{BOX:g}).",
        "",
        "| coefficient | modèle ponctuel | min | médiane | max | écart-type |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in s["rows"]:
        lines.append(f"| `{r['key']}` | {r['point']:+.4f} | {r['min']:+.4f} | {r['median']:+.4f} | "
                     f"{r['max']:+.4f} | {r['sd']:.4f} |")
    return "\n".join(lines) + "\n"


def write(draws: Draws, out: Path | None = None) -> tuple[Path, Path]:
    from profilage.models.ensemble import ensemble_path, write_ensemble

    base = load_model(MODEL_ID)
    path = out or ensemble_path(MODEL_ID)
    fr, en = method_texts(draws.rejected, len(draws.members))
    write_ensemble(path, base, method=fr, method_en=en, seed=SEED, facts=list(base.facts),
                   keys=draws.keys, members=draws.members)
    md = path.with_suffix(".md")
    md.write_text(ranges_markdown(draws.rejected, path if out else None), encoding="utf-8")
    return path, md


def main(argv: list[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m profilage.reconstruct.ensemble",
                                 description="Draw the ensemble of cnaf-2014 reconstructions.")
    ap.add_argument("--jobs", type=int, default=2, help="processes (1 or 2; same result)")
    ap.add_argument("--out", type=Path, default=None, help="write here instead of the package")
    a = ap.parse_args(argv)
    t0 = time.time()
    d = draw(jobs=a.jobs, log=lambda s: print(s, file=sys.stderr, flush=True))
    path, md = write(d, a.out)
    print(f"{path}: {len(d.members)} membres, {d.rejected} rejet(s), {d.calls} vérifications, "
          f"{time.time() - t0:.0f} s", file=sys.stderr)
    print(path)
    print(md)


if __name__ == "__main__":
    main()

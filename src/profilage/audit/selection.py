"""Whom the institution controls: the month's highest scores up to the control budget.

Three ways to select, as the institution could: a number of controls per month (default: the
CNAF's about 166,000 data-mining controls of 2024, scaled to the population's size), a share of
households, or a score threshold; optionally with per-département quotas proportional to the
number of households. Ties are broken deterministically: higher score first, then the smaller
``household_id``. A random draw of the same size (the "random-control baseline") is made beside.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from profilage.errors import ProfilageError

#: Controls triggered by the data-mining score in 2024 (CNAF; sources.md section 3).
CONTROLES_PAR_AN = 166_000
#: Beneficiary households, Dec 2023 (Insee Focus 348; sources.md section 3).
FOYERS_NATIONAUX = 13_800_000
BUDGET_SOURCE = ("CNAF 2024 : environ 166 000 contrôles déclenchés par le score par an, pour 13,8 M "
                 "de foyers (Insee Focus 348), soit 166 000 × N / 13,8 M / 12 par mois")


def default_budget_per_month(households: int) -> int:
    """166,000 controls a year for 13.8 M households, scaled to ``households``, per month (>= 1)."""
    return max(1, round(CONTROLES_PAR_AN * households / FOYERS_NATIONAUX / 12))


@dataclass
class Selection:
    """How households are selected; exactly one of the three may be set (none: default budget)."""

    budget_per_month: int | None = None
    share: float | None = None
    threshold: float | None = None
    quota_by: str | None = None
    seed: int = 0
    # filled by select()
    method: str = field(default="", init=False)
    budgets: dict = field(default_factory=dict, init=False)

    def check(self) -> None:
        given = [n for n, v in (("--budget-per-month", self.budget_per_month), ("--share", self.share),
                                ("--threshold", self.threshold)) if v is not None]
        if len(given) > 1:
            raise ProfilageError(f"choose one of {', '.join(given)}", field=given[1])
        if self.budget_per_month is not None and (
                not isinstance(self.budget_per_month, int) or self.budget_per_month < 1):
            raise ProfilageError(f"expected a whole number >= 1, got {self.budget_per_month!r}",
                                 field="--budget-per-month")
        if self.share is not None and not (0 < self.share <= 1):
            raise ProfilageError(f"expected a share in (0, 1], got {self.share!r}", field="--share")
        if self.threshold is not None and not (0 <= self.threshold <= 1):
            raise ProfilageError(f"expected a score in [0, 1], got {self.threshold!r}",
                                 field="--threshold")

    def describe(self) -> dict:
        return {"method": self.method, "budget_per_month": self.budget_per_month,
                "share": self.share, "threshold": self.threshold, "quota_by": self.quota_by,
                "budgets": self.budgets,
                "source": BUDGET_SOURCE if self.method == "default_budget" else None}


def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` proportionally to ``weights`` into integers summing to ``total``
    (Hamilton's largest-remainder method; equal remainders go to the larger cell first)."""
    raw = total * weights / weights.sum()
    base = np.floor(raw).astype(np.int64)
    rest = total - int(base.sum())
    order = np.lexsort((-weights, -(raw - base)))  # largest remainder, then the larger cell
    base[order[:rest]] += 1
    return np.minimum(base, weights.astype(np.int64))


def select(frame: pl.DataFrame, sel: Selection | None = None, *, score: str = "score",
           rank: bool = True) -> pl.DataFrame:
    """Add ``rank`` (0 = highest score of its month), ``selected``, ``top_decile``,
    ``random_selected`` (same number drawn at random) and ``budget`` (the month's) to ``frame``.

    ``frame`` needs ``household_id``, ``month`` and the score column. Without ``rank``, the
    ``rank`` column is not added and no household is ranked: ``selected`` and ``top_decile`` are
    the same, found by partial selection (:func:`_top_k`) instead of a sort of every household.
    """
    sel = sel or Selection()
    sel.check()
    if sel.quota_by is not None and sel.quota_by not in frame.columns:
        raise ProfilageError(f"unknown column {sel.quota_by!r}", field="--quota-by")
    if sel.quota_by is not None and sel.threshold is not None:
        raise ProfilageError("quotas need a number of controls, not a threshold", field="--quota-by")
    ids = frame["household_id"].to_numpy()
    scores = frame[score].cast(pl.Float64).to_numpy()
    month_code = _codes(frame, ["month"])
    month_n = np.bincount(month_code)
    df = frame.with_columns(rank=pl.Series(_rank_within(month_code, scores, ids))) if rank \
        else frame
    if len(month_n) == 1 and frame.height:  # one month (or none known): no group_by
        ns = {frame["month"][0]: frame.height}
    else:
        months = df.group_by("month", maintain_order=True).agg(n=pl.len())
        ns = dict(zip(months["month"].to_list(), months["n"].to_list()))
    if sel.threshold is not None:
        sel.method = "threshold"
        df = df.with_columns(selected=pl.col(score).fill_null(-1.0) >= sel.threshold)
        counts = df.group_by("month").agg(k=pl.col("selected").sum())
        budgets = dict(zip(counts["month"].to_list(), counts["k"].to_list()))
    else:
        if sel.share is not None:
            sel.method = "share"
            budgets = {mo: max(1, round(sel.share * n)) if n else 0 for mo, n in ns.items()}
        elif sel.budget_per_month is not None:
            sel.method = "budget"
            budgets = {mo: sel.budget_per_month for mo in ns}
            too_big = [mo for mo, n in ns.items() if sel.budget_per_month > n]
            if too_big:
                raise ProfilageError(
                    f"budget {sel.budget_per_month} exceeds the {ns[too_big[0]]} households of "
                    f"month {too_big[0]}", field="--budget-per-month")
        else:
            sel.method = "default_budget"
            budgets = {mo: default_budget_per_month(n) for mo, n in ns.items()}
        if sel.quota_by is None and rank:
            df = _with_budget(df, budgets).with_columns(
                selected=(pl.col("rank") < pl.col("budget")) & pl.col(score).is_not_null())
        elif sel.quota_by is None:  # the same households, without ranking them all
            k = np.zeros(len(month_n), dtype=np.int64)
            for mo, b in budgets.items():
                k[_month_code_of(df, month_code, mo)] = b
            df = _with_budget(df, budgets).with_columns(
                selected=pl.Series(_top_mask(month_code, scores, ids, k, missing=False)))
        else:
            q = sel.quota_by
            quotas = quota_table(df, q, budgets)
            qrank = _rank_within(_codes(df, ["month", q]), scores, ids)
            df = df.join(quotas, on=["month", q], how="left", nulls_equal=True,
                         maintain_order="left").with_columns(_qrank=pl.Series(qrank))
            df = df.with_columns(selected=(pl.col("_qrank") < pl.col("quota"))
                                 & pl.col(score).is_not_null()).drop("_qrank", "quota")
            df = df.drop([c for c in ("budget",) if c in df.columns])
    sel.budgets = {months_label(k): int(v) for k, v in budgets.items()}
    if "budget" not in df.columns:
        df = _with_budget(df, budgets)
    # Random-control baseline: the same number of households per month (and per quota cell),
    # drawn uniformly; numpy keys keep it vectorised and reproducible with the seed.
    # salted: a population generated with the same plain seed must not share our stream
    rng = np.random.default_rng([sel.seed, 0x5E1EC7])
    part = month_code if sel.quota_by is None else _codes(df, ["month", sel.quota_by])
    # the k highest random keys of each partition (rank < k), ties to the smaller row
    draws = rng.random(df.height)
    chosen_now = df["selected"]
    k = (np.array([int(chosen_now.sum())]) if len(part) and part.max() == 0 else
         np.bincount(part, weights=chosen_now.to_numpy().astype(np.float64)).astype(np.int64))
    rows = np.arange(df.height)
    if len(k) == 1:
        chosen = _top_k(draws, rows, int(k[0]))
    else:
        order = np.argsort(part, kind="stable")
        starts = np.searchsorted(part[order], np.arange(len(k) + 1))
        chosen = np.concatenate([order[a:b][_top_k(draws[order[a:b]], order[a:b], int(kk))]
                                 for a, b, kk in zip(starts[:-1], starts[1:], k)] or [rows[:0]])
    random_selected = np.zeros(df.height, dtype=bool)
    random_selected[chosen] = True
    top = -(-month_n // 10)  # ceil(n / 10) households of each month
    if rank:
        top_decile = pl.col("rank") < pl.Series(top[month_code])
    else:
        top_decile = pl.Series(_top_mask(month_code, scores, ids, top, missing=True))
    return df.with_columns(random_selected=pl.Series(random_selected), top_decile=top_decile)


def _month_code_of(df: pl.DataFrame, month_code: np.ndarray, month) -> int:
    """The partition code (:func:`_codes`) of one month's households."""
    if len(month_code) == 0 or month_code.max() == 0:
        return 0
    hit = df["month"].is_null() if month is None else df["month"] == month
    return int(month_code[hit.arg_true()[0]])


def _top_mask(part: np.ndarray, s: np.ndarray, ids: np.ndarray, k: np.ndarray, *,
              missing: bool) -> np.ndarray:
    """``rank < k[part]`` of :func:`_rank_within`, without ranking every household: the ``k``
    highest scores of each partition (NaN last, ties to the smaller id) by partial selection.
    Without ``missing``, a household without a score (NaN) is never in it."""
    nan = np.isnan(s)
    if nan.any():
        s = np.where(nan, -np.inf, s)
    out = np.zeros(len(s), dtype=bool)
    if len(s) == 0:
        return out
    if part.max() == 0:
        out[_top_k(s, ids, int(k[0]), keep_missing=missing)] = True
        return out
    order = np.argsort(part, kind="stable")
    bounds = np.flatnonzero(np.r_[True, part[order][1:] != part[order][:-1], True])
    for a, b in zip(bounds[:-1], bounds[1:]):
        p = order[a:b]
        out[p[_top_k(s[p], ids[p], int(k[part[p[0]]]), keep_missing=missing)]] = True
    return out


def _with_budget(df: pl.DataFrame, budgets: dict) -> pl.DataFrame:
    """The month's budget as a column (one month: a constant, no join)."""
    if len(budgets) == 1:  # (a materialised column: broadcasting a literal is 10x slower)
        return df.with_columns(budget=pl.repeat(next(iter(budgets.values())), df.height,
                                                dtype=pl.Int64, eager=True))
    bud = pl.DataFrame({"month": list(budgets), "budget": list(budgets.values())},
                       schema={"month": df.schema["month"], "budget": pl.Int64})
    return df.join(bud, on="month", how="left", maintain_order="left")


def quota_table(df: pl.DataFrame, q: str, budgets: dict) -> pl.DataFrame:
    """Each month's budget split over the cells of ``q`` proportionally to their households
    (columns month, ``q``, quota)."""
    cells = df.group_by(["month", q]).agg(n=pl.len()).sort(["month", q], nulls_last=True)
    parts = []
    for mo, total in budgets.items():
        c = cells.filter(pl.col("month") == mo) if mo is not None else cells.filter(
            pl.col("month").is_null())
        quotas = _largest_remainder(total, c["n"].to_numpy().astype(np.float64))
        parts.append(c.with_columns(quota=pl.Series(quotas, dtype=pl.Int64)))
    return pl.concat(parts).drop("n")


class Selector:
    """The selection rule of a finished :func:`select`, applied to other scores of the same
    households (an ensemble's members): the same budgets and quotas, the same tie-break (higher
    score, then smaller ``household_id``), without ranking every household.

    ``frame`` is the selected frame (it has ``month``, ``budget`` and the quota column).
    """

    def __init__(self, frame: pl.DataFrame, sel: Selection):
        self.threshold = sel.threshold
        self.ids = frame["household_id"].to_numpy()
        cols = ["month"] + ([sel.quota_by] if sel.quota_by else [])
        part = _codes(frame, cols)
        if sel.threshold is None:
            if sel.quota_by:
                mb = frame.select("month", "budget").unique("month")
                qt = quota_table(frame, sel.quota_by, dict(zip(mb["month"].to_list(),
                                                               mb["budget"].to_list())))
                k_rows = frame.select("month", sel.quota_by).join(
                    qt, on=["month", sel.quota_by], how="left", nulls_equal=True,
                    maintain_order="left")["quota"].to_numpy()
            else:
                k_rows = frame["budget"].to_numpy()
            k = np.zeros(int(part.max()) + 1 if len(part) else 0, dtype=np.int64)
            k[part] = k_rows
            self.k = k
        if frame.height == 0:
            self.parts, self.part_ids = [], []
            return
        order = np.argsort(part, kind="stable")
        bounds = np.flatnonzero(np.r_[True, part[order][1:] != part[order][:-1], True])
        self.parts = [order[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
        self.part_ids = [int(part[p[0]]) for p in self.parts]

    def rows(self, score: np.ndarray) -> np.ndarray:
        """Indices of the selected households under ``score`` (NaN: no score, never selected)."""
        if self.threshold is not None:
            return np.flatnonzero(score >= self.threshold)
        s = np.where(np.isnan(score), -np.inf, score)
        if not self.parts:
            return np.empty(0, dtype=np.int64)
        if len(self.parts) == 1:
            return _top_k(s, self.ids, int(self.k[self.part_ids[0]]))
        out = [p[_top_k(s[p], self.ids[p], int(self.k[pid]))]
               for p, pid in zip(self.parts, self.part_ids)]
        return np.sort(np.concatenate(out)) if out else np.empty(0, dtype=np.int64)


def _top_k(s: np.ndarray, ids: np.ndarray, k: int, *, keep_missing: bool = False) -> np.ndarray:
    """Rows of the ``k`` highest values of ``s`` (-inf: never, unless ``keep_missing``: then
    last), ties to the smaller id.

    A strided sample gives a value below the k-th with a wide margin; only the households at or
    above it are ranked exactly (the sample is checked: too few above it, rank them all)."""
    n = len(s)
    k = min(k, n)
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    cand = None
    if n > 50_000 and k < n // 4:
        sample = s[::16]
        r = min(len(sample) - 1, 2 * (k // 16) + 16)
        t0 = np.partition(sample, len(sample) - 1 - r)[len(sample) - 1 - r]
        c = np.flatnonzero(s >= t0)
        if len(c) >= k:  # then the k-th highest value is >= t0: every one of the k is in c
            cand = c
    if cand is None:  # every row is a candidate (no index array, no copy)
        t = np.partition(s, n - k)[n - k]
        above, ties = np.flatnonzero(s > t), np.flatnonzero(s == t)
    else:
        sc = s[cand]
        t = np.partition(sc, len(sc) - k)[len(sc) - k]
        above, ties = cand[sc > t], cand[sc == t]
    need = k - len(above)
    chosen = ties[np.argsort(ids[ties], kind="stable")[:need]]
    rows = np.concatenate([above, chosen])
    return np.sort(rows if keep_missing else rows[s[rows] > -np.inf])


def _codes(df: pl.DataFrame, cols: list[str]) -> np.ndarray:
    """Dense integer code (0..) of each row's partition (nulls are a partition of their own)."""
    if len(cols) == 1 and df.height and df[cols[0]].null_count() == 0 \
            and df[cols[0]].min() == df[cols[0]].max():  # one month: no sort
        return np.zeros(df.height, dtype=np.int64)
    expr = pl.col(cols[0]) if len(cols) == 1 else pl.struct(cols)
    return (df.select(expr.rank("dense")).to_series().fill_null(0).to_numpy()
            .astype(np.int64))


def _rank_within(part: np.ndarray, score: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """0-based rank within each partition: highest score first (missing last), then smaller id.

    Vectorised with numpy (one lexsort), without reordering the frame.
    """
    s = np.where(np.isnan(score), -np.inf, score)
    if len(s) and part.max() == 0 and (len(ids) < 2 or (np.diff(ids) > 0).all()):
        order = np.argsort(-s, kind="stable")  # one partition, ids ascending: the same order
    else:
        order = np.lexsort((ids, -s, part))
    ranks = np.empty(len(order), dtype=np.int64)
    if len(order) and part[order[0]] == part[order[-1]]:  # one partition
        ranks[order] = np.arange(len(order))
        return ranks
    sorted_part = part[order]
    starts = np.flatnonzero(np.r_[True, sorted_part[1:] != sorted_part[:-1]])
    lengths = np.diff(np.r_[starts, len(order)])
    ranks[order] = np.arange(len(order)) - np.repeat(starts, lengths)
    return ranks


def cutoff_scores(selected: pl.DataFrame, score: str = "score") -> dict:
    """Lowest selected score per month: the score a household needed to be controlled."""
    c = selected.filter(pl.col("selected")).group_by("month").agg(pl.col(score).min())
    return {months_label(m): s for m, s in zip(c["month"].to_list(), c[score].to_list())}


def months_label(m) -> str:
    return "" if m is None else (m.strftime("%Y-%m") if hasattr(m, "strftime") else str(m))


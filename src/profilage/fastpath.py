"""The fast path: a population's inputs as compact modality codes, scored by gathering.

One representation of a scored population that every consumer shares. The features are derived
once (:mod:`profilage.features`), then each criterion's matched modality is computed once, by
the engine's own matching (:func:`profilage.engine.modality_index`), into a one-byte code per
household: ``0 .. len(modalities) - 1``, and ``len(modalities)`` for an unknown input. Any model
over those criteria -- the point model, the hundred members of an ensemble of reconstructions,
two versions of a model -- is then scored by gathering from small coefficient tables, without a
column per criterion:

- a criterion's table holds, per code, the low and high bound of its contribution: the
  coefficient's (its declared range when it is unknown or redacted, infinite without one) and,
  for the unknown code, the lowest and highest of its modalities' bounds -- the engine's rules;
- criteria are packed by groups into one ``uint16`` code whose table (at most ``PACK`` entries,
  in the first-level cache) is the sum of the group's tables, so a model is about nine gathers
  per bound instead of one per criterion;
- the high bound is only gathered for households that can differ from the low one (an unknown
  input, a coefficient known only by a range); a fully known household is determined;
- the score is Le Monde's bounded mean with its Taylor series below width 0.01, the same
  formulas as :mod:`profilage.engine` (see its docstring); numeric predictors follow the
  engine's formula too.

The Polars engine stays the reference (contributions, one dossier's explanation); this path
agrees with it, the SQL and the JS engine to 1e-12 on every shipped model (tests/test_fastpath.py).
"""

from __future__ import annotations

import functools
import math
import operator
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import polars as pl

from profilage.engine import (
    SERIES_WIDTH,
    categorical_unknown_bounds,
    missing_feature_columns,
    modality_index,
    numeric_unknown_bounds,
    with_presence,
)
from profilage.models import Criterion, Model, load_model

#: Largest table of one packed group of criteria (entries): 512 x 8 bytes stays in L1.
PACK = 512
#: Rows per slice of the gathers (the slice's accumulators stay in cache).
CHUNK = 1 << 16


def _signature(c: Criterion) -> tuple:
    """What determines a criterion's codes (not its coefficients): two versions of a model or
    the members of an ensemble share the codes of criteria with the same signature."""
    mods = tuple((m.kind, m.value, m.min, m.max) for m in c.modalities)
    return (c.kind, c.feature, c.presence, mods)


@dataclass(frozen=True)
class Tables:
    """A model as small coefficient tables over modality codes (see the module docstring).

    ``low[j]`` / ``high[j]`` are the contribution bounds of categorical criterion ``j`` per
    code (last: unknown input); ``numeric`` the numeric predictors; ``base`` the log-odds
    bounds before the criteria (intercept and redacted criteria's ranges).
    """

    model: Model
    categorical: tuple[Criterion, ...]
    low: tuple[np.ndarray, ...]
    high: tuple[np.ndarray, ...]
    numeric: tuple[Criterion, ...]
    base: tuple[float, float]

    @classmethod
    def of(cls, model: Model | str) -> Tables:
        m = load_model(model)
        cat = tuple(c for c in m.criteria if c.kind != "numeric")
        lows, highs = [], []
        for c in cat:
            lo = [mod.coefficient.low for mod in c.modalities]
            hi = [mod.coefficient.high for mod in c.modalities]
            unk_lo, unk_hi = categorical_unknown_bounds(c)
            lows.append(np.array([*lo, unk_lo], dtype=np.float64))
            highs.append(np.array([*hi, unk_hi], dtype=np.float64))
        return cls(m, cat, tuple(lows), tuple(highs),
                   tuple(c for c in m.criteria if c.kind == "numeric"), m.base_bounds())


def modality_code(c: Criterion, dtype: pl.DataType | None = None) -> pl.Expr:
    """The criterion's code as the fast path stores it: the engine's matched modality
    (:func:`profilage.engine.modality_index`), ``len(modalities)`` for an unknown input, as
    ``UInt8``; computed in the query (in parallel with the other criteria).

    With the input's type known (``dtype``), the same index by fewer operations: for bins over
    a number, the count of bin ends the value is not below (the engine takes the first bin whose
    end the value is below; the ends ascend, so that count is the bin's position, a NaN being in
    the last bin either way); for categories of text, one cast to an enumeration of the
    modalities' values (a value outside it is unknown, as no ``==`` would match); for true/false
    categories, the boolean itself. The presence rule is the engine's. Any other case, or
    modalities not numbered in that order: the engine's expression. Equal to the engine's on
    every criterion of every shipped model (tests/test_fastpath.py)."""
    idx = _cheap_index(c, dtype)
    if idx is None:
        return modality_index(c).fill_null(len(c.modalities)).cast(pl.UInt8)
    idx = with_presence(c, idx, pl.UInt8)
    return idx.fill_null(pl.lit(len(c.modalities), dtype=pl.UInt8))


def _cheap_index(c: Criterion, dtype: pl.DataType | None) -> pl.Expr | None:
    """:func:`modality_code`'s cheaper matching before the presence rule, or None."""
    if dtype is None or len(c.modalities) >= 255:
        return None
    regular = [(i, m) for i, m in enumerate(c.modalities) if m.kind != "absent"]
    if len(regular) < 2:
        return None
    first = regular[0][0]
    col = pl.col(c.feature)

    def shifted(pos: pl.Expr) -> pl.Expr:  # (UInt8 all along: no wider copy)
        return pos + pl.lit(first, dtype=pl.UInt8) if first else pos

    if c.kind == "bins" and dtype.is_numeric():
        ordered = sorted(regular, key=lambda im: -math.inf if im[1].min is None else im[1].min)
        ends = [m.max for _, m in ordered[:-1]]
        if [i for i, _ in ordered] != list(range(first, first + len(ordered))) or any(
                e is None for e in ends) or ends != sorted(ends):
            return None
        # "not below" is ">=" for integers; a float may be NaN, below nothing
        past = [(col >= e) if dtype.is_integer() else ~(col < e) for e in ends]
        return shifted(functools.reduce(operator.add, (p.cast(pl.UInt8) for p in past)))
    if c.kind != "categorical" or [i for i, _ in regular] != list(
            range(first, first + len(regular))):
        return None
    values = [m.value for _, m in regular]
    if dtype == pl.String and all(isinstance(v, str) for v in values) \
            and len(set(values)) == len(values):
        return shifted(col.cast(pl.Enum(values), strict=False).to_physical().cast(pl.UInt8))
    if dtype == pl.Boolean and values in ([False, True], [True, False]):
        return shifted(col.cast(pl.UInt8) if values == [False, True] else (~col).cast(pl.UInt8))
    return None


def _packs(sizes: list[int]) -> list[list[int]]:
    """Consecutive groups of criteria whose product of table sizes stays within ``PACK``."""
    groups: list[list[int]] = []
    prod = PACK + 1
    for j, s in enumerate(sizes):
        if prod * s > PACK or not groups:
            groups.append([j])
            prod = s
        else:
            groups[-1].append(j)
            prod *= s
    return groups


def _packed_table(tables: list[np.ndarray]) -> np.ndarray:
    """Sum of one group's tables over every combination of codes (C order: last varies fastest).
    Each table holds only finite values and infinities of one sign, so sums are never NaN."""
    out = tables[0]
    for t in tables[1:]:
        out = np.add.outer(out, t).ravel()
    return np.ascontiguousarray(out, dtype=np.float64)


class CodedPopulation:
    """A table of model inputs turned, criterion by criterion on demand, into modality codes.

    ``features`` is the output of :func:`profilage.features.derive_features` (or any frame of
    model inputs: a missing column counts as unknown). Codes are cached by the criterion's
    matching rule, packed codes by the model's list of criteria: scoring a second model with
    the same criteria (an ensemble member) costs only the gathers.
    """

    def __init__(self, features: pl.DataFrame, source: pl.LazyFrame | None = None):
        self.features = features
        self._source = source  # where further model inputs come from (see from_lazy)
        self.height = features.height
        self._codes: dict[tuple, np.ndarray] = {}
        self._unknown: dict[tuple, np.ndarray] = {}
        self._packed: dict[tuple, tuple[list[list[int]], list[np.ndarray]]] = {}
        self._numeric: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}

    @classmethod
    def from_lazy(cls, features: pl.LazyFrame, model: Model | str, keep: list[str]
                  ) -> CodedPopulation:
        """Derive, in one Polars query, the ``keep`` columns and the codes of ``model``'s
        criteria from a lazy frame of model inputs (e.g. :func:`derive_features`): the inputs
        themselves are not materialised. ``features`` then holds ``keep`` (and the numeric
        predictors' inputs); another model's criteria are matched from the lazy frame again."""
        m = load_model(model)
        src = features.with_columns(missing_feature_columns(m, set(features.collect_schema().names())))
        cats: dict[tuple, Criterion] = {}
        for c in m.criteria:
            if c.kind != "numeric":
                cats.setdefault(_signature(c), c)
        nums = [f for c in m.criteria if c.kind == "numeric" for f in (c.feature, c.presence) if f]
        cols = list(dict.fromkeys([*keep, *nums]))
        schema = src.collect_schema()
        df = src.select(*cols, *[modality_code(c, schema.get(c.feature)).alias(f"__k{i}")
                                 for i, c in enumerate(cats.values())]).collect()
        pop = cls(df.select(cols), source=features)
        for i, (sig, c) in enumerate(cats.items()):
            pop._store_codes(sig, c, df[f"__k{i}"])
        pop.encode(m)  # numeric inputs and the packing
        return pop

    # -- encoding ----------------------------------------------------------------------------
    def _frame_for(self, model: Model) -> pl.DataFrame:
        names = set(self.features.columns)
        if self._source is not None and any(f not in names for f in model.features):
            have = set(self._source.collect_schema().names())
            return self._source.select([f for f in model.features if f in have]).collect() \
                .with_columns(missing_feature_columns(model, have))
        fill = missing_feature_columns(model, names)
        return self.features.with_columns(fill) if fill else self.features

    def _store_codes(self, sig: tuple, c: Criterion, s: pl.Series) -> None:
        """Keep one criterion's codes given by :func:`modality_code` (UInt8, no null)."""
        codes = np.ascontiguousarray(s.to_numpy())
        self._codes[sig] = codes
        self._unknown[sig] = np.flatnonzero(codes == len(c.modalities))

    def encode(self, model: Model | str) -> None:
        """Compute (once) the codes of every criterion of ``model``, and their packing."""
        m = load_model(model)
        self._encode(m)
        self._pack(Tables.of(m))

    def _encode(self, m: Model) -> None:
        todo = {}
        for c in m.criteria:
            if c.kind == "numeric":
                continue
            sig = _signature(c)
            if sig not in self._codes and sig not in todo:
                todo[sig] = c
        nums = [c for c in m.criteria if c.kind == "numeric"
                and (c.feature, c.presence) not in self._numeric]
        if not todo and not nums:
            return
        frame = self._frame_for(m)
        names = [f"k{i}" for i in range(len(todo))]
        if todo:
            idx = frame.select([modality_code(c, frame.schema.get(c.feature)).alias(n)
                                for c, n in zip(todo.values(), names)])
            for (sig, c), n in zip(todo.items(), names):
                self._store_codes(sig, c, idx[n])
        for c in nums:
            x = frame[c.feature].cast(pl.Float64)
            known = x.is_not_null().to_numpy()
            v = x.fill_null(0.0).to_numpy()
            if c.presence:
                absent = (frame[c.presence] == False).fill_null(False).to_numpy()  # noqa: E712
            else:
                absent = np.zeros(self.height, dtype=bool)
            self._numeric[(c.feature, c.presence)] = (np.where(known, v, np.nan), absent)

    def codes(self, criterion: Criterion) -> np.ndarray:
        """Codes of one criterion (uint8; ``len(modalities)`` = unknown input)."""
        sig = _signature(criterion)
        if sig not in self._codes:
            raise KeyError(f"criterion {criterion.id} not encoded (call encode(model) first)")
        return self._codes[sig]

    def _pack(self, t: Tables) -> tuple[list[list[int]], list[np.ndarray]]:
        key = tuple(_signature(c) for c in t.categorical)
        got = self._packed.get(key)
        if got is None:
            groups = _packs([len(x) for x in t.low])
            packed = [np.zeros(self.height, dtype=np.uint16) for _ in groups]
            cols = [[(np.uint16(len(t.low[j])), self.codes(t.categorical[j])) for j in g]
                    for g in groups]

            def part(start: int, stop: int) -> None:
                for code, g in zip(packed, cols):
                    view = code[start:stop]
                    for size, c in g:
                        view *= size
                        view += c[start:stop]

            _in_threads(part, self.height)
            got = (groups, packed)
            self._packed[key] = got
        return got

    # -- scoring -----------------------------------------------------------------------------
    def logits(self, model: Model | str | Tables) -> tuple[np.ndarray, np.ndarray]:
        """Log-odds bounds (``logit_low``, ``logit_high``) of every household under ``model``
        (the same array twice when every household is determined: do not modify them)."""
        t = model if isinstance(model, Tables) else Tables.of(model)
        self._encode(t.model)
        n = self.height
        groups, packed = self._pack(t)
        lo_tabs = [_packed_table([t.low[j] for j in g]) for g in groups]
        hi_tabs = [_packed_table([t.high[j] for j in g]) for g in groups]
        low = _gather_sum(packed, lo_tabs, t.base[0], n)
        # Households whose bounds may differ: a code whose low and high differ (an unknown
        # input always; a known one when its coefficient is only known by a range).
        wide_rows = []
        full = bool(t.numeric)
        for j, c in enumerate(t.categorical):
            w = t.low[j] != t.high[j]
            if not w.any():
                continue
            if not w[:-1].any():  # only the unknown code
                wide_rows.append(self._unknown[_signature(c)])
            else:
                full = True
        if full or t.base[0] != t.base[1]:
            high = _gather_sum(packed, hi_tabs, t.base[1], n)
        else:
            rows = np.unique(np.concatenate(wide_rows)) if wide_rows else np.empty(0, np.int64)
            high = low  # every household determined: one array for both bounds
            if len(rows):
                high = low.copy()
                high[rows] = _gather_sum([p[rows] for p in packed], hi_tabs, t.base[1], len(rows))
        for c in t.numeric:  # (numeric predictors: high was gathered into its own array)
            a, b = self._numeric_bounds(c)
            low += a
            high += b
        return low, high

    def _numeric_bounds(self, c: Criterion) -> tuple[np.ndarray, np.ndarray]:
        """The engine's numeric predictor: value x coefficient (bounds), unknown input over the
        declared range, 0 x unbounded = 0, absent (presence false) = 0."""
        x, absent = self._numeric[(c.feature, c.presence)]
        coef = c.modalities[0].coefficient
        v = x if c.exponent == 1 else np.power(x, c.exponent)
        with np.errstate(invalid="ignore", over="ignore"):
            if coef.low == coef.high:
                lo = v * coef.low
                hi = lo.copy()
            else:
                a = np.where(v == 0, 0.0, v * coef.low)
                b = np.where(v == 0, 0.0, v * coef.high)
                lo, hi = np.minimum(a, b), np.maximum(a, b)
        unk = np.isnan(x)
        if unk.any():
            ulo, uhi = numeric_unknown_bounds(c)
            lo[unk], hi[unk] = ulo, uhi
        lo[absent], hi[absent] = 0.0, 0.0
        return lo, hi

    def score(self, model: Model | str | Tables) -> dict[str, np.ndarray]:
        """``logit_low``, ``logit_high``, ``score_low``, ``score_high``, ``score`` (NaN where
        the engine gives null: an infinite bound) and ``determined``, as numpy arrays."""
        return scores_from_logits(*self.logits(model))

    def score_frame(self, model: Model | str | Tables) -> pl.DataFrame:
        """The engine's score columns as a Polars frame (``score`` null where undefined)."""
        r = self.score(model)
        return pl.DataFrame({
            "logit_low": r["logit_low"], "logit_high": r["logit_high"],
            "score_low": r["score_low"], "score_high": r["score_high"],
            "score": pl.Series(r["score"]).fill_nan(None), "determined": r["determined"]})


def _gather_sum(codes: list[np.ndarray], tables: list[np.ndarray], base: float, n: int
                ) -> np.ndarray:
    """base + sum_k tables[k][codes[k]], slice by slice (the slice stays in cache); the slices
    shared between threads (numpy's take and add release the GIL), each row summed in the same
    order whatever the thread."""
    out = np.empty(n, dtype=np.float64)

    def part(start: int, stop: int) -> None:
        tmp = np.empty(min(stop - start, CHUNK), dtype=np.float64)
        for s in range(start, stop, CHUNK):
            e = min(s + CHUNK, stop)
            acc = out[s:e]
            k = e - s
            acc.fill(base)
            for c, t in zip(codes, tables):
                np.take(t, c[s:e], out=tmp[:k])
                acc += tmp[:k]

    _in_threads(part, n)
    return out


def _in_threads(part, n: int) -> None:
    """``part(start, stop)`` over ``range(n)`` cut into one run of whole slices per core
    (a single call below four slices)."""
    workers = min(os.cpu_count() or 1, 8)
    if workers < 2 or n < 4 * CHUNK:
        part(0, n)
        return
    per = -(-n // workers // CHUNK) * CHUNK
    bounds = [(s, min(s + per, n)) for s in range(0, n, per)]
    with ThreadPoolExecutor(len(bounds)) as pool:
        for f in [pool.submit(part, a, b) for a, b in bounds]:
            f.result()


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), in one buffer (the engine's formula)."""
    out = np.negative(x)
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def scores_from_logits(low: np.ndarray, high: np.ndarray) -> dict[str, np.ndarray]:
    """Score bounds and Le Monde's bounded mean, as the engine computes them (same formulas)."""
    score_low = _sigmoid(low)
    if high is low:  # every household determined (see CodedPopulation.logits)
        return {"logit_low": low, "logit_high": high, "score_low": score_low,
                "score_high": score_low, "score": score_low,
                "determined": np.ones(len(low), dtype=bool)}
    score_high = _sigmoid(high)
    with np.errstate(invalid="ignore"):
        width = high - low
    determined = width == 0
    score = score_low.copy()  # width 0: the series is sigmoid(mid) = sigmoid(low) exactly
    if not determined.all():
        score[~determined] = np.nan
        small = np.flatnonzero(~determined & (width < SERIES_WIDTH))
        if len(small):
            w = width[small]
            s = _sigmoid((low[small] + high[small]) / 2)
            d2 = s * (1.0 - s) * (1.0 - 2.0 * s)
            score[small] = s + d2 * w * w / 24.0 + d2 * (1.0 - 12.0 * s + 12.0 * s * s) * w ** 4 / 1920.0
        big = np.flatnonzero(~determined & (width >= SERIES_WIDTH) & np.isfinite(low)
                             & np.isfinite(high))
        if len(big):
            lo, hi = low[big], high[big]
            w = hi - lo
            pos = lo >= 0
            mean = np.empty(len(big))
            mean[pos] = 1.0 + (np.log1p(np.exp(-hi[pos])) - np.log1p(np.exp(-lo[pos]))) / w[pos]
            neg = ~pos
            mean[neg] = (_softplus(hi[neg]) - _softplus(lo[neg])) / w[neg]
            score[big] = mean
    return {"logit_low": low, "logit_high": high, "score_low": score_low,
            "score_high": score_high, "score": score, "determined": determined}


def score_features(features: pl.DataFrame, model: Model | str) -> pl.DataFrame:
    """``features`` with the engine's score columns, through the fast path."""
    return features.hstack(CodedPopulation(features).score_frame(model))

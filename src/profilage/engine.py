"""The scoring engine: a model compiled once into Polars expressions.

For each household it gives the log-odds interval [``logit_low``, ``logit_high``], the score
bounds, the score and, on request, one contribution interval and the matched modality per
criterion. An unknown input makes its criterion contribute [lowest, highest coefficient of its
modalities]; an unknown coefficient contributes its declared range (infinite if none).

When the household is not determined (``logit_low < logit_high``) the score is Le Monde's "mean
of the sigmoid between the two bounds of the raw score", defined exactly as the continuous mean

    (softplus(high) - softplus(low)) / (high - low)

which is the integral of the sigmoid over [low, high] divided by the interval's width. Below a
width of 0.01 that difference loses digits to cancellation (about 1e-16 / width), so the engine
uses the mean's Taylor series around the midpoint m instead, exact to 1e-18 there:

    s + d2 w^2 / 24 + d4 w^4 / 1920,   s = sigmoid(m)

with the derivatives d2 = s(1-s)(1-2s) and d4 = d2 (1-12s+12s^2). The SQL compilation
(:mod:`profilage.sql`) uses the same formulas, so both agree to about 1e-14 on any interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

from profilage.errors import ProfilageError
from profilage.models import Criterion, Model, load_model

# Below this width the continuous mean loses digits to cancellation; its series is exact there.
SERIES_WIDTH = _SERIES = 1e-2


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def bounded_mean(low: float, high: float) -> float | None:
    """Mean of the sigmoid over [low, high] (Le Monde's method); None when a bound is infinite."""
    if math.isinf(low) or math.isinf(high):
        return None
    w = high - low
    if w < _SERIES:
        s = sigmoid((low + high) / 2)
        d2 = s * (1.0 - s) * (1.0 - 2.0 * s)
        return s + d2 * w * w / 24.0 + d2 * (1.0 - 12.0 * s + 12.0 * s * s) * w ** 4 / 1920.0
    if low >= 0:  # softplus(x) = x + log1p(exp(-x)): subtract the x parts exactly
        return 1.0 + (math.log1p(math.exp(-high)) - math.log1p(math.exp(-low))) / (high - low)
    return (softplus(high) - softplus(low)) / (high - low)


def _sigmoid_expr(x: pl.Expr) -> pl.Expr:
    return 1.0 / (1.0 + (-x).exp())


def _softplus_expr(x: pl.Expr) -> pl.Expr:
    return pl.max_horizontal(x, pl.lit(0.0)) + (-(x.abs())).exp().log1p()


def _series_expr(mid: pl.Expr, w: pl.Expr) -> pl.Expr:
    """Mean of the sigmoid over [mid - w/2, mid + w/2] for small w (Taylor series, see above)."""
    s = _sigmoid_expr(mid)
    d2 = s * (1.0 - s) * (1.0 - 2.0 * s)
    return s + d2 * w * w / 24.0 + d2 * (1.0 - 12.0 * s + 12.0 * s * s) * w.pow(4) / 1920.0


def contrib_cols(criterion_id: str) -> tuple[str, str, str]:
    """Column names of one criterion's contribution bounds and matched modality index."""
    return f"c__{criterion_id}__low", f"c__{criterion_id}__high", f"m__{criterion_id}"


def modality_index(c: Criterion) -> pl.Expr:
    """Index of the matched modality, null when the input is unknown: the one definition of
    modality matching (the engine, the fast path's codes and the SQL follow it)."""
    col = pl.col(c.feature)
    chain = pl.when(col.is_null()).then(pl.lit(None, dtype=pl.Int16))
    regular = [(i, m) for i, m in enumerate(c.modalities) if m.kind != "absent"]
    if c.kind == "categorical":
        for i, m in regular:
            chain = chain.when(col == pl.lit(m.value)).then(pl.lit(i, dtype=pl.Int16))
    else:  # bins, validated to cover the whole domain without overlap
        ordered = sorted(regular, key=lambda im: -math.inf if im[1].min is None else im[1].min)
        for i, m in ordered[:-1]:
            chain = chain.when(col < m.max).then(pl.lit(i, dtype=pl.Int16))
        chain = chain.when(col.is_not_null()).then(pl.lit(ordered[-1][0], dtype=pl.Int16))
    return with_presence(c, chain.otherwise(pl.lit(None, dtype=pl.Int16)), pl.Int16)


def with_presence(c: Criterion, idx: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """The presence rule over a matched-modality expression: when the criterion reads a presence
    feature, an unknown presence is unknown, an absence takes the ``absent`` modality (or, with
    none, no modality), a presence keeps ``idx``."""
    if not c.presence:
        return idx
    absent = [i for i, m in enumerate(c.modalities) if m.kind == "absent"]
    pres = pl.col(c.presence)
    if absent:
        return (pl.when(pres.is_null()).then(pl.lit(None, dtype=dtype))
                .when(~pres).then(pl.lit(absent[0], dtype=dtype)).otherwise(idx))
    return pl.when(pres.fill_null(True)).then(idx)


_modality_index = modality_index


def missing_feature_columns(model: Model, names: set[str]) -> list[pl.Expr]:
    """Null columns, typed, for the model's inputs absent from a frame (they count as unknown)."""
    from profilage.features import FEATURES

    fill = []
    declared = model.raw.get("features", {}) if isinstance(model.raw, dict) else {}
    for f in model.features:
        if f not in names:
            kind = (declared.get(f) or FEATURES.get(f) or {}).get("kind", "float")
            dtype = {"bool": pl.Boolean, "int": pl.Int64, "float": pl.Float64,
                     "category": pl.String}[kind]
            fill.append(pl.lit(None, dtype=dtype).alias(f))
    return fill


def numeric_unknown_bounds(c: Criterion) -> tuple[float, float]:
    """Contribution interval of a numeric predictor whose input is unknown: the extremes of
    coefficient x value over the declared value range (unbounded without one). Shared by the
    Polars engine and the SQL generator."""
    if c.unknown is not None:  # the source evaluator's semantics (models import --unknown)
        return c.unknown
    coef = c.modalities[0].coefficient
    if c.value_range is None:
        return -math.inf, math.inf
    cands = []
    for end in c.value_range:
        ve = end ** c.exponent
        cands += [0.0 if ve == 0 else ve * coef.low, 0.0 if ve == 0 else ve * coef.high]
    if c.value_range[0] < 0 < c.value_range[1]:
        cands.append(0.0)
    cands = [0.0 if math.isnan(z) else z for z in cands]
    return min(cands), max(cands)


def categorical_unknown_bounds(c: Criterion) -> tuple[float, float]:
    """Contribution interval of a criterion with modalities whose input is unknown: [lowest,
    highest coefficient], or the source evaluator's semantics for an imported model
    (``[missing] unknown = "as-source"``). Shared by the engine and the SQL generator."""
    if c.unknown is not None:
        return c.unknown
    return (min(m.coefficient.low for m in c.modalities),
            max(m.coefficient.high for m in c.modalities))


def _criterion_exprs(c: Criterion) -> tuple[pl.Expr, pl.Expr, pl.Expr | None]:
    low_id, high_id, m_id = contrib_cols(c.id)
    if c.kind == "numeric":
        coef = c.modalities[0].coefficient
        x = pl.col(c.feature).cast(pl.Float64)
        v = x if c.exponent == 1 else x.pow(c.exponent)
        if coef.low == coef.high:
            lo_known = hi_known = v * coef.low
        else:  # an input of 0 contributes 0 even when the coefficient is unbounded (0 * inf)
            a = pl.when(v == 0).then(0.0).otherwise(v * coef.low)
            b = pl.when(v == 0).then(0.0).otherwise(v * coef.high)
            lo_known, hi_known = pl.min_horizontal(a, b), pl.max_horizontal(a, b)
        unk_lo, unk_hi = numeric_unknown_bounds(c)
        low = pl.when(x.is_null()).then(unk_lo).otherwise(lo_known)
        high = pl.when(x.is_null()).then(unk_hi).otherwise(hi_known)
        if c.presence:  # absent: the predictor does not apply
            pres = pl.col(c.presence)
            low = pl.when(pres == False).then(0.0).otherwise(low)
            high = pl.when(pres == False).then(0.0).otherwise(high)
        return low.alias(low_id), high.alias(high_id), None
    # Two stages: the matched modality index is computed once (stage 1, column m__<id>), then
    # the coefficient bounds are looked up from that column (stage 2). This keeps the query plan
    # small, which matters for one-row latency (the web API) as much as for national runs.
    idx = pl.col(m_id)
    lows = [m.coefficient.low for m in c.modalities]
    highs = [m.coefficient.high for m in c.modalities]
    # A gather from the small coefficient array (a null index gives null: unknown input) is
    # about 5x faster than replace_strict's hash lookup on a national population.
    unk_lo, unk_hi = categorical_unknown_bounds(c)
    low = pl.lit(pl.Series(lows, dtype=pl.Float64)).gather(idx).fill_null(unk_lo)
    high = pl.lit(pl.Series(highs, dtype=pl.Float64)).gather(idx).fill_null(unk_hi)
    return low.alias(low_id), high.alias(high_id), modality_index(c).alias(m_id)


@dataclass
class CompiledModel:
    """A model turned into Polars expressions; reuse it across frames."""

    model: Model
    contribution_exprs: list[pl.Expr]
    index_exprs: list[pl.Expr]

    @property
    def criteria(self) -> tuple[Criterion, ...]:
        return self.model.criteria

    def score(self, features: pl.DataFrame | pl.LazyFrame, *, contributions: bool = False,
              keep: bool = True) -> pl.LazyFrame:
        """Score a frame of model inputs. Missing feature columns count as unknown.

        Adds ``logit_low``, ``logit_high``, ``score_low``, ``score_high``, ``score``,
        ``determined`` and, with ``contributions``, ``c__<criterion>__low/high`` and
        ``m__<criterion>`` (matched modality index, null if unknown).
        """
        lf = features.lazy()
        names = set(lf.collect_schema().names())
        fill = missing_feature_columns(self.model, names)
        stages = [fill, self.index_exprs, self.contribution_exprs]
        if isinstance(features, pl.DataFrame):
            # Eager evaluation of the wide stages: Polars' lazy planner spends ~80 ms resolving
            # a few hundred replace/when expressions, which dominates one-dossier latency.
            df = features
            for stage in stages:
                if stage:
                    df = df.with_columns(stage)
            lf = df.lazy()
        else:
            for stage in stages:
                if stage:
                    lf = lf.with_columns(stage)
        inter = self.model.base_bounds()
        low_cols = [contrib_cols(c.id)[0] for c in self.criteria]
        high_cols = [contrib_cols(c.id)[1] for c in self.criteria]
        lo = pl.sum_horizontal(low_cols) + inter[0] if low_cols else pl.lit(inter[0])
        hi = pl.sum_horizontal(high_cols) + inter[1] if high_cols else pl.lit(inter[1])
        lf = lf.with_columns(logit_low=lo, logit_high=hi)
        lo_, h = pl.col("logit_low"), pl.col("logit_high")
        width = h - lo_
        finite = lo_.is_finite() & h.is_finite()
        mean = pl.when(lo_ >= 0).then(
            1.0 + ((-h).exp().log1p() - (-lo_).exp().log1p()) / width
        ).otherwise((_softplus_expr(h) - _softplus_expr(lo_)) / width)
        lf = lf.with_columns(
            score_low=_sigmoid_expr(lo_),
            score_high=_sigmoid_expr(h),
            determined=width == 0,
            score=pl.when(width < _SERIES).then(_series_expr((lo_ + h) / 2, width))
            .when(finite).then(mean).otherwise(None),
        )
        if not contributions:
            lf = lf.drop(low_cols + high_cols + [c for c in lf.collect_schema().names()
                                                  if c.startswith("m__")])
        if not keep:
            extra = [c for c in lf.collect_schema().names()
                     if c in names and c not in ("household_id",)]
            lf = lf.drop(extra)
        return lf


_COMPILED: dict[str, CompiledModel] = {}


def compile_model(model: Model | str) -> CompiledModel:
    """Compile a model (or id/path) once; cached by the model file's sha256."""
    m = load_model(model)
    key = m.sha256 or m.id
    cm = _COMPILED.get(key)
    if cm is None:
        exprs: list[pl.Expr] = []
        index: list[pl.Expr] = []
        for c in m.criteria:
            low, high, idx = _criterion_exprs(c)
            exprs += [low, high]
            if idx is not None:
                index.append(idx)
        cm = CompiledModel(m, exprs, index)
        _COMPILED[key] = cm
    return cm


def check_feature_table(model: Model, df: pl.DataFrame) -> None:
    """Refuse a table of model inputs whose values the model cannot read, naming the column."""
    from profilage.features import FEATURES

    schema = df.schema
    for c in model.criteria:
        for f in (c.feature, c.presence):
            if f is None or f not in schema:
                continue
            dtype = schema[f]
            kind = (model.raw.get("features", {}).get(f) or FEATURES.get(f, {})).get("kind")
            if (f == c.feature and c.kind in ("bins", "numeric")
                    and not (dtype.is_numeric() or dtype == pl.Null)):
                raise ProfilageError(f"column must be numeric, found {dtype}", field=f)
            if kind == "bool" and dtype not in (pl.Boolean, pl.Null):
                raise ProfilageError(f"column must be true/false, found {dtype}", field=f)
            if c.kind == "categorical" and kind == "category" and f == c.feature:
                allowed = {m.value for m in c.modalities if m.kind == "category"}
                bad = df.select(pl.col(f).drop_nulls().unique()).to_series().to_list()
                bad = [v for v in bad if v not in allowed]
                if bad:
                    raise ProfilageError(
                        f"value {bad[0]!r} is not a modality of criterion {c.id} "
                        f"(expected one of {', '.join(map(str, sorted(allowed)))})", field=f)
    _check_numeric_values(model, df)


def _check_numeric_values(model: Model, df: pl.DataFrame) -> None:
    """A numeric model input that is NaN, infinite or below the feature's declared minimum (a
    negative age) would fall in a bin as if it were a value: refused, naming the column."""
    from profilage.features import FEATURES

    schema = df.schema
    seen: set[str] = set()
    for c in model.criteria:
        f = c.feature
        if c.kind not in ("bins", "numeric") or f not in schema or f in seen:
            continue
        seen.add(f)
        dtype = schema[f]
        if not dtype.is_numeric():
            continue
        col = pl.col(f)
        checks = {}
        if dtype.is_float():
            checks["not_finite"] = (col.is_nan() | col.is_infinite()).any()
        lo = FEATURES.get(f, model.raw.get("features", {}).get(f, {})).get("min")
        if lo is not None:
            checks["below"] = (col < lo).any()
        if not checks:
            continue
        found = df.select(**checks).row(0, named=True)
        if found.get("not_finite"):
            raise ProfilageError("NaN or infinite value: leave the cell empty when unknown",
                                 field=f)
        if found.get("below"):
            raise ProfilageError(f"value below the minimum {lo:g} of this input", field=f)

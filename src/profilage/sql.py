"""A model compiled to SQL: one SELECT for DuckDB, PostgreSQL or Spark SQL, from one sqlglot tree.

The query reads a table of the model's input features (one row per household, with
``household_id``; see ``profilage features POP --model ID``) and returns what the Polars engine
(:mod:`profilage.engine`) returns, to the last digits:

- ``m__<criterion>``: index of the matched modality (order of the model file), NULL if unknown;
- ``c__<criterion>__low`` / ``__high``: the criterion's contribution interval;
- ``logit_low`` / ``logit_high`` (log-odds), ``score_low`` / ``score_high``, ``determined``;
- ``score``: sigmoid of the log-odds when determined, else Le Monde's bounded mean
  ``(softplus(high) - softplus(low)) / (high - low)`` (its Taylor series below a width of 0.01,
  as the engine); NULL when a bound is infinite.

The tree is built once from the compiled model (not from string templates per dialect) and
rendered by sqlglot. Only functions every target has are used (EXP, LN, ABS, GREATEST, LEAST,
POWER, CASE, NULLIF): ``log1p`` is written with Goldberg's exact formula because DuckDB and
PostgreSQL lack it, exponents are clamped because PostgreSQL raises on underflow, and divisions
go through NULLIF because DuckDB and Spark do not agree on division by zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import sqlglot
from sqlglot import exp

from profilage.engine import _SERIES, categorical_unknown_bounds, contrib_cols, numeric_unknown_bounds
from profilage.errors import ProfilageError
from profilage.models import Criterion, Model, load_model

DIALECTS = ("duckdb", "postgres", "spark")
# exp(±700) is finite in IEEE doubles (max ~ exp(709.78)) and normal (min ~ exp(-708.4)):
# clamping there changes a sigmoid by less than 1e-300 and never raises.
_CLAMP = 700.0


def _check_dialect(dialect: str) -> str:
    if dialect not in DIALECTS:
        raise ProfilageError(f"unknown dialect {dialect!r} (expected one of {', '.join(DIALECTS)})",
                             field="--dialect")
    return dialect


# ---------------------------------------------------------------------------------------------
# Small builders over sqlglot's expression tree

def col(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def num(x: float) -> exp.Expression:
    """A DOUBLE literal, exact (shortest round-trip repr), infinities as CAST('Infinity')."""
    x = float(x)
    if math.isinf(x):
        return exp.cast(exp.Literal.string("Infinity" if x > 0 else "-Infinity"), "DOUBLE")
    return exp.cast(exp.Literal.number(repr(x)), "DOUBLE")


def integer(i: int) -> exp.Expression:
    return exp.cast(exp.Literal.number(str(int(i))), "SMALLINT")


def _value(v: object) -> exp.Expression:
    if isinstance(v, bool):
        return exp.true() if v else exp.false()
    if isinstance(v, (int, float)):
        return num(v)
    return exp.Literal.string(str(v))


def _paren(e: exp.Expression) -> exp.Expression:
    return exp.paren(e, copy=False)


def add(*terms: exp.Expression) -> exp.Expression:
    out = terms[0]
    for t in terms[1:]:
        out = exp.Add(this=out, expression=t)
    return out


def sub(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return exp.Sub(this=_paren(a), expression=_paren(b))


def mul(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return exp.Mul(this=_paren(a), expression=_paren(b))


def div(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return exp.Div(this=_paren(a), expression=_paren(b))


def neg(a: exp.Expression) -> exp.Expression:
    return exp.Neg(this=_paren(a))


def greatest(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return exp.Greatest(this=a, expressions=[b])


def least(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return exp.Least(this=a, expressions=[b])


def clamp(x: exp.Expression) -> exp.Expression:
    return greatest(least(x, num(_CLAMP)), num(-_CLAMP))


def sigmoid(x: exp.Expression) -> exp.Expression:
    """1 / (1 + exp(-x)), the engine's formula, with x clamped to ±700."""
    return div(num(1.0), add(num(1.0), exp.Exp(this=neg(clamp(x)))))


def log1p(u: exp.Expression) -> exp.Expression:
    """log(1 + u) to a few ulps (Goldberg): u if 1 + u rounds to 1, else ln(w) * u / (w - 1)."""
    w = add(num(1.0), u.copy())
    return (exp.case()
            .when(exp.EQ(this=w, expression=num(1.0)), u.copy())
            .else_(div(mul(exp.Ln(this=w.copy()), u.copy()), sub(w.copy(), num(1.0)))))


def case() -> exp.Case:
    return exp.case()


def is_null(x: exp.Expression) -> exp.Expression:
    return exp.Is(this=x, expression=exp.null())


# ---------------------------------------------------------------------------------------------
# The model as expressions (mirrors profilage.engine._modality_index / _criterion_exprs)

def _modality_index(c: Criterion) -> exp.Expression:
    x = col(c.feature)
    chain = case().when(is_null(x), exp.null())
    regular = [(i, m) for i, m in enumerate(c.modalities) if m.kind != "absent"]
    if c.kind == "categorical":
        for i, m in regular:
            chain = chain.when(exp.EQ(this=x.copy(), expression=_value(m.value)), integer(i))
        chain = chain.else_(exp.null())
    else:  # bins cover the whole domain without overlap (validated by the loader)
        ordered = sorted(regular, key=lambda im: -math.inf if im[1].min is None else im[1].min)
        for i, m in ordered[:-1]:
            chain = chain.when(exp.LT(this=x.copy(), expression=num(m.max)), integer(i))
        chain = chain.else_(integer(ordered[-1][0]))
    if not c.presence:
        return chain
    pres = col(c.presence)
    absent = [i for i, m in enumerate(c.modalities) if m.kind == "absent"]
    if absent:
        return (case().when(is_null(pres), exp.null())
                .when(exp.Not(this=pres.copy()), integer(absent[0])).else_(chain))
    # no "absent" modality: an absent input is unknown, as in the engine
    return case().when(exp.Not(this=exp.Coalesce(this=pres, expressions=[exp.true()])),
                       exp.null()).else_(chain)


def _lookup(index: exp.Expression, values: Sequence[float], unknown: float) -> exp.Expression:
    chain = case()
    for i, v in enumerate(values):
        chain = chain.when(exp.EQ(this=index.copy(), expression=integer(i)), num(v))
    return chain.else_(num(unknown))


def _numeric(c: Criterion) -> tuple[exp.Expression, exp.Expression]:
    coef = c.modalities[0].coefficient
    x = exp.cast(col(c.feature), "DOUBLE")
    v = x if c.exponent == 1 else exp.Pow(this=x, expression=num(c.exponent))
    if coef.low == coef.high:
        lo_known, hi_known = mul(v.copy(), num(coef.low)), mul(v.copy(), num(coef.low))
    else:  # an input of 0 contributes 0 even when the coefficient is unbounded (0 * inf)
        zero = exp.EQ(this=v.copy(), expression=num(0.0))
        a = case().when(zero, num(0.0)).else_(mul(v.copy(), num(coef.low)))
        b = case().when(zero.copy(), num(0.0)).else_(mul(v.copy(), num(coef.high)))
        lo_known, hi_known = least(a, b), greatest(a.copy(), b.copy())
    unk_lo, unk_hi = numeric_unknown_bounds(c)
    low = case().when(is_null(col(c.feature)), num(unk_lo)).else_(lo_known)
    high = case().when(is_null(col(c.feature)), num(unk_hi)).else_(hi_known)
    if c.presence:  # absent: the predictor does not apply
        pres = exp.EQ(this=col(c.presence), expression=exp.false())
        low = case().when(pres, num(0.0)).else_(low)
        high = case().when(pres.copy(), num(0.0)).else_(high)
    return low, high


def _alias(e: exp.Expression, name: str) -> exp.Expression:
    return exp.alias_(e, name, quoted=True)


def score_select(model: Model | str, table: str = "features", *, dialect: str = "duckdb",
                 contributions: bool = True, materialize: bool | None = None) -> exp.Select:
    """The model as one sqlglot SELECT over ``table`` (household_id + the model's features).

    Each step is a CTE read by the next. PostgreSQL inlines CTEs read once, which repeats every
    CASE wherever its column is used (a 50x slowdown): ``materialize`` (default: on for
    PostgreSQL) marks them MATERIALIZED. Spark has no such keyword and does not duplicate
    expensive expressions when it collapses projections.
    """
    if materialize is None:
        materialize = dialect == "postgres"
    m = load_model(model)
    try:
        source = exp.to_table(table, dialect=dialect)
    except sqlglot.errors.ParseError as e:
        raise ProfilageError(f"not a table name: {table!r} ({e})", field="--table") from None

    # 1. matched modality per categorical/binned criterion
    idx_cols = []
    for c in m.criteria:
        if c.kind != "numeric":
            idx_cols.append(_alias(_modality_index(c), contrib_cols(c.id)[2]))
    modalities = exp.select(col("household_id"), *[col(f) for f in m.features], *idx_cols) \
        .from_(source)

    # 2. contribution intervals
    contrib = [col("household_id")]
    out_cols: list[str] = []
    for c in m.criteria:
        low_id, high_id, m_id = contrib_cols(c.id)
        if c.kind == "numeric":
            low, high = _numeric(c)
        else:
            lows = [mod.coefficient.low for mod in c.modalities]
            highs = [mod.coefficient.high for mod in c.modalities]
            unk_lo, unk_hi = categorical_unknown_bounds(c)
            low, high = _lookup(col(m_id), lows, unk_lo), _lookup(col(m_id), highs, unk_hi)
            contrib.append(col(m_id))
            out_cols.append(m_id)
        contrib += [_alias(low, low_id), _alias(high, high_id)]
        out_cols += [low_id, high_id]
    contributions_q = exp.select(*contrib).from_("modalities")

    # 3. log-odds interval: the sum in the engine's order (criteria, then the intercept plus the
    #    redacted criteria's declared ranges)
    base_lo, base_hi = m.base_bounds()
    lows = [col(contrib_cols(c.id)[0]) for c in m.criteria]
    highs = [col(contrib_cols(c.id)[1]) for c in m.criteria]
    logit_low = add(*lows, num(base_lo)) if lows else num(base_lo)
    logit_high = add(*highs, num(base_hi)) if highs else num(base_hi)
    logits_q = exp.select(exp.Star(), _alias(logit_low, "logit_low"),
                          _alias(logit_high, "logit_high")).from_("contributions")

    # 4. score: Le Monde's bounded mean, exactly as profilage.engine
    lo, hi = col("logit_low"), col("logit_high")
    width = sub(hi.copy(), lo.copy())
    l_lo = log1p(exp.Exp(this=neg(least(exp.Abs(this=lo.copy()), num(_CLAMP)))))
    l_hi = log1p(exp.Exp(this=neg(least(exp.Abs(this=hi.copy()), num(_CLAMP)))))
    s_mid = sigmoid(div(add(lo.copy(), hi.copy()), num(2.0)))
    parts_q = exp.select(exp.Star(), _alias(width, "width"), _alias(l_lo, "l_low"),
                         _alias(l_hi, "l_high"), _alias(s_mid, "s_mid")).from_("logits")
    w, llo, lhi, s = col("width"), col("l_low"), col("l_high"), col("s_mid")
    # narrow intervals: the mean's Taylor series around the midpoint (profilage.engine)
    d2 = mul(mul(s.copy(), sub(num(1.0), s.copy())), sub(num(1.0), mul(num(2.0), s.copy())))
    d4 = mul(d2.copy(), add(sub(num(1.0), mul(num(12.0), s.copy())),
                            mul(mul(num(12.0), s.copy()), s.copy())))
    w2 = mul(w.copy(), w.copy())
    series = add(s.copy(), div(mul(d2, w2), num(24.0)),
                 div(mul(d4, mul(w2.copy(), w2.copy())), num(1920.0)))
    safe_w = exp.Nullif(this=w.copy(), expression=num(0.0))
    mean_pos = add(num(1.0), div(sub(lhi.copy(), llo.copy()), safe_w))
    softplus_hi = add(greatest(hi.copy(), num(0.0)), lhi.copy())
    softplus_lo = add(greatest(lo.copy(), num(0.0)), llo.copy())
    mean_neg = div(sub(softplus_hi, softplus_lo), safe_w.copy())
    finite = exp.and_(exp.GT(this=lo.copy(), expression=num(-math.inf)),
                      exp.LT(this=hi.copy(), expression=num(math.inf)))
    score = (case()
             .when(exp.LT(this=w.copy(), expression=num(_SERIES)), series)
             .when(finite, case().when(exp.GTE(this=lo.copy(), expression=num(0.0)), mean_pos)
                   .else_(mean_neg))
             .else_(exp.null()))
    final = [col("household_id"), _alias(score, "score"), _alias(sigmoid(lo.copy()), "score_low"),
             _alias(sigmoid(hi.copy()), "score_high"), lo.copy(), hi.copy(),
             _alias(exp.EQ(this=w.copy(), expression=num(0.0)), "determined")]
    if contributions:
        final += [col(n) for n in out_cols]
    q = exp.select(*final).from_("parts")
    for name, sub_q in (("modalities", modalities), ("contributions", contributions_q),
                        ("logits", logits_q), ("parts", parts_q)):
        q = q.with_(name, as_=sub_q, materialized=True if materialize else None)
    return q


def score_sql(model: Model | str, table: str = "features", *, dialect: str = "duckdb",
              contributions: bool = True, pretty: bool = True) -> str:
    """The SELECT of :func:`score_select` rendered for ``dialect`` (duckdb, postgres, spark)."""
    _check_dialect(dialect)
    m = load_model(model)
    q = score_select(m, table, dialect=dialect, contributions=contributions)
    header = (f"-- profilage: model {m.id} (sha256 {m.sha256}) compiled to {dialect} SQL\n"
              f"-- {m.provenance_line()}\n"
              f"-- input: {table}(household_id, {', '.join(m.features)}); NULL = unknown\n")
    return header + q.sql(dialect=dialect, pretty=pretty) + "\n"


# ---------------------------------------------------------------------------------------------
# The audit's group table in SQL

def group_table_select(scores: str, by: str, budget: int, *, dialect: str = "duckdb",
                       groups: str | None = None) -> exp.Select:
    """Selection under a budget and the selection rate per group, as one SELECT.

    ``scores`` has ``household_id`` and ``score``; the group column ``by`` is read from ``groups``
    (a table with ``household_id`` and ``by``), or from ``scores`` itself when ``groups`` is None.
    The ``budget`` highest scores are selected (ties broken by ``household_id``, NULL scores
    last). Per group: households, selected, population_share, selected_share, selection_rate,
    ratio_to_overall (rate / overall rate).
    """
    if budget < 0:
        raise ProfilageError("budget must be >= 0", field="budget")
    s = exp.to_table(scores, dialect=dialect)
    src = exp.select(col("household_id"), col("score")).from_(s)
    if groups is not None:
        g = exp.to_table(groups, dialect=dialect)
        src = (exp.select(exp.column("household_id", table="s", quoted=True),
                          exp.column("score", table="s", quoted=True),
                          exp.column(by, table="g", quoted=True))
               .from_(exp.alias_(s, "s", table=True))
               .join(exp.alias_(g, "g", table=True),
                     on=exp.EQ(this=exp.column("household_id", table="s", quoted=True),
                               expression=exp.column("household_id", table="g", quoted=True))))
    else:
        src = exp.select(col("household_id"), col("score"), col(by)).from_(s)
    order = exp.Order(expressions=[
        exp.Ordered(this=col("score"), desc=True, nulls_first=False),
        exp.Ordered(this=col("household_id"), desc=False, nulls_first=True)])
    rank = exp.Window(this=exp.RowNumber(), order=order)
    ranked = exp.select(col(by), _alias(
        case().when(exp.LTE(this=rank, expression=exp.Literal.number(int(budget))),
                    exp.Literal.number(1)).else_(exp.Literal.number(0)), "selected")
    ).from_(exp.Subquery(this=src, alias=exp.TableAlias(this=exp.to_identifier("src"))))
    per_group = (exp.select(_alias(col(by), "group"),
                            _alias(exp.Count(this=exp.Star()), "households"),
                            _alias(exp.Sum(this=col("selected")), "selected"))
                 .from_("ranked").group_by(col(by)))
    tot_h = exp.Window(this=exp.Sum(this=col("households")))
    tot_s = exp.Window(this=exp.Sum(this=col("selected")))
    dbl = lambda e: exp.cast(e, "DOUBLE")  # noqa: E731
    rate = div(dbl(col("selected")), dbl(col("households")))
    overall = div(dbl(tot_s.copy()), dbl(tot_h.copy()))
    final = (exp.select(
        _alias(exp.Literal.string(by), "by"), col("group"), col("households"), col("selected"),
        _alias(div(dbl(col("households")), dbl(tot_h)), "population_share"),
        _alias(div(dbl(col("selected")), exp.Nullif(this=dbl(tot_s), expression=num(0.0))),
               "selected_share"),
        _alias(rate, "selection_rate"),
        _alias(div(rate.copy(), exp.Nullif(this=overall, expression=num(0.0))), "ratio_to_overall"))
        .from_("per_group").order_by(col("group")))
    return final.with_("ranked", as_=ranked).with_("per_group", as_=per_group)


def group_table_sql(scores: str, by: str, budget: int, *, dialect: str = "duckdb",
                    groups: str | None = None, pretty: bool = True) -> str:
    """:func:`group_table_select` rendered for ``dialect``."""
    _check_dialect(dialect)
    return group_table_select(scores, by, budget, dialect=dialect, groups=groups).sql(
        dialect=dialect, pretty=pretty) + "\n"


# ---------------------------------------------------------------------------------------------
# Loading a feature table into PostgreSQL (psycopg 3, COPY)

_PG_TYPES = {"Int8": "SMALLINT", "Int16": "SMALLINT", "Int32": "INTEGER", "Int64": "BIGINT",
             "UInt8": "SMALLINT", "UInt16": "INTEGER", "UInt32": "BIGINT", "UInt64": "NUMERIC",
             "Float32": "REAL", "Float64": "DOUBLE PRECISION", "Boolean": "BOOLEAN",
             "String": "TEXT", "Date": "DATE", "Null": "TEXT"}


def copy_to_postgres(conn, table: str, df) -> None:
    """Create ``table`` and load a Polars frame into it with one COPY (CSV, NULL = empty).

    ``conn`` is a psycopg 3 connection; the caller commits. Floats travel as shortest
    round-trip decimal text, so PostgreSQL reads back the same doubles.
    """
    import io

    cols = []
    for name, dtype in df.schema.items():
        pg = _PG_TYPES.get(str(dtype.base_type()))
        if pg is None:
            raise ProfilageError(f"cannot store type {dtype} in PostgreSQL", field=name)
        cols.append(f'"{name}" {pg}')
    ident = exp.to_table(table, dialect="postgres").sql(dialect="postgres")
    buf = io.BytesIO()
    df.write_csv(buf, null_value="", include_header=False)
    with conn.cursor() as cur:
        cur.execute(f"CREATE TABLE {ident} ({', '.join(cols)})")
        names = ", ".join(f'"{n}"' for n in df.columns)
        with cur.copy(f"COPY {ident} ({names}) FROM STDIN WITH (FORMAT csv, NULL '')") as cp:
            cp.write(buf.getvalue())

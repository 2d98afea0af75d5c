"""The fast path (modality codes + coefficient gathers) gives the Polars engine's and the SQL's
numbers on every shipped model, on hard models (unknown coefficients, numeric predictors,
infinite bounds), and on a generated population."""

from __future__ import annotations

import duckdb
import numpy as np
import polars as pl
import pytest
from featuregen import random_features
from sqlengines import assert_same, engine_result
from test_sql import _hard_model, _infinite_model

from profilage.engine import compile_model
from profilage.fastpath import CodedPopulation, Tables, _packs, score_features
from profilage.models import available_models, load_model
from profilage.sql import score_sql

SCORE_COLS = ["household_id", "logit_low", "logit_high", "score_low", "score_high", "score",
              "determined"]


def _fast(model, df: pl.DataFrame) -> pl.DataFrame:
    return score_features(df, model).select(SCORE_COLS)


def _engine(model, df: pl.DataFrame) -> pl.DataFrame:
    return engine_result(model, df).select(SCORE_COLS)


@pytest.mark.parametrize("model_id", available_models())
def test_fast_path_equals_engine_and_sql_for_every_shipped_model(model_id):
    df = random_features(model_id, 5_000, seed=11, unknown=0.1)
    fast = _fast(model_id, df)
    assert assert_same(fast, _engine(model_id, df)) == len(SCORE_COLS) - 1
    con = duckdb.connect()
    con.register("features", df.to_arrow())
    sql = con.sql(score_sql(model_id, "features", dialect="duckdb")).pl().select(SCORE_COLS)
    assert_same(fast, sql)
    # the table covers undetermined households (unknown inputs)
    assert fast["determined"].sum() < fast.height


@pytest.mark.parametrize("factory", [_hard_model, _infinite_model])
def test_fast_path_with_unknown_coefficients_numeric_predictors_and_infinities(factory):
    model = factory()
    df = random_features(model, 20_000, seed=5, unknown=0.15)
    fast = _fast(model, df)
    assert_same(fast, _engine(model, df))
    if factory is _infinite_model:
        assert fast["score"].null_count() > 0 and fast["logit_high"].is_infinite().any()


def test_fast_path_on_a_generated_population_and_missing_columns():
    from profilage.features import derive_features
    from profilage.population import generate_population

    feats = derive_features(generate_population(20_000, seed=3), keep=["household_id"]).collect()
    for model_id in ("cnaf-2014", "cnaf-2010"):
        assert_same(_fast(model_id, feats), _engine(model_id, feats))
    # a column the table lacks is unknown, as in the engine
    part = feats.drop("age_allocataire", "taux_effort")
    assert_same(_fast("cnaf-2014", part), _engine("cnaf-2014", part))


def test_codes_are_the_engine_modality_index_and_shared_across_models():
    df = random_features("cnaf-2014", 3_000, seed=2, unknown=0.2)
    m = load_model("cnaf-2014")
    pop = CodedPopulation(df)
    pop.encode(m)
    eng = compile_model(m).score(df, contributions=True).collect()
    for c in m.criteria:
        want = eng[f"m__{c.id}"].fill_null(len(c.modalities)).to_numpy()
        assert np.array_equal(pop.codes(c), want), c.id
    n_codes = len(pop._codes)
    pop.score(m)
    pop.score(load_model("cnaf-2014"))
    assert len(pop._codes) == n_codes and len(pop._packed) == 1


def test_tables_follow_the_engine_rules_for_unknown_inputs():
    m = load_model("cnaf-2014")
    t = Tables.of(m)
    for c, lo, hi in zip(t.categorical, t.low, t.high):
        vals = [mod.coefficient.value for mod in c.modalities]
        assert list(lo[:-1]) == vals and list(hi[:-1]) == vals
        assert lo[-1] == min(vals) and hi[-1] == max(vals)


def test_packs_stay_small():
    groups = _packs([3, 4, 5, 2, 9, 2, 2, 2, 2, 2, 2, 2, 2, 7])
    assert [j for g in groups for j in g] == list(range(14))
    sizes = [3, 4, 5, 2, 9, 2, 2, 2, 2, 2, 2, 2, 2, 7]
    for g in groups:
        assert np.prod([sizes[j] for j in g]) <= 512


def test_codes_from_a_lazy_frame_in_one_query_and_other_models_from_its_source():
    from profilage.features import derive_features
    from profilage.population import generate_population

    lf = derive_features(generate_population(5_000, seed=8), keep=["household_id"])
    pop = CodedPopulation.from_lazy(lf, "cnaf-2014", ["household_id"])
    assert pop.features.columns == ["household_id"]
    feats = lf.collect()
    for model_id in ("cnaf-2014", "cnaf-2010", "cnaf-dmde-2026-m1"):  # the last two: re-derived
        got = pl.DataFrame({"household_id": feats["household_id"]}).hstack(pop.score_frame(model_id))
        assert_same(got.select(SCORE_COLS), _engine(model_id, feats))


@pytest.mark.parametrize("model_id", available_models())
def test_modality_code_is_the_engine_index_on_every_shipped_model(model_id):
    """The fast path's cheaper matching (bins by counting ends, text by an enumeration, booleans
    as they are) gives the engine's modality_index on every criterion: unknown inputs, NaN and
    infinities, values exactly at a bin's end, a category no modality names, absent partners."""
    from profilage.engine import modality_index
    from profilage.fastpath import modality_code

    m = load_model(model_id)
    df = random_features(model_id, 4_000, seed=5, unknown=0.15)
    rng = np.random.default_rng(5)
    fixes = []
    for c in m.criteria:
        if c.kind == "bins" and df.schema[c.feature].is_numeric():
            ends = [x for mod in c.modalities for x in (mod.min, mod.max) if x is not None]
            special = [*ends, *(e - 1 for e in ends), *(e + 0.5 for e in ends)]
            if df.schema[c.feature].is_float():
                special += [float("nan"), float("inf"), -float("inf"), -0.0]
            else:
                special = [int(x) for x in special if float(x).is_integer()]
            vals = np.array(special, dtype=object)[rng.integers(0, len(special), df.height)]
            keep = rng.random(df.height) < 0.5
            fixes.append(pl.when(pl.Series(keep)).then(pl.col(c.feature)).otherwise(
                pl.Series(vals.tolist(), dtype=df.schema[c.feature])).alias(c.feature))
        elif df.schema[c.feature] == pl.String:
            fixes.append(pl.when(pl.Series(rng.random(df.height) < 0.1)).then(pl.lit("autre"))
                         .otherwise(pl.col(c.feature)).alias(c.feature))
    df = df.with_columns(fixes)
    cats = [c for c in m.criteria if c.kind != "numeric"]
    got = df.select([modality_code(c, df.schema.get(c.feature)).alias(c.id) for c in cats])
    want = df.select([modality_index(c).fill_null(len(c.modalities)).cast(pl.UInt8).alias(c.id)
                      for c in cats])
    for c in cats:
        assert got[c.id].to_list() == want[c.id].to_list(), c.id


def test_gathers_shared_between_threads_equal_one_pass(monkeypatch):
    """Above four slices the gathers and the packing run in threads: the same sums, bit for
    bit, as one thread (each row's terms are added in the same order)."""
    from profilage import fastpath
    from profilage.fastpath import CHUNK, _gather_sum

    n = 5 * CHUNK + 123
    rng = np.random.default_rng(4)
    codes = [rng.integers(0, 40, n).astype(np.uint16) for _ in range(3)]
    tables = [rng.normal(size=40) for _ in range(3)]
    many = _gather_sum(codes, tables, 0.25, n)
    df = random_features("cnaf-2014", n, seed=3)
    threaded = CodedPopulation(df).score("cnaf-2014")
    monkeypatch.setattr(fastpath.os, "cpu_count", lambda: 1)
    one = _gather_sum(codes, tables, 0.25, n)
    assert np.array_equal(many, one)
    assert np.array_equal(one, ((0.25 + tables[0][codes[0]]) + tables[1][codes[1]])
                          + tables[2][codes[2]])
    single = CodedPopulation(df).score("cnaf-2014")
    for k in ("logit_low", "logit_high", "score"):
        assert np.array_equal(threaded[k], single[k], equal_nan=True), k

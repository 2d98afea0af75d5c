"""The model compiled to SQL gives the Polars engine's numbers on DuckDB, PostgreSQL and Spark."""

from __future__ import annotations

import copy
import json
import math
import tomllib

import duckdb
import polars as pl
import pytest
from featuregen import random_features
from sqlengines import assert_same, engine_result, start_postgres, start_spark

from profilage.models import load_model, parse_model
from profilage.sql import copy_to_postgres, group_table_sql, score_sql


def _hard_model():
    """cnaf-2014 plus what it lacks: unknown coefficients (a range, and none at all), numeric
    predictors (exponent, range, presence) and a criterion without an 'absent' modality."""
    base = load_model("cnaf-2014")
    raw = copy.deepcopy(tomllib.loads(open(base.path, encoding="utf-8").read()))
    crits = raw["criteria"]
    m0 = crits[0]["modalities"][1]
    m0.pop("coefficient")
    m0["status"] = "unknown"
    m0["coefficient_min"], m0["coefficient_max"] = -0.5, 0.7
    crits.append({"id": "revenu_lineaire", "label_fr": "Revenu (linéaire)", "feature": "revenu_par_uc",
                  "coefficient": -0.0003, "status": "reconstructed", "source": "test",
                  "range": [0, 5000]})
    crits.append({"id": "effort_carre", "label_fr": "Taux d'effort au carré", "feature": "taux_effort",
                  "kind": "numeric", "exponent": 2, "status": "unknown", "source": "test",
                  "coefficient_min": -0.1, "coefficient_max": 0.2, "range": [0, 3]})
    crits.append({"id": "age_conj_lin", "label_fr": "Âge du conjoint", "feature": "age_conjoint",
                  "presence": "a_conjoint", "coefficient": 0.004, "status": "reconstructed",
                  "source": "test"})
    return parse_model(raw, "hard.toml", sha256="test-hard-model")


def _infinite_model():
    base = load_model("cnaf-2014")
    raw = copy.deepcopy(tomllib.loads(open(base.path, encoding="utf-8").read()))
    mod = raw["criteria"][2]["modalities"][0]
    mod.pop("coefficient")
    mod["status"] = "unknown"  # no range: contributes (-inf, +inf) when matched or unknown
    return parse_model(raw, "inf.toml", sha256="test-infinite-model")


def _duckdb(model, df: pl.DataFrame) -> pl.DataFrame:
    con = duckdb.connect()
    con.register("features", df.to_arrow())
    return con.sql(score_sql(model, "features", dialect="duckdb")).pl()


@pytest.fixture(scope="module")
def features_200k():
    return random_features("cnaf-2014", 200_000, seed=7, unknown=0.08)


def test_duckdb_sql_equals_engine_on_200k_households(features_200k):
    res = _duckdb("cnaf-2014", features_200k)
    eng = engine_result("cnaf-2014", features_200k)
    m = load_model("cnaf-2014")
    n = assert_same(res, eng)
    assert n == 6 + 2 * len(m.criteria) + sum(c.kind != "numeric" for c in m.criteria)
    # the table covers every case: determined and bounded households, every modality
    assert 0 < res["determined"].sum() < res.height
    for c in m.criteria:
        seen = set(res[f"m__{c.id}"].drop_nulls().unique().to_list())
        assert seen == set(range(len(c.modalities))), c.id


@pytest.mark.parametrize("factory", [_hard_model, _infinite_model])
def test_duckdb_sql_equals_engine_with_unknown_coefficients(factory):
    model = factory()
    df = random_features(model, 20_000, seed=3, unknown=0.15)
    res = _duckdb(model, df)
    assert_same(res, engine_result(model, df))
    if factory is _infinite_model:
        assert res["score"].null_count() > 0 and res["logit_high"].is_infinite().any()


def test_sql_of_every_dialect_parses_and_names_the_model():
    m = load_model("cnaf-2014")
    for dialect in ("duckdb", "postgres", "spark"):
        q = score_sql("cnaf-2014", "my_schema.feats", dialect=dialect)
        assert m.sha256 in q and "reconstructed" in q
        assert "my_schema" in q
    assert "`c__minima_sociaux__low`" in score_sql("cnaf-2014", dialect="spark")
    assert '"c__minima_sociaux__low"' in score_sql("cnaf-2014", dialect="postgres")


# --- PostgreSQL ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def postgres():
    yield from start_postgres()


def test_postgres_sql_equals_engine(postgres):
    import psycopg

    model = _hard_model()
    df = random_features(model, 20_000, seed=11, unknown=0.1)
    inf_df = random_features(_infinite_model(), 3_000, seed=12, unknown=0.2)
    with psycopg.connect(postgres) as conn:
        copy_to_postgres(conn, "public.feats", df)
        copy_to_postgres(conn, "feats_inf", inf_df)
        conn.commit()
        for mdl, table, frame in ((model, "public.feats", df), ("cnaf-2014", "public.feats", df),
                                  (_infinite_model(), "feats_inf", inf_df)):
            with conn.cursor() as cur:
                cur.execute(score_sql(mdl, table, dialect="postgres"))
                names = [d.name for d in cur.description]
                rows = cur.fetchall()
            res = pl.DataFrame(rows, schema=names, orient="row", infer_schema_length=None)
            assert_same(res, engine_result(mdl, frame))


def test_postgres_group_table_equals_polars(postgres):
    import psycopg

    scores, expected = _scores_and_groups(5_000, budget=400)
    with psycopg.connect(postgres) as conn:
        copy_to_postgres(conn, "scores", scores)
        conn.commit()
        with conn.cursor() as cur:
            cur.execute(group_table_sql("scores", "famille_type", 400, dialect="postgres"))
            names = [d.name for d in cur.description]
            res = pl.DataFrame(cur.fetchall(), schema=names, orient="row")
    _assert_group_table(res, expected)


# --- group table --------------------------------------------------------------------------------

def _scores_and_groups(n: int, budget: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Scores with ties and NULLs, and the group table computed independently in Polars."""
    import numpy as np

    rng = np.random.default_rng(5)
    fam = np.array(["personne_seule", "couple_sans_enfant", "couple_avec_enfants",
                    "monoparentale"])[rng.choice(4, n, p=[0.47, 0.04, 0.33, 0.16])]
    score = np.round(rng.beta(2, 5, n) + (fam == "monoparentale") * 0.2, 2)  # many ties
    df = pl.DataFrame({"household_id": rng.permutation(n).astype(np.int64) + 1,
                       "score": score, "famille_type": fam})
    df = df.with_columns(pl.when(pl.int_range(pl.len()) % 97 == 0).then(None)
                         .otherwise(pl.col("score")).alias("score"))
    ranked = df.sort(["score", "household_id"], descending=[True, False], nulls_last=True)
    ranked = ranked.with_columns(selected=pl.int_range(pl.len()) < budget)
    overall = budget / n
    expected = (ranked.group_by("famille_type").agg(households=pl.len(),
                                                    selected=pl.col("selected").sum())
                .with_columns(population_share=pl.col("households") / n,
                              selected_share=pl.col("selected") / budget,
                              selection_rate=pl.col("selected") / pl.col("households"))
                .with_columns(ratio_to_overall=pl.col("selection_rate") / overall)
                .rename({"famille_type": "group"}).sort("group"))
    return df, expected


def _assert_group_table(res: pl.DataFrame, expected: pl.DataFrame) -> None:
    res = res.sort("group")
    assert res["group"].to_list() == expected["group"].to_list()
    assert res["households"].cast(pl.Int64).to_list() == expected["households"].to_list()
    assert res["selected"].cast(pl.Int64).to_list() == expected["selected"].cast(pl.Int64).to_list()
    for c in ("population_share", "selected_share", "selection_rate", "ratio_to_overall"):
        for a, b in zip(res[c].cast(pl.Float64).to_list(), expected[c].to_list()):
            assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15), c


def test_duckdb_group_table_equals_polars():
    scores, expected = _scores_and_groups(50_000, budget=3_000)
    con = duckdb.connect()
    con.register("scores", scores.to_arrow())
    res = con.sql(group_table_sql("scores", "famille_type", 3_000)).pl()
    _assert_group_table(res, expected)
    assert res["selected"].sum() == 3_000
    # the group column from another table (join on household_id)
    con.register("only_scores", scores.select("household_id", "score").to_arrow())
    con.register("pop", scores.select("household_id", "famille_type").to_arrow())
    res2 = con.sql(group_table_sql("only_scores", "famille_type", 3_000, groups="pop")).pl()
    _assert_group_table(res2, expected)


# --- Spark ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def spark():
    yield from start_spark()


def test_spark_sql_equals_engine(spark, tmp_path):
    model = _hard_model()
    df = random_features(model, 4_000, seed=21, unknown=0.1)
    path = tmp_path / "feats.parquet"
    df.write_parquet(path)
    spark.read.parquet(str(path)).createOrReplaceTempView("feats")
    out = tmp_path / "out.parquet"
    spark.sql(score_sql(model, "feats", dialect="spark")).write.parquet(str(out))
    res = pl.read_parquet(str(out / "*.parquet"))
    assert_same(res, engine_result(model, df))
    scores, expected = _scores_and_groups(3_000, budget=250)
    spath = tmp_path / "scores.parquet"
    scores.write_parquet(spath)
    spark.read.parquet(str(spath)).createOrReplaceTempView("scores")
    rows = spark.sql(group_table_sql("scores", "famille_type", 250, dialect="spark")).collect()
    _assert_group_table(pl.DataFrame([r.asDict() for r in rows]), expected)


# --- CLI --------------------------------------------------------------------------------------

def test_cli_models_sql_and_features_export(cli, tmp_path):
    r = cli("models", "sql", "cnaf-2014", "--dialect", "postgres", "--table", "feats")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("-- profilage: model cnaf-2014") and 'FROM "feats"' in r.stdout \
        or "FROM feats" in r.stdout
    r = cli("models", "sql", "cnaf-2014", "--dialect", "oracle")
    assert r.returncode == 2
    assert r.stderr.strip() == ("erreur / error: --dialect: unknown dialect 'oracle' "
                                "(expected one of duckdb, postgres, spark)")
    # features POP --model ID --out FILE, then the SQL over that file equals `profilage score`
    from profilage.dossier import dossiers_frame
    from profilage.personas import available_personas, load_persona

    pop = dossiers_frame([load_persona(p) for p in available_personas()])
    pop = pop.with_columns(household_id=pl.int_range(1, pop.height + 1, dtype=pl.Int64))
    pop_path, feat_path = tmp_path / "pop.parquet", tmp_path / "feats.parquet"
    pop.write_parquet(pop_path)
    r = cli("features", str(pop_path), "--model", "cnaf-2014", "--out", str(feat_path))
    assert r.returncode == 0, r.stderr
    feats = pl.read_parquet(feat_path)
    assert feats.columns == ["household_id", *load_model("cnaf-2014").features]
    con = duckdb.connect()
    con.register("features", feats.to_arrow())
    res = con.sql(score_sql("cnaf-2014")).pl().sort("household_id")
    from profilage import score_dossier

    for pid, name in zip(res["household_id"], available_personas()):
        assert res.filter(pl.col("household_id") == pid)["score"][0] == pytest.approx(
            score_dossier(name)["score"], abs=1e-12)
    r = cli("features", str(tmp_path / "nope.parquet"), "--model", "cnaf-2014", "--out",
            str(tmp_path / "x.parquet"))
    assert r.returncode == 2 and "file not found" in r.stderr
    r = cli("sql", "group-table", "--by", "famille_type", "--budget", "10", "--dialect", "spark")
    assert r.returncode == 0 and "ROW_NUMBER() OVER (ORDER BY `score` DESC" in r.stdout


def test_duckdb_sql_equals_engine_on_a_200k_generated_population():
    """The issue's check: features of 200,000 synthetic households, SQL vs engine to 1e-12."""
    from profilage.cli.sql_cmds import feature_table
    from profilage.population import generate_population

    pop = generate_population(200_000, seed=2024)
    feats = feature_table(pop.lazy(), "cnaf-2014").collect()
    assert feats.height == 200_000
    res = _duckdb("cnaf-2014", feats)
    assert_same(res, engine_result("cnaf-2014", feats))


def test_bench_json_on_a_small_population(cli):
    r = cli("bench", "--households", "5000", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    for k in ("households", "engine_s", "sklearn_s", "duckdb_s", "numpy_s", "peak_rss_mb"):
        assert out[k] > 0, k
    assert out["households"] == 5000
    for k in ("sklearn", "duckdb", "numpy", "fast", "floor"):  # the engine's scores, all
        assert out[f"{k}_max_diff"] < 1e-12, k
    for k in ("fast_s", "fast_encode_s", "floor_s", "read_s", "audit_s"):
        assert out[k] > 0, k
    assert out["fast_vs_sklearn"] == out["sklearn_s"] / out["fast_s"]
    assert out["audit_vs_read"] == out["audit_s"] / out["read_s"]
    assert out["engine_selected"] == out["duckdb_selected"] == out["numpy_selected"] == out["budget"]


def test_sql_group_table_equals_the_audit_module():
    """Same selection rule (highest scores, ties to the smaller household_id) and same figures
    as profilage.audit's Polars group table."""
    from profilage.audit.selection import Selection, select
    from profilage.audit.table import group_table

    scores, _ = _scores_and_groups(20_000, budget=1_500)
    scores = scores.with_columns(score=pl.col("score").fill_null(0.0))
    audited = select(scores.with_columns(month=pl.lit("2024-03")), Selection(budget_per_month=1_500))
    want = group_table(audited, [["famille_type"]], n_boot=0).sort("group")
    con = duckdb.connect()
    con.register("scores", scores.to_arrow())
    got = con.sql(group_table_sql("scores", "famille_type", 1_500)).pl().sort("group")
    assert got["group"].to_list() == want["group"].to_list()
    assert got["selected"].cast(pl.Int64).to_list() == want["selected"].to_list()
    for c in ("households", "population_share", "selected_share", "selection_rate",
              "ratio_to_overall"):
        for a, b in zip(got[c].cast(pl.Float64).to_list(), want[c].cast(pl.Float64).to_list()):
            assert math.isclose(a, b, rel_tol=1e-12), c


@pytest.mark.parametrize("model_id", __import__("profilage.models", fromlist=["x"]).available_models())
def test_duckdb_sql_equals_engine_for_every_shipped_model(model_id):
    df = random_features(model_id, 5_000, seed=99, unknown=0.1)
    assert_same(_duckdb(model_id, df), engine_result(model_id, df))

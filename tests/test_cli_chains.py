"""Every chain of commands the README and ``--help`` document, typed as a user types them.

generate -> features export -> score -> ``models sql`` on DuckDB, and generate -> score directly,
for every shipped model and for a model imported from PMML: the three paths give the same
scores (to 1e-12) and a household with full information is scored, never silently all-unknown.
The paths are compared with each other (not with fixed persona scores: the models are re-fitted).
"""

from __future__ import annotations

import duckdb
import polars as pl
import pytest
from conftest import run_cli

from profilage.models import available_models, load_model

SCORE_COLS = ["score", "score_low", "score_high", "logit_low", "logit_high", "determined"]
SHIPPED = ["cnaf-2014", "cnaf-2010", "cnaf-dmde-2026-m1", "cnam-c2sg-2018", "cnam-c2sg-2021",
           "cnam-c2sg-experimental"]


def ok(*args: str, cwd=None) -> str:
    r = run_cli(*args, cwd=cwd)
    assert r.returncode == 0, f"{' '.join(args)}: {r.stderr}"
    assert "Traceback" not in r.stderr and "erreur" not in r.stderr
    return r.stdout


@pytest.fixture(scope="module")
def pops(tmp_path_factory):
    d = tmp_path_factory.mktemp("chains")
    ok("population", "generate", "--households", "1500", "--seed", "3", "--out",
       str(d / "pop.parquet"))
    ok("population", "generate", "--kind", "c2s", "--households", "800", "--seed", "4", "--out",
       str(d / "c2s.parquet"))
    return d


def same(a: pl.DataFrame, b: pl.DataFrame, tol: float = 1e-12) -> None:
    """Scores, bounds and flags equal: floats to ``tol``, nulls and infinities in the same places."""
    assert a.height == b.height
    assert a["household_id"].to_list() == b["household_id"].to_list()
    for name in SCORE_COLS:
        x, y = a[name], b[name]
        if name == "determined":
            assert x.cast(pl.Boolean).to_list() == y.to_list(), name
            continue
        x, y = x.cast(pl.Float64), y.cast(pl.Float64)
        assert (x.is_null() == y.is_null()).all(), f"{name}: nulls differ"
        inf_x, inf_y = x.is_infinite().fill_null(False), y.is_infinite().fill_null(False)
        assert (inf_x == inf_y).all() and (x.filter(inf_x) == y.filter(inf_y)).all(), name
        fin = ~inf_x & x.is_not_null()
        diff = (x.filter(fin) - y.filter(fin)).abs().max()
        assert diff is None or diff <= tol, f"{name}: max difference {diff}"


def run_chain(model: str, pop, d) -> dict[str, pl.DataFrame]:
    """generate -> features export -> score; models sql on DuckDB; score the dossiers directly."""
    tag = model.replace("/", "_").replace(".", "_")
    feat, s_feat, s_pop = d / f"f-{tag}.parquet", d / f"s-{tag}.parquet", d / f"p-{tag}.parquet"
    ok("features", "export", str(pop), "--model", model, "--out", str(feat))
    ok("score", str(feat), "--model", model, "--out", str(s_feat))
    out = ok("score", str(pop), "--model", model, "--out", str(s_pop))
    assert "foyers notés" in out
    sql = ok("models", "sql", model, "--dialect", "duckdb", "--table", "features")
    con = duckdb.connect()
    con.sql(f"CREATE VIEW features AS SELECT * FROM read_parquet('{feat}')")
    via_sql = con.sql(sql).pl().sort("household_id")
    return {"features": pl.read_parquet(feat), "score_features": pl.read_parquet(s_feat),
            "score_dossiers": pl.read_parquet(s_pop), "sql": via_sql}


@pytest.mark.parametrize("model", SHIPPED)
def test_every_documented_chain_gives_the_same_scores(pops, model):
    assert set(SHIPPED) == set(available_models())
    pop = pops / ("c2s.parquet" if model.startswith("cnam") else "pop.parquet")
    r = run_chain(model, pop, pops)
    m = load_model(model)
    assert r["features"].columns == ["household_id", *m.features]
    # the README's short form `profilage features POP --model ID --out F` writes the same table
    short = pops / f"short-{model}.parquet"
    ok("features", str(pop), "--model", model, "--out", str(short))
    assert pl.read_parquet(short).equals(r["features"])
    same(r["score_features"], r["score_dossiers"])
    same(r["sql"], r["score_dossiers"])
    # the dossier table keeps its own columns and adds the scores
    src = pl.read_parquet(pop)
    assert r["score_dossiers"].columns[:src.width] == src.columns
    assert set(r["score_dossiers"].columns) == set(src.columns) | set(SCORE_COLS)
    assert r["score_dossiers"]["household_id"].to_list() == src["household_id"].to_list()
    statuses = m.coefficients_status()
    if statuses["unknown"] == 0:
        # every coefficient known and every input derived from the population: determined
        # households exist (not the all-unknown interval the bug gave)
        assert r["score_dossiers"]["determined"].sum() > 0.9 * src.height
        assert r["score_dossiers"]["score"].null_count() == 0
    else:  # unknown coefficients without ranges: infinite bounds, no score (said as such)
        assert r["score_dossiers"]["score"].null_count() == src.height


def test_chain_for_a_model_imported_from_pmml(pops):
    """models export (PMML) -> models import -> the same chains: same scores as the original."""
    pmml, toml = pops / "cnaf-2014.pmml", pops / "importe.toml"
    ok("models", "export", "cnaf-2014", "--format", "pmml", "--out", str(pmml))
    ok("models", "import", str(pmml), "--format", "pmml", "--id", "importe", "--source",
       "export de cnaf-2014", "--out", str(toml))
    r = run_chain(str(toml), pops / "pop.parquet", pops)
    same(r["score_features"], r["score_dossiers"])
    same(r["sql"], r["score_dossiers"])
    orig = run_chain("cnaf-2014", pops / "pop.parquet", pops)
    same(r["score_dossiers"], orig["score_dossiers"])


def test_declared_inputs_are_read_from_the_table_or_unknown(pops, tmp_path):
    """A model's own inputs (cnaf-dmde-2026-m1 declares 11 no dossier gives) are taken from the
    dossier table when it has them: features export and score read them, no internal error."""
    pop = pl.read_parquet(pops / "pop.parquet")
    m = load_model("cnaf-dmde-2026-m1")
    declared = [f for f in m.features if f in m.raw.get("features", {})]
    assert declared
    bools = [f for f in declared if m.raw["features"][f]["kind"] == "bool"]
    extra = pop.with_columns(pl.lit(True).alias(bools[0]))
    path = tmp_path / "pop_plus.parquet"
    extra.write_parquet(path)
    ok("features", "export", str(path), "--model", "cnaf-dmde-2026-m1", "--out",
       str(tmp_path / "f.parquet"))
    f = pl.read_parquet(tmp_path / "f.parquet")
    assert f[bools[0]].to_list() == [True] * pop.height
    assert all(f[x].null_count() == pop.height for x in declared if x != bools[0])
    ok("score", str(path), "--model", "cnaf-dmde-2026-m1", "--out", str(tmp_path / "s.parquet"))


def test_a_table_neither_dossiers_nor_features_is_refused(tmp_path):
    path = tmp_path / "autre.csv"
    pl.DataFrame({"household_id": [1, 2], "ville": ["Lyon", "Lille"]}).write_csv(path)
    r = run_cli("score", str(path), "--model", "cnaf-2014", "--out", str(tmp_path / "s.csv"))
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert "none of the model cnaf-2014's inputs (age_allocataire" in r.stderr
    assert "no dossier column" in r.stderr and "autre.csv" in r.stderr
    assert not (tmp_path / "s.csv").exists()


def test_feature_table_with_boolean_presence_column_scores(tmp_path):
    """The first reported failure: a_conjoint (true/false presence of the partner's criteria)
    was type-checked as the numeric criterion it gates."""
    path = tmp_path / "f.csv"
    pl.DataFrame({"household_id": [1, 2], "a_conjoint": [True, False],
                  "age_conjoint": [61, None]}).write_csv(path)
    ok("score", str(path), "--model", "cnaf-2014", "--out", str(tmp_path / "s.parquet"))
    path.write_text("household_id,a_conjoint\n1,12\n")
    r = run_cli("score", str(path), "--model", "cnaf-2014", "--out", str(tmp_path / "s.parquet"))
    assert r.returncode == 2 and "a_conjoint: value 12 is not true/false" in r.stderr

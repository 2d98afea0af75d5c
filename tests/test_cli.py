import json

import polars as pl
import pytest

from profilage.engine import sigmoid


def test_score_json_nathalie(cli):
    r = cli("score", "nathalie", "--model", "cnaf-2014", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert round(out["score"], 3) == 0.240
    assert out["determined"] is False
    assert set(out) >= {"score", "score_low", "score_high", "logit_low", "logit_high",
                        "intercept", "determined", "model", "contributions", "redacted"}
    assert set(out["model"]) >= {"id", "sha256", "coefficients_status"}
    assert out["model"]["coefficients_status"]["reconstructed"] == 65
    assert out["score_low"] == pytest.approx(sigmoid(out["logit_low"]))
    assert {"criterion", "modality", "low", "high", "status"} <= set(out["contributions"][0])


def test_score_text_shows_provenance(cli):
    r = cli("score", "abel")
    assert r.returncode == 0
    assert "Coefficients NON officiels" in r.stdout and "0.832" in r.stdout
    assert "reconstruit" in r.stdout


def test_explain_lists_changes(cli):
    r = cli("explain", "nathalie", "--model", "cnaf-2014")
    assert r.returncode == 0, r.stderr
    assert "Ce qui ferait baisser le score" in r.stdout
    assert "Revenus stables et importants" in r.stdout
    j = json.loads(cli("explain", "michel", "--json").stdout)
    assert j["would_lower"][0]["delta"] < 0 and j["waterfall"]


@pytest.mark.parametrize("args, needle", [
    (("score", "missing.json"), "missing.json: file not found"),
    (("score", "nathalie", "--model", "cnaf-1999"), "--model: unknown model 'cnaf-1999'"),
    (("score", "{bad}"), "no dossier file or persona named"),
])
def test_bad_input_exit_2_one_line(cli, args, needle):
    r = cli(*args)
    assert r.returncode == 2
    assert needle in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_invalid_json_and_wrong_type_name_the_field(cli, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"reference_month": "2023-12", ')
    r = cli("score", str(bad))
    assert r.returncode == 2 and "invalid JSON at line 1" in r.stderr
    bad.write_text(json.dumps({"reference_month": "2023-12", "enfants": [{"age": "douze"}]}))
    r = cli("score", str(bad))
    assert r.returncode == 2 and "enfants[0].age" in r.stderr and "Traceback" not in r.stderr
    bad.write_text(json.dumps({"reference_month": "2023-12", "logement": {"qpvv": True}}))
    r = cli("score", str(bad))
    assert r.returncode == 2 and "logement.qpvv: unknown field" in r.stderr


def test_score_table_keeps_columns_and_adds_score(cli, tmp_path):
    src = tmp_path / "in.csv"
    pl.DataFrame({"household_id": ["a", "b"], "age_allocataire": [30, 70], "rsa": [True, False],
                  "qpv": [None, False]}).write_csv(src)
    out = tmp_path / "out.parquet"
    r = cli("score", str(src), "--model", "cnaf-2014", "--out", str(out))
    assert r.returncode == 0, r.stderr
    df = pl.read_parquet(out)
    assert df.columns[:4] == ["household_id", "age_allocataire", "rsa", "qpv"]
    assert {"score", "score_low", "score_high", "determined"} <= set(df.columns)
    assert (df["score_low"] <= df["score"]).all() and (df["score"] <= df["score_high"]).all()


def test_score_table_bad_category_names_column(cli, tmp_path):
    src = tmp_path / "in.csv"
    pl.DataFrame({"situation_familiale": ["marie", "mariee"]}).write_csv(src)
    r = cli("score", str(src), "--out", str(tmp_path / "o.csv"))
    assert r.returncode == 2 and "situation_familiale: value 'mariee'" in r.stderr
    assert not (tmp_path / "o.csv").exists()


def test_models_list_and_show_json(cli):
    lst = json.loads(cli("models", "list", "--json").stdout)
    assert {"id", "institution", "title", "coefficients_status"} <= set(lst[0])
    show = json.loads(cli("models", "show", "cnaf-2014", "--json").stdout)
    assert show["intercept"]["status"] == "reconstructed"
    crit = show["criteria"][0]
    assert {"id", "feature", "protected_ground", "modalities"} <= set(crit)
    assert {"label", "coefficient", "status", "source"} <= set(crit["modalities"][0])
    assert len(show["redacted"]) == 3


def test_demo_is_the_main_job_on_the_embedded_store(cli, tmp_path):
    """README's first command: personas, then a population scored into DuckDB and audited."""
    store = tmp_path / "demo.duckdb"
    proc = cli("demo", "--households", "5000", "--store", str(store), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "0.240" in out and "reconstru" in out  # Nathalie, with the provenance banner
    assert "5,000 foyers synthétiques" in out and "famille monoparentale" in out
    import duckdb

    con = duckdb.connect(str(store), read_only=True)
    n = con.execute("SELECT count(*) FROM scores").fetchone()[0]
    con.close()
    assert n == 5000
    again = cli("demo", "--households", "5000", "--store", str(store), cwd=tmp_path)
    assert again.returncode == 0, again.stderr  # re-running redoes the month atomically

"""The ensemble of reconstructions in the CLI, the library and the API, on a fixture ensemble
written by the tests (every figure checked against each member scored separately by the Polars
engine and selected by the audit's own ``select``)."""

from __future__ import annotations

import json
import math

import numpy as np
import polars as pl
import pytest
from ensemble_fixture import write_fixture

from profilage.audit import Selection, run_audit, select
from profilage.audit.ensemble import member_tables
from profilage.audit.selection import Selector
from profilage.engine import compile_model
from profilage.fastpath import Tables
from profilage.features import derive_features
from profilage.population import generate_population
from profilage.scoring import score_dossier

SIZE = 9


def _without_ensemble() -> str:
    """A shipped model with no shipped ensemble (cnaf-2010 unless one is shipped for it)."""
    from profilage.models import available_models
    from profilage.models.ensemble import has_ensemble

    return next(m for m in ["cnaf-2010", *available_models()] if m != "cnaf-2014"
                and not has_ensemble(m))


NONE = _without_ensemble()


@pytest.fixture
def ens(tmp_path, monkeypatch):
    d = tmp_path / "ensembles"
    e = write_fixture(d, "cnaf-2014", size=SIZE, seed=4)
    monkeypatch.setenv("PROFILAGE_ENSEMBLES", str(d))
    return e


@pytest.fixture(scope="module")
def population():
    return generate_population(30_000, seed=21)


def _member_table_independent(pop: pl.DataFrame, member, sel: Selection, by: str) -> dict:
    """One member through the Polars engine and the audit's select(): selected per group."""
    feats = derive_features(pop.with_columns(_m=pl.col("reference_month")),
                            keep=["household_id", by, "departement", "_m"]).collect()
    scored = compile_model(member).score(feats).collect()
    frame = scored.select("household_id", by, "departement", "score", month=pl.col("_m"))
    s = select(frame, Selection(budget_per_month=sel.budget_per_month, share=sel.share,
                                threshold=sel.threshold, quota_by=sel.quota_by))
    g = s.group_by(by).agg(n=pl.len(), k=pl.col("selected").sum())
    return {str(r[by]): (r["n"], r["k"]) for r in g.iter_rows(named=True)}, int(s["selected"].sum())


def test_models_ensemble_json_and_export(cli, ens, tmp_path):
    r = cli("models", "ensemble", "cnaf-2014", "--json")
    assert r.returncode == 0, r.stderr
    man = json.loads(r.stdout)
    assert list(man) == ["model", "size", "method", "seed", "facts", "members"]
    assert man == json.loads(json.dumps(ens.manifest()))
    assert man["size"] == SIZE and man["members"][0]["id"] == "cnaf-2014-e001"
    out = tmp_path / "members"
    r = cli("models", "ensemble", "cnaf-2014", "--export", str(out))
    assert r.returncode == 0, r.stderr
    assert "9 membres" in r.stdout and "Méthode" in r.stdout and "toujours" in r.stdout
    files = sorted(out.glob("*.toml"))
    assert [f.stem for f in files] == [m["id"] for m in man["members"]]
    # an exported member scores as the member and carries its sha256
    r = cli("score", "nathalie", "--model", str(files[3]), "--json")
    res = json.loads(r.stdout)
    assert res["model"]["sha256"] == man["members"][3]["sha256"]
    assert math.isclose(res["score"], score_dossier("nathalie", ens.member(3))["score"],
                        abs_tol=1e-12)


def test_score_ensemble_range_is_each_member_scored_separately(cli, ens):
    r = cli("score", "nathalie", "--model", "cnaf-2014", "--ensemble", "--json")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    e = res["ensemble"]
    each = sorted(score_dossier("nathalie", m)["score"] for m in ens.members())
    assert e["size"] == SIZE
    assert math.isclose(e["score_min"], each[0], abs_tol=1e-12)
    assert math.isclose(e["score_max"], each[-1], abs_tol=1e-12)
    assert math.isclose(e["score_median"], float(np.median(each)), abs_tol=1e-12)
    assert e["score_min"] <= e["score_median"] <= e["score_max"]
    # the fixture's first member is the point model: its score lies in the range
    assert e["score_min"] <= res["score"] <= e["score_max"]
    r = cli("score", "abel", "--ensemble")
    assert r.returncode == 0, r.stderr
    assert f"Ensemble de {SIZE} reconstructions" in r.stdout and "score entre" in r.stdout


def test_ensemble_on_a_model_without_one_is_a_clear_error(cli, ens):
    for args in (["score", "nathalie", "--model", NONE, "--ensemble"],
                 ["models", "ensemble", NONE],
                 ["audit", "--model", NONE, "--population", "nowhere.parquet",
                  "--ensemble"],
                 ["explain", "nathalie", "--model", NONE, "--ensemble"]):
        r = cli(*args)
        assert r.returncode == 2, (args, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "--ensemble" in lines[0] and NONE in lines[0], lines
        assert "Traceback" not in r.stderr


def test_explain_ensemble_directions(cli, ens):
    r = cli("explain", "nathalie", "--ensemble", "--json")
    assert r.returncode == 0, r.stderr
    dirs = {d["criterion"]: d for d in json.loads(r.stdout)["ensemble"]["directions"]}
    base = ens.base()
    members = ens.members()
    res = score_dossier("nathalie", base)
    for c in base.criteria:
        mod = next(x["modality"] for x in res["contributions"] if x["criterion"] == c.id)
        if mod is None:  # unknown input: the middle of [lowest, highest coefficient]
            vals = [(min(v) + max(v)) / 2 for v in
                    ([x.coefficient.value for x in m.criterion(c.id).modalities] for m in members)]
        else:
            vals = [m.criterion(c.id).modality(mod).coefficient.value for m in members]
        d = dirs[c.id]
        assert d["modality"] == mod
        assert (d["raises"], d["lowers"]) == (sum(v > 0 for v in vals), sum(v < 0 for v in vals))
        assert d["same_direction"] == (len({(v > 0) - (v < 0) for v in vals}) == 1)
    r = cli("explain", "nathalie", "--ensemble")
    assert "Sens de l" in r.stdout and "oui : " in r.stdout and r.returncode == 0


@pytest.mark.parametrize("model_id", ["cnaf-2014", "cnaf-2010", "cnam-c2sg-2018"])
def test_member_tables_equal_the_rendered_members(model_id, tmp_path):
    ens = write_fixture(tmp_path, model_id, size=SIZE, seed=1)
    tabs = member_tables(ens)
    for i in (0, 4, SIZE - 1):
        want = Tables.of(ens.member(i))
        assert tabs[i].base == want.base
        for a, b in zip(tabs[i].low + tabs[i].high, want.low + want.high):
            assert np.array_equal(a, b)


@pytest.mark.parametrize("sel", [Selection(share=0.03), Selection(budget_per_month=700),
                                 Selection(threshold=0.3), Selection(share=0.05,
                                                                     quota_by="departement")])
def test_selector_is_select(population, sel):
    """The members' selection equals select() (same budgets, quotas and ties)."""
    from profilage.audit import prepare

    frame = prepare(population, "cnaf-2014", keep=["departement"])
    done = select(frame, sel)
    rows = Selector(done, sel).rows(frame["score"].fill_null(np.nan).to_numpy())
    assert np.array_equal(rows, np.flatnonzero(done["selected"].to_numpy()))
    # scores with many ties (rounded): still the same households
    rounded = frame.with_columns(pl.col("score").round(2))
    done = select(rounded, sel)
    rows = Selector(done, sel).rows(rounded["score"].to_numpy())
    assert np.array_equal(rows, np.flatnonzero(done["selected"].to_numpy()))


def test_audit_ensemble_cli_ranges_equal_each_member_audited_separately(cli, ens, population,
                                                                         tmp_path):
    path = tmp_path / "pop.parquet"
    population.write_parquet(path)
    out = tmp_path / "audit"
    r = cli("audit", "--population", str(path), "--by", "famille_type", "--share", "0.04",
            "--ensemble", "--json", "--out", str(out), "--bootstrap", "0")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert json.loads((out / "audit.json").read_text())["ensemble"]["size"] == SIZE
    assert rep["ensemble"]["size"] == SIZE and rep["ensemble"]["model"] == "cnaf-2014"
    sel = Selection(share=0.04)
    per_member = [_member_table_independent(population, m, sel, "famille_type")
                  for m in ens.members()]
    n = population.height
    for g in rep["groups"]:
        shares, rates, ratios = [], [], []
        for counts, total in per_member:
            hh, k = counts[g["group"]]
            shares.append(k / total)
            rates.append(k / hh)
            ratios.append((k / hh) / (total / n))
        for name, vals in (("selected_share", shares), ("selection_rate", rates),
                           ("ratio_to_overall", ratios)):
            lo, med, hi = g[f"{name}_min"], g[f"{name}_median"], g[f"{name}_max"]
            assert lo <= med <= hi
            assert math.isclose(lo, min(vals), abs_tol=1e-12), (g["group"], name)
            assert math.isclose(med, float(np.median(vals)), abs_tol=1e-12), (g["group"], name)
            assert math.isclose(hi, max(vals), abs_tol=1e-12), (g["group"], name)
        # the point model (the fixture's first member) lies inside every range
        assert g["selected_share_min"] <= g["selected_share"] <= g["selected_share_max"]
    texts = [c["text_fr"] for c in rep["conclusions"]]
    mono = next(c for c in rep["conclusions"] if c["group"] == "monoparentale")
    g = next(x for x in rep["groups"] if x["group"] == "monoparentale")
    pc = lambda x: f"{100 * x:.1f} %".replace(".", ",")  # noqa: E731
    assert mono["text_fr"].startswith(
        f"Dans les {SIZE} reconstructions compatibles avec les faits publiés, les familles "
        f"monoparentales reçoivent entre {pc(g['selected_share_min'])} et "
        f"{pc(g['selected_share_max'])} des contrôles, pour {pc(g['population_share'])} des foyers.")
    assert mono["robust"] == (g["ratio_to_overall_min"] > 1 or g["ratio_to_overall_max"] < 1)
    assert len(texts) == 4
    # the text output prints the ranges and the conclusions
    r = cli("audit", "--population", str(path), "--by", "famille_type", "--share", "0.04",
            "--ensemble", "--bootstrap", "0")
    assert r.returncode == 0, r.stderr
    assert "Plages sur les 9 reconstructions" in r.stdout and "Conclusions" in r.stdout
    assert "familles monoparentales" in r.stdout


def test_audit_ensemble_with_quotas_equals_members(ens, population):
    sel = Selection(budget_per_month=600, quota_by="departement")
    res = run_audit(population, "cnaf-2014", budget=600, quota_by="departement",
                    by="famille_type", n_boot=0, ensemble=True)
    per_member = [_member_table_independent(population, m, sel, "famille_type")
                  for m in ens.members()]
    for r in res.table.iter_rows(named=True):
        shares = [c[r["group"]][1] / t for c, t in per_member]
        assert math.isclose(r["selected_share_min"], min(shares), abs_tol=1e-12)
        assert math.isclose(r["selected_share_max"], max(shares), abs_tol=1e-12)
    assert res.as_dict()["ensemble"]["size"] == SIZE


def test_api_score_and_audit_with_ensemble(ens):
    from fastapi.testclient import TestClient

    from profilage.web.app import create_app

    client = TestClient(create_app(), base_url="http://127.0.0.1")  # a trusted Host
    sizes = {m["id"]: m["ensemble_size"] for m in client.get("/api/models").json()}
    assert sizes["cnaf-2014"] == SIZE and sizes[NONE] is None
    r = client.post("/api/score", json={"model": "cnaf-2014", "dossier": "nathalie",
                                        "ensemble": True})
    assert r.status_code == 200
    e = r.json()["ensemble"]
    assert e["size"] == SIZE and e["score_min"] <= e["score_median"] <= e["score_max"]
    assert "ensemble" not in client.post("/api/score", json={"dossier": "nathalie"}).json()
    r = client.post("/api/score", json={"model": NONE, "dossier": "nathalie",
                                        "ensemble": True})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "ensemble"
    r = client.post("/api/audit", json={"model": "cnaf-2014", "ensemble": True, "bootstrap": 0,
                                        "population": {"households": 5000, "seed": 1},
                                        "by": ["famille_type"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ensemble"]["size"] == SIZE and body["conclusions"]
    assert all("selected_share_min" in g for g in body["groups"])
    r = client.post("/api/audit", json={"model": NONE, "ensemble": True,
                                        "population": {"households": 100}})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "ensemble"


def _shipped():
    from profilage.models.ensemble import ENSEMBLES_DIR

    return sorted(p.stem for p in ENSEMBLES_DIR.glob("*.json")) if ENSEMBLES_DIR.is_dir() else []


@pytest.mark.parametrize("model_id", _shipped() or [pytest.param("none", marks=pytest.mark.skip(
    reason="no ensemble shipped yet"))])
def test_shipped_ensembles_through_the_cli(cli, model_id, monkeypatch):
    """The shipped ensembles (not the fixture): the manifest and the score ranges."""
    from profilage.models.ensemble import load_ensemble

    monkeypatch.delenv("PROFILAGE_ENSEMBLES", raising=False)
    ens = load_ensemble(model_id)
    r = cli("models", "ensemble", model_id, "--json")
    assert r.returncode == 0, r.stderr
    man = json.loads(r.stdout)
    assert man["size"] == ens.size >= 100 and man == json.loads(json.dumps(ens.manifest()))
    if model_id.startswith("cnaf"):
        for persona in ("nathalie", "abel"):
            res = json.loads(cli("score", persona, "--model", model_id, "--ensemble",
                                 "--json").stdout)
            e = res["ensemble"]
            assert e["size"] == ens.size and e["score_min"] <= e["score_median"] <= e["score_max"]

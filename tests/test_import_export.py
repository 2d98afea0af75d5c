"""Model export (JSON, CSV, PMML) and import (PMML, CSV, odds ratios, points): real figures."""

import json
import math

from profilage.models import load_model
from profilage.models.export import model_to_json_dict


def test_json_export_is_strict_json_with_provenance_and_features():
    m = load_model("cnaf-2014")
    d = model_to_json_dict(m)
    text = json.dumps(d, allow_nan=False)  # no infinities anywhere
    back = json.loads(text)
    assert back["format"] == "profilage-model" and back["format_version"] == 1
    assert back["intercept"] == {"value": -0.8203, "status": "reconstructed",
                                 "source": m.intercept.source, "low": -0.8203, "high": -0.8203}
    crit = next(c for c in back["criteria"] if c["id"] == "age_conjoint")
    assert crit["presence"] == "a_conjoint" and crit["protected_ground"] == "age"
    assert [x["kind"] for x in crit["modalities"]] == ["absent", "bin", "bin"]
    top = crit["modalities"][2]
    assert (top["min"], top["max"], top["coefficient"]) == (60.0, None, 0.2519)
    assert top["label_fr"] == "Conjoint de 60 ans ou plus" and top["label_en"]
    assert {g["ground"] for g in back["protected_grounds"]} == {
        "age", "family_situation", "disability", "residence"}
    assert back["features"]["situation_familiale"]["categories"][0] == "marie"
    assert set(back["features"]) == set(m.features)
    assert [r["id"] for r in back["redacted"]] == [f"variable_occultee_{i}" for i in (1, 2, 3)]
    # every coefficient of the model is in the export, exactly
    n = sum(len(c["modalities"]) for c in back["criteria"])
    assert n == len(m.all_coefficients) - 1
    for c, mc in zip(back["criteria"], m.criteria):
        for x, mm in zip(c["modalities"], mc.modalities):
            assert x["coefficient"] == mm.coefficient.value and x["status"] == "reconstructed"
            assert not math.isnan(x["coefficient_min"])


def test_cli_export_json_to_file_and_bad_format(cli, tmp_path):
    out = tmp_path / "m.json"
    r = cli("models", "export", "cnaf-2014", "--format", "json", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert json.loads(out.read_text())["id"] == "cnaf-2014"
    r = cli("models", "export", "cnaf-2014", "--format", "xml", "--out", str(tmp_path / "x"))
    assert r.returncode == 2 and "--format: unknown format 'xml'" in r.stderr
    assert not (tmp_path / "x").exists()


# --------------------------------------------------------------------------------------------
# PMML

from pathlib import Path  # noqa: E402

import polars as pl  # noqa: E402
import pytest  # noqa: E402

from profilage import score_dossier, score_frame  # noqa: E402
from profilage.errors import ProfilageError  # noqa: E402
from profilage.models import load_model_file  # noqa: E402
from profilage.models.build import FeatureMap  # noqa: E402
from profilage.models.pmml import import_pmml, model_to_pmml  # noqa: E402
from profilage.models.tables import import_table, model_to_csv  # noqa: E402
from profilage.personas import available_personas  # noqa: E402

DATA = Path(__file__).parent / "data"
EXPORTABLE = ["cnaf-2010", "cnaf-2014", "cnam-c2sg-2018", "cnam-c2sg-experimental"]


def _same_scores(a, b):
    worst = 0.0
    for p in available_personas():
        ra, rb = score_dossier(p, a), score_dossier(p, b)
        for k in ("score", "score_low", "score_high", "logit_low", "logit_high"):
            if ra[k] is None or rb[k] is None:
                assert ra[k] == rb[k], (p, k)
            else:
                worst = max(worst, abs(ra[k] - rb[k]))
    return worst


@pytest.mark.parametrize("mid", EXPORTABLE)
def test_pmml_round_trip_keeps_every_number_and_score(tmp_path, mid):
    m = load_model(mid)
    path = tmp_path / f"{mid}.pmml"
    path.write_text(model_to_pmml(m), encoding="utf-8")
    _, back = import_pmml(path, model_id=mid, source="ignored", fmap=FeatureMap())
    assert [c.id for c in back.criteria] == [c.id for c in m.criteria]
    assert back.intercept.value == m.intercept.value
    for c, c2 in zip(m.criteria, back.criteria):
        assert (c.feature, c.presence, c.protected_ground, c.label_fr) == (
            c2.feature, c2.presence, c2.protected_ground, c2.label_fr)
        for mod, mod2 in zip(c.modalities, c2.modalities):
            assert (mod.id, mod.coefficient.value, mod.coefficient.status,
                    mod.coefficient.source, mod.min, mod.max) == (
                mod2.id, mod2.coefficient.value, mod2.coefficient.status,
                mod2.coefficient.source, mod2.min, mod2.max)
    assert [c.id for c in back.redacted] == [c.id for c in m.redacted]
    # reconstructed numbers stay "reconstructed" after a trip through PMML, never "published"
    assert back.coefficients_status() == m.coefficients_status()
    assert _same_scores(m, back) <= 1e-12


@pytest.mark.parametrize("mid", EXPORTABLE)
def test_our_pmml_is_valid_against_the_pmml_4_4_schema(mid):
    etree = pytest.importorskip("lxml.etree")
    schema = etree.XMLSchema(etree.parse(str(DATA / "pmml-4-4-regression.xsd")))
    doc = etree.fromstring(model_to_pmml(load_model(mid)).encode())
    assert schema.validate(doc), schema.error_log
    # the schema does reject what PMML forbids: a predictor without its coefficient
    pred = doc.find(".//{http://www.dmg.org/PMML-4_4}CategoricalPredictor")
    del pred.attrib["coefficient"]
    assert not schema.validate(doc)


def test_pmml_export_refuses_unknown_coefficients(cli, tmp_path):
    r = cli("models", "export", "cnaf-dmde-2026-m1", "--format", "pmml", "--out",
            str(tmp_path / "x.pmml"))
    assert r.returncode == 2
    assert "cannot export cnaf-dmde-2026-m1 to PMML: intercept has an unknown coefficient" in r.stderr
    assert not (tmp_path / "x.pmml").exists()


def test_sas_style_two_table_pmml_scores_as_the_formula(tmp_path):
    fmap = FeatureMap.from_options(["SITFAM=situation_familiale", "AGE=age_allocataire",
                                    "QPV=qpv"])
    _, m = import_pmml(DATA / "sas_em_logistic.pmml", model_id="sas", source="fixture",
                       fmap=fmap)
    assert [c.id for c in m.criteria] == ["AGE", "AGE__puissance_2", "SITFAM", "QPV"]
    assert m.criterion("AGE__puissance_2").exponent == 2
    sit = {mod.value: mod.coefficient.value for mod in m.criterion("SITFAM").modalities}
    assert sit["pacse"] == -0.35 and sit["marie"] == 0.0 and len(sit) == 7
    frame = pl.DataFrame({"age_allocataire": [40, 25], "situation_familiale": ["pacse", "marie"],
                          "qpv": [True, False]})
    got = score_frame(frame, m)["score"].to_list()
    for (age, sf, q), s in zip([(40, -0.35, 0.4), (25, 0.0, 0.0)], got):
        z = -2.125 + 0.05 * age - 0.0004 * age ** 2 + sf + q
        assert s == pytest.approx(1 / (1 + math.exp(-z)), abs=1e-15)
    # the other category of the target: 1 - p
    _, m0 = import_pmml(DATA / "sas_em_logistic.pmml", model_id="sas0", source="fixture",
                        fmap=fmap, target_category="0")
    got0 = score_frame(frame, m0)["score"].to_list()
    assert got0[0] == pytest.approx(1 - got[0], abs=1e-15)


def test_pmml_from_a_real_exporter_scores_as_the_exporting_library(tmp_path):
    np = pytest.importorskip("numpy")
    pd = pytest.importorskip("pandas")
    lm = pytest.importorskip("sklearn.linear_model")
    pipeline = pytest.importorskip("sklearn.pipeline")
    nyoka = pytest.importorskip("nyoka")
    rng = np.random.default_rng(3)
    n = 300
    x = pd.DataFrame({"age_allocataire": rng.integers(18, 80, n).astype(float),
                      "rsa": rng.integers(0, 2, n).astype(float),
                      "taux_effort": rng.random(n) * 0.8})
    y = (rng.random(n) < 0.2 + 0.3 * x["rsa"]).astype(int)
    pipe = pipeline.Pipeline([("lr", lm.LogisticRegression())]).fit(x, y)
    path = tmp_path / "nyoka.pmml"
    nyoka.skl_to_pmml(pipe, list(x.columns), "indu", str(path))
    _, m = import_pmml(path, model_id="sk", source="scikit-learn via nyoka", fmap=FeatureMap())
    assert m.criterion("rsa").kind == "categorical"  # a 0/1 column becomes true/false
    frame = pl.DataFrame({"age_allocataire": x["age_allocataire"].astype(int).to_list(),
                          "rsa": (x["rsa"] == 1).to_list(),
                          "taux_effort": x["taux_effort"].to_list()})
    ours = np.array(score_frame(frame, m)["score"].to_list())
    theirs = pipe.predict_proba(x)[:, 1]
    assert np.abs(ours - theirs).max() < 1e-12


@pytest.mark.parametrize("xml, message", [
    ('<PMML version="4.4"><Header/><DataDictionary/><GeneralRegressionModel '
     'functionName="classification" modelType="generalizedLinear" linkFunction="probit"/></PMML>',
     'linkFunction="probit" is not supported: only "logit"'),
    ('<PMML version="4.4"><Header/><DataDictionary/><TreeModel functionName="classification"/>'
     '</PMML>', "<TreeModel> is not supported"),
    ('<PMML version="4.4"><Header/><DataDictionary/><RegressionModel functionName='
     '"classification" normalizationMethod="softmax"><RegressionTable intercept="0"/>'
     '</RegressionModel></PMML>', 'normalizationMethod="softmax" with one RegressionTable'),
    ('<PMML version="4.4"><Header/><DataDictionary/><RegressionModel functionName='
     '"classification" normalizationMethod="probit"><RegressionTable intercept="0"/>'
     '</RegressionModel></PMML>', 'normalizationMethod="probit" is not supported'),
    ('<PMML version="4.4"><Header/><DataDictionary/><RegressionModel functionName='
     '"classification" normalizationMethod="logit"><RegressionTable intercept="0">'
     '<PredictorTerm coefficient="1"><FieldRef field="a"/><FieldRef field="b"/></PredictorTerm>'
     '</RegressionTable></RegressionModel></PMML>', "PredictorTerm (interaction) is not supported"),
    ('<PMML version="4.4"><Header/><DataDictionary/><RegressionModel functionName='
     '"classification" normalizationMethod="logit"><RegressionTable intercept="1" '
     'targetCategory="a"/><RegressionTable intercept="2" targetCategory="b"/><RegressionTable '
     'intercept="0" targetCategory="c"/></RegressionModel></PMML>', "3 RegressionTables"),
    ('<PMML version="4.4"><Header/><DataDictionary/><RegressionModel functionName='
     '"classification" normalizationMethod="logit"><RegressionTable intercept="1">'
     '<NumericPredictor name="REVENU" coefficient="0.1"/><NumericPredictor name="AGE" '
     'coefficient="0.1"/></RegressionTable></RegressionModel></PMML>',
     "field(s) not mapped to a profilage feature: REVENU, AGE"),
    ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><PMML version="4.4"/>',
     "DOCTYPE/ENTITY declarations are not accepted"),
    ('<PMML version="3.2"><Header/></PMML>', "PMML version 3.2 is not supported"),
])
def test_unsupported_pmml_is_refused_with_one_line(cli, tmp_path, xml, message):
    src = tmp_path / "in.pmml"
    src.write_text(xml)
    out = tmp_path / "out.toml"
    r = cli("models", "import", str(src), "--format", "pmml", "--id", "x", "--source", "t",
            "--out", str(out))
    assert r.returncode == 2, r.stderr
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert "Traceback" not in r.stderr and not out.exists()


# --------------------------------------------------------------------------------------------
# CSV, odds ratios, points

def test_csv_table_imports_with_reference_levels_and_bins(tmp_path):
    src = tmp_path / "t.csv"
    src.write_text("critere;modalite;coefficient\n"
                   "intercept;;-1,5\n"
                   "situation_familiale;pacse;-0,3\n"
                   "age_allocataire;<25;0,2\n"
                   "age_allocataire;[25, 60);0\n"
                   "age_allocataire;>=60;-0,1\n"
                   "rsa;oui;0,5\n", encoding="utf-8")
    _, m = import_table(src, fmt="csv", model_id="t", source="CADA 2025", fmap=FeatureMap())
    assert m.intercept.value == -1.5 and m.intercept.source == "CADA 2025"
    assert m.coefficients_status()["published"] == 1 + 7 + 3 + 2
    rsa = {mod.value: mod.coefficient.value for mod in m.criterion("rsa").modalities}
    assert rsa == {False: 0.0, True: 0.5}
    bins = [(mod.min, mod.max, mod.coefficient.value)
            for mod in m.criterion("age_allocataire").modalities]
    assert bins == [(None, 25.0, 0.2), (25.0, 60.0, 0.0), (60.0, None, -0.1)]
    s = score_frame(pl.DataFrame({"situation_familiale": ["pacse"], "age_allocataire": [70],
                                  "rsa": [True]}), m)["score"][0]
    assert s == pytest.approx(1 / (1 + math.exp(-(-1.5 - 0.3 - 0.1 + 0.5))), abs=1e-15)


def test_odds_ratio_table_takes_the_log(tmp_path):
    src = tmp_path / "or.csv"
    src.write_text("criterion,modality,odds_ratio\nintercept,,0.25\nsexe_allocataire,F,1.42\n"
                   "au_moins_un_mineur,true,1.5\n")
    _, m = import_table(src, fmt="odds-ratios", model_id="or", source="LQDN", fmap=FeatureMap())
    assert m.intercept.value == math.log(0.25)
    sexe = {mod.value: mod.coefficient.value for mod in m.criterion("sexe_allocataire").modalities}
    assert sexe == {"F": math.log(1.42), "M": 0.0}
    bad = tmp_path / "bad.csv"
    bad.write_text("criterion,modality,odds_ratio\nintercept,,0.25\nsexe_allocataire,F,-2\n")
    with pytest.raises(ProfilageError, match="line 3, sexe_allocataire: odds ratio -2 must be "
                                             "positive"):
        import_table(bad, fmt="odds-ratios", model_id="or", source="x", fmap=FeatureMap())


def test_points_table_uses_the_scaling(tmp_path):
    src = tmp_path / "pts.csv"
    src.write_text("criterion,modality,points\nrsa,true,20\nrsa,false,0\nqpv,true,10\n")
    _, m = import_table(src, fmt="points", model_id="p", source="grille", fmap=FeatureMap(),
                        pdo=20, base_points=600, base_odds=1 / 50)
    factor = 20 / math.log(2)
    offset = 600 - factor * math.log(1 / 50)
    # at base points the odds are the base odds: 600 points -> ln(odds) = ln(1/50)
    assert m.intercept.value == pytest.approx(-offset / factor, abs=1e-12)
    rsa = {mod.value: mod.coefficient.value for mod in m.criterion("rsa").modalities}
    assert rsa[True] == pytest.approx(20 / factor, abs=1e-15)  # 20 points = +ln 2 (doubles odds)
    assert rsa[True] == pytest.approx(math.log(2), abs=1e-15)
    s = score_frame(pl.DataFrame({"rsa": [True], "qpv": [False]}), m)["score"][0]
    total = 20
    odds = math.exp((total - offset) / factor)
    assert s == pytest.approx(odds / (1 + odds), abs=1e-15)
    _, g = import_table(src, fmt="points", model_id="g", source="grille", fmap=FeatureMap(),
                        pdo=20, base_points=600, base_odds=50, points_odds="good")
    assert {mod.value: mod.coefficient.value for mod in g.criterion("rsa").modalities}[True] \
        == pytest.approx(-math.log(2), abs=1e-15)


def test_points_without_scaling_is_refused(cli, tmp_path):
    src = tmp_path / "pts.csv"
    src.write_text("criterion,modality,points\nrsa,true,20\n")
    r = cli("models", "import", str(src), "--format", "points", "--id", "p", "--source", "s",
            "--out", str(tmp_path / "p.toml"))
    assert r.returncode == 2
    assert "--pdo: a points table needs its scaling: --pdo, --base-points and --base-odds" \
        in r.stderr


@pytest.mark.parametrize("mid", ["cnaf-2014", "cnaf-dmde-2026-m1", "cnam-c2sg-2021",
                                 "cnam-c2sg-experimental"])
def test_csv_round_trip_keeps_status_source_and_scores(tmp_path, mid):
    m = load_model(mid)
    src = tmp_path / "m.csv"
    src.write_text(model_to_csv(m))
    _, back = import_table(src, fmt="csv", model_id=mid, source="ignored",
                           fmap=FeatureMap(declare_unknown=True))
    assert back.coefficients_status() == m.coefficients_status()
    assert _same_scores(m, back) == 0.0


def test_cli_import_then_score_with_the_toml_path(cli, tmp_path):
    src = tmp_path / "t.csv"
    src.write_text("criterion,modality,coefficient\nintercept,,-1\nAGE,\"[0, 50)\",0\n"
                   "AGE,\"[50, +inf)\",1\n")
    out = tmp_path / "mon-modele.toml"
    r = cli("models", "import", str(src), "--format", "csv", "--id", "mon-modele", "--source",
            "table de test", "--map", "AGE=age_allocataire", "--out", str(out))
    assert r.returncode == 0, r.stderr
    m = load_model_file(out)
    assert m.intercept.status == "published" and m.intercept.source == "table de test"
    r = cli("score", "nathalie", "--model", str(out), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["score"] == pytest.approx(1 / (1 + math.exp(-(-1 + 1))))
    r = cli("models", "import", str(src), "--format", "csv", "--id", "x", "--source", "s",
            "--out", str(tmp_path / "x.toml"))
    assert r.returncode == 2 and "field(s) not mapped to a profilage feature: AGE" in r.stderr


def test_numeric_predictors_with_exponent_and_presence_round_trip_through_pmml(tmp_path):
    etree = pytest.importorskip("lxml.etree")
    fmap = FeatureMap.from_options(["SITFAM=situation_familiale", "AGE=age_conjoint",
                                    "QPV=qpv"])
    doc, _ = import_pmml(DATA / "sas_em_logistic.pmml", model_id="sas", source="fixture",
                        fmap=fmap)
    for c in doc["criteria"]:
        if c["feature"] == "age_conjoint":
            c["presence"] = "a_conjoint"  # the partner's age applies only with a partner
    from profilage.models.build import finish

    m = finish(doc, source="t")
    text = model_to_pmml(m)
    schema = etree.XMLSchema(etree.parse(str(DATA / "pmml-4-4-regression.xsd")))
    assert schema.validate(etree.fromstring(text.encode())), schema.error_log
    path = tmp_path / "m.pmml"
    path.write_text(text)
    _, back = import_pmml(path, model_id="sas", source="x", fmap=FeatureMap())
    assert [(c.id, c.presence, c.exponent) for c in back.criteria] == [
        (c.id, c.presence, c.exponent) for c in m.criteria]
    frame = pl.DataFrame({"a_conjoint": [True, False, True], "age_conjoint": [50, None, 70],
                          "situation_familiale": ["divorce", "celibataire", "marie"],
                          "qpv": [True, False, None]})
    a, b = score_frame(frame, m), score_frame(frame, back)
    for col in ("score", "logit_low", "logit_high"):
        assert a[col].to_list() == b[col].to_list()
    z = -2.125  # single, not in a QPV, no partner: the age terms contribute 0
    assert a["score"][1] == pytest.approx(1 / (1 + math.exp(-z)), abs=1e-15)

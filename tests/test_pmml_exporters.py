"""PMML files as other tools write them, imported and scored through the command line, checked
against an independent evaluator (JPMML-Evaluator, tests/pmml_oracle.py).

Each fixture in tests/data/pmml/ says in its header which exporter's layout it follows and
where that layout is published. A table in the file's own vocabulary (its field names and
values) is scored by ``profilage score`` and by JPMML; the probabilities must agree to 1e-12.
With ``--unknown as-source`` the imported model also reproduces what the evaluator does with a
missing input (a categorical term counts 0, otherwise no score).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from conftest import run_cli
from pmml_oracle import available

DATA = Path(__file__).parent / "data" / "pmml"

# fixture -> (probability output field of the file, import options)
EXPORTERS = {
    "r_pmml_glm_binomial": ("Probability_oui", ["--declare-unknown"]),
    "knime_logreg_multinomial": ("P (controle=fraude)", ["--declare-unknown"]),
    "spark_mllib_logistic": ("probability_1", ["--declare-unknown"]),
    "r_pmml_multinom_two": ("Probability_indu", ["--declare-unknown"]),
    "sas_em_logistic_effect_coding": ("P_INDU1", ["--declare-unknown"]),
    "r_pmml_normdiscrete_dummies": ("Probability_1", ["--declare-unknown"]),
}

pytestmark = pytest.mark.skipif(available() is not None, reason=str(available()))


def _inputs(name: str) -> dict[str, tuple[str, list[str]]]:
    """Active input fields of a fixture: name -> (optype, listed values)."""
    import xml.etree.ElementTree as ET

    root = ET.parse(DATA / f"{name}.pmml").getroot()

    def local(t: str) -> str:
        return t.rsplit("}", 1)[-1]

    fields = {}
    for df in root.iter():
        if local(df.tag) == "DataField":
            fields[df.get("name")] = (df.get("optype"), [v.get("value") for v in df
                                                          if local(v.tag) == "Value"])
    active = []
    for mf in root.iter():
        if local(mf.tag) == "MiningField" and mf.get("usageType", "active") == "active":
            active.append(mf.get("name"))
    return {f: fields[f] for f in active}


def _table(name: str, n: int, seed: int, missing: float = 0.0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    cols: dict[str, list] = {"household_id": list(range(n))}
    for f, (optype, values) in _inputs(name).items():
        if optype == "categorical":
            col = [values[i] for i in rng.integers(0, len(values), n)]
        elif "ENF" in f.upper() or "controles" in f:
            col = [float(x) for x in rng.integers(0, 7, n)]
        else:
            col = [float(x) for x in rng.uniform(0, 80, n).round(3)]
        if missing:
            col = [None if m else x for x, m in zip(col, rng.random(n) < missing)]
        cols[f] = col
    return pl.DataFrame(cols)


def _oracle_file(name: str, tmp: Path) -> Path:
    """The file JPMML evaluates: the fixture itself, except SAS's FMTWIDTH constant, which SAS's
    own consumers read as the parameter it names; JPMML gets the spec's FieldRef form."""
    text = (DATA / f"{name}.pmml").read_text(encoding="utf-8")
    if "<Constant>FMTWIDTH</Constant>" in text:
        text = text.replace("<Constant>FMTWIDTH</Constant>", '<FieldRef field="FMTWIDTH"/>')
        out = tmp / f"{name}.oracle.pmml"
        out.write_text(text, encoding="utf-8")
        return out
    return DATA / f"{name}.pmml"


def _ours(inp: Path, toml: Path, out: Path) -> np.ndarray:
    """`profilage score` of a table under an imported model: the scores, as floats."""
    r = run_cli("score", str(inp), "--model", str(toml), "--out", str(out))
    assert r.returncode == 0, r.stderr
    return pl.read_parquet(out)["score"].to_numpy().astype(float)


def _jpmml(jobs: list[dict], spec: Path) -> list[np.ndarray]:
    """JPMML-Evaluator's probabilities for each job (pmml, input, field, output)."""
    spec.write_text(json.dumps(jobs))
    r = subprocess.run([sys.executable, str(Path(__file__).parent / "pmml_oracle.py"), str(spec)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return [pl.read_parquet(job["output"])["p"].to_numpy().astype(float) for job in jobs]


def _run(tmp: Path, unknown: str, missing: float) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    jobs, ours = [], {}
    for i, (name, (field, opts)) in enumerate(EXPORTERS.items()):
        toml = tmp / f"{name}-{unknown}.toml"
        r = run_cli("models", "import", str(DATA / f"{name}.pmml"), "--format", "pmml", "--id",
                    name, "--source", "fixture", "--unknown", unknown, "--out", str(toml), *opts)
        assert r.returncode == 0, r.stderr
        table = _table(name, 500, seed=i, missing=missing)
        inp = tmp / f"{name}-{unknown}.parquet"
        table.write_parquet(inp)
        ours[name] = _ours(inp, toml, tmp / f"{name}-{unknown}-scored.parquet")
        jobs.append({"pmml": str(_oracle_file(name, tmp)), "input": str(inp), "field": field,
                     "output": str(tmp / f"{name}-{unknown}-oracle.parquet")})
    theirs = _jpmml(jobs, tmp / f"jobs-{unknown}.json")
    return {name: (ours[name], t) for name, t in zip(EXPORTERS, theirs)}


@pytest.fixture(scope="module")
def complete(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("pmml_complete"), "interval", 0.0)


@pytest.fixture(scope="module")
def with_missing(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("pmml_missing"), "as-source", 0.12)


@pytest.mark.parametrize("name", list(EXPORTERS))
def test_exporter_scores_equal_the_independent_evaluator(complete, name):
    ours, theirs = complete[name]
    assert not np.isnan(theirs).any() and not np.isnan(ours).any()
    assert np.abs(ours - theirs).max() < 1e-12
    # the fixtures exercise the whole range, not a constant
    assert theirs.max() - theirs.min() > 0.1


@pytest.mark.parametrize("name", list(EXPORTERS))
def test_missing_inputs_as_source_equal_the_independent_evaluator(with_missing, name):
    ours, theirs = with_missing[name]
    assert (np.isnan(ours) == np.isnan(theirs)).all()
    both = ~np.isnan(theirs)
    assert both.sum() > 50 and np.isnan(theirs).sum() > 0
    assert np.abs(ours[both] - theirs[both]).max() < 1e-12


def test_missing_semantics_are_recorded_and_said(tmp_path):
    out = tmp_path / "m.toml"
    r = run_cli("models", "import", str(DATA / "r_pmml_multinom_two.pmml"), "--format", "pmml",
                "--id", "m", "--source", "fixture", "--out", str(out), "--declare-unknown")
    assert r.returncode == 0, r.stderr
    doc = tomllib.loads(out.read_text(encoding="utf-8"))
    assert doc["missing"]["unknown"] == "interval"
    assert "CategoricalPredictor" in doc["missing"]["source"]
    kinds = {c["id"]: c["unknown_as_source"] for c in doc["criteria"]}
    assert kinds == {"mois_depuis_changement_adresse": "no-score", "taux_effort": "no-score",
                     "logement": "zero"}
    shown = run_cli("models", "show", str(out)).stdout
    assert "Entrée inconnue / unknown input : intervalle" in shown
    assert "compte 0" in " ".join(shown.split())


# ---------------------------------------------------------------------------------------------
# What cannot be represented exactly is refused in one line naming it

_NS = 'xmlns="http://www.dmg.org/PMML-4_4" version="4.4"'
_DD = ('<DataDictionary><DataField name="a" optype="continuous" dataType="double"/>'
       '<DataField name="c" optype="categorical" dataType="string"><Value value="x"/>'
       '<Value value="y"/></DataField><DataField name="t" optype="categorical" '
       'dataType="string"><Value value="0"/><Value value="1"/></DataField></DataDictionary>')
_MS = ('<MiningSchema><MiningField name="a"/><MiningField name="c"/><MiningField name="t" '
       'usageType="target"/></MiningSchema>')


def _rm(table: str, attrs: str = 'functionName="classification" normalizationMethod="logit"',
        extra: str = "") -> str:
    return f'<PMML {_NS}><Header/>{_DD}{extra}<RegressionModel {attrs}>{_MS}{table}' \
           '</RegressionModel></PMML>'


def _grm(body: str, attrs: str = 'modelType="generalizedLinear" functionName="classification" '
                                 'linkFunction="logit" distribution="binomial"') -> str:
    return (f'<PMML {_NS}><Header/>{_DD}<GeneralRegressionModel {attrs}>{_MS}'
            '<ParameterList><Parameter name="p0"/><Parameter name="p1"/><Parameter name="p2"/>'
            '</ParameterList><FactorList><Predictor name="c"/></FactorList><CovariateList>'
            f'<Predictor name="a"/></CovariateList>{body}</GeneralRegressionModel></PMML>')


REFUSED = [
    # the DMG's GeneralRegressionModel example (autodeployai/pmml4s src/test/resources/models/
    # general/dmg_general_multinomial_logistic.xml): parameters on sex x minority
    (_grm('<PPMatrix><PPCell value="x" predictorName="c" parameterName="p1"/><PPCell value="1" '
          'predictorName="a" parameterName="p1"/></PPMatrix><ParamMatrix><PCell '
          'parameterName="p1" beta="1"/></ParamMatrix>'),
     "parameter p1 (p1) is an interaction of a x c"),
    (_grm('<PPMatrix/><ParamMatrix><PCell targetCategory="1" parameterName="p0" beta="1"/>'
          '<PCell targetCategory="2" parameterName="p0" beta="1"/></ParamMatrix>',
          'modelType="multinomialLogistic" functionName="classification" '
          'targetReferenceCategory="0"'),
     "multinomialLogistic with 3 outcomes: only two outcomes"),
    # the DMG's generalizedLinear example (dmg_general_generalizedLinear.xml): gamma, power link
    (_grm('<PPMatrix/><ParamMatrix/>', 'modelType="generalizedLinear" functionName="regression" '
          'distribution="gamma" linkFunction="power" linkParameter="-1"'),
     'linkFunction="power" is not supported'),
    (_grm('<PPMatrix><PPCell value="1.5" predictorName="a" parameterName="p1"/></PPMatrix>'
          '<ParamMatrix><PCell parameterName="p1" beta="1"/></ParamMatrix>'),
     "covariate 'a' has the non-integer exponent 1.5"),
    (_grm('<PPMatrix/><ParamMatrix/>').replace('<Predictor name="c"/>',
                                               '<Predictor name="c" contrastMatrixType="helmert"/>'),
     "factor 'c' has a contrast matrix"),
    (_rm('<RegressionTable intercept="1"><NumericPredictor name="a" exponent="2.5" '
         'coefficient="0.1"/></RegressionTable>'),
     "exponent 2.5 is not an integer"),
    (_rm('<RegressionTable intercept="1" targetCategory="1"/><RegressionTable intercept="0" '
         'targetCategory="0"/><RegressionTable intercept="0" targetCategory="2"/>',
         'functionName="classification" normalizationMethod="softmax"'),
     "3 RegressionTables (multinomial, more than two outcomes)"),
    (_rm('<Targets><Target field="t" rescaleFactor="n/a"/></Targets><RegressionTable '
         'intercept="1"/>'), "Targets rescaleFactor: 'n/a' is not a number"),
    (_rm('<RegressionTable intercept="1"/>', 'functionName="clustering" '
         'normalizationMethod="logit"'), 'functionName="clustering" is not supported'),
    (_rm('<RegressionTable intercept="1"/>', 'functionName="regression" '
         'normalizationMethod="none"'), 'functionName="regression" with normalizationMethod="none"'),
    (_rm('<RegressionTable intercept="1"/>').replace("http://www.dmg.org/PMML-4_4",
                                                     "http://example.org/pmml"),
     "namespace 'http://example.org/pmml' is not PMML's"),
    (_rm('<LocalTransformations><DerivedField name="d" optype="continuous" dataType="double">'
         '<Apply function="log10"><FieldRef field="c"/></Apply></DerivedField>'
         '</LocalTransformations><RegressionTable intercept="1"><NumericPredictor name="d" '
         'coefficient="1"/></RegressionTable>'),
     "function 'log10' is not supported in a categorical recoding"),
    (_rm('<LocalTransformations><DerivedField name="d" optype="continuous" dataType="double">'
         '<MapValues outputColumn="o" dataType="double"><FieldColumnPair field="c" column="i"/>'
         '<InlineTable><row><i>x</i><o>1</o></row></InlineTable></MapValues></DerivedField>'
         '</LocalTransformations><RegressionTable intercept="1"><NumericPredictor name="d" '
         'coefficient="1"/></RegressionTable>'),
     "value 'y' of 'c' has no value in 'd'"),
]


@pytest.mark.parametrize("xml, message", REFUSED)
def test_what_cannot_be_represented_is_refused_in_one_line(tmp_path, xml, message):
    src = tmp_path / "in.pmml"
    src.write_text(xml, encoding="utf-8")
    out = tmp_path / "out.toml"
    r = run_cli("models", "import", str(src), "--format", "pmml", "--id", "x", "--source", "t",
                "--declare-unknown", "--out", str(out))
    assert r.returncode == 2, r.stderr
    assert message in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert not out.exists()


def test_regression_function_and_namespace_version_are_said(tmp_path):
    src = tmp_path / "in.pmml"
    src.write_text(_rm('<RegressionTable intercept="1"><NumericPredictor name="a" '
                       'coefficient="0.5"/></RegressionTable>',
                       'functionName="regression" normalizationMethod="logit"')
                   .replace(' version="4.4"', ""), encoding="utf-8")
    out = tmp_path / "out.toml"
    r = run_cli("models", "import", str(src), "--format", "pmml", "--id", "x", "--source", "t",
                "--declare-unknown", "--out", str(out))
    assert r.returncode == 0, r.stderr
    doc = tomllib.loads(out.read_text(encoding="utf-8"))
    assert 'functionName="regression"' in doc["notes"] and "valeur prédite" in doc["notes"]
    # Spark MLlib: no version attribute, the namespace says 4.2
    r = run_cli("models", "import", str(DATA / "spark_mllib_logistic.pmml"), "--format", "pmml",
                "--id", "s", "--source", "t", "--declare-unknown", "--out", str(out))
    assert r.returncode == 0, r.stderr
    doc = tomllib.loads(out.read_text(encoding="utf-8"))
    assert "seuil de décision" in doc["notes"]


def test_two_maps_onto_one_feature_are_refused(tmp_path):
    r = run_cli("models", "import", str(DATA / "spark_mllib_logistic.pmml"), "--format", "pmml",
                "--id", "s", "--source", "t", "--map", "field_0=age_allocataire", "--map",
                "field_1=age_allocataire", "--out", str(tmp_path / "o.toml"))
    assert r.returncode == 2
    assert ("--map: fields 'field_0' and 'field_1' are both mapped to feature "
            "'age_allocataire'") in r.stderr


def test_a_field_named_like_a_feature_keeps_the_files_vocabulary(tmp_path):
    """KNIME's `situation_familiale` (M/C/D) stays the file's input; R's `qpv` (oui/non) is
    profilage's QPV flag, so both the file's own table and derived dossier features score."""
    out = tmp_path / "k.toml"
    r = run_cli("models", "import", str(DATA / "knime_logreg_multinomial.pmml"), "--format",
                "pmml", "--id", "k", "--source", "t", "--out", str(out))
    assert r.returncode == 2
    assert ("situation_familiale (values M, C, D are not the feature's categories" in r.stderr)
    r = run_cli("models", "import", str(DATA / "knime_logreg_multinomial.pmml"), "--format",
                "pmml", "--id", "k", "--source", "t", "--declare-unknown", "--out", str(out))
    assert r.returncode == 0, r.stderr
    doc = tomllib.loads(out.read_text(encoding="utf-8"))
    assert doc["features"]["situation_familiale"]["categories"] == ["M", "C", "D"]
    assert "rsa" not in doc.get("features", {})  # '1'/'0' is profilage's RSA flag
    table = tmp_path / "t.csv"
    table.write_text("household_id,situation_familiale,revenu_uc,rsa\n1,D,1200.5,1\n2,M,800,0\n")
    r = run_cli("score", str(table), "--model", str(out), "--out", str(tmp_path / "s.csv"))
    assert r.returncode == 0, r.stderr
    got = pl.read_csv(tmp_path / "s.csv")["score"].to_list()
    z1 = -0.9876543210987654 + 0.5432109876543210 - 0.0012345678901234 * 1200.5 + 1.2345678901234567
    z2 = -0.9876543210987654 - 0.0012345678901234 * 800
    assert got == pytest.approx([1 / (1 + np.exp(-z1)), 1 / (1 + np.exp(-z2))], abs=1e-15)
    # R's qpv oui/non feeds profilage's qpv: the file's "non" and a dossier's false agree
    out = tmp_path / "r.toml"
    r = run_cli("models", "import", str(DATA / "r_pmml_glm_binomial.pmml"), "--format", "pmml",
                "--id", "r", "--source", "t", "--declare-unknown", "--out", str(out))
    assert r.returncode == 0, r.stderr
    doc = tomllib.loads(out.read_text(encoding="utf-8"))
    assert "qpv" not in doc["features"] and "nb_enfants" not in doc["features"]
    qpv = next(c for c in doc["criteria"] if c["feature"] == "qpv")
    assert {m["value"]: m["coefficient"] for m in qpv["modalities"]} == {
        True: 0.321098765432109, False: 0.0}
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("household_id,age,nb_enfants,situation,qpv\n1,40,2,couple,non\n")
    b.write_text("household_id,age,nb_enfants,situation,qpv\n1,40,2,couple,false\n")
    for t in (a, b):
        r = run_cli("score", str(t), "--model", str(out), "--out", str(t.with_suffix(".o.csv")))
        assert r.returncode == 0, r.stderr
    assert pl.read_csv(a.with_suffix(".o.csv"))["score"][0] == pl.read_csv(
        b.with_suffix(".o.csv"))["score"][0]


def test_sql_of_an_as_source_model_equals_the_engine(tmp_path):
    """The source's missing-value semantics reach `models sql` too (DuckDB, 1e-12)."""
    import duckdb

    toml = tmp_path / "m.toml"
    r = run_cli("models", "import", str(DATA / "r_pmml_multinom_two.pmml"), "--format", "pmml",
                "--id", "m", "--source", "t", "--declare-unknown", "--unknown", "as-source",
                "--out", str(toml))
    assert r.returncode == 0, r.stderr
    table = _table("r_pmml_multinom_two", 400, seed=5, missing=0.2)
    path = tmp_path / "t.parquet"
    table.write_parquet(path)
    r = run_cli("score", str(path), "--model", str(toml), "--out", str(tmp_path / "s.parquet"))
    assert r.returncode == 0, r.stderr
    eng = pl.read_parquet(tmp_path / "s.parquet").sort("household_id")
    sql = run_cli("models", "sql", str(toml), "--table", "features").stdout
    con = duckdb.connect()
    con.sql(f"CREATE VIEW features AS SELECT * FROM read_parquet('{path}')")
    res = con.sql(sql).pl().sort("household_id")
    a, b = res["score"].to_numpy().astype(float), eng["score"].to_numpy().astype(float)
    assert (np.isnan(a) == np.isnan(b)).all() and np.isnan(a).any()
    ok = ~np.isnan(a)
    assert np.abs(a[ok] - b[ok]).max() < 1e-12
    # the fast path (audit, ensembles) follows the same semantics
    from profilage.fastpath import score_features
    from profilage.models import load_model

    fast = score_features(table, load_model(str(toml))).sort("household_id")
    f = fast["score"].to_numpy().astype(float)
    assert (np.isnan(f) == np.isnan(b)).all() and np.abs(f[ok] - b[ok]).max() < 1e-12
    # a missing category counts 0 (the reference), not an interval
    logement_missing = table["logement"].is_null() & table["taux_effort"].is_not_null() & table[
        "mois_depuis_changement_adresse"].is_not_null()
    assert eng.filter(logement_missing.to_numpy())["determined"].all()


def test_missing_value_replacement_is_the_source_semantics(tmp_path):
    """A MiningField's missingValueReplacement is what the evaluator scores a missing input as:
    --unknown as-source gives the same figures as JPMML (factor, covariate and boolean flag)."""
    text = (DATA / "r_pmml_glm_binomial.pmml").read_text(encoding="utf-8")
    for field, value in (("age", "45"), ("situation", "couple"), ("qpv", "oui")):
        text = text.replace(f'<MiningField name="{field}" usageType="active"',
                            f'<MiningField name="{field}" usageType="active" '
                            f'missingValueReplacement="{value}"')
    pmml = tmp_path / "r.pmml"
    pmml.write_text(text, encoding="utf-8")
    toml = tmp_path / "r.toml"
    r = run_cli("models", "import", str(pmml), "--format", "pmml", "--id", "r", "--source", "t",
                "--declare-unknown", "--unknown", "as-source", "--out", str(toml))
    assert r.returncode == 0, r.stderr
    doc = tomllib.loads(toml.read_text(encoding="utf-8"))
    assert {c["id"]: c.get("unknown_replacement") for c in doc["criteria"]} == {
        "age": "45", "nb_enfants": None, "situation": "couple", "qpv": "oui"}
    table = _table("r_pmml_glm_binomial", 400, seed=11, missing=0.15)
    inp = tmp_path / "t.parquet"
    table.write_parquet(inp)
    ours = _ours(inp, toml, tmp_path / "s.parquet")
    [theirs] = _jpmml([{"pmml": str(pmml), "input": str(inp), "field": "Probability_oui",
                        "output": str(tmp_path / "o.parquet")}], tmp_path / "jobs.json")
    assert (np.isnan(ours) == np.isnan(theirs)).all()
    ok = ~np.isnan(theirs)
    # only nb_enfants (no replacement) still gives no score
    assert ok.sum() > 300 and (~ok).sum() == table["nb_enfants"].null_count()
    assert np.abs(ours[ok] - theirs[ok]).max() < 1e-12


@pytest.mark.parametrize("args, message", [
    (("--unknown", "zero"), "--unknown: 'zero': expected interval or as-source"),
    (("--format", "csv", "--unknown", "as-source"), "--unknown: as-source applies to PMML files"),
])
def test_unknown_option_is_checked(tmp_path, args, message):
    fmt = [] if "--format" in args else ["--format", "pmml"]
    r = run_cli("models", "import", str(DATA / "spark_mllib_logistic.pmml"), *fmt, *args,
                "--id", "s", "--source", "t", "--declare-unknown", "--out", str(tmp_path / "o.toml"))
    assert r.returncode == 2 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_glm_with_a_numeric_target_regression_function(tmp_path):
    """R's pmml writes a binomial glm fitted on a 0/1 number as functionName="regression" (no
    target category): the predicted value is the probability, as JPMML computes it."""
    text = (DATA / "r_pmml_glm_binomial.pmml").read_text(encoding="utf-8")
    text = (text.replace('functionName="classification"', 'functionName="regression"')
            .replace(' targetCategory="oui"', "")
            .replace('<DataField name="indu" optype="categorical" dataType="string">\n   <Value '
                     'value="non"/>\n   <Value value="oui"/>\n  </DataField>',
                     '<DataField name="indu" optype="continuous" dataType="double"/>'))
    out_start = text.index("<Output>")
    text = text[:out_start] + ('<Output><OutputField name="Predicted_indu" optype="continuous" '
                               'dataType="double" feature="predictedValue"/></Output>') + \
        text[text.index("</Output>") + len("</Output>"):]
    pmml = tmp_path / "glm_reg.pmml"
    pmml.write_text(text, encoding="utf-8")
    toml = tmp_path / "g.toml"
    r = run_cli("models", "import", str(pmml), "--format", "pmml", "--id", "g", "--source", "t",
                "--declare-unknown", "--out", str(toml))
    assert r.returncode == 0, r.stderr
    assert "valeur prédite" in tomllib.loads(toml.read_text(encoding="utf-8"))["notes"]
    table = _table("r_pmml_glm_binomial", 300, seed=21)
    inp = tmp_path / "t.parquet"
    table.write_parquet(inp)
    ours = _ours(inp, toml, tmp_path / "s.parquet")
    [theirs] = _jpmml([{"pmml": str(pmml), "input": str(inp), "field": "Predicted_indu",
                        "output": str(tmp_path / "o.parquet")}], tmp_path / "jobs.json")
    assert np.abs(ours - theirs).max() < 1e-12

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
    assert back["intercept"] == {"value": -0.8815, "status": "reconstructed",
                                 "source": m.intercept.source, "low": -0.8815, "high": -0.8815}
    crit = next(c for c in back["criteria"] if c["id"] == "age_conjoint")
    assert crit["presence"] == "a_conjoint" and crit["protected_ground"] == "age"
    assert [x["kind"] for x in crit["modalities"]] == ["absent", "bin", "bin"]
    top = crit["modalities"][2]
    assert (top["min"], top["max"], top["coefficient"]) == (60.0, None, 0.2838)
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

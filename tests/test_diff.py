"""`profilage models diff`: what changed between model versions."""

import json

from profilage.models import load_model
from profilage.models.diff import diff_models


def test_cnaf_2010_to_2014_removes_nationality():
    d = diff_models(load_model("cnaf-2010"), load_model("cnaf-2014"))
    assert [c["id"] for c in d["criteria_removed"]] == ["nationalite"]
    assert d["criteria_removed"][0]["protected_ground"] == "nationality"
    assert d["criteria_added"] == [] and d["criteria_changed"] == []
    assert d["criteria_unchanged"] == 23
    assert [g["ground"] for g in d["protected_grounds"]["lost"]] == ["nationality"]
    assert d["protected_grounds"]["gained"] == []
    assert d["redacted"] == {"a": 6, "b": 3, "added": [],
                             "removed": ["variable_occultee_4", "variable_occultee_5",
                                         "variable_occultee_6"]}
    assert d["coefficients_source_only_changed"] == 64  # same numbers, other provenance text
    assert not d["intercept"]["changed"]


def test_c2sg_2018_to_experimental_adds_four_criteria_and_health_grounds():
    d = diff_models(load_model("cnam-c2sg-2018"), load_model("cnam-c2sg-experimental"))
    assert [c["id"] for c in d["criteria_added"]] == [
        "pension_invalidite", "consommation_soins", "indemnites_journalieres",
        "contact_assurance_maladie"]
    assert d["criteria_removed"] == [] and d["criteria_unchanged"] == 5
    assert {g["ground"]: g["criteria"] for g in d["protected_grounds"]["gained"]} == {
        "disability": ["pension_invalidite"],
        "health": ["consommation_soins", "indemnites_journalieres"]}


def test_c2sg_2018_to_2021_drops_sex_and_age_and_numbers_become_unknown():
    d = diff_models(load_model("cnam-c2sg-2018"), load_model("cnam-c2sg-2021"))
    assert [c["id"] for c in d["criteria_removed"]] == ["sexe", "age_25"]
    assert [g["ground"] for g in d["protected_grounds"]["lost"]] == ["age", "sex"]
    crit = {c["id"]: c for c in d["criteria_changed"]}
    assert crit["premiere_demande"]["coefficients"][1] == {
        "modality": "oui", "label_fr": "Première demande",
        "a": {"value": 0.5, "status": "reconstructed"}, "b": {"value": None, "status": "unknown"}}
    assert d["intercept"]["b"] == {"value": None, "status": "unknown"}


def test_cli_diff_reads_well_and_json(cli):
    r = cli("models", "diff", "cnaf-2010", "cnaf-2014")
    assert r.returncode == 0, r.stderr
    assert "critère protégé perdu / ground lost : nationalité (nationalite)" in r.stdout
    assert "− nationalite — Nationalité de l'allocataire (nationalite) — critère protégé : " \
           "nationalité" in " ".join(r.stdout.split())
    r = cli("models", "diff", "cnam-c2sg-2018", "cnam-c2sg-experimental", "--json")
    d = json.loads(r.stdout)
    assert len(d["criteria_added"]) == 4
    r = cli("models", "diff", "cnaf-2014", "cnaf-dmde-2026-m1")
    assert "variable(s) de cnaf-dmde-2026-m1 ne sont pas publiées" in " ".join(r.stdout.split())
    r = cli("models", "diff", "cnaf-2014", "nope")
    assert r.returncode == 2 and "unknown model 'nope'" in r.stderr

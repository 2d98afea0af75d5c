"""Published facts 1 to 6 (sources.md section 1), checked through the real features and engine."""

from pathlib import Path

import polars as pl
import pytest

from profilage import score_dossier, score_frame
from profilage.dossier import parse_dossier
from profilage.features import derive_features
from profilage.models import load_model
from profilage.personas import load_persona

MODEL = "cnaf-2014"

# Persona scores to the third decimal (README and closing note quote these).
EXPECTED = {
    "nathalie": 0.240, "nathalie-plus-3-ans": 0.278, "michel": 0.676, "abel": 0.838,
    "couple-deux-revenus-stables": 0.089, "mere-isolee-rsa-qpv": 0.844,
    "parent-separe-recemment": 0.459, "aah-esat": 0.781, "etudiante-seule": 0.823,
}


@pytest.mark.parametrize("name, expected", EXPECTED.items())
def test_persona_scores(name, expected):
    assert round(score_dossier(name, MODEL)["score"], 3) == expected


def test_fact1_nathalie_is_le_mondes_bounded_mean():
    r = score_dossier("nathalie", MODEL)
    assert not r["determined"]
    assert abs(r["score"] - 0.24) < 0.0005
    unknown = {c["criterion"] for c in r["contributions"] if not c["input_known"]}
    assert unknown == {"separation_recente", "nb_declarations", "connexions_web", "taux_effort",
                       "quartier_prioritaire"}


def test_fact2_partner_turning_60_raises_the_score_at_once():
    before = score_dossier("nathalie", MODEL)["score"]
    assert score_dossier("nathalie-plus-3-ans", MODEL)["score"] > before + 0.02
    d = load_persona("nathalie").model_dump()
    d["conjoint"]["date_naissance"] = "1963-09"  # Philippe 60, everything else equal
    assert score_dossier(parse_dossier(d), MODEL)["score"] > before + 0.02
    d["conjoint"]["date_naissance"] = "1964-01"  # 59 years 11 months: still under 60
    assert score_dossier(parse_dossier(d), MODEL)["score"] == pytest.approx(before, abs=1e-12)


def test_fact3_abel_well_above_michel():
    gap = score_dossier("abel", MODEL)["score"] - score_dossier("michel", MODEL)["score"]
    assert gap >= 0.15


def _candidates(crit):
    """One feature value inside each modality of a criterion."""
    out = []
    for m in crit.modalities:
        if m.kind == "category":
            out.append({crit.feature: m.value})
        elif m.kind == "absent":
            out.append({crit.presence: False})
        else:
            v = m.min if m.min is not None else (m.max - 1)
            row = {crit.feature: v}
            if crit.presence:
                row[crit.presence] = True
            out.append(row)
    return out


def test_fact4_stable_income_couple_has_almost_no_chance_whatever_the_rest():
    m = load_model(MODEL)
    fixed = {"revenus_stables_importants": True, "a_conjoint": True,
             "activite_allocataire": "salarie", "mois_activite_foyer": 24,
             "revenu_par_uc": 1200.0, "rsa": False, "parent_isole": False}
    allowed_situations = {"marie", "pacse", "concubinage"}
    # Independent of the fit: for each free criterion, score every modality and keep the worst.
    worst = dict(fixed, situation_familiale="marie", age_conjoint=40)
    for crit in m.criteria:
        if crit.feature in fixed and crit.feature != "age_conjoint":
            continue
        options = _candidates(crit)
        if crit.feature == "situation_familiale":
            options = [o for o in options if o["situation_familiale"] in allowed_situations]
        if crit.feature == "age_conjoint":
            options = [o for o in options if o.get("a_conjoint", True)]
        rows = pl.DataFrame([{**worst, **o} for o in options])
        scores = score_frame(rows, m)["score"].to_list()
        worst.update(options[scores.index(max(scores))])
    top = score_frame(pl.DataFrame([worst]), m)
    assert top["determined"][0]
    assert top["score"][0] < 0.7
    # The same couple without stable income: the criterion alone changes the picture.
    assert score_frame(pl.DataFrame([dict(worst, revenus_stables_importants=False)]), m
                       )["score"][0] > 0.85


def test_fact5_rent_burden_over_35_percent_raises_every_household():
    m = load_model(MODEL)
    for name in ("couple-deux-revenus-stables", "mere-isolee-rsa-qpv", "michel", "nathalie"):
        feats = derive_features(load_persona(name).to_frame()).collect()
        low = score_frame(feats.with_columns(taux_effort=pl.lit(0.20)), m)["score"][0]
        high = score_frame(feats.with_columns(taux_effort=pl.lit(0.40)), m)["score"][0]
        assert high > low, name


def test_fact6_criteria_penalising_the_precarious():
    m = load_model(MODEL)
    tagged = [c for c in m.criteria if c.precarity]
    assert len(tagged) >= 7
    assert len([c for c in tagged if c.precarity == "direct"]) == 5
    precarious = {"revenu_par_uc": ("moins_577", "1484_plus"), "mois_activite_foyer": ("moins_6", "24"),
                  "minima_sociaux": ("rsa", "pas_minima"), "activite_allocataire": ("chomage", "salarie"),
                  "revenus_stables": ("non", "oui"), "nb_declarations": ("4_plus", "aucune"),
                  "taux_effort": ("plus_35", "jusqu_35"), "quartier_prioritaire": ("oui", "non")}
    assert {c.id for c in tagged} == set(precarious)
    for cid, (poor, rich) in precarious.items():
        c = m.criterion(cid)
        assert c.modality(poor).coefficient.value > c.modality(rich).coefficient.value, cid


def test_directions_reported_by_the_press():
    m = load_model(MODEL)
    sit = {mod.id: mod.coefficient.value for mod in m.criterion("situation_familiale").modalities}
    assert sit["pacse"] < sit["marie"] and sit["pacse"] < sit["concubinage"]
    for cid, up in [("aah_en_activite", "oui"), ("handicap_aah", "touche_aah"),
                    ("parent_isole", "oui"), ("changement_adresse", "recent"),
                    ("separation_recente", "moins_18_mois")]:
        c = m.criterion(cid)
        others = [mod.coefficient.value for mod in c.modalities if mod.id != up]
        assert c.modality(up).coefficient.value > max(others), cid


def test_reconstruction_is_reproducible():
    """Re-running the documented fit gives the shipped coefficients."""
    from profilage.reconstruct import cnaf2014

    m = load_model(MODEL)
    p, x, matched = cnaf2014.fit(toml_path=Path(m.path))
    assert x[0] == pytest.approx(m.intercept.value, abs=1e-3)
    for (cid, mid), i in p.pos.items():
        assert x[i] == pytest.approx(m.criterion(cid).modality(mid).coefficient.value, abs=1e-3)
    assert p.score(x, matched["nathalie"]) == pytest.approx(0.24, abs=1e-6)

"""Published facts 1 to 7 (sources.md section 1), checked through the real features and engine."""

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
    "nathalie": 0.240, "nathalie-plus-3-ans": 0.270, "michel": 0.664, "abel": 0.832,
    "couple-deux-revenus-stables": 0.101, "mere-isolee-rsa-qpv": 0.846,
    "parent-separe-recemment": 0.441, "aah-esat": 0.764, "etudiante-seule": 0.806,
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
                    ("changement_adresse", "recent"),
                    ("separation_recente", "moins_18_mois")]:
        c = m.criterion(cid)
        others = [mod.coefficient.value for mod in c.modalities if mod.id != up]
        assert c.modality(up).coefficient.value > max(others), cid


def test_reconstruction_is_reproducible(tmp_path):
    """Re-running the documented fit gives the shipped file, byte for byte."""
    from profilage.reconstruct import cnaf2014

    m = load_model(MODEL)
    p, x, matched = cnaf2014.fit(toml_path=Path(m.path))
    assert x[0] == pytest.approx(m.intercept.value, abs=1e-3)
    for (cid, mid), i in p.pos.items():
        assert x[i] == pytest.approx(m.criterion(cid).modality(mid).coefficient.value, abs=1e-3)
    assert p.score(x, matched["nathalie"]) == pytest.approx(0.24, abs=1e-6)
    out = tmp_path / "cnaf-2014.toml"
    cnaf2014.write_model(p, x, out, matched=matched)
    assert out.read_bytes() == Path(m.path).read_bytes()


def test_no_shipped_model_scores_single_parents_directly():
    """Seed 003: single-parent families are harmed "indirectement" (months of activity)."""
    from profilage.models import available_models

    for mid in available_models():
        assert all(c.feature != "parent_isole" for c in load_model(mid).criteria), mid


def _with(model, changes: dict) -> object:
    """A copy of a model with some coefficients changed: {(criterion, modality): value}."""
    import tomllib

    from profilage.models import parse_model

    doc = tomllib.loads(Path(model.path).read_text(encoding="utf-8"))
    for c in doc["criteria"]:
        for m in c.get("modalities", []):
            if (c["id"], m["id"]) in changes:
                m["coefficient"] = changes[(c["id"], m["id"])]
    return parse_model(doc, "test")


def test_fact7_check_reports_the_achieved_figures_band_and_scope():
    from profilage.facts import check_model

    r = {x["fact"]: x for x in check_model(load_model(MODEL))}["cnaf-2014:7"]
    f = r["figures"]
    assert r["holds"] is True
    assert round(f["single_parents_share_of_controls"], 3) == 0.367
    assert round(f["low_income_share_of_controls"], 3) == 0.674
    assert round(f["single_parents_share_of_households"], 3) == 0.159
    assert f["bands"]["single_parents"] == pytest.approx([0.32, 0.40])
    assert f["bands"]["low_income"] == pytest.approx([2 / 3 - 0.05, 2 / 3 + 0.05])
    assert "parents isolés 36.7 % (publié : 36 % ; bande 32.0 %-40.0 %" in r["detail"]
    assert "contrôles à domicile (données 2015" in r["detail"] and "2024" in r["detail"]
    # Months of activity pushed up: the top 1.2 % barely moves (nearly every household there
    # already has under 15 months, single parents and persons alone alike).
    m = _with(load_model(MODEL), {("mois_activite_foyer", "6_14"): 2.0,
                                  ("mois_activite_foyer", "moins_6"): 2.0})
    f = {x["fact"]: x for x in check_model(m)}["cnaf-2014:7"]["figures"]
    assert round(f["single_parents_share_of_controls"], 3) == 0.367
    # Children aged 12-18 pushed up: single parents crowd the controls, the check fails and says so.
    m = _with(load_model(MODEL), {("enfants_12_18", "au_moins_un"): 2.0})
    r = {x["fact"]: x for x in check_model(m)}["cnaf-2014:7"]
    assert r["holds"] is False and "parents isolés 94.4 %" in r["detail"]
    assert "40.0 % : HORS BANDE" in r["detail"]


def test_fact7_on_a_generated_population_the_fit_never_saw():
    """A year's controls (1.2 %) on 100,000 households of another seed, with the real engine."""
    from profilage.audit import run_audit
    from profilage.population import generate_population

    res = run_audit(generate_population(100_000, seed=1), MODEL, share=0.012,
                    by=["famille_type", "bas_revenus"], n_boot=0)
    t = {(r["by"], r["group"]): r for r in res.table.to_dicts()}
    sp, low = t[("famille_type", "monoparentale")], t[("bas_revenus", "oui")]
    assert sp["population_share"] == pytest.approx(0.1603, abs=1e-4)
    assert sp["selected_share"] == pytest.approx(0.3400, abs=1e-4)  # published: 36 %
    assert low["selected_share"] == pytest.approx(0.6633, abs=1e-4)  # published: two thirds
    assert 0.32 <= sp["selected_share"] <= 0.40 and 0.617 <= low["selected_share"] <= 0.717

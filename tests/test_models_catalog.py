"""The six shipped models: provenance on every number, the published facts each must satisfy."""

import itertools
import json
import math

import polars as pl
import pytest

from profilage import score_dossier, score_frame
from profilage.dossier import parse_dossier
from profilage.facts.published import PROFIL_TYPE
from profilage.models import STATUSES, available_models, load_model
from profilage.personas import load_persona
from profilage.reconstruct.catalog import BUILDERS

SIX = ["cnaf-2010", "cnaf-2014", "cnaf-dmde-2026-m1", "cnam-c2sg-2018", "cnam-c2sg-2021",
       "cnam-c2sg-experimental"]


def test_the_six_models_are_shipped_with_provenance_on_every_coefficient():
    assert set(SIX) <= set(available_models())
    for mid in SIX:
        m = load_model(mid)
        for coef in m.all_coefficients:
            assert coef.status in STATUSES and coef.source.strip(), mid
        for c in m.redacted:
            assert c.source.strip()


def test_generated_files_are_up_to_date(tmp_path):
    from profilage.reconstruct.catalog import write_all

    for p in write_all(tmp_path):
        shipped = load_model(p.stem)
        assert p.read_bytes() == open(shipped.path, "rb").read(), p.stem


def test_cnaf_2010_has_nationality_and_six_redacted_variables():
    m = load_model("cnaf-2010")
    assert m.coefficients_status() == {"published": 0, "reconstructed": 68, "redacted": 6,
                                       "unknown": 0}
    nat = m.criterion("nationalite")
    assert nat.protected_ground == "nationality"
    coefs = {mod.id: mod.coefficient.value for mod in nat.modalities}
    assert coefs == {"francaise": 0.0, "europeenne": 0.0, "extra_europeenne": 0.2082}
    assert [c.id for c in m.redacted] == [f"variable_occultee_{i}" for i in range(1, 7)]
    assert "HYPOTHÈSE" in m.criterion("age_conjoint").modalities[0].coefficient.source


def test_cnaf_2010_scores_a_french_household_as_2014_and_a_non_european_one_higher():
    d = load_persona("nathalie").model_dump()
    d["allocataire"]["nationalite"] = "francaise"
    fr = score_dossier(parse_dossier(d), "cnaf-2010")["score"]
    assert fr == pytest.approx(score_dossier("nathalie", "cnaf-2014")["score"], abs=1e-12)
    d["allocataire"]["nationalite"] = "extra_europeenne"
    ee = score_dossier(parse_dossier(d), "cnaf-2010")
    assert round(fr, 4) == 0.2400 and round(ee["score"], 4) == 0.2794
    # unknown nationality: the bounds cover both
    unk = score_dossier("nathalie", "cnaf-2010")
    assert unk["score_low"] < fr and unk["score_high"] > ee["score_low"]


def test_dmde_2026_is_structure_only_and_scores_without_crashing(cli):
    m = load_model("cnaf-dmde-2026-m1")
    assert len(m.criteria) == 12 and len(m.redacted) == 5
    assert m.coefficients_status() == {"published": 0, "reconstructed": 0, "redacted": 5,
                                       "unknown": 31}
    grounds = {c.protected_ground for c in m.criteria} - {None}
    assert grounds == {"family_situation"}  # nationality, sex, address excluded (CNAF 2026)
    r = score_dossier("nathalie", m)
    assert r["score"] is None and r["logit_low"] is None and r["logit_high"] is None
    res = cli("score", "nathalie", "--model", "cnaf-dmde-2026-m1")
    assert res.returncode == 0 and "indéterminé / undetermined" in res.stdout
    assert "coefficients inconnus, le score n'est qu'un intervalle" in " ".join(res.stdout.split())
    assert "reconstruit" not in res.stdout


def _c2s_grid(model_id):
    rows = [dict(zip(["sexe_allocataire", "age_allocataire", "plus_d_un_adulte",
                      "au_moins_un_mineur", "premiere_demande"], combo))
            for combo in itertools.product(["F", "M"], [20, 32], [True, False], [True, False],
                                           [True, False])]
    return score_frame(pl.DataFrame(rows), model_id)


def test_c2sg_2018_profil_type_gets_the_highest_score():
    scored = _c2s_grid("cnam-c2sg-2018")
    assert scored["determined"].all() and scored.height == 32
    top = scored.sort("score", descending=True)
    best = top.row(0, named=True)
    assert {k: best[k] for k in PROFIL_TYPE} == PROFIL_TYPE
    assert best["score"] > top["score"][1]  # strictly: no other combination ties
    assert round(best["score"], 4) == 0.4502
    assert round(score_dossier("c2s-profil-type", "cnam-c2sg-2018")["score"], 4) == 0.4502
    assert round(score_dossier("c2s-homme-seul", "cnam-c2sg-2018")["score"], 4) == 0.1301


def test_c2sg_2018_directions_woman_minor_over_25_raise_the_score():
    m = load_model("cnam-c2sg-2018")
    for cid, mid in (("sexe", "femme"), ("age_25", "plus_25"), ("au_moins_un_mineur", "oui")):
        c = m.criterion(cid)
        assert c.modality(mid).coefficient.value == max(x.coefficient.value for x in c.modalities)
        assert c.modality(mid).coefficient.value > 0


def test_c2sg_2021_uses_neither_sex_nor_age_and_keeps_numbers_unknown():
    m = load_model("cnam-c2sg-2021")
    assert {c.feature for c in m.criteria} == {"plus_d_un_adulte", "au_moins_un_mineur",
                                               "premiere_demande"}
    assert {c.protected_ground for c in m.criteria} == {"family_situation", None}
    assert all(coef.status == "unknown" for coef in m.all_coefficients)
    assert score_dossier("c2s-profil-type", m)["score"] is None


def test_c2sg_experimental_adds_disability_and_health():
    m = load_model("cnam-c2sg-experimental")
    added = {c.id: c.protected_ground for c in m.criteria[5:]}
    assert added == {"pension_invalidite": "disability", "consommation_soins": "health",
                     "indemnites_journalieres": "health", "contact_assurance_maladie": None}
    fatou_2018 = score_dossier("c2s-mere-invalidite", "cnam-c2sg-2018")["score"]
    fatou_exp = score_dossier("c2s-mere-invalidite", "cnam-c2sg-experimental")
    assert fatou_exp["determined"]
    assert round(fatou_2018, 4) == 0.2405 and round(fatou_exp["score"], 4) == 0.4013


def test_catalog_builders_cover_the_new_models():
    assert set(BUILDERS) == set(SIX) - {"cnaf-2014"}
    assert not math.isnan(load_model("cnam-c2sg-2018").intercept.value)


def test_dmde_2026_with_coefficient_ranges_gives_score_bounds(cli, tmp_path):
    ranges = tmp_path / "fourchettes.csv"
    ranges.write_text("criterion,modality,min,max\nintercept,,-2.5,-1.5\n"
                      "activite_allocataire,salarie,-0.2,0\n"
                      + "".join(f"variable_non_publiee_{i},,-0.1,0.1\n" for i in range(1, 6)))
    out = tmp_path / "dmde-bornes.toml"
    r = cli("models", "ranges", "cnaf-dmde-2026-m1", str(ranges), "--out", str(out))
    assert r.returncode == 0, r.stderr
    m = load_model(str(out))
    assert m.intercept.status == "unknown" and (m.intercept.low, m.intercept.high) == (-2.5, -1.5)
    assert m.base_bounds() == pytest.approx((-3.0, -1.0))
    # Nathalie: everything else still unknown and unbounded -> still no finite bound
    assert score_dossier("nathalie", m)["logit_low"] is None
    # a feature table where every bounded-or-zero input is known gives finite bounds
    row = {"activite_allocataire": "salarie", "a_conjoint": False, "nb_enfants_19_plus": None}
    s = score_frame(pl.DataFrame([row]), m)
    assert s["logit_low"][0] == -float("inf")  # the other criteria are still unbounded
    r = cli("models", "ranges", "cnam-c2sg-2018", str(ranges), "--out", str(tmp_path / "x.toml"))
    assert r.returncode == 2 and "line 2: intercept is reconstructed: ranges apply only" in r.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("criterion,modality,min,max\nsexe,femme,0,1\n")
    r = cli("models", "ranges", "cnam-c2sg-2018", str(bad), "--out", str(tmp_path / "x.toml"))
    assert r.returncode == 2
    assert "sexe femme is reconstructed: ranges apply only to unknown coefficients" in r.stderr


def test_c2sg_2021_with_ranges_on_every_number_scores_within_bounds(tmp_path):
    from profilage.models.build import finish
    from profilage.models.ranges import apply_ranges

    ranges = tmp_path / "r.csv"
    rows = ["criterion,modality,min,max", "intercept,,-2.5,-2"]
    for cid in ("plus_d_un_adulte", "au_moins_un_mineur", "premiere_demande"):
        rows += [f"{cid},non,0,0", f"{cid},oui,0.2,0.6"]
    ranges.write_text("\n".join(rows) + "\n")
    m = finish(apply_ranges(load_model("cnam-c2sg-2021"), ranges), source="t")
    r = score_dossier("c2s-profil-type", m)
    assert r["logit_low"] == pytest.approx(-2.5 + 0.6) and r["logit_high"] == pytest.approx(-2 + 1.8)
    assert round(r["score_low"], 4) == 0.1301 and round(r["score_high"], 4) == 0.4502


@pytest.mark.parametrize("mid, n", [("cnaf-2014", 7), ("cnaf-2010", 1), ("cnaf-dmde-2026-m1", 2),
                                    ("cnam-c2sg-2018", 2), ("cnam-c2sg-2021", 2),
                                    ("cnam-c2sg-experimental", 2)])
def test_every_shipped_model_satisfies_its_published_facts(mid, n):
    from profilage.models.facts import check_model

    rows = check_model(load_model(mid))
    assert len(rows) == n
    assert all(r["holds"] is True for r in rows), rows


def test_models_check_cli_exit_codes_and_details(cli, tmp_path):
    r = cli("models", "check", "cnaf-2014", "--json")
    assert r.returncode == 0, r.stderr
    facts = {f["fact"]: f for f in json.loads(r.stdout)["facts"]}
    assert facts["cnaf-2014:1"]["detail"] == "Nathalie : 0.2400 (publié : 0,24)"
    assert facts["cnaf-2014:4"]["detail"].endswith("0.6894 (< 0,7)")
    # the 2010 model does not reproduce Le Monde's 2014 figure (nationality unknown widens it)
    r = cli("models", "check", "cnaf-2010", "--against", "cnaf-2014", "--json")
    assert r.returncode == 1
    facts = {f["fact"]: f["holds"] for f in json.loads(r.stdout)["facts"]}
    assert facts["cnaf-2014:1"] is False and facts["cnaf-2014:3"] is True
    r = cli("models", "check", "cnaf-2014", "--against", "cnam-c2sg-2099")
    assert r.returncode == 2 and "--against: no facts for 'cnam-c2sg-2099'" in r.stderr


def test_provenance_credits_a_seed_only_with_what_it_says():
    from profilage.facts import check_model

    m = load_model("cnaf-2014")
    # seed 003 names "le lieu de résidence", not QPV
    q = m.criterion("quartier_prioritaire").notes
    assert "« le lieu de résidence »" in q and "hors des documents sources (presse)" in q
    assert "hors des documents sources" in m.criterion("separation_recente").notes
    assert "indirectement lésées »" in m.criterion("mois_activite_foyer").notes
    # one unit in the criterion and its modalities; Le Monde's wording kept as the label source
    rev = m.criterion("revenu_par_uc")
    assert [x.label_fr for x in rev.modalities] == [
        "Revenu ajusté de moins de 577 euros par unité de consommation",
        "Revenu ajusté de 577 à 942 euros par unité de consommation",
        "Revenu ajusté de 942 à 1 484 euros par unité de consommation",
        "Revenu ajusté de plus de 1 484 euros par unité de consommation"]
    assert ("libellé : Le Monde, étiquette du simulateur (seed 003, module-simulation) : « Revenu "
            "ajusté de plus de 577 euros par personne »") in rev.modality("577_942").coefficient.source
    assert (m.criterion("revenus_stables").modality("non").label_fr
            == "Revenus pas à la fois stables et importants")
    # CNAM 2021: seed 000 says "modifié à la marge"; without sex and age is a labelled hypothesis
    m21 = load_model("cnam-c2sg-2021")
    assert "HYPOTHÉTIQUE" in m21.title and "HYPOTHÈSE" in m21.notes
    rows = {r["fact"]: r for r in check_model(m21)}
    hyp = rows["cnam-c2sg-2021:sans-sexe-ni-age"]
    assert hyp["text"].startswith("HYPOTHÈSE") and hyp["source"].startswith(
        "hors des documents sources (presse), non vérifié ici")
    assert rows["cnam-c2sg-2021:a-la-marge"]["source"].endswith("(seed 000)")
    notes18 = load_model("cnam-c2sg-2018").notes
    assert ("nationale en 2019 : hors des documents sources (presse), non vérifié ici"
            in notes18)
    for mid in SIX:
        text = open(load_model(mid).path, encoding="utf-8").read()
        assert "ni stables ni importants" not in text and "Le modèle actuel n'utilise" not in text

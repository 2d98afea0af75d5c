"""Experiments, threshold effects, proxies and months of re-scoring, checked against
independent computations (the dossier path, scipy, counting by hand)."""

import json

import numpy as np
import polars as pl
import pytest

from profilage import score_dossier
from profilage.audit import prepare
from profilage.audit.experiments import archetype, counterfactual
from profilage.audit.months import TRANSITIONS, simulate, step
from profilage.audit.proxies import cramers_v, proxies
from profilage.audit.rules import valid_expr
from profilage.audit.selection import Selection
from profilage.audit.thresholds import persona_thresholds
from profilage.dossier import parse_dossier
from profilage.personas import load_persona


@pytest.fixture(scope="module")
def pop():
    from profilage.population import generate_population

    return generate_population(6_000, seed=11)


def _nathalie_with_partner_born(month: str) -> float:
    d = load_persona("nathalie").model_dump()
    d["conjoint"]["date_naissance"] = month
    return score_dossier(parse_dossier(d), "cnaf-2014")["score"]


def test_rules_reject_impossible_rows():
    df = pl.DataFrame({"a_conjoint": [True, False, False, True],
                       "age_conjoint": [40, 40, None, 50],
                       "situation_familiale": ["marie", "celibataire", "marie", "concubinage"],
                       "mois_activite_foyer": [24, 12, 12, 13]})
    assert df.select(valid_expr(df.columns)).to_series().to_list() == [True, False, False, True]
    assert df.select(valid_expr(df.columns, ["mois_activite_foyer > 20"])).to_series().to_list() \
        == [False, False, False, True]


def test_archetype_grid_matches_the_dossier_path():
    grid, excluded = archetype("nathalie", {"age_conjoint": [59, 60],
                                            "situation_familiale": ["marie", "divorce"]})
    assert excluded == 2  # divorced with a partner: impossible
    by = {(r["age_conjoint"], r["situation_familiale"]): r["score"] for r in grid.to_dicts()}
    assert set(by) == {(59, "marie"), (60, "marie")}
    # Philippe born 1964-01 is 59 in 2023-12, born 1963-09 he is 60
    assert by[(59, "marie")] == pytest.approx(_nathalie_with_partner_born("1964-01"), abs=1e-12)
    assert by[(60, "marie")] == pytest.approx(_nathalie_with_partner_born("1963-09"), abs=1e-12)


def test_persona_threshold_partner_turning_60():
    jumps = {j["feature"]: j for j in persona_thresholds("nathalie")}
    j = jumps["age_conjoint"]
    assert j["edge"] == 60 and j["below"] == 59
    assert j["score_below"] == pytest.approx(_nathalie_with_partner_born("1964-01"), abs=1e-12)
    assert j["score_at"] == pytest.approx(_nathalie_with_partner_born("1963-09"), abs=1e-12)
    assert j["text_fr"] == (f"quand « Âge du conjoint » atteint 60, le score passe de "
                            f"{j['score_below']:.3f} à {j['score_at']:.3f}")
    # age bands with equal coefficients give no jump, so they are not listed
    assert all(j["score_below"] != j["score_at"] for j in jumps.values())


def test_counterfactual_copies_remove_impossible_rows_and_use_the_original_cutoff(pop):
    frame = prepare(pop, features=True)
    res = counterfactual(pop, "situation_familiale", ["marie", "celibataire"], frame=frame,
                         selection=Selection(share=0.05), by=["famille_type"])
    couples = int(frame["a_conjoint"].sum())
    marie, celib = res["values"]
    assert marie["households"] == couples and celib["households"] == frame.height - couples
    assert marie["excluded"] == frame.height - couples
    # independent: score the copies through score_frame and count those above the cut-off
    from profilage.scoring import score_frame

    copy = frame.filter(pl.col("a_conjoint")).with_columns(situation_familiale=pl.lit("marie"))
    s = score_frame(copy.select([c for c in copy.columns if c in frame.columns]))["score"]
    assert marie["selection_rate"] == pytest.approx(float((s >= res["cutoff"]).mean()), abs=1e-12)
    assert res["baseline"]["selection_rate"] == pytest.approx(0.05, abs=1e-4)
    assert {g["by"] for g in marie["groups"]} == {"famille_type"}


def test_cramers_v_against_scipy():
    from scipy.stats.contingency import association

    assert cramers_v(np.array([[10, 0], [0, 10]])) == pytest.approx(1.0)
    assert cramers_v(np.array([[5, 5], [5, 5]])) == pytest.approx(0.0)
    t = np.array([[12, 30, 7], [25, 4, 19]])
    assert cramers_v(t) == pytest.approx(association(t, method="cramer", correction=False))


def test_proxies_find_what_a_single_adult_cannot_reach(pop):
    res = proxies(prepare(pop, contributions=True))
    unreach = {(u["criterion"], u["modality"], u["group"]) for u in res["unreachable"]}
    for fam in ("personne_seule", "monoparentale"):
        assert ("mois_activite_foyer", "15_23", fam) in unreach
        assert ("mois_activite_foyer", "24", fam) in unreach
    assert ("mois_activite_foyer", "24", "couple_avec_enfants") not in unreach
    # No single-parent criterion (seed 003: single parents are harmed "indirectement"): the
    # months of activity carry part of the family situation.
    assert not any(a["criterion"] == "parent_isole" for a in res["associations"])
    ma = next(a for a in res["associations"] if a["criterion"] == "mois_activite_foyer"
              and a["ground"] == "family_situation")
    assert ma["cramers_v"] == pytest.approx(0.4547, abs=1e-4)


def test_months_with_a_cooldown_control_distinct_households(pop):
    small = pop.head(2_000)
    res = simulate(small, months=13, budget_per_month=10, cooldown=12, horizons=(12,),
                   by=["famille_type"])
    # 12 months x 10 controls, nobody twice within 12 months: 120 distinct households
    assert res["overall"]["within_12"] == pytest.approx(120 / 2_000)
    fam = [g for g in res["groups"] if g["by"] == "famille_type"]
    assert sum(g["households"] for g in fam) == 2_000
    assert sum(g["random_12"] * g["households"] for g in fam) == pytest.approx(120)


def test_month_step_transitions():
    from profilage.population import generate_population

    p = generate_population(200, seed=2)
    everything = {k: 1.0 for k in TRANSITIONS}
    nxt = step(p, np.random.default_rng(0), np.ones(p.height, dtype=bool), everything)
    assert (nxt["reference_month"] == p["reference_month"].dt.offset_by("1mo")).all()
    assert not nxt["conjoint"].fill_null(False).any()
    was_couple = p["conjoint"].fill_null(False)
    assert (nxt.filter(was_couple)["situation_familiale"] == "separe").all()
    assert (nxt["nb_controles_passes"] == p["nb_controles_passes"].fill_null(0) + 1).all()


def test_experiment_cli(cli, tmp_path):
    r = cli("experiment", "experiments/nathalie-conjoint-situation.toml", "--json")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["kind"] == "archetype" and res["excluded"] == 4 and len(res["grid"]) == 12
    bad = tmp_path / "bad.toml"
    bad.write_text('kind = "oracle"\n')
    r = cli("experiment", str(bad))
    assert r.returncode == 2 and "bad.toml: kind: expected one of archetype, counterfactual" \
        in r.stderr
    cf = tmp_path / "cf.toml"
    cf.write_text('kind = "counterfactual"\nfeature = "situation_familiale"\n')
    r = cli("experiment", str(cf))
    assert r.returncode == 2 and "population" in r.stderr


def test_thresholds_cli(cli):
    r = cli("audit", "thresholds", "--persona", "nathalie", "--feature", "age_conjoint")
    assert r.returncode == 0, r.stderr
    assert "quand « Âge du conjoint » atteint 60, le score passe de 0.240 à 0.288" in r.stdout
    r = cli("audit", "thresholds", "--persona", "nathalie", "--feature", "qpv")
    assert r.returncode == 2 and "--feature: 'qpv' is not a numeric input" in r.stderr

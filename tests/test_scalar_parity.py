"""The scalar one-dossier path (profilage.scalar) against the Polars reference path.

features.py + engine.py stay the one definition; scalar.py is a second implementation for one
dossier (the API's hot path), so it is held to the reference on every field of the scored row
(features, matched modality, contribution bounds, log-odds, scores) to 1e-12, and on the whole
``score_dossier`` / ``explain_dossier`` objects: every shipped model, every persona, imported
PMML models (numeric predictors, an exponent, a presence feature, the source evaluator's
unknown semantics), random dossiers (hypothesis and a seeded generator).
"""

from __future__ import annotations

import math
import random
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from profilage.dossier import dossiers_frame, parse_dossier
from profilage.engine import compile_model
from profilage.features import derive_features
from profilage.models import available_models, load_model
from profilage.personas import available_personas, load_persona
from profilage.scalar import dossier_features, scalar_model
from profilage.scoring import explain_dossier, score_dossier, score_dossiers_json

sys.path.insert(0, str(Path(__file__).parent))
from web_random import random_dossier  # noqa: E402

DATA = Path(__file__).parent / "data"
TOL = 1e-12


def _same(a, b, where: str = "") -> None:
    """Equal values: floats to 1e-12 (infinities and NaN exactly), everything else exactly,
    with the same Python type (a feature 3 and 3.0 print differently in a modality)."""
    if isinstance(a, float) or isinstance(b, float):
        assert type(a) is type(b), (where, a, b)
        if math.isnan(a) or math.isinf(a) or math.isinf(b):
            assert (math.isnan(a) and math.isnan(b)) or a == b, (where, a, b)
        else:
            assert abs(a - b) <= TOL * max(1.0, abs(b)), (where, a, b)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), (where, sorted(set(a) ^ set(b)))
        for k in a:
            _same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), (where, a, b)
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{where}[{i}]")
    else:
        assert type(a) is type(b) and a == b, (where, a, b)


def _polars_rows(ds, m) -> list[dict]:
    feats = derive_features(dossiers_frame(ds)).collect()
    return compile_model(m).score(feats, contributions=True).collect().to_dicts()


def _check_rows(ds, m) -> None:
    """Every field of the scalar row equals the Polars row's (same keys)."""
    sm = scalar_model(m)
    for i, (d, want) in enumerate(zip(ds, _polars_rows(ds, m))):
        got = sm.row(dossier_features(d))
        assert set(got) == set(want), (m.id, i, sorted(set(got) ^ set(want)))
        for k in want:
            _same(got[k], want[k], f"{m.id} dossier {i} {k}")


def _check_json(ds, m) -> None:
    _same(score_dossiers_json(ds, m, engine="scalar"), score_dossiers_json(ds, m, engine="polars"),
          m.id)


def _imported_models():
    """PMML imports: numeric predictors (one squared), a presence feature, as-source unknowns."""
    from profilage.models.build import FeatureMap, finish
    from profilage.models.pmml import import_pmml

    fmap = FeatureMap.from_options(["SITFAM=situation_familiale", "AGE=age_allocataire",
                                    "QPV=qpv"])
    _, sas = import_pmml(DATA / "sas_em_logistic.pmml", model_id="sas", source="fixture",
                         fmap=fmap)
    fmap2 = FeatureMap.from_options(["SITFAM=situation_familiale", "AGE=age_conjoint",
                                     "QPV=qpv"])
    doc, _ = import_pmml(DATA / "sas_em_logistic.pmml", model_id="sas-conj", source="fixture",
                         fmap=fmap2)
    for c in doc["criteria"]:  # a numeric and a categorical criterion (no "absent" modality)
        if c["feature"] in ("age_conjoint", "situation_familiale"):
            c["presence"] = "a_conjoint"
    conj = finish(doc, source="t")
    _, own = import_pmml(DATA / "pmml" / "r_pmml_glm_binomial.pmml", model_id="glm",
                         source="fixture", fmap=FeatureMap(declare_unknown=True),
                         unknown="as-source")
    _, sas_src = import_pmml(DATA / "sas_em_logistic.pmml", model_id="sas-src", source="fixture",
                             fmap=fmap, unknown="as-source")
    return [sas, conj, own, sas_src]


PERSONAS = [load_persona(p) for p in available_personas()]


@pytest.mark.parametrize("mid", available_models())
def test_every_persona_under_every_shipped_model(mid):
    m = load_model(mid)
    _check_rows(PERSONAS, m)
    _check_json(PERSONAS, m)
    for d in PERSONAS:
        _same(explain_dossier(d, m, engine="scalar"), explain_dossier(d, m, engine="polars"),
              f"{mid} {d.nom}")


def test_imported_pmml_models():
    rng = random.Random(7)
    ds = PERSONAS + [parse_dossier(random_dossier(rng)) for _ in range(150)]
    for m in _imported_models():
        assert m.criteria
        _check_rows(ds, m)
        _check_json(ds, m)
    kinds = {c.kind for m in _imported_models() for c in m.criteria}
    assert {"numeric", "categorical"} <= kinds


def _edge_dossiers() -> list:
    """Hand-picked edges: each C2S ceiling's month and the month before; no resources with a
    rent (taux d'effort 99), with or without a known rent or housing aid."""
    from profilage.features import c2sg_ceiling_table

    out = []
    for date in c2sg_ceiling_table()[0]["date_effet"].to_list():
        for back in (0, 1):
            ym = date.year * 12 + date.month - 1 - back
            out.append({"reference_month": _month_text(ym), "conjoint": None, "enfants": [],
                        "c2s": {"ressources_annuelles": 9000.0}})
    zero = {"reference_month": "2023-12", "conjoint": None, "enfants": [],
            "allocataire": {"revenu_mensuel": 0}, "autres_revenus_mensuels": 0,
            "prestations": {"rsa": False, "prime_activite": False, "allocations_familiales":
                            False, "montant_aah": 0}}
    for loyer in (None, 0, 400):
        for al in (None, False, True):
            d = {**zero, "logement": {} if loyer is None else {"loyer_mensuel": loyer}}
            d["prestations"] = {**zero["prestations"]}
            if al is not None:
                d["prestations"]["aide_logement"] = al
                d["prestations"]["montant_aide_logement"] = 150.0
            out.append(d)
    return [parse_dossier(d) for d in out]


def test_seeded_random_dossiers_under_every_shipped_model():
    rng = random.Random(2026)
    ds = [parse_dossier(random_dossier(rng)) for _ in range(400)] + _edge_dossiers()
    for mid in available_models():
        m = load_model(mid)
        _check_rows(ds, m)
        _check_json(ds[:60], m)


def test_known_persona_scores_stay():
    m = load_model("cnaf-2014")
    for name, want in (("nathalie", 0.240), ("michel", 0.664), ("abel", 0.832)):
        for engine in ("scalar", "polars", "auto"):
            assert round(score_dossier(name, m, engine=engine)["score"], 3) == want, (name, engine)


def test_auto_engine_switches_to_polars_for_large_batches(monkeypatch):
    import profilage.scalar as scalar
    import profilage.scoring as scoring

    calls = []
    monkeypatch.setattr(scalar, "dossier_features",
                        lambda d, f=scalar.dossier_features: calls.append(1) or f(d))
    scoring.score_dossiers_json(PERSONAS[:2], "cnaf-2014")
    assert len(calls) == 2
    calls.clear()
    scoring.score_dossiers_json(PERSONAS[:1] * scoring.SCALAR_MAX, "cnaf-2014")
    assert not calls
    with pytest.raises(ValueError, match="engine must be one of auto, scalar, polars"):
        scoring.score_dossier("abel", engine="numba")


# ---- hypothesis: dossiers near the edges ------------------------------------------------------

def _month_text(ym: int) -> str:
    return f"{ym // 12:04d}-{ym % 12 + 1:02d}"


@st.composite
def dossiers(draw):
    """A valid dossier, any field unknown; dates near the reference month, children of every
    age (around each band's edge), couples or not, C2S fields, amounts at 0."""
    ref = draw(st.integers(2012 * 12, 2025 * 12 + 11))  # months since year 0
    maybe = lambda s: st.one_of(st.none(), s)  # noqa: E731
    back = st.integers(0, 40 * 12)
    near = st.one_of(st.integers(0, 3), back)

    def event():
        return st.one_of(st.just("jamais"), near.map(lambda k: _month_text(ref - k)),
                         near.map(lambda k: _month_text(ref - k) + "-15"))

    def person():
        p = draw(st.fixed_dictionaries({}, optional={
            "sexe": st.sampled_from(["F", "M"]),
            "activite": st.sampled_from(["salarie", "independant", "chomage", "etudiant",
                                         "inactif", "retraite"]),
            "mois_travailles_12m": st.integers(0, 12),
            "revenu_mensuel": st.one_of(st.just(0), st.floats(0, 6000), st.just(942.0)),
            "aah": st.booleans(), "esat": st.booleans(),
            "nationalite": st.sampled_from(["francaise", "europeenne", "extra_europeenne"]),
        }))
        how = draw(st.integers(0, 2))
        if how == 0:
            p["age"] = draw(st.integers(16, 95))
        elif how == 1:
            p["date_naissance"] = _month_text(ref - draw(st.integers(16 * 12, 95 * 12)))
        return p

    d = {"reference_month": _month_text(ref), "allocataire": person()}
    couple = draw(st.integers(0, 2))
    if couple == 0:
        d["conjoint"] = person()
        sit = draw(maybe(st.sampled_from(["marie", "pacse", "concubinage"])))
    else:
        if couple == 1:
            d["conjoint"] = None
        sit = draw(maybe(st.sampled_from(["celibataire", "divorce", "separe", "veuf"])))
    if sit:
        d["situation_familiale"] = sit
    edge_ages = st.sampled_from([0, 11, 12, 13, 14, 17, 18, 19, 25, 30])
    child = st.one_of(
        st.builds(lambda a: {"age": a}, st.one_of(edge_ages, st.integers(0, 30))),
        st.builds(lambda k: {"date_naissance": _month_text(ref - k)},
                  st.one_of(st.integers(0, 30 * 12), edge_ages.flatmap(
                      lambda a: st.integers(a * 12 - 1, a * 12 + 1).filter(lambda k: k >= 0)))))
    kids = draw(st.integers(0, 3))
    if kids == 0:
        d["enfants"] = draw(st.lists(child, max_size=6))
    elif kids == 1:
        d["enfants"] = [{}]
    for k, s in (("autres_revenus_mensuels", st.one_of(st.just(0), st.floats(0, 3000))),):
        if draw(st.booleans()):
            d[k] = draw(s)
    amount = st.one_of(st.just(0), st.floats(0, 1500))
    d["prestations"] = draw(st.fixed_dictionaries({}, optional={
        **{k: st.booleans() for k in ("rsa", "prime_activite", "aide_logement",
                                      "allocations_familiales")},
        **{f"montant_{k}": amount for k in ("rsa", "aah", "prime_activite", "aide_logement",
                                            "allocations_familiales")}}))
    d["logement"] = draw(st.fixed_dictionaries({}, optional={
        "statut": st.sampled_from(["locataire_prive", "locataire_social", "proprietaire",
                                   "heberge", "autre"]),
        "loyer_mensuel": st.one_of(st.just(0), st.floats(0, 2000)), "qpv": st.booleans()}))
    d["historique"] = draw(st.fixed_dictionaries({}, optional={
        "inscription_caf": event(), "changement_adresse": event(),
        "changement_loyer": event(), "dernier_contact": event(), "separation": event(),
        "nb_declarations_12m": st.integers(0, 30), "nb_controles_passes": st.integers(0, 4),
        "baisse_connexions_web": st.booleans()}))
    if draw(st.booleans()):
        d["c2s"] = draw(st.fixed_dictionaries({}, optional={
            "premiere_demande": st.booleans(),
            "ressources_annuelles": st.one_of(st.just(0), st.floats(0, 40_000)),
            "pension_invalidite": st.booleans(), "consommation_soins": st.booleans(),
            "indemnites_journalieres": st.booleans(), "contact_assurance_maladie": st.booleans()}))
    return parse_dossier(d)


MODELS = [load_model(mid) for mid in available_models()]


@given(st.lists(dossiers(), min_size=1, max_size=25))
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
def test_random_dossiers_scalar_equals_polars(ds):
    for m in MODELS:
        _check_rows(ds, m)


def test_api_json_encoding_is_the_cli_text():
    """web.jsonsafe.compact (a cache of contributions' text, no finite() walk unless needed)
    writes exactly what jsonout.dumps writes, for scored and explained dossiers of every model
    (infinite bounds, unknown coefficients), twice (cache filled), and for edge objects."""
    import math

    from profilage.jsonout import dumps
    from profilage.web.jsonsafe import compact

    rng = random.Random(11)
    ds = PERSONAS + [parse_dossier(random_dossier(rng)) for _ in range(40)]
    models = MODELS + _imported_models()
    for _ in range(2):
        for m in models:
            for d in ds[:12]:
                for obj in (score_dossier(d, m), explain_dossier(d, m)):
                    obj["context"] = {"percentile": 12.5, "threshold": None}
                    assert compact(obj) == dumps(obj)
    base = score_dossier("abel", "cnaf-2014")
    c0 = dict(base["contributions"][0])
    odd = [
        {**base, "contributions": [{**c0, "low": -0.0, "high": 0.0}, {**c0, "low": 0.0}]},
        {**base, "contributions": [{**c0, "low": 1, "high": 1.0}, {**c0, "low": 1.0, "high": 1}]},
        {**base, "contributions": [{**c0, "input_known": 1}, {**c0, "input_known": True}]},
        {**base, "contributions": [{**c0, "low": math.inf, "high": math.nan}]},
        {**base, "contributions": [{**c0, "status": ["a", "b"]}, ("x", 1)]},
        {"contributions": []}, {"a": 1, "contributions": [c0]}, {"contributions": [c0], "z": 2},
        {**base, "score": math.inf}, [1, (2, 3)], {1: "a", "contributions": []},
    ]
    for _ in range(2):
        for obj in odd:
            assert compact(obj) == dumps(obj), obj

"""Property-based tests: any input gives a result or a clear error, never an unhandled exception."""

import copy
import math
import os
import tomllib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from profilage import score_dossier
from profilage.dossier import parse_dossier
from profilage.errors import DossierError, ModelFileError
from profilage.models import load_model, parse_model

# PROFILAGE_FUZZ=10 runs ten times more examples (a deeper search than the CI default).
SCALE = int(os.environ.get("PROFILAGE_FUZZ", "1"))

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                         st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=20)
DOSSIER_KEYS = ["reference_month", "allocataire", "conjoint", "situation_familiale", "enfants",
                "prestations", "logement", "historique", "c2s", "autres_revenus_mensuels"]


@given(st.dictionaries(st.sampled_from(DOSSIER_KEYS), json_values, max_size=6) | json_values)
@settings(max_examples=300 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_json_gives_a_dossier_or_a_dossier_error(data):
    try:
        parse_dossier(data)
    except DossierError as e:
        assert e.one_line() and "\n" not in e.one_line()


months = st.builds(lambda y, m: f"{y}-{m:02d}", st.integers(1930, 2023), st.integers(1, 12))
maybe = lambda s: st.one_of(st.none(), s)  # noqa: E731
person = st.fixed_dictionaries({}, optional={
    "date_naissance": months, "sexe": st.sampled_from(["F", "M"]),
    "activite": st.sampled_from(["salarie", "independant", "chomage", "etudiant", "inactif",
                                 "retraite"]),
    "mois_travailles_12m": st.integers(0, 12), "revenu_mensuel": st.floats(0, 10_000),
    "aah": st.booleans(), "esat": st.booleans()})
valid_dossier = st.fixed_dictionaries({"reference_month": st.just("2023-12")}, optional={
    "allocataire": person, "conjoint": maybe(person),
    "enfants": st.lists(st.fixed_dictionaries({"date_naissance": months}), max_size=5),
    "autres_revenus_mensuels": st.floats(0, 5000),
    "prestations": st.fixed_dictionaries({}, optional={
        k: st.booleans() for k in ("rsa", "prime_activite", "aide_logement",
                                   "allocations_familiales")}),
    "logement": st.fixed_dictionaries({}, optional={"loyer_mensuel": st.floats(0, 3000),
                                                    "qpv": st.booleans()}),
    "historique": st.fixed_dictionaries({}, optional={
        "separation": st.one_of(months, st.just("jamais")), "changement_adresse": months,
        "nb_declarations_12m": st.integers(0, 20), "nb_controles_passes": st.integers(0, 5),
        "baisse_connexions_web": st.booleans()}),
})


@given(valid_dossier)
@settings(max_examples=150 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_valid_dossiers_score_within_their_bounds(data):
    r = score_dossier(parse_dossier(data), "cnaf-2014")
    assert 0 <= r["score_low"] <= r["score"] <= r["score_high"] <= 1
    assert r["determined"] == (r["score_low"] == r["score_high"])
    assert math.isclose(r["logit_low"], r["intercept"] + sum(c["low"] for c in r["contributions"]),
                        abs_tol=1e-9)


BASE = tomllib.loads(open(load_model("cnaf-2014").path, encoding="utf-8").read())
paths = st.lists(st.integers(0, 40), min_size=1, max_size=4)


def _mutate(doc, path, value):
    node = doc
    for i, step in enumerate(path):
        if isinstance(node, dict) and node:
            key = sorted(node)[step % len(node)]
            if i == len(path) - 1 or not isinstance(node[key], (dict, list)):
                node[key] = value
                return
            node = node[key]
        elif isinstance(node, list) and node:
            j = step % len(node)
            if i == len(path) - 1 or not isinstance(node[j], (dict, list)):
                node[j] = value
                return
            node = node[j]
        else:
            return


@given(paths, json_values)
@settings(max_examples=300 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_mutation_of_a_model_loads_or_lists_problems(path, value):
    doc = copy.deepcopy(BASE)
    _mutate(doc, path, value)
    try:
        parse_model(doc, "mutated.toml")
    except ModelFileError as e:
        assert e.problems and all(isinstance(p, str) and p for p in e.problems)


@given(json_values)
@settings(max_examples=200 * SCALE, deadline=None)
def test_any_structure_as_a_model(value):
    try:
        parse_model(value, "x.toml")
    except ModelFileError as e:
        assert e.problems

"""The score in context: percentile among the reference synthetic population, the month's
control threshold under the default budget, and the localized 422 messages."""

import json

import numpy as np
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from profilage.web import create_app  # noqa: E402


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(), base_url="http://127.0.0.1", raise_server_exceptions=False)


@pytest.fixture(scope="module")
def reference_audit():
    """The documented reference, audited as `profilage audit` does: 100,000 CAF households,
    seed 0, 2024-03, the default budget (the audit's own scoring, selection and cut-off)."""
    from profilage.audit import run_audit
    from profilage.population import generate_population

    pop = generate_population(100_000, 0, reference_month="2024-03")
    return run_audit(pop, "cnaf-2014", n_boot=0)


@pytest.fixture(scope="module")
def reference_scores(reference_audit):
    return np.sort(reference_audit.selections["score"].drop_nulls().to_numpy())


@pytest.mark.parametrize("persona", ["nathalie", "abel", "mere-isolee-rsa-qpv"])
def test_score_context_against_an_independent_computation(client, cli, reference_scores,
                                                           reference_audit, persona):
    r = client.post("/api/score", json={"model": "cnaf-2014", "dossier": persona})
    assert r.status_code == 200
    body = r.json()
    ctx = body.pop("context")
    out = cli("score", persona, "--json")
    assert body == json.loads(out.stdout)  # the rest is the CLI's object
    s = body["score"]
    assert ctx["percentile"] == pytest.approx(100 * np.mean(reference_scores < s), abs=1e-9)
    budget = round(166_000 * 100_000 / 13_800_000 / 12)  # 100 controls this month
    assert ctx["budget_per_month"] == budget == 100
    assert ctx["threshold"] == pytest.approx(reference_scores[::-1][budget - 1], abs=1e-12)
    assert ctx["threshold"] == pytest.approx(next(iter(reference_audit.cutoffs.values())),
                                             abs=1e-12)  # the audit's cut-off
    assert reference_audit.as_dict()["budget"]["selected"] == budget
    assert ctx["selected_under_budget"] is (s >= ctx["threshold"])
    assert ctx["households"] == 100_000 and ctx["seed"] == 0
    assert "100\u202f000 foyers allocataires (CAF) synthétiques" in ctx["population"]
    assert "tirage n° 0" in ctx["population"] and "166 000" in ctx["population"]


def test_context_in_explain_english_and_c2s(client):
    en = client.post("/api/explain?lang=en", json={"dossier": "abel"}).json()["context"]
    assert en["population"].startswith("100,000 synthetic CAF beneficiary households")
    c2s = client.post("/api/score", json={"model": "cnam-c2sg-2018",
                                          "dossier": "c2s-profil-type"}).json()["context"]
    assert "demandeurs de la C2S" in c2s["population"] and "CNAM ne publie pas" in c2s["population"]
    assert 0 <= c2s["percentile"] <= 100
    r = client.post("/api/score?lang=de", json={"dossier": "abel"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "query.lang"


def test_context_of_a_model_with_unknown_coefficients_is_empty_not_invented(client):
    ctx = client.post("/api/score", json={"model": "cnam-c2sg-2021",
                                          "dossier": "c2s-profil-type"}).json()["context"]
    assert ctx["percentile"] is None and ctx["threshold"] is None
    assert ctx["selected_under_budget"] is None


def test_context_is_cached_and_fast(client):
    import time

    from profilage.audit.context import reference_ready
    from profilage.models import load_model

    client.post("/api/score", json={"dossier": "abel"})
    assert reference_ready(load_model("cnaf-2014"))  # next requests: inline binary search
    t = time.perf_counter()
    for _ in range(5):
        client.post("/api/score", json={"dossier": "abel"})
    assert (time.perf_counter() - t) / 5 < 0.5  # a binary search, not a new population


@pytest.mark.parametrize("dossier, label_fr, msg_fr, msg_en", [
    ({"reference_month": "2023-12", "situation_familiale": "marie", "conjoint": None},
     "Conjoint·e", "une personne mariée, pacsée ou en concubinage a un·e conjoint·e",
     "a married, PACS or cohabiting person has a partner"),
    ({"reference_month": "2023-12", "allocataire": {"mois_travailles_12m": 13}},
     "Allocataire — mois travaillés sur les 12 derniers", "doit valoir au plus 12",
     "must be at most 12"),
    ({"reference_month": "2023-12", "enfants": [{"age": 40}]}, "Enfant n° 1 — âge",
     "doit valoir au plus 30", "must be at most 30"),
    ({"reference_month": "2023-12", "logement": {"loyer_mensuel": 2_000_000}},
     "Logement — loyer mensuel", "doit valoir au plus 1\u202f000\u202f000",
     "must be at most 1,000,000"),
    ({"reference_month": "2023-12", "historique": {"changement_adresse": "hier"}},
     "Événements et dossier CAF — dernier déménagement",
     "une date AAAA-MM est attendue (ou « jamais »)", "a date YYYY-MM is expected"),
])
def test_422_names_the_field_as_the_form_does_in_both_languages(client, dossier, label_fr,
                                                                 msg_fr, msg_en):
    r = client.post("/api/explain", json={"dossier": dossier})
    assert r.status_code == 422
    d = r.json()["detail"][0]
    assert d["label"]["fr"] == label_fr and d["message"]["fr"].startswith(msg_fr)
    assert d["message"]["en"].startswith(msg_en)
    for text in (d["label"]["fr"], d["message"]["fr"], d["label"]["en"], d["message"]["en"]):
        assert "dossier." not in text and "_" not in text

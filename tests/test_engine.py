import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from profilage import score_dossier, score_frame
from profilage.engine import bounded_mean, sigmoid


@given(st.floats(-30, 30), st.floats(0.001, 20))
@settings(max_examples=200, deadline=None)
def test_bounded_mean_is_the_continuous_mean_of_the_sigmoid(low, width):
    high = low + width
    integral, _ = quad(sigmoid, low, high, epsabs=1e-13, epsrel=1e-12)
    assert bounded_mean(low, high) == pytest.approx(integral / width, rel=1e-9, abs=1e-12)
    assert sigmoid(low) <= bounded_mean(low, high) <= sigmoid(high)


def test_bounded_mean_degenerate_and_infinite():
    assert bounded_mean(0.3, 0.3) == pytest.approx(sigmoid(0.3))
    assert bounded_mean(-math.inf, 1.0) is None


@pytest.mark.parametrize("persona", ["nathalie", "michel", "mere-isolee-rsa-qpv"])
def test_score_json_invariants(persona):
    r = score_dossier(persona, "cnaf-2014")
    lows = sum(c["low"] for c in r["contributions"])
    highs = sum(c["high"] for c in r["contributions"])
    assert r["logit_low"] == pytest.approx(r["intercept"] + lows, abs=1e-12)
    assert r["logit_high"] == pytest.approx(r["intercept"] + highs, abs=1e-12)
    assert r["score_low"] == pytest.approx(sigmoid(r["logit_low"]), abs=1e-12)
    assert r["score_high"] == pytest.approx(sigmoid(r["logit_high"]), abs=1e-12)
    if r["determined"]:
        assert r["score"] == pytest.approx(sigmoid(r["logit_low"]), abs=1e-12)
    else:
        assert r["score"] == pytest.approx(bounded_mean(r["logit_low"], r["logit_high"]),
                                           abs=1e-12)
    for c in r["contributions"]:
        assert (c["modality"] is None) == (not c["input_known"])
        if c["modality"] is not None:
            assert c["low"] == c["high"]
    assert r["model"]["coefficients_status"]["reconstructed"] == 65
    assert [x["criterion"] for x in r["redacted"]] == [
        "variable_occultee_1", "variable_occultee_2", "variable_occultee_3"]


def test_unknown_input_contributes_the_range_of_its_coefficients():
    from profilage.models import load_model

    m = load_model("cnaf-2014")
    r = score_dossier("nathalie", m)
    qpv = next(c for c in r["contributions"] if c["criterion"] == "quartier_prioritaire")
    coefs = [mod.coefficient.value for mod in m.criterion("quartier_prioritaire").modalities]
    assert qpv["modality"] is None
    assert (qpv["low"], qpv["high"]) == (min(coefs), max(coefs))


def test_frame_scoring_matches_dossier_scoring_and_missing_columns_are_unknown():
    from profilage.dossier import dossiers_frame
    from profilage.features import derive_features
    from profilage.personas import available_personas, load_persona

    names = available_personas()
    feats = derive_features(dossiers_frame([load_persona(n) for n in names])).collect()
    scored = score_frame(feats, "cnaf-2014")
    for i, n in enumerate(names):
        assert scored["score"][i] == pytest.approx(score_dossier(n)["score"], abs=1e-12)
    # Dropping a column makes it unknown: bounds widen around the same household.
    partial = score_frame(feats.drop("qpv"), "cnaf-2014")
    assert (partial["score_low"] <= scored["score_low"] + 1e-15).all()
    assert (partial["score_high"] >= scored["score_high"] - 1e-15).all()
    assert not partial["determined"].any()


def test_empty_frame_scores_to_empty():
    out = score_frame(pl.DataFrame({"age_allocataire": pl.Series([], dtype=pl.Int64)}),
                      "cnaf-2014")
    assert out.height == 0 and "score" in out.columns


def test_batched_json_scoring_equals_one_by_one():
    """The web API batches requests: a batch must give exactly the per-dossier objects."""
    import json

    from profilage.personas import available_personas, load_persona
    from profilage.scoring import score_dossier, score_dossiers_json

    ds = [load_persona(p) for p in available_personas()]
    batch = score_dossiers_json(ds, "cnaf-2014")
    assert [r["dossier"] for r in batch] == [d.nom for d in ds]
    assert json.dumps(batch) == json.dumps([score_dossier(d, "cnaf-2014") for d in ds])
    assert round(batch[available_personas().index("nathalie")]["score"], 3) == 0.240

"""The shipped ensemble of cnaf-2014 reconstructions: every member satisfies the published facts,
the members cover the feasible set, and ``python -m profilage.reconstruct.ensemble`` re-creates it."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from profilage.facts import check_model
from profilage.models import load_model
from profilage.models.ensemble import ensemble_path, load_ensemble
from profilage.reconstruct import ensemble as gen

MODEL = "cnaf-2014"


@pytest.fixture(scope="module")
def ens():
    return load_ensemble(MODEL)


def test_ensemble_belongs_to_the_shipped_point_model(ens):
    """Fails when the point model changes without regenerating the ensemble."""
    base = load_model(MODEL)
    assert ens.base_sha256 == base.sha256, (
        "cnaf-2014.toml changed: re-run `python -m profilage.reconstruct.ensemble`")
    assert ens.model == MODEL and ens.seed == gen.SEED
    assert list(ens.facts) == list(base.facts) == ["1", "2", "3", "4", "5", "6", "7"]
    # every non-reference coefficient and the intercept vary; reference modalities stay 0
    refs = {f"{c.id}.{m.id}" for c in gen.cnaf2014.CRITERIA for m in c.modalities if m.ref}
    assert ens.keys[0] == "intercept" and not set(ens.keys) & refs
    assert len(ens.keys) == 1 + sum(len(c.modalities) for c in base.criteria) - len(refs)


def test_size_and_ids(ens):
    assert ens.size >= 100
    assert ens.member_ids[0] == "cnaf-2014-e001" and ens.member_ids[-1] == f"cnaf-2014-e{ens.size:03d}"
    assert len(set(ens.member_ids)) == ens.size
    assert np.all(ens.matrix == np.round(ens.matrix, 4))


def test_every_member_passes_every_published_fact(ens):
    """The same code as `profilage models check`, on each member as rendered and exported."""
    failures = []
    for i in range(ens.size):
        m = ens.member(i)
        rows = check_model(m)
        assert [r["fact"] for r in rows] == [f"{MODEL}:{k}" for k in "1234567"]
        failures += [(m.id, r["fact"], r["detail"]) for r in rows if r["holds"] is not True]
    assert failures == []


def test_every_member_satisfies_the_fits_constraints(ens):
    """Directions with their margins, facts 1-4 and fact 7 within the fit's bands (up to the
    4-decimal rounding of the shipped numbers)."""
    feas, base, _ = gen._setup()
    p = feas.p
    assert [f"{c}.{m}" for c, m in p.keys] == list(ens.keys[1:])
    for row in ens.matrix:
        free = row[1:]
        x = feas.full(free)
        assert abs(x[0] - row[0]) < 2e-4  # the shipped intercept is fact 1's, rounded
        slack = feas.A @ free + feas.b
        assert slack.min() >= -2e-4
        assert min(f(x) for f in feas.other) >= -2e-3
        sp, low = feas.fact7_shares(feas.M @ free)
        assert gen.SP_BAND[0] - 0.005 <= sp <= gen.SP_BAND[1] + 0.005
        assert gen.LOW_BAND[0] - 0.005 <= low <= gen.LOW_BAND[1] + 0.005


def test_members_cover_the_feasible_set_not_the_point_model(ens):
    base = load_model(MODEL)
    point = np.array([base.intercept.value] + [
        base.criterion(k.split(".")[0]).modality(k.split(".")[1]).coefficient.value
        for k in ens.keys[1:]])
    spread = ens.matrix.max(axis=0) - ens.matrix.min(axis=0)
    # coefficients the facts leave loose spread over most of the box
    assert (spread > 1.0).sum() >= 8
    assert (spread > 0.1).sum() >= 15
    # no member sits near the point model, and members are far apart from each other
    dist = np.linalg.norm(ens.matrix - point, axis=1)
    assert dist.min() > 0.3
    d = np.linalg.norm(ens.matrix[:, None, :] - ens.matrix[None, :, :], axis=2)
    assert np.median(d[np.triu_indices(ens.size, 1)]) > 1.0
    # a direction the seeds do not give (age of the holder) takes both signs across members
    age = ens.coefficient_table("age_allocataire")
    assert age.min() < 0 < age.max()


def test_ranges_table_is_up_to_date(ens):
    md = ensemble_path(MODEL).with_suffix(".md").read_text(encoding="utf-8")
    rejected = int(re.search(r"(\d+) draw\(s\) rejected", ens.method_en).group(1))
    assert md == gen.ranges_markdown(rejected)
    s = gen.summary()
    nat = s["scores"]["nathalie"]
    assert 0.2395 < nat["min"] <= nat["median"] <= nat["max"] < 0.2405
    for v in s["scores"].values():
        assert v["min"] <= v["median"] <= v["max"]
    abel, michel = s["scores"]["abel"], s["scores"]["michel"]
    assert abel["min"] > michel["min"] and abel["max"] > michel["max"]


def test_generator_reproduces_the_first_member_byte_for_byte(ens):
    """The full run takes minutes; chain 0's first member is re-drawn here (every chain has its
    own random stream, so any member re-runs alone) and compared with the shipped bytes."""
    got, rejected, calls = gen.run_chain(0, ens.size // gen.CHAINS, only=1)
    assert calls > 0 and rejected >= 0
    line = json.dumps({"id": got[0][0], "coefficients": [float(x) + 0.0 for x in got[0][1]]},
                      ensure_ascii=False)
    text = ensemble_path(MODEL).read_text(encoding="utf-8")
    assert "\n  " + line + ",\n" in text

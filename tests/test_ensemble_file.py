"""The ensemble file format and its loader (profilage.models.ensemble), on a small fixture."""

import hashlib
import tomllib

import numpy as np
import pytest

from profilage.errors import ProfilageError
from profilage.models import load_model, load_model_file
from profilage.models.ensemble import has_ensemble, load_ensemble, load_ensemble_file, write_ensemble
from profilage.scoring import score_dossier


@pytest.fixture
def fixture_ensemble(tmp_path):
    base = load_model("cnam-c2sg-2018")
    keys = ["intercept"] + [f"{c.id}.{m.id}" for c in base.criteria for m in c.modalities
                            if m.coefficient.value not in (None, 0.0)]
    point = [base.intercept.value] + [base.criterion(k.split(".")[0]).modality(k.split(".")[1])
                                      .coefficient.value for k in keys[1:]]
    members = [(f"cnam-c2sg-2018-e{i:03d}", [round(v + 0.01 * i, 4) for v in point]) for i in range(1, 4)]
    path = tmp_path / "cnam-c2sg-2018.json"
    write_ensemble(path, base, method="Test : décalage de 0,01 par membre. Fixture de test.",
                   method_en="Test: shift of 0.01 per member.", seed=7, facts=["profil-type"],
                   keys=keys, members=members)
    return path, base, keys, members


def test_round_trip_and_members(fixture_ensemble, tmp_path):
    path, base, keys, members = fixture_ensemble
    ens = load_ensemble_file(path)
    assert ens.size == 3 and ens.model == "cnam-c2sg-2018" and ens.seed == 7
    assert ens.base_sha256 == base.sha256
    np.testing.assert_allclose(ens.intercepts(), [m[1][0] for m in members])
    m2 = ens.member(1)
    assert m2.id == "cnam-c2sg-2018-e002"
    assert "membre e002" in m2.title
    assert m2.intercept.value == pytest.approx(members[1][1][0])
    assert all(c.status == "reconstructed" and "membre cnam-c2sg-2018-e002" in c.source
               for c in m2.all_coefficients if c.value not in (None, 0.0))
    # exported text scores the same and carries the same sha256
    out = tmp_path / "m.toml"
    out.write_text(ens.member_toml(1), encoding="utf-8")
    exported = load_model_file(out)
    assert exported.sha256 == m2.sha256 == hashlib.sha256(ens.member_toml(1).encode()).hexdigest()
    a = score_dossier("c2s-profil-type", m2)["score"]
    b = score_dossier("c2s-profil-type", exported)["score"]
    assert a == b
    assert a != score_dossier("c2s-profil-type", base)["score"]
    man = ens.manifest()
    assert man["size"] == 3 and [x["id"] for x in man["members"]] == [m[0] for m in members]
    assert man["members"][1]["sha256"] == m2.sha256
    tab = ens.coefficient_table(base.criteria[0].id)
    assert tab.shape == (3, len(base.criteria[0].modalities))


def test_write_is_deterministic(fixture_ensemble, tmp_path):
    path, base, keys, members = fixture_ensemble
    again = tmp_path / "again.json"
    write_ensemble(again, base, method="Test : décalage de 0,01 par membre. Fixture de test.",
                   method_en="Test: shift of 0.01 per member.", seed=7, facts=["profil-type"],
                   keys=keys, members=members)
    assert again.read_bytes() == path.read_bytes()
    tomllib.loads(load_ensemble_file(again).member_toml(0))


def test_missing_ensemble_is_a_clear_error():
    assert not has_ensemble("cnam-c2sg-2021")
    with pytest.raises(ProfilageError,
                       match="no ensemble of reconstructions shipped for model .cnam-c2sg-2021."):
        load_ensemble("cnam-c2sg-2021")


def test_unknown_key_refused(tmp_path):
    base = load_model("cnam-c2sg-2018")
    path = tmp_path / "bad.json"
    write_ensemble(path, base, method="x.", method_en="x.", seed=1, facts=[], keys=["nope.x"],
                   members=[("e1", [0.1])])
    with pytest.raises(ProfilageError, match="keys not in model cnam-c2sg-2018: nope.x"):
        load_ensemble_file(path)

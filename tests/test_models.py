import math

import pytest

from profilage.errors import ModelFileError, ProfilageError
from profilage.models import STATUSES, available_models, load_model, load_model_file

GOOD = '''
id = "toy"
title = "Toy"
institution = "Test"
[intercept]
value = -1.0
status = "published"
source = "test"
[[criteria]]
id = "age"
feature = "age_allocataire"
protected_ground = "age"
[[criteria.modalities]]
id = "jeune"
max = 30
coefficient = 0.5
status = "published"
source = "test"
[[criteria.modalities]]
id = "vieux"
min = 30
coefficient = 0.0
status = "published"
source = "test"
'''


def write(tmp_path, text):
    p = tmp_path / "m.toml"
    p.write_text(text)
    return p


def test_cnaf_2014_every_coefficient_has_status_and_source():
    m = load_model("cnaf-2014")
    assert m.intercept.status == "reconstructed" and m.intercept.source
    for c in m.criteria:
        for mod in c.modalities:
            assert mod.coefficient.status in STATUSES
            assert mod.coefficient.source.strip()
            assert mod.coefficient.status == "reconstructed"
    assert [c.id for c in m.redacted] == [f"variable_occultee_{i}" for i in (1, 2, 3)]
    assert m.coefficients_status()["redacted"] == 3
    assert "NOT official" in m.provenance_line()


def test_cnaf_2014_lists_every_public_criterion_and_grounds():
    m = load_model("cnaf-2014")
    ids = {c.id for c in m.criteria}
    assert len(ids) == 23
    assert "parent_isole" not in ids  # seed 003: single parents are harmed only indirectly
    for needed in ("age_conjoint", "aah_en_activite", "taux_effort", "quartier_prioritaire",
                   "mois_activite_foyer", "revenus_stables", "nb_declarations"):
        assert needed in ids
    grounds = {c.protected_ground for c in m.criteria} - {None}
    assert grounds == {"age", "disability", "family_situation", "residence"}


def test_good_model_loads(tmp_path):
    m = load_model_file(write(tmp_path, GOOD))
    assert m.id == "toy" and len(m.sha256) == 64
    assert m.coefficients_status()["published"] == 3


@pytest.mark.parametrize("change, expected", [
    (('feature = "age_allocataire"', 'feature = "age_du_capitaine"'),
     "criterion age: unknown feature 'age_du_capitaine'"),
    (("min = 30\n", "min = 25\n"), "overlapping bins: jeune [-inf, 30) and vieux [25, +inf)"),
    (("min = 30\n", "min = 40\n"), "missing bin: values from 30 to 40 match no modality"),
    (('coefficient = 0.5\nstatus = "published"\n', 'coefficient = 0.5\n'),
     "criterion age, modality jeune: coefficient without status"),
    (('status = "published"\nsource = "test"\n[[criteria]]',
      'status = "official"\nsource = "test"\n[[criteria]]'),
     "intercept: unknown status 'official'"),
    (('protected_ground = "age"', 'protected_ground = "astrology"'),
     "criterion age: unknown protected_ground 'astrology'"),
])
def test_loader_names_file_criterion_and_problem(tmp_path, change, expected):
    p = write(tmp_path, GOOD.replace(*change, 1))
    with pytest.raises(ModelFileError) as e:
        load_model_file(p)
    assert str(p) in str(e.value)
    assert any(expected in prob for prob in e.value.problems), e.value.problems


def test_loader_reports_every_problem_at_once(tmp_path):
    text = GOOD.replace('feature = "age_allocataire"', 'feature = "x"').replace(
        'title = "Toy"\n', "")
    with pytest.raises(ModelFileError) as e:
        load_model_file(write(tmp_path, text))
    assert len(e.value.problems) == 2
    assert "missing 'title'" in e.value.problems[0]


def test_invalid_toml_and_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="invalid TOML"):
        load_model_file(write(tmp_path, "id = [unclosed"))
    with pytest.raises(ModelFileError, match="file not found"):
        load_model_file(tmp_path / "nope.toml")
    with pytest.raises(ProfilageError, match="unknown model 'nope'"):
        load_model("nope")


def test_unknown_coefficient_carries_its_range(tmp_path):
    text = GOOD.replace('coefficient = 0.5\nstatus = "published"',
                        'coefficient_min = 0.1\ncoefficient_max = 0.9\nstatus = "unknown"')
    m = load_model_file(write(tmp_path, text))
    coef = m.criteria[0].modalities[0].coefficient
    assert (coef.value, coef.low, coef.high) == (None, 0.1, 0.9)
    text = GOOD.replace('coefficient = 0.5\nstatus = "published"', 'status = "unknown"')
    coef = load_model_file(write(tmp_path, text)).criteria[0].modalities[0].coefficient
    assert coef.low == -math.inf and coef.high == math.inf


def test_shipped_models_all_load():
    for mid in available_models():
        assert load_model(mid).id == mid

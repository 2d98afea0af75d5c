"""The OpenFisca-France path on a small sample (skipped when the extra is not installed)."""

import importlib.util

import pytest

from profilage.population import generate_population

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("openfisca_france") is None,
    reason="openfisca_france not importable: install the extra, pip install '.[openfisca]'")


@pytest.fixture(scope="module")
def report():
    from profilage.population.openfisca import compare, openfisca_benefits

    pop = generate_population(40, seed=1)
    of = openfisca_benefits(pop, chunk=40)
    return pop, of, {"sample": pop.height, **compare(pop, of)}


def test_openfisca_computes_every_benefit_on_a_sample(report):
    _, _, rep = report
    assert rep["sample"] == 40 and rep["reference_month"] == "2024-03"
    rows = {r["benefit"]: r for r in rep["rows"]}
    assert set(rows) == {"rsa", "prime_activite", "aide_logement", "aah",
                         "allocations_familiales"}
    for r in rows.values():
        assert 0.0 <= r["openfisca_share"] <= 1.0
        assert 0.0 <= r["flag_agreement"] <= 1.0
    # Same scales in force: the family allowance and the AAH flags agree with the law.
    assert rows["allocations_familiales"]["flag_agreement"] >= 0.95
    assert rows["aah"]["flag_agreement"] >= 0.95
    # AAH at most the full rate in March 2024 (OpenFisca parameters): 971.37 euros.
    assert 300 <= rows["aah"]["openfisca_mean_when_paid"] <= 971.37 + 0.01
    assert 0.0 <= rep["openfisca_c2s_gratuite_share"] <= 1.0


def test_openfisca_amounts_per_household(report):
    part, of, _ = report
    assert of["household_id"].to_list() == part["household_id"].to_list()
    # Households with fewer than two children get no allocations familiales.
    few = (part["enfants_dates_naissance"].list.len() < 2).to_list()
    assert all(a == 0 for a, f in zip(of["of_montant_allocations_familiales"], few) if f)
    # A single AAH recipient without any income gets the full rate, 971.37 euros.
    import polars as pl

    idle = part.with_columns(of=of["of_montant_aah"]).filter(
        pl.col("alloc_aah") & ~pl.col("conjoint") & (pl.col("alloc_revenu_mensuel") == 0))
    assert idle.height > 0
    assert idle["of"].to_list() == pytest.approx([971.37] * idle.height, abs=0.01)


def test_cli_openfisca_json(cli, tmp_path):
    out = tmp_path / "pop.parquet"
    generate_population(500, seed=2).write_parquet(out)
    r = cli("population", "openfisca", str(out), "--sample", "10", "--json")
    assert r.returncode == 0, r.stderr
    import json

    rep = json.loads(r.stdout)
    assert rep["sample"] == 10 and len(rep["rows"]) == 5 and rep["seconds"] > 0
    r = cli("population", "openfisca", str(out), "--sample", "0")
    assert r.returncode == 2 and "--sample" in r.stderr

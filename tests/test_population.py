"""Synthetic national population: determinism, schema, published marginals, joint structure."""

import datetime as dt

import numpy as np
import polars as pl
import pytest

from profilage.features import DOSSIER_COLUMNS, derive_features
from profilage.population import generate_population
from profilage.population.calibration import FAMILLES, FAMILY_KEYS, published_margins
from profilage.scoring import score_dossiers_frame

FAMILY_SHARES = {f: published_margins()[k]["valeur"] for f, k in zip(FAMILLES, FAMILY_KEYS)}

N = 200_000


@pytest.fixture(scope="module")
def pop() -> pl.DataFrame:
    return generate_population(N, seed=11)


def test_same_seed_same_rows_other_seed_other_rows():
    a = generate_population(3_000, seed=5)
    b = generate_population(3_000, seed=5)
    c = generate_population(3_000, seed=6)
    assert a.equals(b)
    assert not a.equals(c)
    assert a["household_id"].to_list() == list(range(3_000))


def test_columns_and_dtypes(pop):
    for name, dtype in DOSSIER_COLUMNS.items():
        assert pop.schema[name] == dtype, name
    extras = {"household_id": pl.Int64, "famille_type": pl.String, "sexe_allocataire": pl.String,
              "departement": pl.String, "aah": pl.Boolean, "aah_travaille": pl.Boolean}
    for name, dtype in extras.items():
        assert pop.schema[name] == dtype, name
    assert pop.height == N
    assert pop["household_id"].is_unique().all()
    assert set(pop["famille_type"].unique()) == set(FAMILY_SHARES)
    assert set(pop["sexe_allocataire"].unique()) == {"F", "M"}
    assert pop["reference_month"].unique().to_list() == [dt.date(2024, 3, 1)]
    # The features every model reads are known for every household (CNAF side).
    feats = derive_features(pop).collect()
    cnaf = [c for c in feats.columns if c not in (
        "age_conjoint", "activite_conjoint", "premiere_demande", "revenu_rapport_plafond_c2sg",
        "pension_invalidite",
        "consommation_soins", "indemnites_journalieres", "contact_assurance_maladie")]
    nulls = feats.select(cnaf).null_count().row(0, named=True)
    assert {k: v for k, v in nulls.items() if v} == {}


def test_published_marginals(pop):
    shares = pop["famille_type"].value_counts(normalize=True)
    got = dict(zip(shares["famille_type"], shares["proportion"]))
    for fam, share in FAMILY_SHARES.items():
        assert got[fam] == pytest.approx(share, abs=0.006), fam
    m = pop.select(pl.col("rsa", "aide_logement", "qpv").mean()).row(0, named=True)
    assert m["rsa"] == pytest.approx(0.13, abs=0.004)
    assert m["aide_logement"] == pytest.approx(0.42, abs=0.005)
    assert m["qpv"] == pytest.approx(1.81 / 13.8, abs=0.004)
    q = pop.filter("qpv").select(pl.col("rsa", "aide_logement").mean()).row(0, named=True)
    assert q["rsa"] == pytest.approx(0.25, abs=0.012)
    assert q["aide_logement"] == pytest.approx(0.63, abs=0.012)
    mono = pop.filter(pl.col("famille_type") == "monoparentale")
    women = (mono["sexe_allocataire"] == "F").mean()
    assert 0.80 <= women <= 0.92
    women_rsa = (mono.filter("rsa")["sexe_allocataire"] == "F").mean()
    assert women_rsa == pytest.approx(0.917, abs=0.015)
    aah = pop.filter("aah")
    assert 0.17 <= aah["aah_travaille"].mean() <= 0.20
    assert aah.height / N == pytest.approx(1.35 / 13.8, abs=0.004)


def test_rsa_concentrated_among_persons_alone_and_single_parents(pop):
    rsa = pop.filter("rsa")["famille_type"].value_counts(normalize=True)
    got = dict(zip(rsa["famille_type"], rsa["proportion"]))
    total = 1_072_800 + 620_600 + 237_500  # Insee, Dec 2021
    assert got["personne_seule"] == pytest.approx(1_072_800 / total, abs=0.015)
    assert got["monoparentale"] == pytest.approx(620_600 / total, abs=0.015)
    rate = pop.group_by("famille_type").agg(pl.col("rsa").mean())
    r = dict(zip(rate["famille_type"], rate["rsa"]))
    assert r["monoparentale"] > r["personne_seule"] > 3 * r["couple_avec_enfants"]


def test_joint_structure_is_consistent(pop):
    f = derive_features(pop, keep=["household_id", "famille_type"]).collect()
    # QPV households are poorer.
    med = f.group_by("qpv").agg(pl.col("revenu_par_uc").median())
    m = dict(zip(med["qpv"], med["revenu_par_uc"]))
    assert m[True] < 0.85 * m[False]
    # Family type matches partner and children.
    assert (f["a_conjoint"] == pop["famille_type"].is_in(["couple_sans_enfant",
                                                           "couple_avec_enfants"])).all()
    assert (f["nb_enfants"] > 0).to_numpy().tolist() == pop["famille_type"].is_in(
        ["couple_avec_enfants", "monoparentale"]).to_list()
    # No partner: every partner field is unknown.
    solo = pop.filter(~pl.col("conjoint"))
    assert solo.select(pl.col("^conj_.*$").null_count()).row(0) == (solo.height,) * 8
    # Children are at least 16 years younger than their youngest parent, and 20 or under.
    kids = pop.select("household_id", "alloc_age", "conj_age", "enfants_dates_naissance").explode(
        "enfants_dates_naissance").drop_nulls("enfants_dates_naissance")
    kid_age = (2024 * 12 + 3 - (kids["enfants_dates_naissance"].dt.year() * 12
                                + kids["enfants_dates_naissance"].dt.month())) // 12
    parent = np.minimum(kids["alloc_age"].to_numpy(), kids["conj_age"].fill_null(200).to_numpy())
    assert ((parent - kid_age.to_numpy()) >= 16).all()
    assert kid_age.max() <= 20
    # RSA before 25 only for parents.
    young_rsa = pop.filter(pl.col("rsa") & (pl.col("alloc_age") < 25)
                           & pl.col("enfants_dates_naissance").list.len().eq(0))
    assert young_rsa.height == 0
    # Benefit amounts: positive exactly when received.
    for b in ("rsa", "prime_activite", "aide_logement", "allocations_familiales"):
        got = pop.select((pl.col(b) == (pl.col(f"montant_{b}") > 0)).all()).item()
        assert got, b
    assert pop.select(((pl.col("montant_aah") > 0) == pl.col("aah")).all()).item()
    # Housing aid goes to people who pay a rent.
    assert pop.filter("aide_logement").select((pl.col("loyer_mensuel") > 0).all()).item()
    # Allocations familiales: every household with two children or more under 20.
    assert pop.filter(pl.col("allocations_familiales")).select(
        pl.col("enfants_dates_naissance").list.len().min()).item() >= 2
    # Separation dates only for separated or divorced people.
    never = dt.date(1900, 1, 1)
    sep = pop.filter(pl.col("date_separation") != never)["situation_familiale"].unique()
    assert set(sep) <= {"separe", "divorce"}


def test_scoring_the_population_with_cnaf_2014(pop):
    sample = pop.head(20_000)
    s = score_dossiers_frame(sample, "cnaf-2014", keep=["household_id", "famille_type"])
    assert s.height == sample.height
    assert s["household_id"].to_list() == sample["household_id"].to_list()
    assert s["determined"].all()
    assert s.select(pl.col("score").is_between(0, 1).all()).item()
    by = s.group_by("famille_type").agg(pl.col("score").mean())
    mean = dict(zip(by["famille_type"], by["score"]))
    # No single-parent criterion (seed 003: "indirectement"), yet single parents have the highest
    # mean score: months of activity, income per unit, RSA, rent burden.
    assert mean["monoparentale"] == max(mean.values())


def test_cli_generate_writes_the_same_rows(cli, tmp_path):
    out = tmp_path / "pop.parquet"
    r = cli("population", "generate", "--households", "2500", "--seed", "4", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "2,500" in r.stdout
    assert pl.read_parquet(out).equals(generate_population(2_500, seed=4))
    assert [p.name for p in tmp_path.iterdir()] == ["pop.parquet"]


def test_cli_generate_bad_input(cli, tmp_path):
    r = cli("population", "generate", "--households", "0", "--out", str(tmp_path / "x.parquet"))
    assert r.returncode == 2 and "--households" in r.stderr
    r = cli("population", "generate", "-n", "10", "--out", str(tmp_path / "no" / "x.parquet"))
    assert r.returncode == 2 and "does not exist" in r.stderr
    r = cli("population", "generate", "-n", "10", "--out", str(tmp_path / "x.parquet"),
            "--reference-month", "2024-13")
    assert r.returncode == 2 and "--reference-month" in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_report_on_the_population_is_within_every_tolerance(pop):
    from profilage.population.report import population_report

    rep = population_report(pop)
    assert rep["households"] == N
    bad = [(r["id"], r["generated"], r["min"], r["max"]) for r in rep["rows"] if not r["ok"]]
    assert bad == []
    ids = {r["id"] for r in rep["rows"]}
    assert {"part_rsa", "part_aide_logement", "part_qpv", "femmes_monoparentales",
            "part_prime_activite", "taux_effort_median_al"} <= ids
    rsa = next(r for r in rep["rows"] if r["id"] == "part_rsa")
    assert rsa["published"] == 0.13 and "Insee Focus 348" in rsa["source"]
    assert rsa["generated"] == pytest.approx(pop["rsa"].mean())


def test_cli_report_exit_codes(cli, tmp_path):
    good = tmp_path / "pop.parquet"
    generate_population(20_000, seed=2).write_parquet(good)
    r = cli("population", "report", str(good), "--json")
    assert r.returncode == 0, r.stderr
    import json

    rep = json.loads(r.stdout)
    assert rep["ok"] is True and rep["households"] == 20_000
    # A population without RSA households is out of tolerance: exit 1, named on stderr.
    bad = tmp_path / "bad.parquet"
    generate_population(20_000, seed=2).with_columns(rsa=False).write_parquet(bad)
    r = cli("population", "report", str(bad))
    assert r.returncode == 1
    assert "part_rsa" in r.stderr and "HORS" in r.stdout
    r = cli("population", "report", str(tmp_path / "missing.parquet"))
    assert r.returncode == 2 and "file not found" in r.stderr
    other = tmp_path / "other.parquet"
    pl.DataFrame({"x": [1]}).write_parquet(other)
    r = cli("population", "report", str(other))
    assert r.returncode == 2 and "famille_type" in r.stderr


def test_c2s_population_for_the_cnam_models():
    from profilage.population import generate_c2s_population
    from profilage.population.generator import c2sg_ceiling
    from profilage.population.report import population_report

    c2s = generate_c2s_population(30_000, seed=3)
    assert c2s.equals(generate_c2s_population(30_000, seed=3))
    for name in ("c2s_premiere_demande", "c2s_ressources_annuelles", "c2s_pension_invalidite",
                 "c2s_consommation_soins", "c2s_indemnites_journalieres",
                 "c2s_contact_assurance_maladie", "c2s_anomalie", "c2s_fraude"):
        assert c2s[name].null_count() == 0, name
    # The ceiling follows data/c2sg_plafonds.csv: 9,719 euros for one person, x1.5 for two...
    assert c2sg_ceiling(dt.date(2024, 3, 1), np.array([1, 2, 3, 4, 5, 6])).tolist() == \
        pytest.approx([9719, 14578.5, 17494.2, 20409.9, 24297.5, 28185.1])
    feats = derive_features(c2s, keep=["c2s_anomalie"]).collect()
    assert ((feats["revenu_rapport_plafond_c2sg"] > 1) == feats["c2s_anomalie"]).all()
    assert feats["c2s_anomalie"].mean() == pytest.approx(0.06, abs=0.006)
    rep = population_report(c2s)
    assert rep["population"] == "c2s" and rep["ok"]
    assert {r["usage"] for r in rep["rows"]} == {"hypothese"}
    # The CNAM 2018 model scores every household; first applications score higher.
    s = score_dossiers_frame(c2s, "cnam-c2sg-2018", keep=["household_id"])
    assert s["determined"].all()
    by = dict(s.group_by("premiere_demande").agg(pl.col("score").mean()).iter_rows())
    assert by[True] > by[False]


def test_cli_generate_c2s(cli, tmp_path):
    out = tmp_path / "c2s.parquet"
    r = cli("population", "generate", "-n", "3000", "--kind", "c2s", "--out", str(out), "--json")
    assert r.returncode == 0, r.stderr
    assert pl.read_parquet(out)["c2s_anomalie"].dtype == pl.Boolean
    r = cli("population", "report", str(out))
    assert r.returncode == 0 and "C2S" in r.stdout and "hypothèse" in r.stdout
    r = cli("population", "generate", "-n", "10", "--kind", "cmu", "--out", str(out))
    assert r.returncode == 2 and "--kind" in r.stderr


def test_departements_follow_population_shares(pop):
    from profilage.population.generator import departements

    deps = departements()
    assert deps.height == 101 and deps["code"].is_unique().all()
    share = deps.with_columns(p=pl.col("population") / pl.col("population").sum())
    expected = dict(zip(share["code"], share["p"]))
    got = pop["departement"].value_counts(normalize=True)
    got = dict(zip(got["departement"], got["proportion"]))
    for code in ("75", "59", "13", "93", "974", "48"):
        assert got.get(code, 0.0) == pytest.approx(expected[code], abs=0.0015), code
    assert set(got) <= set(expected)


def test_openfisca_command_without_the_extra_names_it(tmp_path):
    """Without openfisca_france the command says how to install it: exit 2, one line."""
    import subprocess
    import sys

    out = tmp_path / "pop.parquet"
    generate_population(50, seed=1).write_parquet(out)
    code = ("import sys; sys.modules['openfisca_france'] = None; sys.modules['openfisca_core'] = "
            "None; sys.argv = ['profilage', 'population', 'openfisca', sys.argv[1], '--sample', "
            "'5']; from profilage.cli import main; main()")
    r = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2
    assert "pip install 'profilage[openfisca]'" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_threads_and_chunks_give_the_same_rows(monkeypatch):
    import profilage.population.generator as gen
    from profilage.population import iter_population

    monkeypatch.setattr(gen, "CHUNK", 1_000)
    one = pl.concat(list(iter_population(4_500, seed=9)))
    two = pl.concat(list(iter_population(4_500, seed=9, workers=2)))
    assert one.equals(two)
    assert one["household_id"].to_list() == list(range(4_500))


def test_reference_month_outside_the_supported_range_is_a_clear_error():
    """Found by the API fuzz test: month 0001-01 crashed the generator."""
    import pytest

    from profilage.errors import ProfilageError
    from profilage.population import generate_population

    with pytest.raises(ProfilageError, match="outside 1990-01..2100-12"):
        generate_population(100, 0, reference_month="0001-01")

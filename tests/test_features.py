import polars as pl
import pytest

from profilage.dossier import dossiers_frame, parse_dossier
from profilage.features import conform, derive_features, dossier_features
from profilage.personas import available_personas, load_persona


def feats(d: dict) -> dict:
    return derive_features(parse_dossier(d).to_frame()).collect().row(0, named=True)


def test_nathalie_features():
    f = derive_features(load_persona("nathalie").to_frame()).collect().row(0, named=True)
    assert f["age_allocataire"] == 51 and f["age_conjoint"] == 57
    assert (f["nb_enfants_12_18"], f["nb_enfants_moins_12"], f["nb_enfants_19_plus"]) == (2, 0, 0)
    assert f["nb_uc"] == pytest.approx(2.5)  # 1 + 0.5 partner + 0.5 + 0.5 (children 14+)
    assert f["revenu_par_uc"] == pytest.approx(1200.0)
    assert f["mois_activite_foyer"] == 24 and f["revenus_stables_importants"] is True
    assert f["qpv"] is None and f["taux_effort"] is None and f["mois_depuis_separation"] is None


def test_single_parent_consumption_units_and_rent_burden():
    f = derive_features(load_persona("mere-isolee-rsa-qpv").to_frame()).collect().row(0, named=True)
    assert f["parent_isole"] is True
    assert f["nb_uc"] == pytest.approx(1 + 0.3 + 0.3 + 0.2)
    # (430 rent - 395 housing aid) / (0 + 890 RSA + 148 AF)
    assert f["taux_effort"] == pytest.approx(35 / 1038)


def test_a_single_adult_cannot_exceed_12_months():
    f = derive_features(load_persona("michel").to_frame()).collect().row(0, named=True)
    assert f["mois_activite_foyer"] == 12


def test_unknown_partner_vs_no_partner():
    base = {"reference_month": "2023-12", "allocataire": {"age": 40}}
    assert feats(base)["a_conjoint"] is None
    assert feats({**base, "conjoint": None})["a_conjoint"] is False
    assert feats({**base, "conjoint": {"age": 61}})["age_conjoint"] == 61


def test_received_benefit_without_amount_makes_rent_burden_unknown():
    base = {"reference_month": "2023-12", "allocataire": {"revenu_mensuel": 1000}, "conjoint": None,
            "enfants": [], "logement": {"loyer_mensuel": 500},
            "prestations": {"rsa": False, "prime_activite": False, "allocations_familiales": False,
             "aide_logement": True}}
    assert feats(base)["taux_effort"] is None
    base["prestations"]["montant_aide_logement"] = 100
    base["allocataire"]["aah"] = False
    assert feats(base)["taux_effort"] == pytest.approx(0.4)


def test_never_means_long_ago():
    d = {"reference_month": "2023-12", "historique": {"separation": "jamais",
                                                      "changement_adresse": "2023-10"}}
    f = feats(d)
    assert f["mois_depuis_separation"] > 1000 and f["mois_depuis_changement_adresse"] == 2


def test_vectorised_equals_one_by_one():
    names = available_personas()
    many = derive_features(dossiers_frame([load_persona(n) for n in names])).collect()
    for i, n in enumerate(names):
        one = derive_features(load_persona(n).to_frame()).collect()
        assert many.row(i) == one.row(0), n


def test_c2s_ratio_to_ceiling():
    d = {"reference_month": "2024-01", "conjoint": None,
         "enfants": [{"date_naissance": "2015-01"}, {"date_naissance": "2003-01"}],
         "allocataire": {"sexe": "F"}, "c2s": {"ressources_annuelles": 9719 * 1.8 / 2}}
    f = feats(d)
    assert f["taille_foyer"] == 3 and f["plus_d_un_adulte"] is True and f["au_moins_un_mineur"]
    assert f["revenu_rapport_plafond_c2sg"] == pytest.approx(0.5)


def test_children_given_by_age():
    f = feats({"reference_month": "2023-12", "enfants": [{"age": 3}, {"age": 12}, {"age": 19}]})
    assert (f["nb_enfants_moins_12"], f["nb_enfants_12_18"], f["nb_enfants_19_plus"]) == (1, 1, 1)


def test_children_bands_in_one_pass_match_a_plain_count():
    """Children by age band (one packed pass over the list) against a plain Python count,
    with no children, an unknown list, an unknown birth date and 300 children."""
    import datetime as dt

    from profilage.features import derive_features

    ref = dt.date(2024, 3, 1)
    lists = [[], None, [dt.date(2020, 1, 1), None, dt.date(2005, 3, 1)],
             [dt.date(2024 - (i % 25), 1, 1) for i in range(300)],
             [dt.date(2012, 3, 1), dt.date(2012, 4, 1), dt.date(2010, 4, 1), dt.date(2006, 2, 1)]]
    df = pl.DataFrame({"reference_month": [ref] * len(lists), "enfants_dates_naissance": lists},
                      schema={"reference_month": pl.Date,
                              "enfants_dates_naissance": pl.List(pl.Date)})
    got = derive_features(df).collect()
    for i, kids in enumerate(lists):
        row = got.row(i, named=True)
        if kids is None:
            assert row["nb_enfants"] is None and row["nb_enfants_moins_12"] is None
            continue
        ages = [((ref.year * 12 + ref.month) - (d.year * 12 + d.month)) // 12 for d in kids if d]
        assert row["nb_enfants"] == len(kids)
        assert row["nb_enfants_moins_12"] == sum(a < 12 for a in ages)
        assert row["nb_enfants_12_18"] == sum(12 <= a <= 18 for a in ages)
        assert row["nb_enfants_19_plus"] == sum(a >= 19 for a in ages)


def test_derivation_equals_the_frozen_features_on_hostile_rows():
    """Every feature, on 3,000 hostile dossier rows (unknown values, NaN, infinities, events
    after the reference month, unknown reference months, children lists with unknown, future,
    empty and unknown entries), equals what derive_features gave before it was made faster
    (tests/features_fixture.py): the same semantics, lazily, eagerly and one row at a time."""
    from features_fixture import FIXTURE
    from polars.testing import assert_frame_equal

    data = pl.read_parquet(FIXTURE)
    exp_cols = [c for c in data.columns if c.startswith("exp__")]
    rows = data.drop(exp_cols)
    expected = data.select("household_id", *exp_cols).rename(
        {c: c.removeprefix("exp__") for c in exp_cols})
    got = derive_features(rows.lazy(), keep=["household_id"]).collect()
    assert_frame_equal(got, expected, check_exact=True)
    once = derive_features(conform(rows.lazy()), keep=["household_id"], conformed=True)
    assert_frame_equal(once.collect(), expected, check_exact=True)
    for i in (0, 7, 11, 42, 1999):
        one = dossier_features(rows[i], keep=["household_id"])
        assert_frame_equal(one, expected[i], check_exact=True)
    # a batch cut anywhere (the streaming engine hands the children's pass slices)
    part = derive_features(rows[1234:1301], keep=["household_id"]).collect()
    assert_frame_equal(part, expected[1234:1301], check_exact=True)
    for month in rows["reference_month"].drop_nulls().unique():  # one reference month
        keep = (rows["reference_month"] == month).fill_null(False)
        got = derive_features(rows.filter(keep), keep=["household_id"]).collect()
        assert_frame_equal(got, expected.filter(keep), check_exact=True)


def test_children_counts_of_a_very_large_household():
    """Beyond 4,095 children the packed count would overflow: counted band by band."""
    import datetime as dt

    kids = [dt.date(2020, 1, 1)] * 4100 + [dt.date(2000, 1, 1)] * 3 + [None]
    rows = pl.DataFrame({"reference_month": [dt.date(2024, 3, 1)] * 2,
                         "enfants_dates_naissance": [kids, [dt.date(2010, 4, 1)]]})
    got = derive_features(rows).collect()
    assert got["nb_enfants"].to_list() == [4104, 1]
    assert got["nb_enfants_moins_12"].to_list() == [4100, 0]  # 13 years 11 months: 13
    assert got["nb_enfants_12_18"].to_list() == [0, 1]
    assert got["nb_enfants_19_plus"].to_list() == [3, 0]

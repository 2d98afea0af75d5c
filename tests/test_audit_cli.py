"""`profilage audit` on a generated population; the group table recomputed with Fairlearn."""

import json

import polars as pl
import pytest

from profilage.audit import prepare

GROUP_KEYS = {"by", "group", "households", "selected", "population_share", "selected_share",
              "selection_rate", "ratio_to_overall", "ratio_to_reference", "ci_low", "ci_high",
              "mean_score"}


@pytest.fixture(scope="module")
def population(tmp_path_factory):
    from profilage.population import generate_population

    path = tmp_path_factory.mktemp("pop") / "pop.parquet"
    generate_population(20_000, seed=3).write_parquet(path)
    return path


def test_audit_json_shape_and_out_dir(cli, population, tmp_path):
    out = tmp_path / "audit"
    r = cli("audit", "--population", str(population), "--share", "0.05", "--by",
            "famille_type,sexe_allocataire", "--json", "--out", str(out))
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["model"]["id"] == "cnaf-2014" and rep["model"]["coefficients_status"]["reconstructed"]
    assert rep["budget"]["selected"] == 1000 and rep["budget"]["households"] == 20_000
    assert {g["by"] for g in rep["groups"]} == {"famille_type", "sexe_allocataire",
                                                 "famille_type × sexe_allocataire"}
    for g in rep["groups"]:
        assert GROUP_KEYS <= set(g)
    fam = [g for g in rep["groups"] if g["by"] == "famille_type"]
    assert sum(g["households"] for g in fam) == 20_000 and sum(g["selected"] for g in fam) == 1000
    assert sorted(p.name for p in out.iterdir()) == ["audit.json", "groups.csv", "groups.parquet",
                                                     "selections.parquet"]
    sel = pl.read_parquet(out / "selections.parquet")
    assert sel.columns == ["household_id", "month", "score", "selected"]
    assert sel["selected"].sum() == 1000
    # the selected are exactly the 1000 best scores (ties by household_id)
    best = sel.sort(["score", "household_id"], descending=[True, False]).head(1000)
    assert set(best["household_id"]) == set(sel.filter("selected")["household_id"])


def test_group_table_equals_fairlearn_metricframe(cli, population, tmp_path):
    fairlearn = pytest.importorskip("fairlearn.metrics")
    out = tmp_path / "audit"
    r = cli("audit", "--population", str(population), "--budget-per-month", "300", "--by",
            "famille_type,bas_revenus", "--out", str(out), "--json")
    assert r.returncode == 0, r.stderr
    groups = json.loads(r.stdout)["groups"]
    sel = pl.read_parquet(out / "selections.parquet")
    # Groups recomputed independently from the population (not from the audit frame).
    pop = pl.read_parquet(population)
    low = prepare(pop).select("household_id", "bas_revenus")
    df = sel.join(pop.select("household_id", "famille_type"), on="household_id").join(
        low, on="household_id").with_columns(
        bas_revenus=pl.col("bas_revenus").replace_strict({True: "oui", False: "non"},
                                                         default="inconnu")).to_pandas()
    mf = fairlearn.MetricFrame(
        metrics={"rate": fairlearn.selection_rate, "n": fairlearn.count},
        y_true=df["selected"], y_pred=df["selected"],
        sensitive_features=df[["famille_type", "bas_revenus"]])
    inter = {g["group"]: g for g in groups if g["by"] == "famille_type × bas_revenus"}
    bg = mf.by_group
    assert len(inter) == len(bg)
    for (fam, low_), row in bg.iterrows():
        g = inter[f"{fam} × {low_}"]
        assert g["households"] == row["n"]
        assert g["selection_rate"] == pytest.approx(row["rate"], abs=1e-12)
    mf1 = fairlearn.MetricFrame(metrics=fairlearn.selection_rate, y_true=df["selected"],
                                y_pred=df["selected"], sensitive_features=df["famille_type"])
    fam = {g["group"]: g for g in groups if g["by"] == "famille_type"}
    for k, v in mf1.by_group.items():
        assert fam[k]["selection_rate"] == pytest.approx(v, abs=1e-12)
        assert fam[k]["ratio_to_overall"] == pytest.approx(v / mf1.overall, abs=1e-12)


def test_quotas_by_departement(cli, population):
    r = cli("audit", "--population", str(population), "--budget-per-month", "500",
            "--quota-by", "departement", "--by", "departement", "--json", "--bootstrap", "0")
    assert r.returncode == 0, r.stderr
    groups = json.loads(r.stdout)["groups"]
    assert sum(g["selected"] for g in groups) == 500
    for g in groups:  # proportional to households, within one control of rounding
        assert abs(g["selected"] - 500 * g["households"] / 20_000) < 1


def test_french_table(cli, population):
    r = cli("audit", "--population", str(population), "--by", "famille_type", "--bootstrap", "50")
    assert r.returncode == 0, r.stderr
    assert "Type de famille" in r.stdout and "monoparentale" in r.stdout
    assert "Coefficients NON officiels" in r.stdout and "budget par défaut" in r.stdout


@pytest.mark.parametrize("args, message", [
    (["--by", "nope"], "--by: unknown group column 'nope'"),
    (["--share", "0"], "--share: expected a share in (0, 1]"),
    (["--share", "1.5"], "--share: expected a share in (0, 1]"),
    (["--budget-per-month", "30000"], "--budget-per-month: budget 30000 exceeds the 20000"),
    (["--threshold", "3"], "--threshold: expected a score in [0, 1]"),
    (["--quota-by", "commune"], "--quota-by: unknown column 'commune'"),
    (["--share", "0.1", "--threshold", "0.5"], "--threshold: choose one of"),
])
def test_bad_options_exit_2_with_one_line(cli, population, args, message):
    r = cli("audit", "--population", str(population), *args)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and message in r.stderr, r.stderr


def test_missing_population_file(cli, tmp_path):
    r = cli("audit", "--population", str(tmp_path / "none.parquet"))
    assert r.returncode == 2 and "--population" in r.stderr and "file not found" in r.stderr


def test_random_baseline_is_independent_of_a_population_drawn_with_the_same_seed():
    # The generator and the audit both default to seed 0: the audit's random draw must not
    # replay the generator's stream (it did once: the "random" arm followed family type).
    from profilage.audit import Selection, select
    from profilage.population import generate_population

    s = select(prepare(generate_population(20_000, seed=0)), Selection(share=0.1, seed=0))
    rates = s.group_by("famille_type").agg(r=pl.col("random_selected").mean(), n=pl.len())
    for r, n in rates.select("r", "n").iter_rows():
        assert abs(r - 0.1) < 4 * (0.1 * 0.9 / n) ** 0.5 + 1e-9, (r, n)

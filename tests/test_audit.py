"""The audit core on small hand-made frames whose figures are computed by hand."""

import datetime as dt

import numpy as np
import polars as pl
import pytest

from profilage.audit import Selection, default_budget_per_month, group_table, parse_by, select
from profilage.audit.selection import _largest_remainder
from profilage.errors import ProfilageError

M1 = dt.date(2024, 3, 1)


def frame(scores, groups, *, month=M1, dep=None):
    d = {"household_id": list(range(len(scores))), "month": [month] * len(scores),
         "score": scores, "g": groups}
    if dep is not None:
        d["departement"] = dep
    return pl.DataFrame(d)


def test_top_scores_up_to_the_budget_ties_by_household_id():
    # Households 1 and 3 tie at 0.8: the smaller id goes first.
    df = frame([0.5, 0.8, 0.9, 0.8, 0.1], ["a", "b", "a", "b", "a"])
    out = select(df, Selection(budget_per_month=2)).sort("household_id")
    assert out["selected"].to_list() == [False, True, True, False, False]
    assert out["rank"].to_list() == [3, 1, 0, 2, 4]
    # top decile of 5 households: ceil(0.5) = 1 household
    assert out["top_decile"].to_list() == [False, False, True, False, False]
    assert out["random_selected"].sum() == 2


def test_share_and_threshold():
    df = frame([0.5, 0.8, 0.9, 0.8, 0.1, 0.3, 0.2, 0.7, 0.6, 0.4], ["a"] * 10)
    out = select(df, Selection(share=0.3))
    assert sorted(out.filter("selected")["household_id"].to_list()) == [1, 2, 3]
    out = select(df, Selection(threshold=0.6))
    assert sorted(out.filter("selected")["household_id"].to_list()) == [1, 2, 3, 7, 8]


def test_budget_is_applied_per_month():
    a = frame([0.9, 0.1, 0.5], ["a"] * 3)
    b = frame([0.2, 0.3, 0.4], ["a"] * 3, month=dt.date(2024, 4, 1)).with_columns(
        pl.col("household_id") + 10)
    out = select(pl.concat([a, b]), Selection(budget_per_month=1))
    assert sorted(out.filter("selected")["household_id"].to_list()) == [0, 12]


def test_quotas_by_departement_are_proportional_to_households():
    # 6 households in 75, 3 in 93, 1 in 13; budget 5 -> 3, 1.5, 0.5 -> largest remainder 3, 2, 0
    scores = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.95, 0.9, 0.85, 0.99]
    deps = ["75"] * 6 + ["93"] * 3 + ["13"]
    out = select(frame(scores, ["a"] * 10, dep=deps), Selection(budget_per_month=5,
                                                                quota_by="departement"))
    chosen = sorted(out.filter("selected")["household_id"].to_list())
    assert chosen == [3, 4, 5, 6, 7]  # the best 3 of 75, the best 2 of 93, none of 13
    assert list(_largest_remainder(5, np.array([6.0, 3.0, 1.0]))) == [3, 2, 0]


def test_default_budget_is_cnaf_2024_scaled():
    assert default_budget_per_month(13_800_000) == 13_833  # 166,000 / 12
    assert default_budget_per_month(138_000) == 138
    assert default_budget_per_month(10) == 1


@pytest.mark.parametrize("kwargs, field", [
    ({"share": 0.0}, "--share"), ({"share": 1.2}, "--share"), ({"threshold": 2.0}, "--threshold"),
    ({"budget_per_month": 0}, "--budget-per-month"), ({"budget_per_month": 99}, "--budget-per-month"),
    ({"budget_per_month": 2, "share": 0.5}, "--share"), ({"quota_by": "nope"}, "--quota-by"),
])
def test_bad_selection_names_the_option(kwargs, field):
    with pytest.raises(ProfilageError) as e:
        select(frame([0.5, 0.6], ["a", "b"]), Selection(**kwargs))
    assert e.value.field == field


def test_group_table_against_a_hand_computation():
    # group a: 6 households, 3 selected; group b: 4 households, 1 selected (budget 4)
    scores = [0.99, 0.98, 0.97, 0.1, 0.2, 0.3, 0.96, 0.4, 0.5, 0.6]
    groups = ["a"] * 6 + ["b"] * 4
    sel = select(frame(scores, groups), Selection(budget_per_month=4))
    t = group_table(sel, [["g"]], n_boot=400, seed=1).sort("group")
    a, b = t.row(0, named=True), t.row(1, named=True)
    assert (a["households"], a["selected"], b["households"], b["selected"]) == (6, 3, 4, 1)
    assert a["population_share"] == 0.6 and a["selected_share"] == 0.75
    assert a["selection_rate"] == 0.5 and b["selection_rate"] == 0.25
    assert a["ratio_to_overall"] == pytest.approx(0.5 / 0.4)
    assert a["reference"] == "a"  # largest group
    assert b["ratio_to_reference"] == 0.5 and b["flag"] == "bas" and a["flag"] is None
    assert a["mean_score"] == pytest.approx(np.mean(scores[:6]))
    assert a["top_decile_share"] == pytest.approx(1 / 6)  # 1 household in the top decile
    assert a["ci_low"] <= 0.5 <= a["ci_high"] and 0 <= b["ci_low"] <= 0.25 <= b["ci_high"] <= 1
    ref = group_table(sel, [["g"]], reference={"g": "b"}, n_boot=0).sort("group")
    assert ref["ratio_to_reference"].to_list() == [2.0, 1.0]
    assert ref["flag"].to_list() == ["haut", None]


def test_bootstrap_interval_matches_the_binomial_width():
    # 10,000 households, rate 0.2 in group a: 95 % interval about +-1.96*sqrt(.2*.8/n_a)
    rng = np.random.default_rng(3)
    n = 10_000
    groups = np.where(rng.random(n) < 0.5, "a", "b")
    scores = rng.random(n)
    df = frame(scores.tolist(), groups.tolist())
    sel = select(df, Selection(share=0.2))
    t = group_table(sel, [["g"]], n_boot=1000, seed=0).sort("group")
    for r in t.iter_rows(named=True):
        half = 1.96 * np.sqrt(r["selection_rate"] * (1 - r["selection_rate"]) / r["households"])
        assert (r["ci_high"] - r["ci_low"]) / 2 == pytest.approx(half, rel=0.15)


def test_intersections_and_parse_by():
    cols = ["g", "h", "score"]
    assert parse_by("g,h", cols, []) == [["g"], ["h"], ["g", "h"]]
    with pytest.raises(ProfilageError, match="--by: unknown group column 'x'"):
        parse_by("g,x", cols, [])
    df = frame([0.9, 0.8, 0.7, 0.1], ["a", "a", "b", "b"]).with_columns(
        h=pl.Series([True, False, True, None]))
    sel = select(df, Selection(budget_per_month=2))
    t = group_table(sel, parse_by("g,h", df.columns, []), n_boot=0)
    inter = t.filter(pl.col("by") == "g × h")
    assert inter["group"].to_list() == ["a × non", "a × oui", "b × oui", "b × inconnu"]
    assert inter["selected"].to_list() == [1, 1, 0, 0]


@pytest.mark.parametrize("kwargs", [
    {"budget_per_month": 7}, {"share": 0.3}, {"threshold": 0.5}, {},
    {"budget_per_month": 9, "quota_by": "departement"}, {"share": 0.95},
])
@pytest.mark.parametrize("months", [1, 3])
def test_selection_without_ranking_equals_the_ranked_one(kwargs, months):
    """select(rank=False) (partial selection, what the audit uses) picks the same households
    and the same top decile as the full stable sort: ties broken by the smaller id, households
    without a score last (in the top decile when too few have one), several months, quotas."""
    rng = np.random.default_rng(7)
    n = 3_000
    scores = np.round(rng.random(n), 2)  # many ties
    scores[rng.random(n) < 0.05] = np.nan
    if months == 3:  # a month where most households have no score: NaNs reach its top decile
        scores[:48] = np.nan
        scores[48:50] = [0.5, 0.5]
    ids = rng.permutation(n) * 3 + 5  # not in row order
    month = [dt.date(2024, 1 + i % months, 1) for i in range(n)]
    if months == 3:
        month[:50] = [dt.date(2025, 1, 1)] * 50
    df = pl.DataFrame({"household_id": ids, "month": month,
                       "score": pl.Series(scores).fill_nan(None),
                       "departement": rng.choice(["75", "93", "13", None], n).tolist()})
    full = select(df, Selection(**kwargs, seed=3))
    fast = select(df, Selection(**kwargs, seed=3), rank=False)
    assert "rank" not in fast.columns
    assert fast.columns == [c for c in full.columns if c != "rank"]
    for c in fast.columns:
        assert fast[c].to_list() == full[c].to_list(), c
    assert fast["top_decile"].sum() > 0 and fast["selected"].sum() > 0
    if months == 3:  # the 2025 month's top 5 (ceil(50 / 10)): its 2 scores, 3 without one
        assert fast["top_decile"][:50].sum() == 5 and fast["top_decile"][48:50].all()


def test_partial_selection_on_a_large_month_equals_the_ranked_one():
    """Above 50,000 households a strided sample bounds the k-th score (budget and top decile)."""
    rng = np.random.default_rng(11)
    n = 120_000
    scores = np.round(rng.random(n), 3)  # ties at every score
    scores[rng.random(n) < 0.02] = np.nan
    df = pl.DataFrame({"household_id": rng.permutation(n), "month": [M1] * n,
                       "score": pl.Series(scores).fill_nan(None)})
    for kwargs in ({"budget_per_month": 17}, {"share": 0.2}, {}):
        full = select(df, Selection(**kwargs))
        fast = select(df, Selection(**kwargs), rank=False)
        for c in ("selected", "top_decile", "random_selected"):
            assert fast[c].to_list() == full[c].to_list(), (kwargs, c)


def test_group_table_sums_the_same_way_on_every_run():
    """Mean scores of a grouping over many cells: summed in one order (no parallel group_by
    adding cells in any order), equal to a plain per-group mean."""
    rng = np.random.default_rng(5)
    n = 60_000
    df = pl.DataFrame({"household_id": np.arange(n), "month": [M1] * n, "score": rng.random(n),
                       "g": rng.choice(["a", "b", "c"], n).tolist(),
                       "h": rng.integers(0, 900, n).astype(np.int16)})
    sel = select(df, Selection(share=0.1))
    specs = parse_by("g,h", df.columns, [])
    first = group_table(sel, specs, n_boot=0)
    for _ in range(5):
        assert group_table(sel, specs, n_boot=0)["mean_score"].to_list() \
            == first["mean_score"].to_list()
    g = first.filter(pl.col("by") == "g").sort("group")
    want = df.group_by("g").agg(pl.col("score").mean()).sort("g")["score"].to_list()
    assert g["mean_score"].to_list() == pytest.approx(want, rel=1e-12)
    assert g["households"].to_list() == df.group_by("g").len().sort("g")["len"].to_list()

"""The embedded store: monthly runs are atomic, retention removes exactly what it should."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys

import duckdb
import polars as pl
import pytest

from profilage.models import load_model
from profilage.population import generate_population
from profilage.scoring import score_dossiers_frame
from profilage.store import (
    add_population,
    apply_retention,
    file_sha256,
    history,
    open_store,
    run_month,
    set_hold,
    set_relationship_end,
)


@pytest.fixture(scope="module")
def pop_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("pop") / "pop.parquet"
    generate_population(6_000, seed=42).write_parquet(path)
    return path


@pytest.fixture
def store(tmp_path, pop_file):
    path = tmp_path / "s.duckdb"
    con = open_store(path, create=True)
    add_population(con, pop_file, "nat")
    yield con, path
    con.close()


def snapshot(con) -> dict:
    """Every table's content, sorted: equal snapshots = the store is exactly as before."""
    out = {}
    for t in ("populations", "runs", "scores", "relationships", "holds", "retention_log"):
        cols = [r[0] for r in con.execute(f"DESCRIBE {t}").fetchall()]
        out[t] = con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall(), cols
    out["households"] = con.execute("SELECT count(*), sum(household_id) FROM households").fetchall()
    return out


def test_a_month_is_scored_into_the_store(store, pop_file):
    con, _ = store
    r = run_month(con, "2024-03", "cnaf-2014", chunk=2_500)
    m = load_model("cnaf-2014")
    assert r["households"] == 6_000 and r["run_id"] == 1 and r["replaced_run"] is None
    run = con.execute("SELECT month, population, model_id, model_sha256, population_hash, "
                      "package_version, status, finished_at >= started_at FROM runs").fetchall()
    from profilage import __version__

    assert run == [(dt.date(2024, 3, 1), "nat", "cnaf-2014", m.sha256, file_sha256(pop_file),
                    __version__, "complete", True)]
    got = con.sql("SELECT household_id, score, score_low, score_high FROM scores "
                  "ORDER BY household_id").pl()
    pop = pl.read_parquet(pop_file).with_columns(reference_month=pl.date(2024, 3, 1))
    want = score_dossiers_frame(pop, "cnaf-2014").sort("household_id")
    assert got["household_id"].to_list() == want["household_id"].to_list()
    assert (got["score"] - want["score"]).abs().max() < 1e-15
    # another month: features follow the calendar (ages, months since events)
    run_month(con, "2027-03", "cnaf-2014")
    h = history(con, int(got["household_id"][0]))
    assert [f"{d:%Y-%m}" for d in h["month"]] == ["2024-03", "2027-03"]


def test_a_second_run_of_a_month_is_refused_then_replaced_atomically(store):
    con, _ = store
    run_month(con, "2024-03", "cnaf-2014")
    before = snapshot(con)
    with pytest.raises(Exception, match=r"2024-03 is already scored for nat with cnaf-2014 "
                                        r"\(run 1\); use --replace"):
        run_month(con, "2024-03", "cnaf-2014")
    assert snapshot(con) == before
    r = run_month(con, "2024-03", "cnaf-2014", replace=True)
    assert r["replaced_run"] == 1 and r["run_id"] == 2
    assert con.execute("SELECT run_id, status FROM runs ORDER BY run_id").fetchall() == [
        (1, "replaced"), (2, "complete")]
    assert con.execute("SELECT count(*), min(run_id) FROM scores").fetchone() == (6_000, 2)


@pytest.mark.parametrize("replace", [False, True])
def test_an_exception_mid_run_leaves_the_store_as_before(store, replace):
    con, _ = store
    run_month(con, "2024-03", "cnaf-2014")
    before = snapshot(con)

    def boom(done, total):
        if done >= 3_000:  # two chunks of 1,500 are already inserted
            raise RuntimeError("injected failure")

    month = "2024-03" if replace else "2024-04"
    with pytest.raises(RuntimeError, match="injected"):
        run_month(con, month, "cnaf-2014", chunk=1_500, replace=replace, on_chunk=boom)
    assert snapshot(con) == before
    r = run_month(con, month, "cnaf-2014", chunk=1_500, replace=replace)  # and it can be redone
    assert r["households"] == 6_000


def test_sigkill_mid_run_leaves_the_store_as_before(tmp_path, pop_file):
    path = tmp_path / "k.duckdb"
    env = {**os.environ}
    base = [sys.executable, "-m", "profilage"]
    subprocess.run(base + ["store", "add-population", str(pop_file), "--name", "nat", "--store",
                           str(path)], check=True, capture_output=True, env=env)
    subprocess.run(base + ["run", "--month", "2024-03", "--store", str(path)], check=True,
                   capture_output=True, env=env)
    con = duckdb.connect(str(path))
    before = snapshot(con)
    con.close()
    proc = subprocess.Popen(base + ["run", "--month", "2024-04", "--chunk", "500", "--store",
                                    str(path)], stderr=subprocess.PIPE, text=True, env=env)
    seen = []
    for line in proc.stderr:
        if line.startswith("lot / chunk"):
            seen.append(line)
            if len(seen) == 3:  # 1,500 households inserted, 4,500 to go
                proc.send_signal(signal.SIGKILL)
                break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL and len(seen) == 3
    con = open_store(path)
    assert snapshot(con) == before
    con.close()
    r = subprocess.run(base + ["run", "--month", "2024-04", "--store", str(path), "--json"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["households"] == 6_000


def test_retention_removes_exactly_the_expired_households(store):
    con, _ = store
    for month in ("2024-01", "2024-02", "2024-03"):
        run_month(con, month, "cnaf-2014")
    ids = [r[0] for r in con.execute("SELECT household_id FROM households ORDER BY household_id "
                                     "LIMIT 5").fetchall()]
    h1, h2, h3, h4, h5 = ids
    set_relationship_end(con, h1, dt.date(2017, 6, 30))   # + 6 y = 2023-06-30: expired
    set_relationship_end(con, h2, dt.date(2018, 6, 1))    # + 6 y = 2024-06-01: not *more* than 6 y
    set_relationship_end(con, h3, dt.date(2016, 1, 31))   # expired, but under a litigation hold
    set_relationship_end(con, h4, dt.date(2018, 5, 31))   # + 6 y = 2024-05-31: expired
    set_hold(con, h3, "recours devant le tribunal judiciaire")
    set_hold(con, h5, "hold without an end date: nothing to do")
    before = con.execute("SELECT count(*) FROM scores").fetchone()[0]
    dry = apply_retention(con, dt.date(2024, 6, 1), dry_run=True)
    assert con.execute("SELECT count(*) FROM scores").fetchone()[0] == before
    r = apply_retention(con, dt.date(2024, 6, 1))
    assert {k: dry[k] for k in ("households", "scores_deleted")} == {"households": 2,
                                                                     "scores_deleted": 6}
    assert r["households"] == 2 and r["scores_deleted"] == 6
    assert [x["household_id"] for x in r["removed"]] == sorted([h1, h4])
    assert [x["household_id"] for x in r["kept_under_hold"]] == [h3]
    left = dict(con.execute("SELECT household_id, count(*) FROM scores WHERE household_id IN "
                            f"({h1}, {h2}, {h3}, {h4}, {h5}) GROUP BY ALL").fetchall())
    assert left == {h2: 3, h3: 3, h5: 3}
    assert con.execute("SELECT count(*) FROM scores").fetchone()[0] == before - 6
    assert con.execute("SELECT households, scores_deleted, held_households FROM retention_log"
                       ).fetchall() == [(2, 6, 1)]
    # releasing the hold lets retention remove h3; a household that left is no longer scored
    set_hold(con, h3, release=True)
    assert apply_retention(con, dt.date(2024, 6, 1))["scores_deleted"] == 3
    assert run_month(con, "2024-04", "cnaf-2014")["households"] == 6_000 - 4


def test_cli_store_run_history_retention(cli, tmp_path, pop_file):
    s = str(tmp_path / "c.duckdb")
    r = cli("population", "import", str(pop_file), "--name", "nat", "--store", s)
    assert r.returncode == 0 and "6000 foyers" in r.stdout, r.stderr
    r = cli("run", "--month", "2024-03", "--store", s)
    assert r.returncode == 0 and "6000 foyers" in r.stdout.replace("\n", " "), r.stderr
    r = cli("run", "--month", "2024-03", "--store", s)
    assert r.returncode == 2
    assert r.stderr.strip() == ("erreur / error: --month: 2024-03 is already scored for nat with "
                                "cnaf-2014 (run 1); use --replace to score it again")
    hid = str(pl.read_parquet(pop_file)["household_id"][0])
    r = cli("history", hid, "--store", s, "--json")
    out = json.loads(r.stdout)
    assert [x["month"] for x in out["scores"]] == ["2024-03"] and 0 < out["scores"][0]["score"] < 1
    assert cli("retention", "end", hid, "2010-01-31", "--store", s).returncode == 0
    r = cli("retention", "apply", "--as-of", "2024-06-01", "--store", s, "--json")
    assert json.loads(r.stdout)["scores_deleted"] == 1
    assert json.loads(cli("history", hid, "--store", s, "--json").stdout)["scores"] == []
    r = cli("retention", "hold", "999999999", "--store", s)
    assert r.returncode == 2 and "no household 999999999" in r.stderr


def test_corrupt_or_foreign_store_files_give_one_line(cli, tmp_path, pop_file):
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"this is not a database\n" * 100)
    r = cli("history", "1", "--store", str(junk))
    assert r.returncode == 2
    assert r.stderr.strip() == (f"erreur / error: {junk}: not a DuckDB store (corrupt, or another "
                                "kind of file)")
    foreign = tmp_path / "foreign.duckdb"
    duckdb.connect(str(foreign)).execute("CREATE TABLE t (x INT)").fetchall()
    r = cli("run", "--month", "2024-03", "--store", str(foreign))
    assert r.returncode == 2 and "not a profilage store" in r.stderr
    good = tmp_path / "good.duckdb"
    assert cli("store", "add-population", str(pop_file), "--store", str(good)).returncode == 0
    truncated = tmp_path / "trunc.duckdb"
    truncated.write_bytes(good.read_bytes()[:5000])
    r = cli("store", "info", "--store", str(truncated))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    r = cli("history", "1", "--store", str(tmp_path / "missing.duckdb"))
    assert r.returncode == 2 and "store not found" in r.stderr
    r = cli("run", "--month", "March", "--store", str(good))
    assert r.returncode == 2 and "--month: month must be YYYY-MM" in r.stderr


@pytest.mark.parametrize("model,kind", [("cnaf-2014", "caf"), ("cnaf-2010", "caf"),
                                        ("cnaf-dmde-2026-m1", "caf"), ("cnam-c2sg-2018", "c2s")])
def test_store_scores_equal_the_engine_to_1e_12(tmp_path, model, kind):
    """Every score column the store archives is the Polars engine's, to 1e-12, unknown inputs
    (bounds, undetermined households, null scores) included; ``determined`` counts them."""
    from profilage.engine import compile_model
    from profilage.features import derive_features
    from profilage.population import generate_c2s_population

    gen = generate_c2s_population if kind == "c2s" else generate_population
    pop = gen(3_000, seed=5)
    # unknown inputs on some households: an income, a date, a benefit flag
    pop = pop.with_columns(
        pl.when(pl.col("household_id") % 7 == 0).then(None)
        .otherwise(pl.col("alloc_revenu_mensuel")).alias("alloc_revenu_mensuel"),
        pl.when(pl.col("household_id") % 11 == 0).then(None)
        .otherwise(pl.col("date_changement_adresse")).alias("date_changement_adresse"),
        pl.when(pl.col("household_id") % 13 == 0).then(None)
        .otherwise(pl.col("aide_logement")).alias("aide_logement"))
    path = tmp_path / "pop.parquet"
    pop.write_parquet(path)
    con = open_store(tmp_path / "s.duckdb", create=True)
    add_population(con, path, "p")
    r = run_month(con, "2024-03", model, chunk=1_000)
    got = con.sql("SELECT household_id, score, score_low, score_high, logit_low, logit_high "
                  "FROM scores ORDER BY household_id").pl()
    con.close()
    feats = derive_features(pop.with_columns(reference_month=pl.date(2024, 3, 1)),
                            keep=["household_id"])
    want = (compile_model(load_model(model)).score(feats, keep=False)
            .select("household_id", "score", "score_low", "score_high", "logit_low",
                    "logit_high", "determined").collect().sort("household_id"))
    assert got["household_id"].to_list() == want["household_id"].to_list()
    for c in ("score", "score_low", "score_high", "logit_low", "logit_high"):
        assert got[c].is_null().to_list() == want[c].is_null().to_list(), c
        a, b = got[c].drop_nulls(), want[c].drop_nulls()
        assert ((a == b) | ((a - b).abs() < 1e-12)).all(), c  # (equal infinite bounds too)
    assert r["households"] == 3_000
    assert r["determined"] == int(want["determined"].sum())
    if model == "cnaf-2014":  # the unknown inputs widened some households' bounds
        assert 0 < r["determined"] < 3_000


@pytest.mark.parametrize("form", ["parquet", "csv", "parquet-with-file_row_number"])
def test_rows_keep_the_file_order(tmp_path, form):
    """row_no is each row's position in the file (Parquet: DuckDB's file_row_number; CSV, or a
    file with a column of that name: a window over the file)."""
    pop = generate_population(2_000, seed=9).sample(fraction=1.0, shuffle=True, seed=1)
    if form == "csv":
        path = tmp_path / "pop.csv"
        pop.drop("enfants_dates_naissance").write_csv(path)
    else:
        if form != "parquet":
            pop = pop.with_columns(file_row_number=pl.lit(-1))
        path = tmp_path / "pop.parquet"
        pop.write_parquet(path, row_group_size=300)
    con = open_store(tmp_path / "s.duckdb", create=True)
    assert add_population(con, path, "p")["households"] == 2_000
    got = [r[0] for r in con.execute("SELECT household_id FROM households ORDER BY row_no"
                                     ).fetchall()]
    assert got == pop["household_id"].to_list()
    assert [r[0] for r in con.execute("SELECT row_no FROM households ORDER BY row_no"
                                      ).fetchall()] == list(range(2_000))
    con.close()


def test_a_chunk_whose_households_all_left_is_skipped(store):
    """Households whose relationship ended before the month are not scored, even a whole chunk
    of them (the chunk's query returns no row)."""
    con, _ = store
    con.execute("INSERT INTO relationships SELECT population, household_id, DATE '2020-01-31' "
                "FROM households WHERE row_no < 2500").fetchall()
    r = run_month(con, "2024-03", "cnaf-2014", chunk=2_500)
    assert r["households"] == 3_500
    assert con.execute("SELECT count(*), min(h.row_no) FROM scores s JOIN households h "
                       "USING (population, household_id)").fetchone() == (3_500, 2_500)


@pytest.mark.parametrize("form", ["parquet", "parquet-null", "parquet-string-ids", "csv"])
def test_duplicate_household_ids_are_refused_and_nothing_is_imported(tmp_path, form):
    """Two rows with one household_id (or null ids: they count as duplicates) refuse the whole
    file with the number of duplicates; the store is left as before."""
    pop = generate_population(1_000, seed=4).drop("enfants_dates_naissance")
    ids = pop["household_id"]
    if form == "parquet-null":
        ids = ids.scatter([3, 9], None)
    else:
        ids = ids.scatter([3, 9, 10], [ids[0], ids[1], ids[1]])
    pop = pop.with_columns(ids.alias("household_id"))
    if form == "parquet-string-ids":
        pop = pop.with_columns(pl.col("household_id").cast(pl.String))
    path = tmp_path / ("pop.csv" if form == "csv" else "pop.parquet")
    pop.write_csv(path) if form == "csv" else pop.write_parquet(path)
    con = open_store(tmp_path / "s.duckdb", create=True)
    n = 2 if form == "parquet-null" else 3
    with pytest.raises(Exception, match=rf"pop\.(csv|parquet): household_id: {n} duplicate "
                                        r"household_id value\(s\)$"):
        add_population(con, path, "p")
    assert con.execute("SELECT count(*) FROM populations").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM information_schema.tables "
                       "WHERE table_name = 'households'").fetchone() == (0,)  # rolled back
    con.close()

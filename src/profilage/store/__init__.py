"""The embedded store: one DuckDB file with populations, monthly runs, a score archive, retention.

Tables (``profilage.duckdb`` by default):

- ``populations`` (name, hash = sha256 of the imported file, households, source, added_at);
- ``households``: the population rows (flat dossier columns), ``population``, ``row_no``;
- ``runs`` (run_id, month, population, model_id, model_sha256, population_hash, package_version,
  started_at, finished_at, status ``complete`` or ``replaced``, households, determined);
- ``scores``: the archive (run_id, population, household_id, month, model_id, score, score_low,
  score_high, logit_low, logit_high);
- ``relationships`` (population, household_id, ended_on): end of the household's relationship
  with the CAF; ``holds`` (population, household_id, reason, placed_at): litigation holds;
  ``retention_log``: what each ``retention apply`` removed.

A monthly run is one transaction: the run's row and all its scores are committed together or not
at all (an exception, Ctrl-C or SIGKILL leaves the store as before). Scoring a month again for the
same population and model is refused unless ``replace=True``; the replacement happens in the same
single transaction (the old run is marked ``replaced`` and its scores deleted).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from profilage.errors import ProfilageError

DEFAULT_STORE = "profilage.duckdb"
RETENTION_YEARS = 6  # seed 002: the score is archived 6 years after the relationship ends
SCHEMA_VERSION = "1"
CHUNK = 500_000  # households scored per step of a run (memory bound, not a commit boundary)
_SCORE_COLS = ("score", "score_low", "score_high", "logit_low", "logit_high")


class StoreError(ProfilageError):
    """The store file is missing, corrupt, locked, or the request contradicts its content."""


_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS populations (name TEXT PRIMARY KEY, hash TEXT NOT NULL,
    households BIGINT NOT NULL, source TEXT, added_at TIMESTAMP NOT NULL);
CREATE TABLE IF NOT EXISTS runs (run_id BIGINT PRIMARY KEY, month DATE NOT NULL,
    population TEXT NOT NULL, model_id TEXT NOT NULL, model_sha256 TEXT NOT NULL,
    population_hash TEXT NOT NULL, package_version TEXT NOT NULL, started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP, status TEXT NOT NULL, households BIGINT, determined BIGINT);
CREATE TABLE IF NOT EXISTS scores (run_id BIGINT NOT NULL, population TEXT NOT NULL,
    household_id BIGINT NOT NULL, month DATE NOT NULL, model_id TEXT NOT NULL, score DOUBLE,
    score_low DOUBLE, score_high DOUBLE, logit_low DOUBLE, logit_high DOUBLE);
CREATE TABLE IF NOT EXISTS relationships (population TEXT NOT NULL, household_id BIGINT NOT NULL,
    ended_on DATE NOT NULL, PRIMARY KEY (population, household_id));
CREATE TABLE IF NOT EXISTS holds (population TEXT NOT NULL, household_id BIGINT NOT NULL,
    reason TEXT, placed_at TIMESTAMP NOT NULL, PRIMARY KEY (population, household_id));
CREATE TABLE IF NOT EXISTS retention_log (applied_at TIMESTAMP NOT NULL, as_of DATE NOT NULL,
    households BIGINT NOT NULL, scores_deleted BIGINT NOT NULL, held_households BIGINT NOT NULL);
"""


def _package_version() -> str:
    from profilage import __version__

    return __version__


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


def _exec(con: duckdb.DuckDBPyConnection, query: str, args: list | None = None) -> list:
    """Run a statement and consume its result (DuckDB 2.x refuses new work until then)."""
    return con.execute(query, args or []).fetchall()


def _one(con: duckdb.DuckDBPyConnection, query: str, args: list | None = None) -> tuple | None:
    rows = _exec(con, query, args)
    return rows[0] if rows else None


def _frame(con: duckdb.DuckDBPyConnection, query: str, args: list | None = None) -> pl.DataFrame:
    """A query's result as a Polars frame (via Arrow, without a copy through Python rows)."""
    rel = con.sql(query, params=args or None)
    fetch = getattr(rel, "to_arrow_table", None) or rel.arrow  # DuckDB 2.x / 1.x
    return pl.from_arrow(fetch())


def open_store(path: str | Path = DEFAULT_STORE, *, create: bool = False
               ) -> duckdb.DuckDBPyConnection:
    """Open (or with ``create``, create) a store; a clear StoreError for anything else."""
    p = Path(path)
    if not p.exists():
        if not create:
            raise StoreError("store not found (add a population first: profilage store "
                             "add-population FILE --store PATH)", source=str(p))
    elif p.is_dir():
        raise StoreError("is a directory, not a store file", source=str(p))
    else:
        with p.open("rb") as f:
            head = f.read(16)
        if len(head) < 12 or head[8:12] != b"DUCK":
            raise StoreError("not a DuckDB store (corrupt, or another kind of file)", source=str(p))
    new = not p.exists()
    try:
        con = duckdb.connect(str(p))
    except duckdb.Error as e:
        raise StoreError(f"cannot open store: {_first_line(e)}", source=str(p)) from None
    if new and p.exists():
        p.chmod(0o600)  # personal data: the owner only
    try:
        tables = {r[0] for r in _exec(con,
            "SELECT table_name FROM information_schema.tables")}
        if tables and "meta" not in tables:
            con.close()
            raise StoreError("a DuckDB database, but not a profilage store (no meta table)",
                             source=str(p))
        if not tables:
            _exec(con, _DDL)
            _exec(con, "INSERT INTO meta VALUES ('schema_version', ?), ('created_with', ?)",
                        [SCHEMA_VERSION, f"profilage {_package_version()}"])
        else:
            version = _one(con, "SELECT value FROM meta WHERE key = 'schema_version'")
            if not version or version[0] != SCHEMA_VERSION:
                con.close()
                raise StoreError(f"store schema version {version and version[0]!r} is not "
                                 f"{SCHEMA_VERSION!r}", source=str(p))
    except duckdb.Error as e:
        raise StoreError(f"corrupt store: {_first_line(e)}", source=str(p)) from None
    return con


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _households_schema() -> dict[str, pl.DataType]:
    from profilage.population import POPULATION_SCHEMA

    return {"household_id": pl.Int64, **{k: v for k, v in POPULATION_SCHEMA.items()
                                         if k != "household_id"}}


def _duck_type(dtype: pl.DataType) -> str:
    base = {pl.Int8: "TINYINT", pl.Int16: "SMALLINT", pl.Int32: "INTEGER", pl.Int64: "BIGINT",
            pl.Float32: "FLOAT", pl.Float64: "DOUBLE", pl.Boolean: "BOOLEAN", pl.String: "VARCHAR",
            pl.Date: "DATE"}
    if isinstance(dtype, pl.List):
        return _duck_type(dtype.inner) + "[]"
    return base.get(dtype.base_type(), "VARCHAR")


def add_population(con: duckdb.DuckDBPyConnection, file: str | Path, name: str | None = None, *,
                   on_progress: Callable[[float], None] | None = None) -> dict[str, Any]:
    """Import a population file (Parquet or CSV of flat dossier rows with ``household_id``).

    Columns the store knows are cast to their type; missing ones become NULL (unknown). An
    optional ``fin_relation`` date column fills ``relationships``. One transaction.
    ``on_progress(fraction)`` is called (from another thread) while DuckDB reads the file.
    """
    from profilage.tableio import scan_population

    f = Path(file)
    lf = scan_population(f)  # checks the file and household_id
    file_schema = lf.collect_schema()
    names = file_schema.names()
    name = name or f.stem
    if _one(con, "SELECT 1 FROM populations WHERE name = ?", [name]):
        raise StoreError(f"population {name!r} is already in the store", field="--name")
    schema = _households_schema()
    select = []
    for col, dtype in schema.items():
        src = f'"{col}"' if col in names else "NULL"
        select.append(f'CAST({src} AS {_duck_type(dtype)}) AS "{col}"')
    # Beside DuckDB's import, in threads: the file's hash, and (integer ids in Parquet: the
    # cast to BIGINT keeps them distinct) Polars counting duplicate ids, about twice as fast as
    # DuckDB's count(DISTINCT) over the imported rows, which stays for the other cases.
    jobs: list[tuple] = [(file_sha256, f)]
    if f.suffix.lower() != ".csv" and file_schema["household_id"].is_integer():
        jobs.append((_duplicate_ids, lf))
    with _background(*jobs) as results, literal_path(f) as src, \
            _query_progress(con, on_progress):
        return _import_rows(con, f, src, name, names, select, schema, results)


def _duplicate_ids(lf: pl.LazyFrame) -> int:
    """Rows minus distinct non-null ``household_id`` values (= DuckDB's count(*) -
    count(DISTINCT household_id)): a null id counts as a duplicate too."""
    n, distinct = lf.select(pl.len(), pl.col("household_id").drop_nulls().n_unique()).collect().row(0)
    return n - distinct


@contextlib.contextmanager
def _background(*jobs: tuple):
    """Run each ``(fn, *args)`` in a thread while the block runs; yields a list of functions
    returning their results (numpy, Polars, hashlib and DuckDB release the GIL)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        yield [pool.submit(fn, *args).result for fn, *args in jobs]


@contextlib.contextmanager
def _query_progress(con: duckdb.DuckDBPyConnection,
                    on_progress: Callable[[float], None] | None, every: float = 0.25):
    """Report DuckDB's progress on the running query (a fraction) every ``every`` seconds."""
    import threading

    if on_progress is None:
        yield
        return
    _exec(con, "SET enable_progress_bar = true")  # needed for query_progress(); never printed:
    _exec(con, "SET enable_progress_bar_print = false")
    done = threading.Event()

    def poll() -> None:
        while not done.wait(every):
            p = con.query_progress()
            if p >= 0:
                on_progress(min(p / 100.0, 1.0))

    t = threading.Thread(target=poll, daemon=True)
    t.start()
    try:
        yield
    finally:
        done.set()
        t.join()


def literal_path(f: Path):
    """DuckDB reads a file name as a glob pattern (``a*.parquet``, ``pop[1].parquet``): a name
    with pattern characters is read through a symbolic link with a plain name, so the file
    imported is exactly the one named (and hashed)."""
    import tempfile

    @contextlib.contextmanager
    def cm():
        if not set(str(f)) & set("*?[]{}"):
            yield str(f)
            return
        with tempfile.TemporaryDirectory(prefix="profilage-") as d:
            link = Path(d) / ("population" + f.suffix.lower())
            link.symlink_to(f.resolve())
            yield str(link)

    return cm()


_ROW = "__profilage_row_no"  # the row's position in the file (a name no population uses)


def _import_rows(con, f: Path, src: str, name: str, names: list[str], select: list[str],
                 schema: dict, results: list[Callable[[], Any]]) -> dict:
    csv = f.suffix.lower() == ".csv"
    # Row numbers: Parquet gives each row's position as it streams (file_row_number, parallel);
    # a window over the whole file (CSV, or a file with its own column of that name) first
    # gathers every row in memory.
    if csv or "file_row_number" in names:
        reader = "read_csv" if csv else "read_parquet"
        rows = f"SELECT row_number() OVER () - 1 AS {_ROW}, * FROM {reader}(?)"
    else:
        rows = f"SELECT file_row_number AS {_ROW}, * FROM read_parquet(?, file_row_number = true)"
    _exec(con, "BEGIN TRANSACTION")
    try:
        cols_ddl = ", ".join(f'"{c}" {_duck_type(t)}' for c, t in schema.items())
        _exec(con, f"CREATE TABLE IF NOT EXISTS households (population TEXT NOT NULL, "
                    f"row_no BIGINT NOT NULL, {cols_ddl})")
        n = _one(con, f"INSERT INTO households SELECT ?, {_ROW}, {', '.join(select)} "
                       f"FROM ({rows})", [name, src])[0]
        if len(results) > 1:
            dup = results[1]()
        else:
            dup = _one(con, "SELECT count(*) - count(DISTINCT household_id) FROM households "
                            "WHERE population = ?", [name])[0]
        if dup:
            raise StoreError(f"{dup} duplicate household_id value(s)", field="household_id",
                             source=str(f))
        if "fin_relation" in names:
            reader = "read_csv" if csv else "read_parquet"
            _exec(con, f"INSERT INTO relationships SELECT ?, CAST(household_id AS BIGINT), "
                        f"CAST(fin_relation AS DATE) FROM {reader}(?) WHERE fin_relation IS NOT NULL",
                        [name, src])
        sha = results[0]()
        _exec(con, "INSERT INTO populations VALUES (?, ?, ?, ?, now())",
                    [name, sha, n, str(f.resolve())])
        _exec(con, "COMMIT")
    except BaseException as e:
        _exec(con, "ROLLBACK")
        if isinstance(e, duckdb.Error):
            raise StoreError(f"cannot import: {_first_line(e)}", source=str(f)) from None
        raise
    return {"population": name, "households": n, "hash": sha}


def parse_month(month: str) -> dt.date:
    try:
        d = dt.datetime.strptime(month, "%Y-%m").date()
    except ValueError:
        raise ProfilageError(f"month must be YYYY-MM, got {month!r}", field="--month") from None
    from profilage.dates import check_month

    return check_month(d, "--month")


def _population(con: duckdb.DuckDBPyConnection, name: str | None) -> tuple[str, str, int]:
    rows = _exec(con, "SELECT name, hash, households FROM populations ORDER BY name")
    if not rows:
        raise StoreError("no population in the store (profilage store add-population FILE)")
    if name is None:
        if len(rows) > 1:
            raise StoreError("several populations in the store: choose one with --population "
                             f"({', '.join(r[0] for r in rows)})", field="--population")
        return rows[0]
    for r in rows:
        if r[0] == name:
            return r
    raise StoreError(f"no population {name!r} (have: {', '.join(r[0] for r in rows)})",
                     field="--population")


def run_month(con: duckdb.DuckDBPyConnection, month: str, model: str, *,
              population: str | None = None, replace: bool = False, chunk: int = CHUNK,
              on_chunk: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Score every household of a population for ``month`` into the archive, atomically.

    Features are derived with the reference month set to ``month`` (ages, months since events
    follow the calendar). Households whose relationship ended before the month are not scored.
    Scores come from the fast path (:mod:`profilage.fastpath`: the engine's scores to 1e-12).
    ``on_chunk(done, total)`` is called after each chunk is inserted.
    """
    from profilage.models import load_model

    ref = parse_month(month)
    m = load_model(model)
    pop, pop_hash, n = _population(con, population)
    prev = _one(con, "SELECT run_id FROM runs WHERE month = ? AND population = ? AND model_id = ? "
                       "AND status = 'complete'", [ref, pop, m.id])
    if prev and not replace:
        raise StoreError(f"{ref:%Y-%m} is already scored for {pop} with {m.id} (run {prev[0]}); "
                         "use --replace to score it again", field="--month")
    rows = ("FROM households h WHERE population = ? AND row_no >= ? AND row_no < ? "
            "AND NOT EXISTS (SELECT 1 FROM relationships r WHERE r.population = "
            "h.population AND r.household_id = h.household_id AND r.ended_on < ?)")
    args = lambda start: [pop, start, start + chunk, ref]  # noqa: E731 - one chunk's rows
    # the columns the model's features read (Polars' projection on an empty chunk)
    cols = _projected_columns(con, _dossier_columns(con), rows, args(0), ref, m)
    select = f"SELECT {', '.join(map(_quote, cols))} {rows}"
    started = dt.datetime.now()
    scored_n = determined = 0
    # The next chunk is read by a second connection (the households are not changed by the
    # run) while this one is scored and inserted: DuckDB's read overlaps Polars' work.
    reader = con.cursor()
    _exec(con, "BEGIN TRANSACTION")
    try:
        from concurrent.futures import ThreadPoolExecutor

        run_id = _one(con, "SELECT coalesce(max(run_id), 0) + 1 FROM runs")[0]
        if prev:
            _exec(con, "DELETE FROM scores WHERE run_id = ?", [prev[0]])
            _exec(con, "UPDATE runs SET status = 'replaced' WHERE run_id = ?", [prev[0]])
        with ThreadPoolExecutor(max_workers=1) as pool:
            ahead = pool.submit(_frame, reader, select, args(0))
            for start in range(0, max(n, 1), chunk):
                chunk_df = ahead.result()
                if start + chunk < n:
                    ahead = pool.submit(_frame, reader, select, args(start + chunk))
                scored = score_rows(chunk_df, ref, m)
                del chunk_df
                if scored.height:
                    scored_n += scored.height
                    determined += scored.select(
                        (pl.col("logit_low") == pl.col("logit_high")).sum()).item()
                    con.register("_chunk", scored.to_arrow())
                    _exec(con, "INSERT INTO scores SELECT ?, ?, household_id, ?, ?, "
                                + ", ".join(_SCORE_COLS) + " FROM _chunk",
                                [run_id, pop, ref, m.id])
                    con.unregister("_chunk")
                if on_chunk:
                    on_chunk(min(start + chunk, n), n)
        _exec(con, "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, now(), 'complete', ?, ?)",
                    [run_id, ref, pop, m.id, m.sha256, pop_hash, _package_version(), started,
                     scored_n, determined])
        _exec(con, "COMMIT")
    except BaseException:
        _exec(con, "ROLLBACK")
        raise
    finally:
        reader.close()
    return {"run_id": run_id, "month": f"{ref:%Y-%m}", "population": pop, "model": m.id,
            "model_sha256": m.sha256, "population_hash": pop_hash, "households": scored_n,
            "determined": determined, "replaced_run": prev[0] if prev else None}


def _quote(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _projected_columns(con: duckdb.DuckDBPyConnection, cols: list[str], rows: str, args: list,
                       ref: dt.date, model: Any) -> list[str]:
    """The columns of ``SELECT cols {rows}`` that scoring reads: the scoring query runs on an
    empty chunk from a Polars IO source, whose callback receives the columns Polars' projection
    pushdown kept (a model uses some of the dossier's fields). All of them if none is named."""
    from polars.io.plugins import register_io_source

    empty = _frame(con, f"SELECT {', '.join(map(_quote, cols))} {rows} LIMIT 0", args)
    seen: list[str] = []

    def source(with_columns, predicate, n_rows, batch_size):  # noqa: ANN001 (polars' hook)
        seen.extend(with_columns or cols)
        yield empty.select(with_columns or cols)

    score_rows(register_io_source(source, schema=empty.schema), ref, model)
    return [c for c in cols if c in seen] or cols


def _dossier_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The households columns the features read (``household_id`` and the dossier's fields):
    group-only columns (``departement``...) are not fetched."""
    from profilage.features import DOSSIER_COLUMNS

    have = [r[0] for r in _exec(con, "SELECT column_name FROM information_schema.columns "
                                     "WHERE table_name = 'households' ORDER BY ordinal_position")]
    return [c for c in have if c == "household_id"
            or (c in DOSSIER_COLUMNS and c != "reference_month")]


def score_rows(rows: pl.DataFrame | pl.LazyFrame, ref: dt.date, model: Any) -> pl.DataFrame:
    """``household_id`` and the score columns of flat dossier rows for the month ``ref``, by
    the fast path (features derived and matched into modality codes in one Polars query, then
    gathered): the Polars engine's values to 1e-12, ``score`` null where the engine's is."""
    from profilage.fastpath import CodedPopulation
    from profilage.features import derive_features

    lf = rows.lazy().with_columns(reference_month=pl.lit(ref, dtype=pl.Date))
    coded = CodedPopulation.from_lazy(derive_features(lf, keep=["household_id"]), model,
                                      ["household_id"])
    return coded.features.select("household_id").hstack(
        coded.score_frame(model).select(*_SCORE_COLS))


def history(con: duckdb.DuckDBPyConnection, household_id: int, population: str | None = None
            ) -> pl.DataFrame:
    """A household's archived scores over time (every population unless one is named)."""
    q = ("SELECT s.population, s.month, s.model_id, s.score, s.score_low, s.score_high, "
         "s.logit_low, s.logit_high, s.run_id, r.model_sha256 FROM scores s "
         "JOIN runs r USING (run_id) WHERE s.household_id = ?")
    args: list[Any] = [household_id]
    if population:
        q += " AND s.population = ?"
        args.append(population)
    return _frame(con, q + " ORDER BY s.month, s.model_id, s.population", args)


def set_relationship_end(con, household_id: int, ended_on: dt.date,
                         population: str | None = None) -> None:
    pop = _population(con, population)[0]
    _check_household(con, pop, household_id)
    _exec(con, "INSERT OR REPLACE INTO relationships VALUES (?, ?, ?)", [pop, household_id, ended_on])


def _check_household(con, pop: str, household_id: int) -> None:
    if not _one(con, "SELECT 1 FROM households WHERE population = ? AND household_id = ?",
                       [pop, household_id]):
        raise StoreError(f"no household {household_id} in population {pop}", field="HOUSEHOLD_ID")


def set_hold(con, household_id: int, reason: str = "", population: str | None = None,
             release: bool = False) -> bool:
    """Place (or release) a litigation hold; returns whether a hold is now in place."""
    pop = _population(con, population)[0]
    _check_household(con, pop, household_id)
    if release:
        _exec(con, "DELETE FROM holds WHERE population = ? AND household_id = ?", [pop, household_id])
        return False
    _exec(con, "INSERT OR REPLACE INTO holds VALUES (?, ?, ?, now())", [pop, household_id, reason])
    return True


def apply_retention(con: duckdb.DuckDBPyConnection, as_of: dt.date | None = None, *,
                    dry_run: bool = False) -> dict[str, Any]:
    """Delete every personal row of the households whose relationship ended more than 6 years
    before ``as_of`` (default today), except households under a litigation hold: their scores,
    their dossier row in ``households`` and their ``relationships`` row. One transaction.
    :func:`compact_store` then removes the deleted rows' bytes from the file."""
    as_of = as_of or dt.date.today()
    expired = f"""
        SELECT r.population, r.household_id, r.ended_on,
               (h.household_id IS NOT NULL) AS held
        FROM relationships r LEFT JOIN holds h USING (population, household_id)
        WHERE r.ended_on + INTERVAL {RETENTION_YEARS} YEAR < ?"""
    _exec(con, "BEGIN TRANSACTION")
    try:
        cand = _frame(con, f"""
            SELECT e.population, e.household_id, e.ended_on, e.held, count(s.household_id) AS scores
            FROM ({expired}) e LEFT JOIN scores s USING (population, household_id)
            GROUP BY ALL ORDER BY e.population, e.household_id""", [as_of])
        has_rows = _has_table(con, "households")
        # every expired household not under a hold: its relationship row at least is personal
        removed = cand.filter(~pl.col("held"))
        held = cand.filter(pl.col("held") & (pl.col("scores") > 0))
        n_del = int(removed["scores"].sum()) if removed.height else 0
        if not dry_run:
            # every personal row keyed by the household: scores, its dossier row, the date its
            # relationship ended (holds are kept only under a hold, so none is expired)
            gone = f"SELECT population, household_id FROM ({expired}) WHERE NOT held"
            _exec(con, f"DELETE FROM scores WHERE (population, household_id) IN ({gone})",
                  [as_of])
            if has_rows:
                _exec(con, f"DELETE FROM households WHERE (population, household_id) IN ({gone})",
                      [as_of])
            _exec(con, f"DELETE FROM relationships WHERE (population, household_id) IN ({gone})",
                  [as_of])
            _exec(con, "INSERT INTO retention_log VALUES (now(), ?, ?, ?, ?)",
                        [as_of, removed.height, n_del, held.height])
        _exec(con, "COMMIT" if not dry_run else "ROLLBACK")
    except BaseException:
        _exec(con, "ROLLBACK")
        raise
    return {"as_of": as_of.isoformat(), "retention_years": RETENTION_YEARS, "dry_run": dry_run,
            "households": removed.height, "scores_deleted": n_del,
            "removed": [{"population": r["population"], "household_id": r["household_id"],
                         "ended_on": r["ended_on"].isoformat(), "scores": r["scores"]}
                        for r in removed.iter_rows(named=True)],
            "kept_under_hold": [{"population": r["population"], "household_id": r["household_id"],
                                 "ended_on": r["ended_on"].isoformat(), "scores": r["scores"]}
                                for r in held.iter_rows(named=True)]}


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(_one(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                     [name])[0])


def compact_store(path: str | Path) -> None:
    """Rewrite the store into a new file and replace the old one: DuckDB leaves the bytes of
    deleted rows in free blocks of the file until they are reused; the copy holds only the live
    rows. The new file is readable by its owner only."""
    import os

    p = Path(path)
    tmp = p.with_name(p.name + ".compact")
    tmp.unlink(missing_ok=True)
    q = lambda x: str(x).replace("'", "''")  # noqa: E731 - a SQL string literal
    con = duckdb.connect(":memory:")
    try:
        _exec(con, f"ATTACH '{q(p)}' AS src (READ_ONLY)")
        _exec(con, f"ATTACH '{q(tmp)}' AS dst")
        _exec(con, "COPY FROM DATABASE src TO dst")
        _exec(con, "DETACH dst")
        _exec(con, "DETACH src")
    except duckdb.Error as e:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"cannot compact the store: {_first_line(e)}", source=str(p)) from None
    finally:
        con.close()
    tmp.chmod(0o600)
    os.replace(tmp, p)
    p.with_name(p.name + ".wal").unlink(missing_ok=True)


def store_info(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    pops = _frame(con, "SELECT name, households, hash, source, added_at FROM populations "
                       "ORDER BY name")
    runs = _frame(con, "SELECT run_id, month, population, model_id, model_sha256, status, "
                       "households, determined, started_at, finished_at, package_version "
                       "FROM runs ORDER BY run_id")
    n_scores = _one(con, "SELECT count(*) FROM scores")[0]
    return {"populations": pops.to_dicts(), "runs": runs.to_dicts(), "scores": n_scores,
            "holds": _one(con, "SELECT count(*) FROM holds")[0],
            "relationships_ended": _one(con, "SELECT count(*) FROM relationships")[0]}

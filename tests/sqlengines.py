"""Test helpers: a throw-away PostgreSQL server on loopback, a local Spark, result comparison."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import polars as pl
import pytest

from profilage.engine import compile_model


def postgres_bindir() -> Path | None:
    """Directory of Debian's PostgreSQL server binaries (initdb, pg_ctl), newest version first."""
    cands = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
                   reverse=True)
    found = shutil.which("initdb")
    if found:
        cands.insert(0, found)
    for c in cands:
        p = Path(c).resolve().parent
        if (p / "pg_ctl").exists():
            return p
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_postgres():
    """Start a PostgreSQL cluster in a temp dir on 127.0.0.1; yields a psycopg conninfo.

    PostgreSQL refuses to run as root: as root, the cluster belongs to the ``postgres`` system
    user created by Debian's package and every server command runs through ``runuser``.
    """
    bindir = postgres_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not found (scripts/install-system-deps.sh "
                    "installs Debian's postgresql)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg not installed (pip install -e '.[test]')")
    d = Path(tempfile.mkdtemp(prefix="profilage-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and no 'postgres' user to run PostgreSQL as")
        os.chown(d, pw.pw_uid, pw.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, port = d / "data", _free_port()

    def run(args: list[str]) -> None:
        r = subprocess.run(prefix + args, capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            log = (d / "log").read_text() if (d / "log").exists() else ""
            raise RuntimeError(f"{args[0]} failed: {r.stderr.strip()} {log[-2000:]}")

    run([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "profilage", "-E", "UTF8",
         "--no-sync"])
    run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(d / "log"), "-w", "-t", "60", "-o",
         f"-p {port} -k {d} -c listen_addresses=127.0.0.1 -c fsync=off", "start"])
    try:
        yield f"host=127.0.0.1 port={port} user=profilage dbname=postgres"
    finally:
        subprocess.run(prefix + [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                                 "stop"], capture_output=True, timeout=60)
        shutil.rmtree(d, ignore_errors=True)


def start_spark():
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Java not found: the Spark test needs a JDK 17+ (apt install openjdk-17-jre)")
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        pytest.skip("pyspark not installed (pip install -e '.[spark]')")
    spark = (SparkSession.builder.master("local[1]").appName("profilage-test")
             .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
             .config("spark.driver.bindAddress", "127.0.0.1")
             .config("spark.sql.shuffle.partitions", "1")
             # huge CASE chains: compiling them to Java costs more than interpreting 4,000 rows
             .config("spark.sql.codegen.wholeStage", "false").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    try:
        yield spark
    finally:
        spark.stop()


def engine_result(model, features: pl.DataFrame) -> pl.DataFrame:
    return (compile_model(model).score(features, contributions=True, keep=False).collect()
            .sort("household_id"))


def assert_same(sql_res: pl.DataFrame, engine_res: pl.DataFrame, tol: float = 1e-12) -> int:
    """Every column of the engine's result equals the SQL result: floats to ``tol`` (relative
    beyond 1; infinities
    and nulls in the same places), modality indexes and flags exactly. Returns columns checked."""
    sql_res = sql_res.sort("household_id")
    assert sql_res.height == engine_res.height
    assert sql_res["household_id"].to_list() == engine_res["household_id"].to_list()
    checked = 0
    for name in engine_res.columns:
        if name == "household_id":
            continue
        assert name in sql_res.columns, f"SQL result lacks {name}"
        a, b = sql_res[name], engine_res[name]
        if b.dtype.is_float():
            a = a.cast(pl.Float64)
            assert (a.is_null() == b.is_null()).all(), f"{name}: nulls differ"
            inf_a, inf_b = a.is_infinite().fill_null(False), b.is_infinite().fill_null(False)
            assert (inf_a == inf_b).all(), f"{name}: infinities differ"
            assert (a.filter(inf_a) == b.filter(inf_b)).all(), f"{name}: infinities' signs differ"
            fin = ~inf_a & a.is_not_null()
            # absolute on probabilities and usual log-odds; relative beyond 1 (x**2 on large x
            # differs in the last bit between libm's pow and Polars')
            diff = ((a.filter(fin) - b.filter(fin)).abs()
                    / b.filter(fin).abs().clip(lower_bound=1.0)).max()
            assert diff is None or diff <= tol, f"{name}: max difference {diff}"
        else:
            assert a.cast(b.dtype).to_list() == b.to_list(), f"{name}: values differ"
        checked += 1
    return checked

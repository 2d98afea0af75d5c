"""A national month in the store, and a second run killed mid-way: `python bench/store_national.py`.

Generates N households (default 13.8 M), imports them into a fresh store, scores 2024-03, starts
2024-04 and SIGKILLs it after a few chunks, checks the store is exactly as before (row counts,
a checksum of every score row, runs), then redoes 2024-04. Prints timings as JSON.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from pathlib import Path


def state(store: Path) -> dict:
    import duckdb

    con = duckdb.connect(str(store), read_only=True)
    try:
        q = lambda s: con.execute(s).fetchall()  # noqa: E731
        return {"runs": q("SELECT run_id, month, status, households FROM runs ORDER BY run_id"),
                # integer sums of row hashes: exact, unlike a parallel floating-point sum
                "scores": q("SELECT count(*), sum(hash(run_id, household_id, month, score, "
                            "score_low, score_high, logit_low, logit_high)) FROM scores")[0],
                "households": q("SELECT count(*) FROM households")[0][0]}
    finally:
        con.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--households", type=int, default=13_800_000)
    ap.add_argument("--dir", default="/tmp/profilage-national")
    ap.add_argument("--kill-after-chunks", type=int, default=5)
    a = ap.parse_args()
    d = Path(a.dir)
    d.mkdir(parents=True, exist_ok=True)
    pop, store = d / "pop.parquet", d / "national.duckdb"
    for p in (store, Path(str(store) + ".wal")):
        p.unlink(missing_ok=True)
    cli = [sys.executable, "-m", "profilage"]
    out: dict = {"households": a.households}

    def timed(key: str, args: list[str]) -> None:
        t = time.perf_counter()
        subprocess.run(cli + args, check=True, capture_output=True, text=True)
        out[key] = round(time.perf_counter() - t, 1)
        print(key, out[key], file=sys.stderr, flush=True)

    if not pop.exists():
        timed("generate_s", ["population", "generate", "--households", str(a.households),
                             "--seed", "1", "--out", str(pop)])
    timed("import_s", ["store", "add-population", str(pop), "--name", "nationale", "--store",
                       str(store)])
    timed("run_2024_03_s", ["run", "--month", "2024-03", "--store", str(store)])
    before = state(store)
    proc = subprocess.Popen(cli + ["run", "--month", "2024-04", "--store", str(store)],
                            stderr=subprocess.PIPE, text=True)
    chunks = 0
    for line in proc.stderr:
        if line.startswith("lot / chunk"):
            chunks += 1
            if chunks == a.kill_after_chunks:
                proc.send_signal(signal.SIGKILL)
                break
    proc.wait()
    out["killed_after_households"] = chunks * 500_000
    out["store_as_before_after_kill"] = state(store) == before
    timed("run_2024_04_redo_s", ["run", "--month", "2024-04", "--store", str(store)])
    after = state(store)
    out["scores_after"] = after["scores"][0]
    out["store_mb"] = round(store.stat().st_size / 1e6)
    print(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()

"""Every national-scale figure of issue 14 in one run, for an idle machine.

    PYTHONPATH=src python bench/national_idle.py [--households 13800000] [--dir DIR] [--json]

Runs, one after the other, each as its own process, with ``uptime``'s load average before and
after each step (a figure taken while the machine was busy says so):

1. ``bench/store_national.py``: generating the population (``profilage population generate``,
   seed 1, kept in DIR), ``store add-population`` and ``run --month`` against their DuckDB
   floors, and a run killed mid-way;
2. the audit of that population as a whole ``profilage audit`` process (``--by famille_type
   --json``), single and ``--ensemble``, against reading the file: inside a process
   (``python -m profilage.bench read``) and as a whole ``python -c 'pl.read_parquet(...)'``
   process; best of ``--repeat`` interleaved runs;
3. ``bench/load_api.py --serve``: 8 closed-loop clients x 250 requests, then 500 requests per
   second for 60 s.

Prints one JSON object (``--json``) or a readable summary. Not a test: record the figures in
bench/RESULTS.md with the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def log(*a) -> None:
    print(*a, file=sys.stderr, flush=True)


def run_json(cmd: list[str], *, ok_codes=(0,)) -> dict:
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if r.returncode not in ok_codes:
        raise SystemExit(f"{' '.join(cmd[:4])}... failed ({r.returncode}): "
                         + (r.stderr.strip().splitlines() or ["?"])[-1])
    text = r.stdout.strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return json.loads(text.splitlines()[-1])


def wall(cmd: list[str]) -> float:
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    s = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])}... failed: "
                         + (r.stderr.strip().splitlines() or ["?"])[-1])
    return s


def step(out: dict, name: str, fn) -> None:
    before = load()
    log(f"== {name} (load {before})")
    res = fn()
    out[name] = {**res, "load_before": before, "load_after": load()} if isinstance(res, dict) \
        else {"value": res, "load_before": before, "load_after": load()}
    log(json.dumps(out[name]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=13_800_000)
    ap.add_argument("--dir", default="/tmp/profilage-national")
    ap.add_argument("--model", default="cnaf-2014")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--skip", nargs="*", default=[], choices=["store", "audit", "api"])
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    py = sys.executable
    d = Path(a.dir)
    d.mkdir(parents=True, exist_ok=True)
    pop = d / f"pop-{a.households}.parquet"
    out: dict = {"households": a.households, "machine": f"{platform.machine()}, "
                 f"{os.cpu_count()} CPUs, Python {platform.python_version()}",
                 "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                 "load_start": load()}

    if "store" not in a.skip:
        step(out, "store", lambda: run_json([py, "bench/store_national.py", "--households",
                                             str(a.households), "--dir", str(d), "--json"]))
    if not pop.exists():
        subprocess.run([py, "-m", "profilage", "population", "generate", "--households",
                        str(a.households), "--seed", "1", "--out", str(pop)], check=True,
                       capture_output=True, cwd=ROOT)

    if "audit" not in a.skip:
        def audit() -> dict:
            res: dict = {}
            with tempfile.TemporaryDirectory() as tmp:
                base = [py, "-m", "profilage", "audit", "--model", a.model, "--population",
                        str(pop), "--by", "famille_type", "--json"]
                whole_read = [py, "-c", "import sys, polars as pl; pl.read_parquet(sys.argv[1])",
                              str(pop)]
                for _ in range(a.repeat):
                    rd = run_json([py, "-m", "profilage.bench", "read", str(pop), a.model])
                    res["read_in_process_s"] = min(res.get("read_in_process_s", 1e9),
                                                   rd["seconds"])
                    res["population_mb"] = rd.get("memory_mb")
                    res["read_process_s"] = min(res.get("read_process_s", 1e9), wall(whole_read))
                    res["audit_s"] = min(res.get("audit_s", 1e9),
                                         wall(base + ["--out", f"{tmp}/a"]))
                    res["audit_ensemble_s"] = min(res.get("audit_ensemble_s", 1e9),
                                                  wall(base + ["--ensemble", "--out", f"{tmp}/e"]))
            res = {k: round(v, 3) if isinstance(v, float) else v for k, v in res.items()}
            res["audit_vs_read_in_process"] = round(res["audit_s"] / res["read_in_process_s"], 2)
            res["audit_vs_read_process"] = round(res["audit_s"] / res["read_process_s"], 2)
            res["ensemble_vs_audit"] = round(res["audit_ensemble_s"] / res["audit_s"], 2)
            return res
        step(out, "audit", audit)

    if "api" not in a.skip:
        step(out, "api_closed_8x250", lambda: run_json(
            [py, "bench/load_api.py", "--serve", "--clients", "8", "--requests", "250",
             "--json"], ok_codes=(0, 1)))
        step(out, "api_open_500x60", lambda: run_json(
            [py, "bench/load_api.py", "--serve", "--rate", "500", "--duration", "60", "--json"],
            ok_codes=(0, 1)))
    out["load_end"] = load()
    if a.json:
        print(json.dumps(out, indent=1, default=str))
        return
    print(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()

"""Benchmark: generate the national population (13.8 M households) to Parquet.

    PYTHONPATH=src python bench/bench_population.py [--households 13800000] [--seed 0]

Measures wall time, CPU time and peak resident memory (RSS) of the same path as
``profilage population generate`` (chunks drawn by two threads ahead of a streamed Parquet write,
atomic rename). Target (issue 4): at most 60 s and 8 GB on a 2-core machine. Not a test: run
it by hand and record the figures in bench/RESULTS.md with the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=13_800_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None, help="keep the file here")
    ap.add_argument("--report", action="store_true", help="also time population report")
    args = ap.parse_args()

    from profilage.population import iter_population
    from profilage.tableio import write_parquet_atomic

    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp) / "population.parquet"
        cpu0, t0 = time.process_time(), time.perf_counter()
        rows = write_parquet_atomic(iter_population(args.households, args.seed, workers=2), out)
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        size = out.stat().st_size
        result = {
            "households": rows, "seconds": round(wall, 1), "cpu_seconds": round(cpu, 1),
            "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2),
            "parquet_mb": round(size / 1e6), "cpus": os.cpu_count(),
            "load_average_1m": round(os.getloadavg()[0], 1),
            "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
            "python": platform.python_version(),
        }
        if args.report:
            from profilage.population.report import population_report

            t1 = time.perf_counter()
            rep = population_report(out)
            result["report_seconds"] = round(time.perf_counter() - t1, 1)
            result["report_ok"] = rep["ok"]
            result["peak_rss_gb"] = round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

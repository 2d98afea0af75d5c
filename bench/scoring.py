"""National-scale scoring benchmark: `python bench/scoring.py --households 13800000`.

Runs `profilage.bench.run_bench` (engine vs scikit-learn vs DuckDB SQL vs numpy floor on the
same synthetic households, each in its own process) and prints the JSON record and a Markdown
row for bench/RESULTS.md with the machine's description.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys


def machine() -> str:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")),
                       cpu)
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) / 1024 / 1024:.0f} GB RAM"
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{cpu}, {os.cpu_count()} CPUs, {mem}, load average {load:.1f} at the start"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--households", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", default=None, help="where the temporary feature file goes")
    ap.add_argument("--features", default=None, help="feature file to keep and reuse")
    ap.add_argument("--population", default=None, help="population file to keep and reuse "
                    "(the full-path figures: read vs the whole audit process)")
    a = ap.parse_args()
    from profilage.bench import run_bench

    m = machine()
    r = run_bench(a.households, seed=a.seed, workdir=a.workdir, features=a.features,
                  population=a.population, log=lambda s: print(s, file=sys.stderr, flush=True))
    r["machine"] = m
    print(json.dumps(r, indent=1))
    print(f"| {r['households']:,} | {r['engine_s']:.2f} | {r['sklearn_s']:.2f} "
          f"(+{r['sklearn_encode_s']:.2f} encoding) | {r['duckdb_s']:.2f} | {r['numpy_s']:.2f} | "
          f"{r['peak_rss_mb']:.0f} | {m} |")
    print(f"| {r['households']:,} | fast path {r['fast_s']:.3f} (+{r['fast_encode_s']:.2f} codes) | "
          f"floor {r['floor_s']:.3f} | scikit-learn {r['sklearn_s']:.3f} | "
          f"{r['fast_vs_sklearn']:.2f}x | read {r['read_s']:.2f} | audit {r['audit_s']:.2f} "
          f"({r['audit_vs_read']:.2f}x) | audit --ensemble {r.get('audit_ensemble_s', float('nan')):.2f} "
          f"({r.get('audit_ensemble_vs_audit', float('nan')):.2f}x) |")


if __name__ == "__main__":
    main()

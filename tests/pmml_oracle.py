"""Score PMML files with an independent evaluator (JPMML-Evaluator, the `jpmml_evaluator` package
of the test extra, which ships its jars; it needs Java, installed by scripts/install-system-deps.sh).

Run as a script in its own process (the JVM stays out of the test process):
    python tests/pmml_oracle.py JOBS.json
where JOBS.json lists {"pmml", "input" (Parquet), "output" (Parquet), "field"}: the input table
is evaluated row by row and the output gets one column `p`, the probability output `field`
(null where the evaluator gives no score)."""

from __future__ import annotations

import json
import shutil
import sys


def available() -> str | None:
    """None when the oracle can run, else the reason it cannot."""
    try:
        import jpmml_evaluator  # noqa: F401
    except ImportError:
        return "jpmml_evaluator is not installed (pip install -e '.[test]')"
    if shutil.which("java") is None:
        return "no Java runtime (scripts/install-system-deps.sh installs it)"
    return None


def main(path: str) -> None:
    import numpy as np
    import pandas as pd
    from jpmml_evaluator import make_evaluator

    for job in json.loads(open(path, encoding="utf-8").read()):
        ev = make_evaluator(job["pmml"], backend="jpype").verify()
        df = pd.read_parquet(job["input"])
        res = ev.evaluateAll(df)
        p = pd.to_numeric(res[job["field"]], errors="coerce").astype(float)
        pd.DataFrame({"p": np.asarray(p)}).to_parquet(job["output"])


if __name__ == "__main__":
    main(sys.argv[1])

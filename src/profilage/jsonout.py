"""JSON shared by every face (CLI ``--json``, API, pages, static site, report): strict values
(infinities become null) and the one-line summary of a model. Lives below ``cli/`` and ``web/``."""

from __future__ import annotations

import json
import math
from typing import Any


def finite(o: Any) -> Any:
    """Infinities and NaN become None, tuples become lists, recursively."""
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, dict):
        return {k: finite(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [finite(v) for v in o]
    return o


def dumps(obj: Any, *, indent: int | None = None) -> str:
    """Strict JSON text: what ``--json`` prints (indented) and the API sends (compact)."""
    seps = None if indent else (",", ":")
    return json.dumps(finite(obj), ensure_ascii=False, default=str, allow_nan=False,
                      indent=indent, separators=seps)


def model_summary(m) -> dict:
    """A model in one object: id, titles, institution, years, hash, coefficient statuses."""
    status = m.coefficients_status()
    return {"id": m.id, "title": m.title, "title_en": m.title_en, "institution": m.institution,
            "years_in_use": list(m.years_in_use), "sha256": m.sha256,
            "coefficients_status": status, "provenance": m.provenance_line(),
            "official": not (status["reconstructed"] or status["unknown"]),
            "ensemble_size": ensemble_size(m)}


def ensemble_size(m) -> int | None:
    """Members of the model's ensemble of reconstructions (None: no ensemble): the pages offer
    the ranges only where there is one."""
    from profilage.audit.ensemble import resolve_ensemble
    from profilage.errors import ProfilageError

    try:
        return resolve_ensemble(m).size
    except ProfilageError:
        return None

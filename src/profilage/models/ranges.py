"""Coefficient ranges for a model whose numbers are unknown (e.g. ``cnaf-dmde-2026-m1``).

A ranges table gives, for unknown coefficients, the interval a user is ready to assume::

    criterion,modality,min,max
    intercept,,-3,-1
    activite_allocataire,chomage,0,1
    montant_moyen_rsa,,0,0.002          # numeric predictor: per euro
    variable_non_publiee_1,,-0.5,0.5     # a redacted variable: its whole contribution

The result is a new model file (status still ``unknown``, the range's source on each number):
scoring it gives score bounds instead of [0, 1]. Ranges on known numbers are refused.
"""

from __future__ import annotations

import copy
import csv
from pathlib import Path

from profilage.models.build import INTERCEPT_NAMES, ImportError_
from profilage.models.schema import Model


def _num(text: str, where: str, src: str) -> float:
    try:
        return float(text.replace(",", "."))
    except ValueError:
        raise ImportError_(f"{text!r} is not a number", field=where, source=src) from None


def apply_ranges(model: Model, path: str | Path, *, model_id: str | None = None,
                 source: str | None = None) -> dict:
    """The model's document with the table's ranges on its unknown coefficients."""
    path = Path(path)
    src = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ImportError_("file not found", source=src) from None
    delim = ";" if text.splitlines()[0].count(";") > text.splitlines()[0].count(",") else ","
    rows = list(csv.DictReader(text.splitlines(), delimiter=delim))
    doc = copy.deepcopy(model.raw)
    doc["id"] = model_id or f"{model.id}-fourchettes"
    label = source or f"fourchette donnée par l'utilisateur ({path.name})"
    crits = {c.get("id"): c for c in doc.get("criteria", [])}
    for i, row in enumerate(rows, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        where = f"line {i}"
        cid, mid = row.get("criterion", ""), row.get("modality", "")
        lo_t = row.get("min") or row.get("coefficient_min") or ""
        hi_t = row.get("max") or row.get("coefficient_max") or ""
        if not lo_t or not hi_t:
            raise ImportError_("give both min and max", field=where, source=src)
        lo, hi = _num(lo_t, where, src), _num(hi_t, where, src)
        if lo > hi:
            raise ImportError_(f"min {lo:g} is above max {hi:g}", field=where, source=src)
        if cid.lower() in INTERCEPT_NAMES:
            target, key = doc.setdefault("intercept", {}), "value"
        elif cid not in crits:
            raise ImportError_(f"no criterion {cid!r} in {model.id}", field=where, source=src)
        else:
            c = crits[cid]
            if c.get("redacted"):
                c["contribution_min"], c["contribution_max"] = lo, hi
                c["source"] = f"{c.get('source', '')} ; contribution supposée : {label}"
                continue
            if "modalities" not in c:
                target, key = c, "coefficient"
            else:
                target = next((m for m in c["modalities"] if m.get("id") == mid), None)
                if target is None:
                    ids = ", ".join(str(m.get("id")) for m in c["modalities"])
                    raise ImportError_(f"criterion {cid!r} has no modality {mid!r} (modalities: "
                                       f"{ids})", field=where, source=src)
                key = "coefficient"
        if target.get("status") not in ("unknown", "redacted"):
            raise ImportError_(f"{cid} {mid}".strip() + f" is {target.get('status')}: ranges "
                               "apply only to unknown coefficients", field=where, source=src)
        target[f"{key}_min"], target[f"{key}_max"] = lo, hi
        target["source"] = f"{target.get('source', '')} ; fourchette : {label}"
    doc["notes"] = (doc.get("notes", "") + f" Fourchettes de coefficients appliquées depuis "
                    f"{path.name} ({label}) : les bornes de score en découlent, pas un score "
                    "officiel.").strip()
    return doc

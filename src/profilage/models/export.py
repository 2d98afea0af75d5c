"""A model as plain JSON data: what ``models show --json``, ``models export --format json`` and
the browser simulator read.

The dictionary is strict JSON (no infinities: an unbounded side is ``null``) and self-contained:
besides criteria, modalities and coefficients with their provenance, it carries the metadata of
every input feature the model reads (kind, labels, categories, lowest value), so a client can
build a form and match modalities without importing Python.

Format (``format_version`` 1)::

    {"format": "profilage-model", "format_version": 1,
     "id", "institution", "title", "title_en", "years_in_use": [first, last|null], "target",
     "notes", "sha256", "facts": [...], "provenance": "one line",
     "coefficients_status": {"published": n, "reconstructed": n, "redacted": n, "unknown": n},
     "intercept": {"value"|null, "status", "source", "low"|null, "high"|null},
     "criteria": [{"id", "label_fr", "label_en", "feature", "kind": categorical|bins|numeric,
                   "presence": feature|null, "protected_ground": ground|null,
                   "protected_ground_fr", "precarity", "exponent"|null, "value_range"|null, "notes",
                   "modalities": [{"id", "label" (= label_fr), "label_fr", "label_en",
                                   "kind": category|bin|absent|numeric,
                                   "value" (category) | "min", "max" (bin, null = unbounded),
                                   "coefficient"|null, "status", "source",
                                   "coefficient_min"|null, "coefficient_max"|null}]}],
     "redacted": [{"id", "label_fr", "label_en", "status": "redacted", "source",
                   "contribution_min"|null, "contribution_max"|null}],
     "protected_grounds": [{"ground", "label_fr", "criteria": [ids]}],
     "features": {name: {"kind", "label_fr", "label_en", "description", "categories", "min"}}}

How a client scores a household (same rules as ``profilage.engine``): a bin matches
``min <= x < max``; a criterion with ``presence`` takes its ``absent`` modality when the presence
feature is false; an unknown input contributes [lowest, highest] coefficient of its modalities;
an unknown coefficient contributes [coefficient_min, coefficient_max] (null = unbounded); a
redacted criterion with a contribution range adds it to the intercept's bounds.
"""

from __future__ import annotations

import math
from typing import Any

from profilage.models.schema import GROUND_LABELS_FR, Coefficient, Criterion, Model

FORMAT_VERSION = 1


def _f(x: float | None) -> float | None:
    """JSON-safe number: infinities become null (an unbounded side)."""
    if x is None or not math.isfinite(x):
        return None
    return float(x)


def coefficient_to_json(c: Coefficient) -> dict[str, Any]:
    return {"value": c.value, "status": c.status, "source": c.source,
            "low": _f(c.low), "high": _f(c.high)}


def criterion_to_json(c: Criterion) -> dict[str, Any]:
    """One criterion with its modalities (coefficients flattened into each modality)."""
    mods = []
    for mod in c.modalities:
        entry: dict[str, Any] = {"id": mod.id, "label": mod.label_fr, "label_fr": mod.label_fr,
                                 "label_en": mod.label_en, "kind": mod.kind}
        if mod.kind == "category":
            entry["value"] = mod.value
        elif mod.kind == "bin":
            entry["min"], entry["max"] = _f(mod.min), _f(mod.max)
        coef = mod.coefficient
        entry.update({"coefficient": coef.value, "status": coef.status, "source": coef.source,
                      "coefficient_min": _f(coef.low), "coefficient_max": _f(coef.high)})
        mods.append(entry)
    return {
        "id": c.id, "label_fr": c.label_fr, "label_en": c.label_en, "feature": c.feature,
        "kind": c.kind, "presence": c.presence, "protected_ground": c.protected_ground,
        "protected_ground_fr": GROUND_LABELS_FR.get(c.protected_ground or "", None),
        "precarity": c.precarity,
        "exponent": c.exponent if c.kind == "numeric" else None,
        "value_range": list(c.value_range) if c.value_range else None,
        "notes": c.notes, "modalities": mods,
    }


def feature_metadata(model: Model) -> dict[str, dict[str, Any]]:
    """Kind, labels, categories and lowest value of every feature the model reads."""
    from profilage.features import FEATURES

    declared = model.raw.get("features", {}) if isinstance(model.raw, dict) else {}
    out: dict[str, dict[str, Any]] = {}
    for name in model.features:
        spec = declared.get(name) or FEATURES.get(name) or {}
        out[name] = {
            "kind": spec.get("kind"),
            "label_fr": spec.get("label_fr", name), "label_en": spec.get("label_en", name),
            "description": spec.get("description", ""),
            "categories": list(spec.get("categories", ())),
            "min": spec.get("min"),
            "declared_in_model": name in declared,
        }
    return out


def protected_grounds(model: Model) -> list[dict[str, Any]]:
    """Each protected ground the model touches, with the criteria that touch it."""
    grounds: dict[str, list[str]] = {}
    for c in (*model.criteria, *model.redacted):
        if c.protected_ground:
            grounds.setdefault(c.protected_ground, []).append(c.id)
    return [{"ground": g, "label_fr": GROUND_LABELS_FR.get(g, g), "criteria": ids}
            for g, ids in grounds.items()]


def model_to_json_dict(model: Model) -> dict[str, Any]:
    """The whole model as strict-JSON data (see the module docstring for the format)."""
    return {
        "format": "profilage-model", "format_version": FORMAT_VERSION,
        "id": model.id, "institution": model.institution, "title": model.title,
        "title_en": model.title_en, "years_in_use": list(model.years_in_use),
        "target": model.target, "notes": model.notes, "sha256": model.sha256,
        "facts": list(model.facts), "provenance": model.provenance_line(),
        "coefficients_status": model.coefficients_status(),
        "intercept": coefficient_to_json(model.intercept),
        "criteria": [criterion_to_json(c) for c in model.criteria],
        "redacted": [{"id": c.id, "label_fr": c.label_fr, "label_en": c.label_en,
                      "status": "redacted", "source": c.source,
                      "protected_ground": c.protected_ground, "notes": c.notes,
                      "contribution_min": c.contribution[0] if c.contribution else None,
                      "contribution_max": c.contribution[1] if c.contribution else None}
                     for c in model.redacted],
        "protected_grounds": protected_grounds(model),
        "features": feature_metadata(model),
    }

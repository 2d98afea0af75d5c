"""Score and explain one household or a table: the public Python API behind the CLI and the web.

>>> from profilage import load_model, score_dossier, load_persona
>>> result = score_dossier(load_persona("nathalie"), "cnaf-2014")
>>> round(result["score"], 2)
0.24
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from profilage.dossier import Dossier, dossiers_frame, parse_dossier
from profilage.engine import bounded_mean, compile_model, contrib_cols, sigmoid
from profilage.features import derive_features
from profilage.models import Model, load_model


def _model_info(model: Model) -> dict[str, Any]:
    return {"id": model.id, "title": model.title, "institution": model.institution,
            "sha256": model.sha256, "coefficients_status": model.coefficients_status(),
            "provenance": model.provenance_line()}


class _Plan:
    """What ``_result`` needs of a model that does not depend on the dossier, computed once
    per model (the one-dossier path is a few tens of microseconds: this part counted)."""

    def __init__(self, m: Model) -> None:
        self.info = _model_info(m)
        self.redacted = [{"criterion": c.id, "label_fr": c.label_fr, "label_en": c.label_en,
                          "source": c.source} for c in m.redacted]
        self.criteria = []
        for c in m.criteria:
            low_col, high_col, m_col = contrib_cols(c.id)
            statuses = {x.coefficient.status for x in c.modalities}
            unknown_status = statuses.pop() if len(statuses) == 1 else "mixed"
            mods = tuple((x.id, x.label_fr, x.label_en, x.coefficient.status)
                         for x in c.modalities)
            self.criteria.append((c, low_col, high_col, m_col, unknown_status, mods))


_PLANS: dict[tuple[str, str, int], _Plan] = {}


def _plan(m: Model) -> _Plan:
    key = (m.id, m.sha256, 0 if m.sha256 else id(m))
    p = _PLANS.get(key)
    if p is None or not m.sha256:
        p = _Plan(m)
        if m.sha256:
            _PLANS[key] = p
    return p


def _as_dossier(dossier: Dossier | dict | str | Path) -> Dossier:
    if isinstance(dossier, Dossier):
        return dossier
    if isinstance(dossier, dict):
        return parse_dossier(dossier)
    from profilage.personas import resolve_dossier

    return resolve_dossier(dossier)


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


#: Below this many dossiers, ``score_dossiers_json`` scores one by one in plain Python
#: (:mod:`profilage.scalar`, ~0.05 ms a dossier); from it on, in one vectorised Polars pass
#: (~10 ms fixed, then a few microseconds a dossier). Measured crossover: bench/RESULTS.md.
SCALAR_MAX = 300

ENGINES = ("auto", "scalar", "polars")


def score_dossier(dossier: Dossier | dict | str | Path, model: Model | str = "cnaf-2014", *,
                  ensemble: bool = False, engine: str = "auto") -> dict[str, Any]:
    """Score one household; returns the ``score --json`` object.

    Invariants: ``logit_low = intercept + sum(low)``, same for high; ``score_low =
    sigmoid(logit_low)``; ``score`` is sigmoid(logit) when ``determined``, else the continuous
    mean of the sigmoid between the bounds (Le Monde's method).

    ``ensemble``: add ``"ensemble": {"size", "score_min", "score_median", "score_max"}``, the
    household's score across the model's ensemble of reconstructions (an error naming
    ``--ensemble`` if the model has none).

    ``engine``: ``"scalar"`` (plain Python, :mod:`profilage.scalar`), ``"polars"`` (the
    vectorised reference, :func:`profilage.features.derive_features` and the compiled model)
    or ``"auto"`` (the scalar one for small batches); both give the same object (tested to
    1e-12).
    """
    return score_dossiers_json([dossier], model, ensemble=ensemble, engine=engine)[0]


def score_dossiers_json(dossiers: list[Dossier | dict | str | Path], model: Model | str = "cnaf-2014",
                        *, ensemble: bool = False, engine: str = "auto") -> list[dict[str, Any]]:
    """Score several households; one ``score --json`` object each.

    Fewer than :data:`SCALAR_MAX` dossiers are scored one by one in plain Python (about 0.05 ms
    each); more in one vectorised Polars pass, whose cost is mostly fixed (about 10 ms). An
    ensemble is scored through the Polars features. ``engine`` forces one path (see
    :func:`score_dossier`).
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    ds = [_as_dossier(d) for d in dossiers]
    m = load_model(model)
    ens = None
    if ensemble:
        from profilage.audit.ensemble import resolve_ensemble

        ens = resolve_ensemble(m)
    scalar = engine == "scalar" or (engine == "auto" and ens is None and len(ds) < SCALAR_MAX)
    feats = None
    if scalar:
        from profilage.scalar import dossier_features, scalar_model

        sm = scalar_model(m)
        rows = [sm.row(dossier_features(d)) for d in ds]
    else:
        feats = derive_features(dossiers_frame(ds)).collect()
        rows = compile_model(m).score(feats, contributions=True).collect().to_dicts()
    plan = _plan(m)
    out = [_result(d, m, row, plan) for d, row in zip(ds, rows)]
    if ens is not None:
        from profilage.audit.ensemble import dossier_members, score_range

        if feats is None:
            feats = derive_features(dossiers_frame(ds)).collect()
        scores, _ = dossier_members(feats, ens)
        mat = np.vstack(scores) if scores else np.zeros((0, len(out)))
        for i, res in enumerate(out):
            res["ensemble"] = {**score_range(mat[:, i]), "model": ens.model}
    return out


def _month_text(d) -> str:
    """``d.strftime("%Y-%m")`` (the f-string is several times faster; strftime kept for years
    it would not pad the same way)."""
    return f"{d.year}-{d.month:02d}" if 1000 <= d.year <= 9999 else d.strftime("%Y-%m")


def _result(d: Dossier, m: Model, row: dict, plan: _Plan) -> dict[str, Any]:
    contributions = []
    isfinite = math.isfinite
    for c, low_col, high_col, m_col, unknown_status, mods in plan.criteria:
        if c.kind == "numeric":
            value = row.get(c.feature)
            known_input = value is not None
            status = mods[0][3]
            modality = None if not known_input else f"{value}"
            label_fr = label_en = modality
        else:
            idx = row.get(m_col)
            if idx is None:
                modality = label_fr = label_en = None
                status = unknown_status
            else:
                modality, label_fr, label_en, status = mods[idx]
            known_input = idx is not None
        contributions.append({
            "criterion": c.id, "label_fr": c.label_fr, "label_en": c.label_en,
            "feature": c.feature, "modality": modality, "modality_label_fr": label_fr,
            "modality_label_en": label_en, "input_known": known_input,
            "low": lo if isfinite(lo := row[low_col]) else None,
            "high": hi if isfinite(hi := row[high_col]) else None, "status": status,
            "protected_ground": c.protected_ground, "precarity": c.precarity,
        })
    inter = m.intercept
    info = plan.info
    return {
        "dossier": d.nom,
        "reference_month": _month_text(d.reference_month),
        "score": row["score"],
        "score_low": row["score_low"],
        "score_high": row["score_high"],
        "logit_low": _finite(row["logit_low"]),
        "logit_high": _finite(row["logit_high"]),
        "intercept": inter.value,
        "intercept_status": inter.status,
        "determined": bool(row["determined"]),
        "model": {**info, "coefficients_status": dict(info["coefficients_status"])},
        "contributions": contributions,
        "redacted": [dict(r) for r in plan.redacted],
    }


def _mid(c: dict) -> float:
    lo = c["low"] if c["low"] is not None else -math.inf
    hi = c["high"] if c["high"] is not None else math.inf
    if math.isinf(lo) or math.isinf(hi):
        return 0.0
    return (lo + hi) / 2


def explain_dossier(dossier: Dossier | dict | str | Path, model: Model | str = "cnaf-2014",
                    *, top: int = 3, ensemble: bool = False, engine: str = "auto"
                    ) -> dict[str, Any]:
    """Score plus a waterfall (log-odds and probability) and the changes that move it most.

    The waterfall starts at the intercept and adds criteria by decreasing absolute effect; an
    unknown criterion enters at the middle of its interval. ``changes`` lists, for each
    criterion, the other modalities and the score the household would get with that one
    (all else equal), sorted by the size of the move. ``engine``: see :func:`score_dossier`.
    """
    m = load_model(model)
    res = score_dossier(dossier, m, ensemble=ensemble, engine=engine)
    if ensemble:
        from profilage.audit.ensemble import effect_directions, resolve_ensemble

        feats = derive_features(dossiers_frame([_as_dossier(dossier)])).collect()
        res["ensemble"]["directions"] = effect_directions(feats, resolve_ensemble(m))
    logit = m.intercept.value if m.intercept.value is not None else 0.0
    steps = []
    ordered = sorted(res["contributions"], key=lambda c: -abs(_mid(c)))
    for c in ordered:
        before = logit
        logit += _mid(c)
        steps.append({
            "criterion": c["criterion"], "label_fr": c["label_fr"], "label_en": c["label_en"],
            "modality_label_fr": c["modality_label_fr"] or "inconnu",
            "modality_label_en": c["modality_label_en"] or "unknown",
            "logit": _mid(c), "low": c["low"], "high": c["high"],
            "input_known": c["input_known"], "status": c["status"],
            "protected_ground": c["protected_ground"],
            "probability_before": sigmoid(before), "probability_after": sigmoid(logit),
            "probability": sigmoid(logit) - sigmoid(before),
        })
    changes = []
    lo0 = res["logit_low"] if res["logit_low"] is not None else -math.inf
    hi0 = res["logit_high"] if res["logit_high"] is not None else math.inf
    for c in m.criteria:
        if c.kind == "numeric":
            continue
        cur = next(x for x in res["contributions"] if x["criterion"] == c.id)
        cl = cur["low"] if cur["low"] is not None else -math.inf
        ch = cur["high"] if cur["high"] is not None else math.inf
        for mod in c.modalities:
            if mod.id == cur["modality"] or not mod.coefficient.known:
                continue
            v = mod.coefficient.value
            new = bounded_mean(lo0 - cl + v, hi0 - ch + v)
            if new is None or res["score"] is None:
                continue
            changes.append({
                "criterion": c.id, "label_fr": c.label_fr, "label_en": c.label_en,
                "from_fr": cur["modality_label_fr"] or "inconnu",
                "from_en": cur["modality_label_en"] or "unknown",
                "to": mod.id, "to_fr": mod.label_fr, "to_en": mod.label_en,
                "score": new, "delta": new - res["score"],
                "protected_ground": c.protected_ground,
            })
    lower = sorted((x for x in changes if x["delta"] < 0), key=lambda x: x["delta"])[:top]
    higher = sorted((x for x in changes if x["delta"] > 0), key=lambda x: -x["delta"])[:top]
    return {**res, "waterfall": steps, "would_lower": lower, "would_raise": higher}


def score_frame(features: pl.DataFrame | pl.LazyFrame, model: Model | str = "cnaf-2014", *,
                contributions: bool = False) -> pl.DataFrame:
    """Score a frame whose columns are the model's input features (missing ones: unknown)."""
    return compile_model(model).score(features, contributions=contributions).collect()


def score_dossiers_frame(dossiers: pl.DataFrame | pl.LazyFrame, model: Model | str = "cnaf-2014",
                         *, keep: list[str] | None = None, contributions: bool = False
                         ) -> pl.DataFrame:
    """Derive features from flat dossier rows (e.g. a population) and score them."""
    feats = derive_features(dossiers, keep=keep or ["household_id"]).collect()
    return compile_model(model).score(feats, contributions=contributions).collect()


def score_dossiers(dossiers: list[Dossier], model: Model | str = "cnaf-2014") -> pl.DataFrame:
    """Score several dossiers at once (vectorised)."""
    return score_dossiers_frame(dossiers_frame(dossiers), model)

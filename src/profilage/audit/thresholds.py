"""Threshold effects: every numeric model input swept across the model's bin edges.

A scorecard's score is a step function of each numeric input: it jumps exactly at the edges of
the criterion's bins (60 for the partner's age, 942 euros for income per unit...). For a persona
we score it just below and at each edge, all else equal, and list every jump
("quand l'âge du conjoint atteint 60, le score passe de 0.240 à 0.288"). With a population we
also give the jump in *selection probability*: the whole population set just below, then at the
edge (impossible rows removed), selected against the month's fixed cut-off score.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from profilage.audit.rules import valid_expr
from profilage.engine import compile_model
from profilage.features import FEATURES
from profilage.models import Model, load_model


def numeric_edges(model: Model) -> dict[str, list[float]]:
    """Numeric input -> sorted bin edges of the criteria that read it."""
    out: dict[str, set] = {}
    for c in model.criteria:
        if c.kind != "bins" or c.feature is None:
            continue
        for mod in c.modalities:
            if mod.kind == "bin" and mod.min is not None:
                out.setdefault(c.feature, set()).add(float(mod.min))
    return {f: sorted(v) for f, v in out.items()}


def _below(feature: str, edge: float) -> float:
    return edge - 1 if FEATURES.get(feature, {}).get("kind") == "int" else edge - 0.01


def _num(feature: str, v: float):
    return int(v) if FEATURES.get(feature, {}).get("kind") == "int" else v


def _fmt(feature: str, v: float) -> str:
    if feature == "taux_effort":
        return f"{100 * v:g} %"
    return f"{v:g}"


def persona_thresholds(persona: str | dict, model: Model | str = "cnaf-2014", *,
                       features: list[str] | None = None, cutoff: float | None = None
                       ) -> list[dict[str, Any]]:
    """Every jump of a persona's score across the bin edges of each numeric input."""
    from profilage.features import derive_features
    from profilage.scoring import _as_dossier

    m = load_model(model)
    base = derive_features(_as_dossier(persona).to_frame()).collect()
    edges = numeric_edges(m)
    rows, keys = [], []
    for f, es in edges.items():
        if features and f not in features:
            continue
        for e in es:
            for side, v in (("below", _below(f, e)), ("at", e)):
                rows.append(base.with_columns(pl.lit(_num(f, v)).cast(base.schema[f]).alias(f)))
                keys.append((f, e, side, v))
    if not rows:
        return []
    frame = pl.concat(rows)
    # sweeping a partner's age presumes a partner
    ok = frame.with_columns(
        a_conjoint=pl.Series([True if k[0] == "age_conjoint" else None for k in keys],
                             dtype=pl.Boolean).fill_null(frame["a_conjoint"]))
    ok = ok.with_columns(_valid=valid_expr(ok.columns))
    scored = compile_model(m).score(ok).collect()
    score = scored["score"].to_list()
    valid = scored["_valid"].to_list()
    out = []
    for i in range(0, len(keys), 2):
        f, e, _, vb = keys[i]
        if not (valid[i] and valid[i + 1]):
            continue
        s0, s1 = score[i], score[i + 1]
        if s0 is None or s1 is None or abs(s1 - s0) < 1e-12:
            continue
        label = FEATURES[f]["label_fr"]
        item = {"feature": f, "label_fr": label, "label_en": FEATURES[f]["label_en"], "edge": e,
                "below": vb, "score_below": s0, "score_at": s1, "delta": s1 - s0,
                "text_fr": f"quand « {label} » atteint {_fmt(f, e)}, le score passe de "
                           f"{s0:.3f} à {s1:.3f}"}
        if cutoff is not None:
            item["selected_below"], item["selected_at"] = s0 >= cutoff, s1 >= cutoff
        out.append(item)
    return out


def population_thresholds(frame: pl.DataFrame, model: Model | str, cutoff: float, *,
                          features: list[str] | None = None) -> list[dict[str, Any]]:
    """Selection rate of the whole population set just below, then at, each edge.

    ``frame`` is a prepared population with features (``prepare(..., features=True)``).
    """
    m = load_model(model)
    cm = compile_model(m)
    feats = [f for f in FEATURES if f in frame.columns]
    base = frame.select(feats)
    out = []
    for f, es in numeric_edges(m).items():
        if features and f not in features:
            continue
        for e in es:
            rates = []
            for v in (_below(f, e), e):
                copy = base.with_columns(pl.lit(_num(f, v)).cast(base.schema[f]).alias(f))
                copy = copy.filter(valid_expr(copy.columns))
                if f == "age_conjoint":
                    copy = copy.filter(pl.col("a_conjoint"))
                s = cm.score(copy, keep=False).collect()
                rates.append(((s["score"] >= cutoff).mean(), s["score"].mean(), s.height))
            (r0, m0, n0), (r1, m1, _) = rates
            if n0 == 0:
                continue
            label = FEATURES[f]["label_fr"]
            out.append({"feature": f, "label_fr": label, "edge": e, "households": n0,
                        "selection_rate_below": r0, "selection_rate_at": r1,
                        "mean_score_below": m0, "mean_score_at": m1,
                        "text_fr": f"si tous les foyers passaient de {_fmt(f, _below(f, e))} à "
                                   f"{_fmt(f, e)} pour « {label} », le taux de contrôle passerait "
                                   f"de {100 * r0:.2f} % à {100 * r1:.2f} %"})
    return out

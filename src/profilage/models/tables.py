"""Coefficient tables in and out: CSV coefficients, odds ratios, scorecard points.

One row per (criterion, modality)::

    criterion,modality,coefficient            # or odds_ratio, or points
    intercept,,-1.2
    situation_familiale,pacse,-0.3
    age_allocataire,"[60, +inf)",-0.2          # bins: [min, max), or min/max columns
    revenu_par_uc,,0.0004                      # empty modality: a numeric predictor

Optional columns: ``feature`` (else ``--map`` or the criterion's own name), ``min``/``max``,
``value``, ``label_fr``/``label_en``, ``protected_ground``, ``kind``, ``presence``, ``exponent``,
and ``status``/``source`` (kept when present: that is how our own CSV export reads back; without
them every number is ``published`` with the ``--source`` you give). Columns may be separated by
``,`` or ``;``; French headers (critere, modalite) are accepted.

- ``odds-ratios``: the number is an odds ratio; coefficient = ln(OR), OR > 0.
- ``points``: a scorecard. With ``factor = pdo / ln 2`` and ``offset = base_points - factor *
  ln(base_odds)``: points = offset + factor * ln(odds). ``--points-odds bad`` (default): points
  grow with the odds of the target (the risk); ``good``: with the odds of the non-event (credit
  scorecards), so coefficient = -points / factor. A row named ``intercept`` holds base points.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

from profilage.errors import ProfilageError
from profilage.models.build import (
    INTERCEPT_NAMES,
    FeatureMap,
    ImportError_,
    base_document,
    category_modalities,
    finish,
    parse_bin,
    parse_bool,
)
from profilage.models.schema import STATUSES, Model

ALIASES = {
    "criterion": ("criterion", "critere", "critère", "variable", "criteria"),
    "modality": ("modality", "modalite", "modalité", "level", "category", "bin"),
    "coefficient": ("coefficient", "coef", "beta", "estimate", "log_odds"),
    "odds_ratio": ("odds_ratio", "odds ratio", "or", "odds-ratio", "rapport_des_cotes"),
    "points": ("points", "score", "partial_score"),
}
NUMBER_COLUMN = {"csv": "coefficient", "odds-ratios": "odds_ratio", "points": "points"}


def _read_rows(path: Path) -> tuple[list[dict[str, str]], str]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ImportError_("file not found", source=str(path)) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ImportError_(f"cannot read as UTF-8 text: {e}", source=str(path)) from None
    first = text.splitlines()[0] if text.strip() else ""
    delim = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delim)
    if not reader.fieldnames:
        raise ImportError_("empty table (a header row is needed)", source=str(path))
    rows = []
    try:
        for r in reader:
            if None in r:  # more fields than the header has columns
                raise ImportError_(f"line {reader.line_num}: {len(reader.fieldnames) + len(r[None])} "
                                   f"fields for {len(reader.fieldnames)} columns in the header "
                                   "(a stray separator or quote?)", source=str(path))
            rows.append({(k or "").strip().lower(): (v or "").strip() for k, v in r.items()})
    except csv.Error as e:
        raise ImportError_(f"line {reader.line_num}: malformed CSV ({e})", source=str(path)) from None
    return rows, delim


def _col(row: dict[str, str], name: str) -> str:
    for alias in ALIASES.get(name, (name,)):
        if alias in row:
            return row[alias]
    return ""


def _has(header: list[str], name: str) -> bool:
    return any(a in header for a in ALIASES.get(name, (name,)))


def _number(text: str, *, where: str, source: str) -> float:
    try:
        v = float(text.replace(",", ".").replace(" ", ""))
    except ValueError:
        raise ImportError_(f"{text!r} is not a number", field=where, source=source) from None
    if not math.isfinite(v):
        raise ImportError_(f"{text!r} is not a finite number", field=where, source=source)
    return v


def import_table(path: str | Path, *, fmt: str, model_id: str, source: str,
                 fmap: FeatureMap, title: str | None = None, institution: str | None = None,
                 target: str | None = None, pdo: float | None = None,
                 base_points: float | None = None, base_odds: float | None = None,
                 points_odds: str = "bad") -> tuple[dict, Model]:
    """Read a coefficient / odds-ratio / points table into a model document (validated)."""
    path = Path(path)
    src = str(path)
    rows, _ = _read_rows(path)
    if not rows:
        raise ImportError_("the table has a header but no rows", source=src)
    header = list(rows[0])
    num_col = NUMBER_COLUMN[fmt]
    for needed in ("criterion", num_col):
        if not _has(header, needed):
            raise ImportError_(f"missing column {needed!r} (columns: {', '.join(header)})",
                               source=src)
    keep_status = "status" in header

    # Points: scaling turns points into log-odds.
    if fmt == "points":
        if pdo is None or base_points is None or base_odds is None:
            raise ProfilageError("a points table needs its scaling: --pdo, --base-points and "
                                 "--base-odds", field="--pdo")
        if pdo <= 0 or base_odds <= 0:
            raise ProfilageError("--pdo and --base-odds must be positive", field="--pdo")
        if points_odds not in ("bad", "good"):
            raise ProfilageError("expected 'bad' or 'good'", field="--points-odds")
        factor = pdo / math.log(2)
        offset = base_points - factor * math.log(base_odds)
        sign = 1.0 if points_odds == "bad" else -1.0

    def to_coef(text: str, where: str) -> float:
        v = _number(text, where=where, source=src)
        if fmt == "odds-ratios":
            if v <= 0:
                raise ImportError_(f"odds ratio {v:g} must be positive", field=where, source=src)
            return math.log(v)
        if fmt == "points":
            return sign * v / factor
        return v

    doc = base_document(model_id, source=source, title=title, institution=institution,
                        target=target, file_name=path.name, fmt=fmt)
    intercept: dict | None = None
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for i, row in enumerate(rows, start=2):  # line numbers as a spreadsheet shows them
        crit = _col(row, "criterion")
        if not crit:
            raise ImportError_("empty criterion", field=f"line {i}", source=src)
        if crit.lower() in INTERCEPT_NAMES:
            text = _col(row, num_col)
            status = row.get("status") if keep_status and row.get("status") else "published"
            if text == "" and status in ("unknown", "redacted"):
                intercept = {"status": status, "source": row.get("source") or source}
            else:
                v = to_coef(text, f"line {i}, intercept")
                intercept = {"value": v, "status": status if keep_status else "published",
                             "source": (row.get("source") or source) if keep_status else source}
            continue
        groups.setdefault(crit, []).append((i, row))

    if fmt == "points":
        base = intercept["value"] if intercept and "value" in intercept else 0.0
        intercept = {"value": base - sign * offset / factor, "status": "published",
                     "source": f"{source} ; constante = (points de base - offset) / facteur, "
                               f"pdo {pdo:g}, {base_points:g} points à la cote {base_odds:g}"}
    if intercept is None:
        raise ImportError_("no intercept row (a row whose criterion is 'intercept' or "
                           "'constante')", source=src)
    doc["intercept"] = intercept

    criteria = []
    for crit, items in groups.items():
        criteria.append(_criterion(crit, items, num_col=num_col, to_coef=to_coef,
                                   keep_status=keep_status, source=source, fmap=fmap, src=src))
    fmap.check(src)
    doc["criteria"] = [c for c in criteria if c is not None]
    if fmap.declared:
        doc["features"] = fmap.declared
    if fmt == "points":
        doc["notes"] += (f" Points convertis en log-odds : facteur {factor:.6g} (pdo {pdo:g}), "
                         f"offset {offset:.6g}, cotes « {points_odds} ».")
    return doc, finish(doc, source=src)


def _row_status(row: dict[str, str], keep_status: bool, source: str, where: str, src: str
                ) -> tuple[str, str]:
    if not keep_status:
        return "published", source
    status = row.get("status") or "published"
    if status not in STATUSES:
        raise ImportError_(f"unknown status {status!r} (expected one of {', '.join(STATUSES)})",
                           field=where, source=src)
    return status, row.get("source") or source


def _coef_entry(row: dict[str, str], *, num_col: str, to_coef, keep_status: bool, source: str,
                where: str, src: str) -> dict[str, Any]:
    status, csource = _row_status(row, keep_status, source, where, src)
    text = _col(row, num_col)
    if status in ("unknown", "redacted"):
        entry: dict[str, Any] = {"status": status, "source": csource}
        for k in ("coefficient_min", "coefficient_max"):
            if row.get(k):
                entry[k] = _number(row[k], where=f"{where}, {k}", source=src)
        return entry
    return {"coefficient": to_coef(text, where), "status": status, "source": csource}


def _criterion(crit: str, items: list[tuple[int, dict[str, str]]], *, num_col: str, to_coef,
               keep_status: bool, source: str, fmap: FeatureMap, src: str) -> dict | None:
    first = items[0][1]
    field_name = first.get("feature") or crit
    kinds = {r.get("kind", "") for _, r in items}
    modality_texts = [_col(r, "modality") for _, r in items]
    numeric = "numeric" in kinds or (len(items) == 1 and modality_texts[0] == ""
                                     and not first.get("value") and not first.get("min")
                                     and not first.get("max"))
    if "redacted" in kinds:
        entry = {"id": crit, "redacted": True, "status": "redacted",
                 "source": first.get("source") or source}
        if first.get("protected_ground"):
            entry["protected_ground"] = first["protected_ground"]
        for k in ("label_fr", "label_en"):
            if first.get(k):
                entry[k] = first[k]
        return entry
    has_bins = any(r.get("min") or r.get("max") for _, r in items) or any(
        t.strip()[:1] in "[(<>≥" for t in modality_texts if t)
    hint = "float" if (numeric or has_bins) else "category"
    feat, spec = fmap.feature(field_name, kind_hint=hint,
                              categories=[r.get("value") or _col(r, "modality") for _, r in items])
    entry: dict[str, Any] = {
        "id": crit, "label_fr": first.get("criterion_label_fr") or crit,
        "label_en": first.get("criterion_label_en") or first.get("criterion_label_fr") or crit,
        "feature": feat}
    for k in ("protected_ground", "precarity", "presence"):
        if first.get(k):
            entry[k] = first[k]
    if spec is None:
        return None
    if numeric:
        i, row = items[0]
        entry["kind"] = "numeric"
        if row.get("exponent"):
            entry["exponent"] = _number(row["exponent"], where=f"line {i}, exponent", source=src)
        entry.update(_coef_entry(row, num_col=num_col, to_coef=to_coef, keep_status=keep_status,
                                 source=source, where=f"line {i}, {crit}", src=src))
        return entry
    mods = []
    given: dict[Any, dict] = {}
    for i, row in items:
        where = f"line {i}, {crit}"
        text = _col(row, "modality")
        coef = _coef_entry(row, num_col=num_col, to_coef=to_coef, keep_status=keep_status,
                           source=source, where=where, src=src)
        labels = {"label_fr": row.get("label_fr") or text, "label_en": row.get("label_en")
                  or row.get("label_fr") or text}
        mid = row.get("modality_id") or text
        if row.get("kind") == "absent":
            mods.append({"id": mid or "absent", **labels, "absent": True, **coef})
        elif spec["kind"] in ("int", "float"):
            if row.get("min") or row.get("max"):
                lo = _number(row["min"], where=f"{where}, min", source=src) if row.get("min") else None
                hi = _number(row["max"], where=f"{where}, max", source=src) if row.get("max") else None
            else:
                lo, hi = parse_bin(text, where=where, source=src)
            b = {}
            if lo is not None:
                b["min"] = lo
            if hi is not None:
                b["max"] = hi
            mods.append({"id": _slug(mid, len(mods)), **labels, **b, **coef})
        else:
            raw = row.get("value") or text
            v: Any = parse_bool(raw, where=where, source=src) if spec["kind"] == "bool" else raw
            if v in given:
                raise ImportError_(f"modality {raw!r} appears twice", field=where, source=src)
            given[v] = {"id": _slug(mid or str(v), len(given)), **labels, **coef}
    if given:
        mods += category_modalities(feat, spec, given, where=crit, source=src)
    entry["modalities"] = mods
    return entry


def _slug(text: str, i: int) -> str:
    import re

    s = re.sub(r"[^0-9A-Za-z_]+", "_", text.strip().lower()).strip("_")
    return s or f"m{i + 1}"


# ---------------------------------------------------------------------------------------------
# Export

CSV_COLUMNS = ["criterion", "criterion_label_fr", "criterion_label_en", "feature", "kind",
               "modality", "modality_id", "value", "min", "max",
               "presence", "exponent", "coefficient", "coefficient_min", "coefficient_max",
               "status", "source", "label_fr", "label_en", "protected_ground", "precarity"]


def _fmt(x: float | None) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return ""
    return repr(float(x))  # shortest text that reads back to the same float


def model_to_csv(model: Model) -> str:
    """Every number of the model, one row per (criterion, modality), with status and source."""
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    w.writeheader()
    ic = model.intercept
    w.writerow({"criterion": "intercept", "kind": "intercept", "coefficient": _fmt(ic.value),
                "coefficient_min": "" if ic.known else _fmt(ic.low),
                "coefficient_max": "" if ic.known else _fmt(ic.high),
                "status": ic.status, "source": ic.source, "label_fr": "constante",
                "label_en": "intercept"})
    for c in model.criteria:
        for m in c.modalities:
            coef = m.coefficient
            row = {"criterion": c.id, "criterion_label_fr": c.label_fr,
                   "criterion_label_en": c.label_en, "feature": c.feature,
                   "kind": "numeric" if c.kind == "numeric" else m.kind,
                   "modality": "" if c.kind == "numeric" else m.label_fr, "modality_id": m.id,
                   "presence": c.presence or "", "coefficient": _fmt(coef.value),
                   "coefficient_min": "" if coef.known else _fmt(coef.low),
                   "coefficient_max": "" if coef.known else _fmt(coef.high),
                   "status": coef.status, "source": coef.source, "label_fr": m.label_fr,
                   "label_en": m.label_en, "protected_ground": c.protected_ground or "",
                   "precarity": c.precarity or ""}
            if c.kind == "numeric":
                row["exponent"] = _fmt(c.exponent)
                row["label_fr"], row["label_en"] = c.label_fr, c.label_en
            if m.kind == "category":
                row["value"] = str(m.value).lower() if isinstance(m.value, bool) else m.value
            elif m.kind == "bin":
                row["min"], row["max"] = _fmt(m.min), _fmt(m.max)
            w.writerow(row)
    for c in model.redacted:
        w.writerow({"criterion": c.id, "kind": "redacted", "status": "redacted",
                    "source": c.source, "label_fr": c.label_fr, "label_en": c.label_en,
                    "protected_ground": c.protected_ground or ""})
    return out.getvalue()

"""What changed between two model versions: criteria, coefficients, protected grounds.

Criteria are matched by id (the shipped versions of one institution's model share ids for the
same criterion). A coefficient "changes" when its value or its status differs; a different
source alone is counted, not listed.
"""

from __future__ import annotations

from typing import Any

from profilage.models.schema import GROUND_LABELS_FR, Coefficient, Criterion, Model


def _coef(c: Coefficient) -> dict[str, Any]:
    return {"value": c.value, "status": c.status}


def _crit_summary(c: Criterion) -> dict[str, Any]:
    return {"id": c.id, "label_fr": c.label_fr, "label_en": c.label_en, "feature": c.feature,
            "protected_ground": c.protected_ground, "redacted": c.redacted}


def _describe(m) -> str:
    if m.kind == "category":
        return repr(m.value)
    return m.describe()


def _grounds(model: Model) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for c in (*model.criteria, *model.redacted):
        if c.protected_ground:
            out.setdefault(c.protected_ground, []).append(c.id)
    return out


def diff_models(a: Model, b: Model) -> dict[str, Any]:
    """A JSON-ready description of the differences from ``a`` to ``b``."""
    ca = {c.id: c for c in a.criteria}
    cb = {c.id: c for c in b.criteria}
    added = [_crit_summary(cb[i]) for i in cb if i not in ca]
    removed = [_crit_summary(ca[i]) for i in ca if i not in cb]
    changed = []
    unchanged = 0
    source_only = 0
    for cid in (i for i in ca if i in cb):
        x, y = ca[cid], cb[cid]
        notes = []
        for attr, label in (("feature", "variable"), ("kind", "type"), ("presence", "présence"),
                            ("protected_ground", "critère protégé"), ("exponent", "exposant")):
            if getattr(x, attr) != getattr(y, attr):
                notes.append(f"{label} : {getattr(x, attr)} → {getattr(y, attr)}")
        mx = {m.id: m for m in x.modalities}
        my = {m.id: m for m in y.modalities}
        for mid in my:
            if mid not in mx:
                notes.append(f"modalité ajoutée : {mid} ({_describe(my[mid])})")
        for mid in mx:
            if mid not in my:
                notes.append(f"modalité retirée : {mid} ({_describe(mx[mid])})")
        coefs = []
        for mid in (i for i in mx if i in my):
            p, q = mx[mid], my[mid]
            if _describe(p) != _describe(q):
                notes.append(f"modalité {mid} : {_describe(p)} → {_describe(q)}")
            if _coef(p.coefficient) != _coef(q.coefficient):
                coefs.append({"modality": mid, "label_fr": q.label_fr, "a": _coef(p.coefficient),
                              "b": _coef(q.coefficient)})
            elif p.coefficient.source != q.coefficient.source:
                source_only += 1
        if notes or coefs:
            changed.append({**_crit_summary(y), "changes": notes, "coefficients": coefs})
        else:
            unchanged += 1
    ra = {c.id for c in a.redacted}
    rb = {c.id for c in b.redacted}
    ga, gb = _grounds(a), _grounds(b)
    return {
        "a": {"id": a.id, "title": a.title, "coefficients_status": a.coefficients_status()},
        "b": {"id": b.id, "title": b.title, "coefficients_status": b.coefficients_status()},
        "intercept": {"a": _coef(a.intercept), "b": _coef(b.intercept),
                      "changed": _coef(a.intercept) != _coef(b.intercept)},
        "criteria_added": added,
        "criteria_removed": removed,
        "criteria_changed": changed,
        "criteria_unchanged": unchanged,
        "coefficients_source_only_changed": source_only,
        "redacted": {"a": len(ra), "b": len(rb), "added": sorted(rb - ra),
                     "removed": sorted(ra - rb)},
        "protected_grounds": {
            "a": sorted(ga), "b": sorted(gb),
            "gained": [{"ground": g, "label_fr": GROUND_LABELS_FR[g], "criteria": gb[g]}
                       for g in sorted(set(gb) - set(ga))],
            "lost": [{"ground": g, "label_fr": GROUND_LABELS_FR[g], "criteria": ga[g]}
                     for g in sorted(set(ga) - set(gb))],
        },
    }


def _v(c: dict) -> str:
    return "?" if c["value"] is None else f"{c['value']:+.4f}"


def render_diff(d: dict[str, Any]) -> list[str]:
    """Rich-markup lines for the terminal, French first."""
    a, b = d["a"]["id"], d["b"]["id"]
    lines = [f"[bold]{a} → {b}[/]"]
    ig = d["protected_grounds"]
    for g in ig["lost"]:
        lines.append(f"[green]− critère protégé perdu / ground lost : {g['label_fr']} "
                     f"({', '.join(g['criteria'])})[/]")
    for g in ig["gained"]:
        lines.append(f"[red]+ critère protégé gagné / ground gained : {g['label_fr']} "
                     f"({', '.join(g['criteria'])})[/]")
    if ig["lost"] and d["redacted"]["b"]:
        lines.append(f"[dim]  (parmi les critères nommés seulement : {d['redacted']['b']} "
                     f"variable(s) de {b} ne sont pas publiées / named criteria only)[/]")
    lines.append(f"Critères : {len(d['criteria_added'])} ajoutés, {len(d['criteria_removed'])} "
                 f"retirés, {len(d['criteria_changed'])} modifiés, {d['criteria_unchanged']} "
                 "inchangés / criteria added, removed, changed, unchanged")
    for c in d["criteria_removed"]:
        g = f" — critère protégé : {GROUND_LABELS_FR[c['protected_ground']]}" \
            if c["protected_ground"] else ""
        lines.append(f"  [red]− {c['id']}[/] — {c['label_fr']} ({c['feature']}){g}")
    for c in d["criteria_added"]:
        g = f" — critère protégé : {GROUND_LABELS_FR[c['protected_ground']]}" \
            if c["protected_ground"] else ""
        lines.append(f"  [green]+ {c['id']}[/] — {c['label_fr']} ({c['feature']}){g}")
    for c in d["criteria_changed"]:
        lines.append(f"  [yellow]~ {c['id']}[/] — {c['label_fr']}")
        for n in c["changes"]:
            lines.append(f"      {n}")
        for k in c["coefficients"]:
            lines.append(f"      {k['modality']} : {_v(k['a'])} ({k['a']['status']}) → "
                         f"{_v(k['b'])} ({k['b']['status']})")
    ic = d["intercept"]
    if ic["changed"]:
        lines.append(f"Constante / intercept : {_v(ic['a'])} ({ic['a']['status']}) → "
                     f"{_v(ic['b'])} ({ic['b']['status']})")
    r = d["redacted"]
    if r["a"] or r["b"]:
        lines.append(f"Variables occultées / redacted : {r['a']} → {r['b']}")
    if d["coefficients_source_only_changed"]:
        lines.append(f"[dim]{d['coefficients_source_only_changed']} coefficient(s) de même "
                     "valeur dont seule la source diffère / same value, other source[/]")
    return lines

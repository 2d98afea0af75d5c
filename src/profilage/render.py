"""The HTML rendering shared by the pages (web/pages.py), the static site (web/site.py) and the
self-contained audit report (report.py): one Jinja environment over web/templates, the common
template context and the number formatting of each language."""

from __future__ import annotations

import math
import re
from functools import lru_cache
from pathlib import Path

from profilage.jsonout import model_summary
from profilage.web.i18n import CHOICES, js_strings, translator

TEMPLATES_DIR = Path(__file__).parent / "web" / "templates"


@lru_cache(maxsize=1)
def environment():
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
                              autoescape=True,
                              trim_blocks=True, lstrip_blocks=True)


def ensemble_size(model_id: str) -> int | None:
    """How many reconstructions the model's ensemble holds (None: the model has none)."""
    from profilage.jsonout import ensemble_size as size
    from profilage.models import load_model

    return size(load_model(model_id))


def model_summaries() -> list[dict]:
    from profilage.models import available_models, load_model

    return [model_summary(load_model(i)) for i in available_models()]


def presets(lang: str = "fr") -> list[dict]:
    from profilage.personas import available_personas, persona_label

    first = ["nathalie", "michel", "abel"]
    names = [n for n in first if n in available_personas()]
    names += [n for n in available_personas() if n not in first]
    return [{"name": n, "nom": persona_label(n, lang)} for n in names]


def base_context(lang: str, *, static: bool = False, root: str = "/", pages: str = "/",
                 other_lang_url: str = "", **extra) -> dict:
    """``root`` prefixes assets (static/), ``pages`` prefixes links between pages."""
    t = translator(lang)
    return {"t": t, "lang": lang, "static": static, "root": root, "pages": pages,
            "num": lambda x, digits=3: num(x, digits, lang),
            "pct": lambda x, digits=1: pct(x, digits, lang),
            "count": lambda n: count(n, lang),
            "q": "?lang=en" if lang == "en" and not static else "",
            "other_lang_url": other_lang_url,
            "choices": {k: list(v) for k, v in CHOICES.items()}, "js_strings": js_strings(lang),
            "compare_page": False, "initial": {}, "ensembles": {}, **extra}


def num(x, digits: int = 3, lang: str = "en") -> str:
    """``0.240`` in English, ``0,240`` in French; ``—`` for a missing value."""
    if x is None:
        return "—"
    s = f"{x:.{digits}f}"
    return s.replace(".", ",").replace("-", "−") if lang == "fr" else s


def pct(x, digits: int = 1, lang: str = "en") -> str:
    """A share as a percentage: ``5.2 %`` / ``5,2 %`` (non-breaking space in French)."""
    if x is None:
        return "—"
    return num(100 * x, digits, lang) + ("\u00a0%" if lang == "fr" else " %")


def count(n, lang: str = "en") -> str:
    """A whole number with thousands separators: ``12 345`` in French, ``12,345`` in English."""
    if n is None:
        return "—"
    s = f"{int(n):,}"
    return s.replace(",", "\u202f") if lang == "fr" else s


_INTERNAL = [
    (re.compile(r"profilage\.reconstruct\.\w+"), ("notre reconstruction", "our reconstruction")),
    (re.compile(r"\s*\(sources\.md §\s*\d+(?:[-–]\d+)?\)"), ("", "")),
    (re.compile(r"sources\.md §\s*\d+(?:[-–]\d+)?"), ("les sources du projet",
                                                        "the project's sources")),
    (re.compile(r"\s*\(seed \d{3}\)"), ("", "")),
    (re.compile(r"\(seed \d{3}, "), ("(", "(")),
    (re.compile(r"seed \d{3},?\s*"), ("", "")),
    (re.compile(r" / unknown\b"), ("", "")),
]


def readable_source(text: str | None, lang: str = "fr") -> str:
    """A coefficient's source as a reader sees it: no module names, no references to our
    internal files (``profilage.reconstruct.cnaf2014`` -> "notre reconstruction",
    ``(sources.md §1)`` and ``(seed 003)`` dropped)."""
    if not text:
        return ""
    i = 0 if lang == "fr" else 1
    for pattern, repl in _INTERNAL:
        text = pattern.sub(repl[i], text)
    return text[:1].upper() + text[1:]


def coefficient_rows(mj: dict, lang: str = "fr") -> dict:
    """The model page's coefficient chart: one row per modality (and the intercept), each with
    its value or interval or "unknown", its status, and the bar's extent on a common scale."""
    fr = lang == "fr"
    rows = []

    def add(label, coef, lo, hi, status):
        rows.append({"label": label, "value": coef, "min": lo, "max": hi, "status": status})

    ic = mj["intercept"]
    add("constante" if fr else "intercept", ic.get("value"), None, None, ic["status"])
    for c in mj["criteria"]:
        for m in c["modalities"]:
            name = (c["label_fr"] if fr else c["label_en"]) + (" : " if fr else ": ") + (
                m["label_fr"] if fr else m["label_en"])
            add(name, m.get("coefficient"), m.get("coefficient_min"), m.get("coefficient_max"),
                m["status"])
    known = [abs(v) for r in rows for v in (r["value"], r["min"], r["max"])
             if isinstance(v, (int, float)) and math.isfinite(v)]
    scale = max(known) if known else 1.0
    for r in rows:
        v, lo, hi = r["value"], r["min"], r["max"]
        if v is not None:
            a, b = sorted((0.0, v))
        elif lo is not None or hi is not None:
            a = -scale if lo is None or not math.isfinite(lo) else lo
            b = scale if hi is None or not math.isfinite(hi) else hi
        else:
            a = b = None
        r["x"] = None if a is None else round(100 + 100 * a / scale, 2)
        r["w"] = None if a is None else round(max(0.6, 100 * (b - a) / scale), 2)
        r["interval"] = v is None and a is not None
    return {"rows": rows, "scale": scale}


GROUP_VALUES: dict[str, tuple[str, str]] = {
    "couple_avec_enfants": ("couple avec enfants", "couple with children"),
    "couple_sans_enfant": ("couple sans enfant", "couple without children"),
    "monoparentale": ("famille monoparentale", "single-parent family"),
    "personne_seule": ("personne seule", "single person"),
    "F": ("femme", "woman"), "M": ("homme", "man"),
    "moins_25": ("moins de 25 ans", "under 25"), "25_34": ("25 à 34 ans", "25 to 34"),
    "35_49": ("35 à 49 ans", "35 to 49"), "50_59": ("50 à 59 ans", "50 to 59"),
    "60_plus": ("60 ans et plus", "60 and over"),
    "oui": ("oui", "yes"), "non": ("non", "no"), "inconnu": ("inconnu", "unknown"),
}


def grouping_label(by: str, lang: str = "fr") -> str:
    """``famille_type`` -> "Type de famille"; an intersection ``a × b`` -> "A × B"."""
    from profilage.audit.frame import BUILTIN_GROUPS

    i = 0 if lang == "fr" else 1
    return " × ".join(BUILTIN_GROUPS.get(p, (p, p))[i] for p in by.split(" × "))


def group_label(group: str, lang: str = "fr") -> str:
    """``couple_avec_enfants`` -> "couple avec enfants", ``D1`` -> "1er décile" (1st decile)."""
    i = 0 if lang == "fr" else 1
    out = []
    for p in str(group).split(" × "):
        m = re.fullmatch(r"D(\d+)", p)
        if m:
            k = int(m[1])
            out.append(f"{k}{'er' if k == 1 else 'e'} décile" if i == 0 else
                        f"decile {k}")
        else:
            out.append(GROUP_VALUES.get(p, (p, p))[i])
    return " × ".join(out)


def render(template: str, context: dict) -> str:
    from profilage import __version__

    ctx = {"pct": pct, "num": num, "count": count, "version": __version__,
           "readable_source": readable_source, "grouping_label": grouping_label,
           "group_label": group_label, **context}
    return environment().get_template(template).render(**ctx)

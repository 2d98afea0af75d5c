"""The HTML rendering shared by the pages (web/pages.py), the static site (web/site.py) and the
self-contained audit report (report.py): one Jinja environment over web/templates, the common
template context and the number formatting of each language."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from profilage.jsonout import model_summary
from profilage.web.i18n import CHOICES, js_strings, translator

TEMPLATES_DIR = Path(__file__).parent / "web" / "templates"


@lru_cache(maxsize=1)
def environment():
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
                              autoescape=jinja2.select_autoescape(["html"]),
                              trim_blocks=True, lstrip_blocks=True)


def model_summaries() -> list[dict]:
    from profilage.models import available_models, load_model

    return [model_summary(load_model(i)) for i in available_models()]


def presets() -> list[dict]:
    from profilage.personas import available_personas, load_persona

    first = ["nathalie", "michel", "abel"]
    names = [n for n in first if n in available_personas()]
    names += [n for n in available_personas() if n not in first]
    return [{"name": n, "nom": load_persona(n).nom or n} for n in names]


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
            "compare_page": False, "initial": {}, **extra}


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


def render(template: str, context: dict) -> str:
    from profilage import __version__

    ctx = {"pct": pct, "num": num, "count": count, "version": __version__, **context}
    return environment().get_template(template).render(**ctx)

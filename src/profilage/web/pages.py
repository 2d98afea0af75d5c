"""HTML pages, French first (``?lang=en`` switches to English): simulator, comparison, models,
audit. The household form is scored by ``/api/explain``; the pages load nothing from outside."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from profilage.web.i18n import CHOICES, get_lang, js_strings, translator

router = APIRouter(include_in_schema=False)
TEMPLATES_DIR = Path(__file__).parent / "templates"


@lru_cache(maxsize=1)
def environment():
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
                              autoescape=jinja2.select_autoescape(["html"]),
                              trim_blocks=True, lstrip_blocks=True)


def model_summaries() -> list[dict]:
    from profilage.models import available_models, load_model
    from profilage.web.api import model_summary

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
            "q": "?lang=en" if lang == "en" and not static else "",
            "other_lang_url": other_lang_url,
            "choices": {k: list(v) for k, v in CHOICES.items()}, "js_strings": js_strings(lang),
            "compare_page": False, "initial": {}, **extra}


def render(template: str, context: dict) -> str:
    return environment().get_template(template).render(**context)


def _switch_url(request: Request, lang: str) -> str:
    params = dict(request.query_params)
    params["lang"] = "en" if lang == "fr" else "fr"
    return f"{request.url.path}?{urlencode(params)}"


def _model_id(model: str | None) -> str:
    from profilage.models import available_models

    ids = available_models()
    return model if model in ids else ("cnaf-2014" if "cnaf-2014" in ids else ids[0])


def _persona(name: str | None) -> str | None:
    from profilage.personas import available_personas

    return name if name in available_personas() else None


@router.get("/", response_class=HTMLResponse)
def simulator_page(request: Request, lang: str | None = None, model: str | None = None,
                   persona: str | None = None) -> HTMLResponse:
    lg = get_lang(lang)
    ctx = base_context(lg, other_lang_url=_switch_url(request, lg), models=model_summaries(),
                       model_id=_model_id(model), presets=presets(),
                       initial={"sim": _persona(persona)} if _persona(persona) else {})
    return HTMLResponse(render("simulator.html", ctx))


@router.get("/compare", response_class=HTMLResponse)
def compare_page(request: Request, lang: str | None = None, model: str | None = None,
                 a: str | None = Query("michel"), b: str | None = Query("abel")) -> HTMLResponse:
    lg = get_lang(lang)
    ctx = base_context(lg, other_lang_url=_switch_url(request, lg), models=model_summaries(),
                       model_id=_model_id(model), presets=presets(), compare_page=True,
                       initial={"a": _persona(a), "b": _persona(b)})
    return HTMLResponse(render("compare.html", ctx))

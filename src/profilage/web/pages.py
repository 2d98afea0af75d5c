"""HTML pages, French first (``?lang=en`` switches to English): simulator, comparison, models,
audit. The household form is scored by ``/api/explain``; the pages load nothing from outside."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from profilage.jsonout import model_summary
from profilage.render import (
    base_context,
    ensemble_size,
    environment,
    model_summaries,
    presets,
    render,
)
from profilage.web.i18n import get_lang

router = APIRouter(include_in_schema=False)
__all__ = ["environment", "router"]  # environment: profilage.render's, for the templates' tests


def _switch_url(request: Request, lang: str) -> str:
    params = dict(request.query_params)
    params["lang"] = "en" if lang == "fr" else "fr"
    return f"{request.url.path}?{urlencode(params)}"


def _model_id(model: str | None) -> str:
    from profilage.models import available_models

    ids = available_models()
    return model if model in ids else ("cnaf-2014" if "cnaf-2014" in ids else ids[0])


def _ensembles() -> dict[str, int]:
    """Models that have an ensemble of reconstructions -> its size (the simulator asks for the
    score's range over it)."""
    from profilage.models import available_models

    return {i: n for i in available_models() if (n := ensemble_size(i))}


def _persona(name: str | None) -> str | None:
    from profilage.personas import available_personas

    return name if name in available_personas() else None


@router.get("/", response_class=HTMLResponse)
def simulator_page(request: Request, lang: str | None = None, model: str | None = None,
                   persona: str | None = None) -> HTMLResponse:
    lg = get_lang(lang)
    ctx = base_context(lg, other_lang_url=_switch_url(request, lg), models=model_summaries(),
                       model_id=_model_id(model), presets=presets(lg), ensembles=_ensembles(),
                       initial={"sim": _persona(persona)} if _persona(persona) else {})
    return HTMLResponse(render("simulator.html", ctx))


@router.get("/compare", response_class=HTMLResponse)
def compare_page(request: Request, lang: str | None = None, model: str | None = None,
                 a: str | None = Query("michel"), b: str | None = Query("abel")) -> HTMLResponse:
    lg = get_lang(lang)
    ctx = base_context(lg, other_lang_url=_switch_url(request, lg), models=model_summaries(),
                       model_id=_model_id(model), presets=presets(lg), compare_page=True,
                       ensembles=_ensembles(),
                       initial={"a": _persona(a), "b": _persona(b)})
    return HTMLResponse(render("compare.html", ctx))


def _audit_request(model, households, seed, path, share_pct, bootstrap, lang, ensemble=0):
    from profilage.web.audit_api import AuditRequest

    pop = {"path": path} if path else {"households": households, "seed": seed}
    share = None if share_pct is None else share_pct / 100
    extra = {"ensemble": True} if ensemble and "ensemble" in AuditRequest.model_fields else {}
    return AuditRequest(model=model, population=pop, share=share, bootstrap=bootstrap,
                        seed=seed, lang=lang, **extra)


_FORM_FIELDS = {"households": "generate", "seed": "seed", "path": "parquet_path",
                "share": "budget", "bootstrap": "replications"}


def _error_text(exc: Exception, lang: str = "fr") -> str:
    """A form error as the form names the field, in the page's language (no internal path)."""
    from pydantic import ValidationError

    from profilage.web.i18n import translator
    from profilage.web.messages import describe

    t = translator(lang)
    colon = t("colon")
    if isinstance(exc, ValidationError):
        items = [(list(e["loc"]), e["msg"].removeprefix("Value error, "), e.get("type"),
                  {k: v for k, v in (e.get("ctx") or {}).items()
                   if isinstance(v, (int, float, str))}) for e in exc.errors()]
    else:
        items = [(list(exc.loc), exc.msg, getattr(exc, "why", None) or exc.kind,
                  getattr(exc, "ctx", None))]
    out = []
    for loc, msg, kind, ctx in items:
        d = describe(loc, msg, kind, ctx)
        names = [p for p in loc if isinstance(p, str)]
        key = _FORM_FIELDS.get(names[-1]) if names else None
        label = t(key) if key else d["label"][lang]
        out.append(f"{label}{colon}{d['message'][lang]}")
    return " ; ".join(out)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, lang: str | None = None, run: int = 0, ensemble: int = 0,
               model: str = "cnaf-2014", households: int | None = 20000, seed: int = 0,
               path: str | None = None, share_pct: float | None = None,
               bootstrap: int = 200) -> HTMLResponse:
    from pydantic import ValidationError

    from profilage.web.api import UserInputError
    from profilage.web.audit_api import MAX_GENERATED
    from profilage.web.audit_api import run as run_audit_request

    lg = get_lang(lang)
    allow = request.app.state.allow_paths
    path = (path or "").strip() or None
    form = {"model": _model_id(model), "households": households, "seed": seed, "path": path,
            "share_pct": share_pct, "bootstrap": bootstrap, "ensemble": ensemble}
    ctx = base_context(lg, other_lang_url=_switch_url(request, lg), models=model_summaries(),
                       model_id=form["model"], form=form, allow_paths=allow,
                       ensembles=_ensembles(),
                       max_generated=MAX_GENERATED, summary=None, error=None)
    status = 200
    if run:
        try:
            req = _audit_request(model, households, seed, path if allow else None, share_pct,
                                 bootstrap, lg, ensemble)
            result, label = run_audit_request(req, allow_paths=allow)
            from profilage.report import audit_charts, audit_summary

            params = dict(request.query_params)
            ctx.update(summary=audit_summary(result, label), charts=audit_charts(result, lg),
                       model=model_summary(result.model),
                       report_url=f"/audit/report?{urlencode(params)}")
        except (UserInputError, ValidationError) as e:
            ctx["error"] = _error_text(e, lg)
            status = 422
    return HTMLResponse(render("audit.html", ctx), status_code=status)


@router.get("/audit/report")
def audit_report(request: Request, lang: str | None = None, model: str = "cnaf-2014",
                 ensemble: int = 0,
                 households: int | None = 20000, seed: int = 0, path: str | None = None,
                 share_pct: float | None = None, bootstrap: int = 200, run: int = 0):
    """The self-contained report of the audit the page shows, as a download."""
    from fastapi.responses import Response
    from pydantic import ValidationError

    from profilage.report import render_report
    from profilage.web.api import UserInputError
    from profilage.web.audit_api import run as run_audit_request

    lg = get_lang(lang)
    allow = request.app.state.allow_paths
    path = (path or "").strip() or None
    try:
        req = _audit_request(model, households, seed, path if allow else None, share_pct,
                             bootstrap, lg, ensemble)
        result, label = run_audit_request(req, allow_paths=allow)
    except (UserInputError, ValidationError) as e:  # escaped by the template (autoescape)
        ctx = base_context(lg, other_lang_url=_switch_url(request, lg), error=_error_text(e, lg))
        return HTMLResponse(render("error.html", ctx), status_code=422)
    body = render_report(result, label, lg)
    name = f"rapport-audit-{result.model.id}.html"
    return Response(body.encode("utf-8"), media_type="text/html; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{name}"'})


@router.get("/models", response_class=HTMLResponse)
def models_page(request: Request, lang: str | None = None) -> HTMLResponse:
    lg = get_lang(lang)
    ctx = base_context(lg, other_lang_url=_switch_url(request, lg), models=model_summaries(),
                       model_id=None)
    return HTMLResponse(render("models.html", ctx))


@router.get("/models/{model_id}", response_class=HTMLResponse)
def model_page(request: Request, model_id: str, lang: str | None = None,
               diff: str | None = None) -> HTMLResponse:
    from profilage.models import available_models, load_model

    lg = get_lang(lang)
    if model_id not in available_models():
        ctx = base_context(lg, other_lang_url=_switch_url(request, lg), models=model_summaries(),
                           model_id=None, not_found=model_id)
        return HTMLResponse(render("models.html", ctx), status_code=404)
    m = load_model(model_id)
    diff_rows = None
    if diff in available_models() and diff != model_id:
        diff_rows = model_diff_rows(load_model(diff), m)
    ctx = base_context(lg, other_lang_url=_switch_url(request, lg), models=model_summaries(),
                       model_id=model_id, **model_page_context(m, lg),
                       others=[i for i in available_models() if i != model_id], diff=diff,
                       diff_rows=diff_rows)
    return HTMLResponse(render("model.html", ctx))


def model_page_context(m, lang: str) -> dict:
    """What model.html needs besides the base context (the server and the static site)."""
    from profilage.models.export import model_to_json_dict
    from profilage.models.facts import facts_for
    from profilage.render import coefficient_rows

    mj = model_to_json_dict(m)
    facts = [{"id": f.id, "text": f.text, "source": f.source} for _, f in facts_for(m)]
    return {"model": model_summary(m), "mj": mj, "facts": facts,
            "chart": coefficient_rows(mj, lang)}


def model_diff_rows(old, new) -> list[dict]:
    """Coefficients that differ between two models, keyed by (criterion, modality): added,
    removed, or changed in value or status."""
    def coefs(m):
        out = {("intercept", ""): (m.intercept.value, m.intercept.status)}
        for c in m.criteria:
            for mod in c.modalities:
                out[(c.id, mod.id)] = (mod.coefficient.value, mod.coefficient.status)
        for c in m.redacted:
            out[(c.id, "")] = (None, "redacted")
        return out

    a, b = coefs(old), coefs(new)
    labels = {c.id: (c.label_fr, c.label_en) for c in (*old.criteria, *old.redacted,
                                                       *new.criteria, *new.redacted)}
    rows = []
    for key in list(a) + [k for k in b if k not in a]:
        va, vb = a.get(key), b.get(key)
        if va == vb:
            continue
        kind = "removed" if vb is None else "added" if va is None else "changed"
        fr, en = labels.get(key[0], (key[0], key[0]))
        rows.append({"criterion": key[0], "label_fr": fr, "label_en": en,
                     "modality": key[1], "kind": kind, "old": va, "new": vb})
    return rows

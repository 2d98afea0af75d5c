"""The JSON API: score and explain a household, list and show models, audit a population.

Bodies are validated; every user error is a 422 whose ``detail`` names the field path (the
``loc`` list and a dotted ``field``), never a 500 or a stack trace. The API reads no file named by
the client: ``model`` must be a shipped model id and ``dossier`` an object or a persona name.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Body, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from profilage.errors import DossierError, ProfilageError
from profilage.jsonout import model_summary
from profilage.web.jsonsafe import clean, json_response

router = APIRouter(prefix="/api", tags=["api"])

NATHALIE_EXAMPLE = {
    "reference_month": "2023-12",
    "allocataire": {"date_naissance": "1972-06", "activite": "salarie", "mois_travailles_12m": 12,
                    "revenu_mensuel": 1500, "aah": False},
    "conjoint": {"date_naissance": "1966-09", "activite": "salarie", "mois_travailles_12m": 12,
                 "revenu_mensuel": 1500, "aah": False},
    "situation_familiale": "marie",
    "enfants": [{"date_naissance": "2007-03"}, {"date_naissance": "2005-05"}],
    "autres_revenus_mensuels": 0,
    "prestations": {"rsa": False},
    "historique": {"inscription_caf": "2010-01", "changement_adresse": "jamais",
                   "changement_loyer": "jamais", "dernier_contact": "2021-01",
                   "nb_controles_passes": 0},
}


class UserInputError(Exception):
    """A 422 (or 404) naming the field path, raised by the endpoints."""

    def __init__(self, loc: list[str | int], msg: str, *, status: int = 422,
                 kind: str = "value_error", ctx: dict | None = None, why: str | None = None):
        self.loc, self.msg, self.status, self.kind, self.ctx = loc, msg, status, kind, ctx
        self.why = why  # the precise error kind, for the translated message
        super().__init__(msg)


def dotted(loc: list[str | int] | tuple) -> str:
    """``["body", "dossier", "enfants", 0, "age"]`` -> ``dossier.enfants[0].age``."""
    out = ""
    for part in loc:
        if part == "body" and not out:
            continue
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out or "(body)"


def error_body(errors: list[dict]) -> dict:
    """FastAPI's 422 shape, plus a dotted ``field`` per error and no echo of the input; for
    people, ``label`` (the field as the form names it) and ``message``, each in ``fr`` and
    ``en`` (profilage.web.messages)."""
    from profilage.web.messages import describe

    detail = [{"loc": list(e["loc"]), "field": dotted(e["loc"]), "msg": e["msg"],
               "type": e.get("type", "value_error"),
               **describe(e["loc"], e["msg"], e.get("why") or e.get("type"), e.get("ctx"))} for e in errors]
    return {"detail": detail}


def user_error_response(exc: UserInputError) -> JSONResponse:
    return JSONResponse(error_body([{"loc": exc.loc, "msg": exc.msg, "type": exc.kind,
                                     "ctx": exc.ctx, "why": exc.why}]), status_code=exc.status)


_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _loc_from_field(field: str | None) -> list[str | int]:
    if not field or field == "(root)":
        return []
    return [int(i) if i else name for name, i in _PATH_PART.findall(field)]


class ScoreRequest(BaseModel):
    """A model id and one household."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())
    model: str = Field("cnaf-2014", max_length=100,
                       description="Id d'un modèle fourni / shipped model id (GET /api/models).")
    dossier: Any = Field(
        ..., description="Un dossier (schéma : `profilage dossier schema`) ou le nom d'une "
        "persona / a dossier object, or a persona name (GET /api/personas).",
        json_schema_extra={"anyOf": [{"type": "object"}, {"type": "string", "maxLength": 100}]})
    ensemble: bool = Field(False, description="Ajoute la plage du score sur l'ensemble de "
                           "reconstructions du modèle (`ensemble`: size, score_min, score_median, "
                           "score_max) ; 422 si le modèle n'en a pas / add the score's range over "
                           "the model's ensemble of reconstructions.")

    @field_validator("dossier")
    @classmethod
    def _object_or_name(cls, v: Any) -> Any:
        if not isinstance(v, (dict, str)):
            raise ValueError("must be a dossier (JSON object) or a persona name (text)")
        return v


_SHIPPED: tuple[int, frozenset[str]] | None = None
_LOADED: dict[str, tuple[int, Any]] = {}


def _shipped_ids() -> frozenset[str]:
    """``available_models()``, listed again only when the models directory changes (one stat
    per request instead of a directory listing)."""
    global _SHIPPED
    from profilage.models import MODELS_DIR, available_models

    stamp = os.stat(MODELS_DIR).st_mtime_ns
    if _SHIPPED is None or _SHIPPED[0] != stamp:
        _SHIPPED = (stamp, frozenset(available_models()))
    return _SHIPPED[1]


def resolve_model(model_id: str, loc: list[str | int]):
    """A shipped model by id, loaded from the package's models directory; never a path given
    by a client (nor a file of that name in the server's working directory). Loaded again
    when its file changes, as ``load_model`` does (one stat per request)."""
    from profilage.models import MODELS_DIR, available_models, load_model

    if model_id not in _shipped_ids():
        raise UserInputError(loc, f"unknown model {model_id!r}; available: "
                             + ", ".join(available_models()), kind="unknown_model",
                             ctx={"value": model_id[:100]})
    path = os.path.join(MODELS_DIR, f"{model_id}.toml")
    try:
        stamp = os.stat(path).st_mtime_ns
        hit = _LOADED.get(model_id)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        m = load_model(Path(path))
    except ProfilageError as e:  # a broken shipped file: still the user's clear message
        raise UserInputError(loc, e.one_line(), kind="model_error") from None
    except OSError as e:  # removed since it was listed
        raise UserInputError(loc, f"model file unreadable: {e.strerror}",
                             kind="model_error") from None
    _LOADED[model_id] = (stamp, m)
    return m


def resolve_dossier(dossier: dict | str, loc: list[str | int]):
    from profilage.dossier import parse_dossier
    from profilage.personas import available_personas, load_persona

    if isinstance(dossier, str):
        if dossier not in available_personas():
            raise UserInputError(loc, f"unknown persona {dossier!r}; personas: "
                                 + ", ".join(available_personas()), kind="unknown_persona")
        return load_persona(dossier)
    try:
        return parse_dossier(dossier)
    except DossierError as e:
        raise UserInputError(loc + _loc_from_field(e.field), e.message,
                             kind="dossier_error", ctx=e.ctx, why=e.kind) from None


_EXAMPLES = {
    "nathalie": {"summary": "Nathalie (Le Monde) — 0.240",
                 "value": {"model": "cnaf-2014", "dossier": NATHALIE_EXAMPLE}},
    "persona": {"summary": "Une persona par son nom / a persona by name",
                "value": {"model": "cnaf-2014", "dossier": "abel"}},
}


_LANG = Query("fr", pattern="^(fr|en)$",
               description="Langue de `context.population` / language of the context text.")


async def _context(score: float | None, m, lang: str) -> dict:
    """``score_context``: inline once the model's reference population is scored (a binary
    search); its first computation (about a second) runs in a worker thread."""
    import asyncio

    from profilage.audit import context

    if context.reference_ready(m):
        return context.score_context(score, m, lang)
    return await asyncio.to_thread(context.score_context, score, m, lang)


@router.post("/score", summary="Note un foyer / score a household")
async def api_score(req: ScoreRequest = Body(..., openapi_examples=_EXAMPLES),
                    lang: str = _LANG) -> JSONResponse:
    """The object `profilage score DOSSIER --json` prints, plus `context`: the score's
    percentile among a reference synthetic population (100,000 households, seed 0, 2024-03;
    profilage.audit.context), that month's control threshold under the default budget (the
    CNAF's 166,000 controls a year, scaled), whether this score would be selected, and a
    description of the reference. The score is an estimated probability of an overpayment
    under this reconstruction of the model, not a probability of fraud.

    One dossier is scored in plain Python (profilage.scalar, a few hundredths of a
    millisecond; the same object as the vectorised engine, tested to 1e-12), on the event
    loop; with `ensemble`, in a worker thread."""
    import asyncio

    from profilage.scoring import score_dossier

    m = resolve_model(req.model, ["body", "model"])
    d = resolve_dossier(req.dossier, ["body", "dossier"])
    if req.ensemble:
        _check_ensemble(m)
        res = await asyncio.to_thread(score_dossier, d, m, ensemble=True)
    else:
        res = score_dossier(d, m, engine="scalar")
    res["context"] = await _context(res.get("score"), m, lang)
    return json_response(res)


def _check_ensemble(m) -> None:
    from profilage.audit.ensemble import resolve_ensemble

    try:
        resolve_ensemble(m)
    except ProfilageError as e:
        raise UserInputError(["body", "ensemble"], e.message, kind="no_ensemble") from None


@router.post("/explain", summary="Explique un score / explain a score")
async def api_explain(req: ScoreRequest = Body(..., openapi_examples=_EXAMPLES),
                      top: int = 3, lang: str = _LANG) -> JSONResponse:
    """The object `profilage explain DOSSIER --json` prints (score, waterfall, would_lower/raise),
    plus the same `context` as `POST /api/score`."""
    import asyncio

    from profilage.scoring import explain_dossier

    if not 1 <= top <= 20:
        raise UserInputError(["query", "top"], "top must be between 1 and 20")
    m = resolve_model(req.model, ["body", "model"])
    d = resolve_dossier(req.dossier, ["body", "dossier"])
    if req.ensemble:
        _check_ensemble(m)
        res = await asyncio.to_thread(explain_dossier, d, m, top=top, ensemble=True)
    else:
        res = explain_dossier(d, m, top=top, engine="scalar")
    res["context"] = await _context(res.get("score"), m, lang)
    return json_response(res)


@router.get("/models", summary="Modèles fournis / shipped models")
def api_models() -> JSONResponse:
    from profilage.models import available_models, load_model

    return JSONResponse(clean([model_summary(load_model(i)) for i in available_models()]))


@router.get("/models/{model_id}", summary="Un modèle et sa provenance / one model")
def api_model(model_id: str) -> JSONResponse:
    """The object `profilage models show ID --json` prints."""
    from profilage.models import available_models, load_model
    from profilage.models.export import model_to_json_dict

    if model_id not in available_models():
        raise UserInputError(["path", "model_id"], f"unknown model {model_id!r}; available: "
                             + ", ".join(available_models()), status=404, kind="not_found")
    return JSONResponse(clean(model_to_json_dict(load_model(model_id))))


@router.get("/personas", summary="Foyers d'exemple / example households")
def api_personas() -> JSONResponse:
    from profilage.personas import available_personas, load_persona

    out = []
    for n in available_personas():
        d = load_persona(n)
        out.append({"name": n, "nom": d.nom, "description": d.description})
    return JSONResponse(out)


@router.get("/personas/{name}", summary="Le dossier d'une persona / a persona's dossier")
def api_persona(name: str) -> JSONResponse:
    import json

    from profilage.personas import available_personas, personas_dir

    if name not in available_personas():
        raise UserInputError(["path", "name"], f"unknown persona {name!r}; personas: "
                             + ", ".join(available_personas()), status=404, kind="not_found")
    return JSONResponse(json.loads((personas_dir() / f"{name}.json").read_text("utf-8")))

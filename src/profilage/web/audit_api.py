"""``POST /api/audit`` and the audit page's runner: a population (generated on the fly, or a
Parquet/CSV file on the server when the app allows paths), a model and a control budget."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from profilage.errors import ProfilageError
from profilage.web.api import UserInputError, resolve_model
from profilage.web.jsonsafe import json_response

router = APIRouter(prefix="/api", tags=["api"])

MAX_GENERATED = 200_000  # households generated per request (about 10 s on one core)
#: Budget of one request's group table: groups per grouping, and bootstrap draws x groups
#: (500,000 cells is about 20 MB). Beyond: a 422 that says the limit.
API_LIMITS = {"max_groups": 1_000, "max_boot_cells": 500_000}
#: Audits run at once (each holds its population, up to MAX_GENERATED households, in memory);
#: more requests wait their turn.
AUDIT_SLOTS = threading.BoundedSemaphore(2)


class PopulationSpec(BaseModel):
    """Either ``households`` (+ ``seed``) to generate a synthetic population, or a ``path``."""

    model_config = ConfigDict(extra="forbid")
    households: int | None = Field(None, ge=10, le=MAX_GENERATED,
                                   description="Foyers synthétiques à générer / households.")
    seed: int = Field(0, ge=0, le=2**31 - 1)
    reference_month: str = Field("2024-03", pattern=r"^\d{4}-\d{2}$")
    path: str | None = Field(None, max_length=4096, description="Parquet/CSV on the server, "
                             "inside the directory given to `serve --allow-paths DIR` (refused "
                             "otherwise).")

    @model_validator(mode="after")
    def _one_source(self):
        if (self.households is None) == (self.path is None):
            raise ValueError("give either 'households' (generate) or 'path' (a file)")
        return self


class AuditRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())
    model: str = Field("cnaf-2014", max_length=100)
    population: PopulationSpec
    budget_per_month: int | None = Field(None, ge=1, le=10_000_000)
    share: float | None = Field(None, gt=0, le=1)
    by: list[str] | None = Field(None, max_length=10)
    bootstrap: int = Field(200, ge=0, le=2000)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    lang: Literal["fr", "en"] = "fr"
    ensemble: bool = Field(False, description="Plages sur l'ensemble de reconstructions du modèle "
                           "et conclusions robustes / ranges over the model's ensemble.")

    @field_validator("by")
    @classmethod
    def _declared_groups(cls, v: list[str] | None) -> list[str] | None:
        """Only the built-in, low-cardinality group columns: a population column such as a
        name or an account number must never come back as group labels."""
        from profilage.audit import BUILTIN_GROUPS

        for c in v or []:
            if c not in BUILTIN_GROUPS:
                raise ValueError(f"{c[:60]!r} is not a declared group column (allowed: "
                                 + ", ".join(BUILTIN_GROUPS) + ")")
        if v and len(set(v)) != len(v):
            raise ValueError("each group column may be given once")
        return v

    @model_validator(mode="after")
    def _budget(self):
        if self.budget_per_month is not None and self.share is not None:
            raise ValueError("give 'budget_per_month' or 'share', not both")
        return self


def _loc_for(field: str | None) -> list[str]:
    if not field:
        return ["body"]
    name = field.lstrip("-").replace("-", "_")
    if name in ("population", "households", "path"):
        return ["body", "population"]
    return ["body", {"bootstrap": "bootstrap"}.get(name, name)]


def allowed_file(name: str, root: Path | None) -> Path:
    """The file a client names, if it is a Parquet/CSV file inside ``root`` (after resolving
    ``..`` and symbolic links); a 422 on ``population.path`` otherwise."""
    loc = ["body", "population", "path"]
    if root is None:
        raise UserInputError(loc, "this server reads no file named by a client (start it with "
                             "`profilage serve --allow-paths DIR` to allow one directory); "
                             "generate a population instead")
    p = Path(name)
    p = (p if p.is_absolute() else root / p).resolve()
    if not p.is_relative_to(root):
        raise UserInputError(loc, f"only files inside {root} may be read (serve --allow-paths)")
    if p.suffix.lower() not in (".parquet", ".csv"):
        raise UserInputError(loc, "expected a .parquet or .csv file")
    return p


def run(req: AuditRequest, *, allow_paths: Path | None):
    """The audit result and a label for its population; user errors name the body field.

    ``allow_paths``: the directory clients may name files in (None: no file at all)."""
    m = resolve_model(req.model, ["body", "model"])
    with AUDIT_SLOTS:
        return _run(req, m, allow_paths)


def _run(req: AuditRequest, m, allow_paths: Path | None):
    from profilage.audit import read_population, run_audit

    spec = req.population
    try:
        if spec.path is not None:
            pop = read_population(allowed_file(spec.path, allow_paths))
            label = spec.path
        else:
            from profilage.population import generate_population

            # the CNAM models score C2S applicants: generate that population for them
            kind = "c2s" if m.institution.upper().startswith("CNAM") else "caf"
            pop = generate_population(spec.households, spec.seed,
                                      reference_month=spec.reference_month, kind=kind)
            if req.lang == "en":
                label = (f"{spec.households:,} synthetic {kind.upper()} households, draw "
                         f"{spec.seed}, {spec.reference_month}")
            else:
                label = (f"{spec.households:,} foyers {kind.upper()} fictifs".replace(",", "\u202f")
                         + f", tirage n° {spec.seed}, {spec.reference_month}")
        result = run_audit(pop, m, budget=req.budget_per_month, share=req.share,
                           by=req.by or None, n_boot=req.bootstrap, seed=req.seed,
                           ensemble=req.ensemble, limits=API_LIMITS)
    except ProfilageError as e:
        loc = _loc_for(e.field)
        if loc == ["body", "population"]:
            loc.append("path" if spec.path is not None else "households")
        msg = f"{e.source}: {e.message}" if e.source else e.message
        raise UserInputError(loc, msg) from None
    return result, label


@router.post("/audit", summary="Audit d'une population / audit a population")
def api_audit(req: AuditRequest, request: Request):
    """The object `profilage audit --json` prints: model provenance, budget, group table."""
    result, label = run(req, allow_paths=request.app.state.allow_paths)
    out: dict[str, Any] = result.as_dict()
    out["population"] = label
    return json_response(out)

"""The FastAPI application: API, pages and static files, with errors that never leak internals."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from profilage import __version__
from profilage.errors import ProfilageError
from profilage.web.limits import BODY_TIMEOUT, BodyLimit
from profilage.web.security import Security, trusted_hosts

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"

log = logging.getLogger("profilage.web")


def create_app_from_env() -> FastAPI:
    """Factory for ``profilage serve --workers N``: each process builds its app from what the
    parent put in the environment (the directory clients may read, the trusted host names)."""
    import os

    hosts = [h for h in os.environ.get("PROFILAGE_TRUSTED_HOSTS", "").split(",") if h]
    return create_app(allow_paths=os.environ.get("PROFILAGE_ALLOW_PATHS") or None, hosts=hosts)


def create_app(*, allow_paths: str | Path | None = None,
               hosts: list[str] | tuple[str, ...] | None = None,
               body_timeout: float = BODY_TIMEOUT) -> FastAPI:
    """Build the app. No CORS middleware: browsers refuse cross-origin reads (CORS closed).

    ``allow_paths``: a directory whose Parquet/CSV files the audit may read when a client names
    them (``serve --allow-paths DIR``); by default clients name no file at all.
    ``hosts``: host names accepted in the Host header besides loopback names (the ``--host``
    the server listens on, ``--trusted-host``); see :mod:`profilage.web.security`.
    ``body_timeout``: seconds to receive a whole request body (web/limits.py)."""
    from contextlib import asynccontextmanager

    from profilage.web import api, audit_api, pages

    @asynccontextmanager
    async def lifespan(app):
        """Before the first request: the default model's reference population (the ``context``
        of /api/score, about a second), so no request waits for it."""
        import asyncio

        from profilage.audit.context import reference
        from profilage.models import available_models, load_model

        if "cnaf-2014" in available_models():
            await asyncio.to_thread(reference, load_model("cnaf-2014"))
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="profilage",
        version=__version__,
        description="Reproduire et auditer les algorithmes de notation des allocataires (CNAF, "
                    "CNAM) / reproduce and audit social-security risk scores. Coefficients "
                    "marked `reconstructed` are NOT the institution's: every response carries "
                    "the model's provenance.",
        docs_url=None, redoc_url=None, openapi_url="/openapi.json",
    )

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request, lang: str | None = None):
        """Swagger UI served from the package (static/vendor), never from a CDN, under the
        site's header (a way back, the page's language) and started by a static script."""
        from fastapi.responses import HTMLResponse

        from profilage.render import base_context, render
        from profilage.web.i18n import get_lang

        lg = get_lang(lang)
        other = "/docs" if lg == "en" else "/docs?lang=en"
        return HTMLResponse(render("docs.html", base_context(lg, other_lang_url=other)))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errors = []
        for e in exc.errors():
            msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
            loc = e.get("loc", ["body"])
            if e.get("type") == "json_invalid":
                msg = (f"invalid JSON at character {loc[-1]}: "
                       + str(e.get("ctx", {}).get("error", msg)))
                loc = ["body"]
            ctx = {k: v for k, v in (e.get("ctx") or {}).items()
                   if isinstance(v, (int, float, str))}
            errors.append({"loc": loc, "msg": msg, "type": e.get("type"), "ctx": ctx})
        return JSONResponse(api.error_body(errors), status_code=422)

    @app.exception_handler(api.UserInputError)
    async def _user(request: Request, exc: api.UserInputError):
        return api.user_error_response(exc)

    @app.exception_handler(ProfilageError)
    async def _profilage(request: Request, exc: ProfilageError):
        loc = ["body"] + ([exc.field] if exc.field else [])
        return JSONResponse(api.error_body([{"loc": loc, "msg": exc.one_line()}]), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    app.state.allow_paths = Path(allow_paths).resolve() if allow_paths else None
    app.include_router(api.router)
    app.include_router(audit_api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(BodyLimit, timeout=body_timeout)
    app.add_middleware(Security, hosts=trusted_hosts(hosts))  # outermost: Host, type, headers
    return app

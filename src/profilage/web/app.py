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
from profilage.web.limits import NestingLimit, send_body_error

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
MAX_BODY = 1_000_000  # bytes; a dossier is a few kB

log = logging.getLogger("profilage.web")


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, before they are parsed."""

    def __init__(self, app, limit: int = MAX_BODY):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            return await self._too_large(send)
        seen = 0

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await self._too_large(send)

    async def _too_large(self, send):
        await send_body_error(send, 413, f"request body too large (limit {self.limit} bytes)",
                              "too_large")


class _TooLarge(Exception):
    pass


def create_app_from_env() -> FastAPI:
    """Factory for ``profilage serve --workers N`` (each process builds its app; whether file
    paths are accepted comes from the parent, which knows the listening address)."""
    import os

    return create_app(allow_paths=os.environ.get("PROFILAGE_ALLOW_PATHS") == "1")


def create_app(*, allow_paths: bool = True) -> FastAPI:
    """Build the app. No CORS middleware: browsers refuse cross-origin reads (CORS closed).

    ``allow_paths``: the audit may read a population file named by the client (``serve`` turns
    it off when listening beyond loopback)."""
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

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception):
        log.error("internal error on %s %s: %s", request.method, request.url.path,
                  type(exc).__name__)
        return JSONResponse({"detail": "erreur interne / internal error"}, status_code=500)

    app.state.allow_paths = allow_paths
    app.include_router(api.router)
    app.include_router(audit_api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(NestingLimit)  # inner: sees bodies BodyLimit has already capped
    app.add_middleware(BodyLimit)
    return app

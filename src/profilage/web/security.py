"""The browser of the person running the server is part of the threat model.

``profilage serve`` listens on loopback, but every web page that person opens can send requests
to 127.0.0.1, and a DNS-rebinding page (``attacker.example`` resolving to 127.0.0.1) can read
the answers. This ASGI middleware, the outermost layer of the app, refuses what such pages can
send and tells the browser to confine what we answer:

- **Host check**: only loopback names (``localhost``, ``127.0.0.1``, ``[::1]``) and the hosts
  the server was started with; anything else gets 400 (this defeats DNS rebinding: the
  rebinding page's requests carry its own host name).
- **JSON only**: a POST/PUT/PATCH to ``/api/`` must be ``application/json`` (415 otherwise): a
  cross-site HTML form or a ``text/plain`` fetch cannot produce that type without a CORS
  preflight, which we never grant.
- **Headers on every response**: a strict Content-Security-Policy (scripts, styles, fonts and
  fetches from this origin only; no inline script, no inline style, no plugin, no ``<base>``;
  forms post to this origin; ``frame-ancestors 'none'``), ``X-Content-Type-Options: nosniff``,
  ``X-Frame-Options: DENY``, ``Referrer-Policy: no-referrer``, ``Cross-Origin-Opener-Policy`` and
  ``Cross-Origin-Resource-Policy: same-origin``. A response that sets its own CSP (the API docs
  page, whose one inline script is allowed by its hash) keeps it.
- **Cross-site requests** (``Sec-Fetch-Site: cross-site`` or ``same-site``, which browsers
  send): only a top-level navigation to a page is answered; an image, script, frame or fetch
  from another site, and a navigation that would run an audit (``/audit?run=1``,
  ``/audit/report``), get 403 (a link or an ``<img>`` on any page could otherwise make the
  server generate and score 200,000 households).
- **HEAD** is answered wherever GET is (the GET response without its body).
- **An internal error** is one log line (method, path, exception type) and a JSON 500, never a
  traceback in the log or the response.
"""

from __future__ import annotations

import json
import logging

log = logging.getLogger("profilage.web")

#: The pages need: scripts and the stylesheet from /static, fetch() to /api, the favicon and
#: inline SVG charts (``data:`` images only), forms submitted to the same origin.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
       "frame-ancestors 'none'")

SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
_CSP = (b"content-security-policy", CSP.encode())
_ADDED = frozenset(h for h, _ in SECURITY_HEADERS) | {_CSP[0]}

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
JSON_TYPES = frozenset({"application/json"})


def host_name(value: str) -> str:
    """The host part of a Host header: ``[::1]:8000`` -> ``::1``, ``Example:80`` -> ``example``."""
    v = value.strip().lower()
    if v.startswith("["):
        return v[1:v.find("]")] if "]" in v else v
    return v.rsplit(":", 1)[0] if v.count(":") == 1 else v


def trusted_hosts(extra: list[str] | tuple[str, ...] | None = None) -> frozenset[str]:
    """Loopback names plus the given ones (wildcard addresses such as 0.0.0.0 name no host)."""
    names = {host_name(h) for h in (extra or ()) if h}
    return LOOPBACK_HOSTS | (names - {"0.0.0.0", "::", ""})


async def send_error(send, status: int, loc: list, msg: str, kind: str) -> None:
    """Answer with the API's error shape (``detail[].loc/field/msg/type``)."""
    from profilage.web.api import dotted

    body = json.dumps({"detail": [{"loc": loc, "field": dotted(loc), "msg": msg, "type": kind}]},
                      separators=(",", ":")).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"content-security-policy", CSP.encode()), *SECURITY_HEADERS]})
    await send({"type": "http.response.body", "body": body})


def _navigation_allowed(scope, headers: dict) -> bool:
    """A cross-site request is answered only when it is a top-level GET navigation to a page
    that does not start work (an audit run, a report)."""
    mode = headers.get(b"sec-fetch-mode", b"").decode("latin-1").lower()
    dest = headers.get(b"sec-fetch-dest", b"document").decode("latin-1").lower()
    if mode != "navigate" or dest != "document" or scope.get("method") not in ("GET", "HEAD"):
        return False
    path = scope.get("path", "")
    query = scope.get("query_string", b"").decode("latin-1")
    runs = path == "/audit/report" or (path == "/audit" and "run=" in query
                                       and "run=0" not in query)
    return not runs and not path.startswith("/api/")


class Security:
    """See the module docstring. ``hosts``: the names accepted in the Host header."""

    def __init__(self, app, hosts: frozenset[str] = LOOPBACK_HOSTS):
        self.app, self.hosts = app, hosts

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        host = host_name(headers.get(b"host", b"").decode("latin-1"))
        if host not in self.hosts:
            return await send_error(send, 400, ["header", "host"],
                                    "untrusted Host header (this server answers only to "
                                    + ", ".join(sorted(self.hosts)) + ")", "untrusted_host")
        method = scope.get("method")
        site = headers.get(b"sec-fetch-site", b"").decode("latin-1").lower()
        if site in ("cross-site", "same-site") and not _navigation_allowed(scope, headers):
            return await send_error(send, 403, ["header", "sec-fetch-site"],
                                    "cross-site request refused (open the page from its own "
                                    "address)", "cross_site")
        if method in ("POST", "PUT", "PATCH") and scope.get("path", "").startswith("/api/"):
            ctype = headers.get(b"content-type", b"").decode("latin-1")
            if ctype.split(";", 1)[0].strip().lower() not in JSON_TYPES:
                return await send_error(send, 415, ["header", "content-type"],
                                        "the API accepts only application/json bodies",
                                        "unsupported_media_type")
        head = method == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}
        started = False

        async def guarded_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                hdrs = list(message.get("headers") or [])
                names = {k.lower() for k, _ in hdrs}
                if names.isdisjoint(_ADDED):  # the usual case: add all of them
                    hdrs += (_CSP, *SECURITY_HEADERS)
                else:
                    if _CSP[0] not in names:
                        hdrs.append(_CSP)
                    hdrs += [h for h in SECURITY_HEADERS if h[0] not in names]
                message = {**message, "headers": hdrs}
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        try:
            await self.app(scope, receive, guarded_send)
        except Exception as exc:  # noqa: BLE001 - one line in the log, never a traceback
            log.error("internal error on %s %s: %s", method, scope.get("path"),
                      type(exc).__name__)
            if not started:
                await send_error(send, 500, [], "erreur interne / internal error",
                                 "internal_error")

"""Nesting limit for JSON request bodies: 422 naming the body, before any parser recurses.

Python's JSON parser recurses once per nesting level; a 2 kB body of 1,000 brackets would
otherwise reach the handler as a parser failure. A dossier nests 3 levels; we allow 32.
The check is nearly free for normal bodies: it only scans when the body holds more opening
brackets than the limit (``bytes.count`` runs in C).
"""

from __future__ import annotations

import re

MAX_DEPTH = 32
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


def json_too_deep(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """True when the JSON text nests arrays/objects deeper than ``limit`` (strings ignored)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for m in _BRACKET.finditer(_STRING.sub(b'""', body)):
        if m.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


async def send_body_error(send, status: int, msg: str, kind: str) -> None:
    """Answer from an ASGI middleware with the API's error shape, naming the body."""
    import json

    body = json.dumps({"detail": [{"loc": ["body"], "field": "(body)", "msg": msg,
                                   "type": kind}]}, separators=(",", ":")).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class NestingLimit:
    """ASGI middleware: buffers JSON request bodies (already size-limited) and refuses deep ones."""

    def __init__(self, app, limit: int = MAX_DEPTH):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, receive, send)
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        if json_too_deep(body, self.limit):
            return await send_body_error(send, 422, f"JSON nested deeper than {self.limit} levels",
                                         "too_deep")
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

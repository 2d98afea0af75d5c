"""Strict JSON for the API and the pages: the same cleaning as the CLI's ``--json``."""

from __future__ import annotations

from typing import Any

from profilage.jsonout import dumps, finite


def clean(obj: Any) -> Any:
    """Infinities become null, tuples become lists: what ``print_json`` writes."""
    import json

    return json.loads(json.dumps(finite(obj), ensure_ascii=False, default=str))


def json_response(obj: Any, status_code: int = 200):
    """A JSON response serialised once (``clean`` + ``JSONResponse`` serialise twice; this is the
    hot path of ``POST /api/score``). Same bytes as the CLI's ``--json`` without indentation."""
    from fastapi.responses import Response

    body = dumps(obj)
    return Response(body.encode("utf-8"), status_code=status_code, media_type="application/json")

"""Strict JSON for the API and the pages: the same cleaning as the CLI's ``--json``."""

from __future__ import annotations

from typing import Any

from profilage.cli.common import _clean


def clean(obj: Any) -> Any:
    """Infinities become null, tuples become lists: what ``print_json`` writes."""
    import json

    return json.loads(json.dumps(_clean(obj), ensure_ascii=False, default=str))


def json_response(obj: Any, status_code: int = 200):
    """A JSON response serialised once (``clean`` + ``JSONResponse`` serialise twice; this is the
    hot path of ``POST /api/score``). Same bytes as the CLI's ``--json`` without indentation."""
    import json

    from fastapi.responses import Response

    body = json.dumps(_clean(obj), ensure_ascii=False, default=str, allow_nan=False,
                      separators=(",", ":"))
    return Response(body.encode("utf-8"), status_code=status_code, media_type="application/json")

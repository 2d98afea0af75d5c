"""Strict JSON for the API and the pages: the same cleaning as the CLI's ``--json``."""

from __future__ import annotations

import json
from typing import Any

from profilage.jsonout import dumps, finite

_COMPACT = json.JSONEncoder(ensure_ascii=False, default=str, allow_nan=False,
                            separators=(",", ":"))


def clean(obj: Any) -> Any:
    """Infinities become null, tuples become lists: what ``print_json`` writes."""
    return json.loads(json.dumps(finite(obj), ensure_ascii=False, default=str))


def compact(obj: Any) -> str:
    """``jsonout.dumps(obj)`` (compact), faster when ``obj`` holds no infinity or NaN (the
    usual case): the encoder refuses them, and only then is the object walked to replace them
    with null (``finite``, a few hundred calls for a scored dossier)."""
    try:
        return _COMPACT.encode(obj)
    except ValueError:  # a non-finite float somewhere (or a circular reference: raised again)
        return dumps(obj)


def json_response(obj: Any, status_code: int = 200):
    """A JSON response serialised once (``clean`` + ``JSONResponse`` serialise twice; this is the
    hot path of ``POST /api/score``). Same bytes as the CLI's ``--json`` without indentation."""
    from fastapi.responses import Response

    return Response(compact(obj).encode("utf-8"), status_code=status_code,
                    media_type="application/json")

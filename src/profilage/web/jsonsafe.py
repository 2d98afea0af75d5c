"""Strict JSON for the API and the pages: the same cleaning as the CLI's ``--json``."""

from __future__ import annotations

import json
import math
from typing import Any

from profilage.jsonout import dumps, finite

_COMPACT = json.JSONEncoder(ensure_ascii=False, default=str, allow_nan=False,
                            separators=(",", ":"))

#: The keys of one contribution of a scored dossier (profilage.scoring._result), in order.
_CONTRIBUTION_KEYS = ("criterion", "label_fr", "label_en", "feature", "modality",
                      "modality_label_fr", "modality_label_en", "input_known", "low", "high",
                      "status", "protected_ground", "precarity")
_FRAGMENTS: dict[tuple, str] = {}
_MAX_FRAGMENTS = 4096


def clean(obj: Any) -> Any:
    """Infinities become null, tuples become lists: what ``print_json`` writes."""
    return json.loads(json.dumps(finite(obj), ensure_ascii=False, default=str))


def _zero_sign(x: Any) -> Any:
    """Part of a cache key for a bound: ``False`` for null or a non-zero float, the sign for a
    zero (``0.0`` and ``-0.0`` are equal keys but different texts); ``None`` (not cacheable)
    for anything else (``1`` and ``1.0`` are equal keys but different texts)."""
    if x is None:
        return False
    if type(x) is not float:
        return None
    return math.copysign(1.0, x) if x == 0.0 else False


def _contribution(c: Any) -> str:
    """One contribution's JSON, from a cache: a model has a few hundred distinct ones (criterion
    x modality), and encoding them was most of a scored dossier's encoding time. Cached only
    when the values identify the text exactly: the usual keys in their order, ``input_known`` a
    bool, ``low``/``high`` null or floats (with a zero's sign in the key)."""
    if type(c) is dict and tuple(c) == _CONTRIBUTION_KEYS and type(c["input_known"]) is bool:
        lo, hi = _zero_sign(c["low"]), _zero_sign(c["high"])
        if lo is not None and hi is not None:
            key = (*c.values(), lo, hi)
            try:
                text = _FRAGMENTS.get(key)
            except TypeError:  # an unhashable value
                return _COMPACT.encode(c)
            if text is None:
                text = _COMPACT.encode(c)
                if len(_FRAGMENTS) >= _MAX_FRAGMENTS:
                    _FRAGMENTS.clear()
                _FRAGMENTS[key] = text
            return text
    return _COMPACT.encode(c)


def _result(obj: dict) -> str:
    """A scored dossier's object with its contributions from the cache; the other keys in one
    pass, split around ``contributions`` to keep the key order."""
    keys = list(obj)
    i = keys.index("contributions")
    head = _COMPACT.encode({k: obj[k] for k in keys[:i]})
    tail = _COMPACT.encode({k: obj[k] for k in keys[i + 1:]})
    contributions = "[" + ",".join(_contribution(c) for c in obj["contributions"]) + "]"
    return (head[:-1] + ("," if len(head) > 2 else "") + '"contributions":' + contributions
            + ("," if len(tail) > 2 else "") + tail[1:])


def compact(obj: Any) -> str:
    """``jsonout.dumps(obj)`` (compact), faster: the object is walked to replace infinities
    and NaN with null (``finite``) only when the encoder finds one, and a scored dossier's
    contributions come from a cache (``_contribution``). Same text (tested)."""
    try:
        if (type(obj) is dict and type(obj.get("contributions")) is list
                and all(type(k) is str for k in obj)):
            return _result(obj)
        return _COMPACT.encode(obj)
    except ValueError:  # a non-finite float somewhere (or a circular reference: raised again)
        return dumps(obj)


def json_response(obj: Any, status_code: int = 200):
    """A JSON response serialised once (``clean`` + ``JSONResponse`` serialise twice; this is the
    hot path of ``POST /api/score``). Same bytes as the CLI's ``--json`` without indentation."""
    from fastapi.responses import Response

    return Response(compact(obj).encode("utf-8"), status_code=status_code,
                    media_type="application/json")

"""Strict JSON for the API and the pages: the same cleaning as the CLI's ``--json``."""

from __future__ import annotations

from typing import Any

from profilage.cli.common import _clean


def clean(obj: Any) -> Any:
    """Infinities become null, tuples become lists: what ``print_json`` writes."""
    import json

    return json.loads(json.dumps(_clean(obj), ensure_ascii=False, default=str))

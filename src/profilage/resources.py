"""Locate the repository's data folders (``personas/``, ``data/``) from a checkout or a wheel."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).parent


def resource_dir(name: str) -> Path:
    """``personas`` or ``data``: the wheel ships them as ``profilage/_<name>``."""
    packaged = _PKG / f"_{name}"
    if packaged.is_dir():
        return packaged
    return _PKG.parent.parent / name

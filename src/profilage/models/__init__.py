"""Shipped scoring models (TOML files beside this module) and the loader."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from profilage.errors import ProfilageError
from profilage.models.schema import (
    GROUND_LABELS_FR,
    PROTECTED_GROUNDS,
    STATUSES,
    Coefficient,
    Criterion,
    Modality,
    Model,
    load_model_file,
    parse_model,
)

MODELS_DIR = Path(__file__).parent

__all__ = [
    "GROUND_LABELS_FR",
    "MODELS_DIR",
    "PROTECTED_GROUNDS",
    "STATUSES",
    "Coefficient",
    "Criterion",
    "Modality",
    "Model",
    "available_models",
    "load_model",
    "load_model_file",
    "parse_model",
]


def available_models() -> list[str]:
    """Ids of the models shipped with the package, sorted."""
    return sorted(p.stem for p in MODELS_DIR.glob("*.toml"))


@lru_cache(maxsize=64)
def _load_cached(path: str, mtime: float) -> Model:
    return load_model_file(path)


def load_model(ref: str | Path | Model) -> Model:
    """Load a model by shipped id (``cnaf-2014``) or by path to a TOML file."""
    if isinstance(ref, Model):
        return ref
    ref_s = str(ref)
    p = Path(ref_s)
    if ref_s.endswith(".toml") or p.is_file():
        if not p.is_file():
            raise ProfilageError("model file not found", field="--model", source=ref_s)
        return _load_cached(str(p.resolve()), p.stat().st_mtime)
    shipped = MODELS_DIR / f"{ref_s}.toml"
    if shipped.is_file():
        return _load_cached(str(shipped), shipped.stat().st_mtime)
    raise ProfilageError(
        f"unknown model {ref_s!r}; available: {', '.join(available_models())} "
        "(or give a path to a .toml file)", field="--model")

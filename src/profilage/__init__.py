"""profilage: reproduce and audit the risk-scoring models of French social-security bodies.

The public names below are imported on first use (PEP 562), so a command that does not score a
dossier (``profilage audit``, ``store add-population``...) does not pay for the dossier schema
and its validation library at start-up."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

#: public name -> the module that defines it
_PUBLIC = {
    "Dossier": "profilage.dossier", "load_dossier": "profilage.dossier",
    "parse_dossier": "profilage.dossier",
    "bounded_mean": "profilage.engine", "compile_model": "profilage.engine",
    "ProfilageError": "profilage.errors",
    "derive_features": "profilage.features",
    "available_models": "profilage.models", "load_model": "profilage.models",
    "available_personas": "profilage.personas", "load_persona": "profilage.personas",
    "explain_dossier": "profilage.scoring", "score_dossier": "profilage.scoring",
    "score_dossiers": "profilage.scoring", "score_dossiers_frame": "profilage.scoring",
    "score_frame": "profilage.scoring",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'profilage' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # next time: a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, eagerly
    from profilage.dossier import Dossier, load_dossier, parse_dossier  # noqa: F401
    from profilage.engine import bounded_mean, compile_model  # noqa: F401
    from profilage.errors import ProfilageError  # noqa: F401
    from profilage.features import derive_features  # noqa: F401
    from profilage.models import available_models, load_model  # noqa: F401
    from profilage.personas import available_personas, load_persona  # noqa: F401
    from profilage.scoring import (  # noqa: F401
        explain_dossier,
        score_dossier,
        score_dossiers,
        score_dossiers_frame,
        score_frame,
    )

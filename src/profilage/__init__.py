"""profilage: reproduce and audit the risk-scoring models of French social-security bodies."""

__version__ = "0.1.0"

from profilage.dossier import Dossier, load_dossier, parse_dossier
from profilage.engine import bounded_mean, compile_model
from profilage.errors import ProfilageError
from profilage.features import derive_features
from profilage.models import available_models, load_model
from profilage.personas import available_personas, load_persona
from profilage.scoring import (
    explain_dossier,
    score_dossier,
    score_dossiers,
    score_dossiers_frame,
    score_frame,
)

__all__ = [
    "Dossier", "ProfilageError", "available_models", "available_personas", "bounded_mean",
    "compile_model", "derive_features", "explain_dossier", "load_dossier", "load_model",
    "load_persona", "parse_dossier", "score_dossier", "score_dossiers", "score_dossiers_frame",
    "score_frame",
]

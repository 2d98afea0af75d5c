"""Named example households (``personas/<name>.json``), usable wherever a dossier is expected."""

from __future__ import annotations

from pathlib import Path

from profilage.dossier import Dossier, load_dossier
from profilage.errors import DossierError
from profilage.resources import resource_dir


def personas_dir() -> Path:
    return resource_dir("personas")


def available_personas() -> list[str]:
    return sorted(p.stem for p in personas_dir().glob("*.json"))


def load_persona(name: str) -> Dossier:
    """Load a persona by name (``nathalie``, ``abel``...)."""
    path = personas_dir() / f"{name}.json"
    if not path.is_file():
        raise DossierError(f"no dossier file or persona named {name!r}; personas: "
                           + ", ".join(available_personas()))
    return load_dossier(path)


def resolve_dossier(ref: str | Path) -> Dossier:
    """A dossier from a JSON path or a persona name."""
    p = Path(ref)
    if p.suffix.lower() == ".json" or p.exists():
        return load_dossier(p)
    return load_persona(str(ref))

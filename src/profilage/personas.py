"""Named example households (``personas/<name>.json``), usable wherever a dossier is expected."""

from __future__ import annotations

from pathlib import Path

from profilage.dossier import Dossier, load_dossier
from profilage.errors import DossierError
from profilage.resources import resource_dir

#: English names where a persona's French ``nom`` is more than a first name (the pages in English
#: show these; a first name is the same in both languages).
NOMS_EN = {"couple-deux-revenus-stables": "Claire and Marc",
           "nathalie-plus-3-ans": "Nathalie, three years later"}


def persona_label(name: str, lang: str = "fr") -> str:
    """The name a page shows for persona ``name``: its ``nom``, in English where it has one."""
    if lang == "en" and name in NOMS_EN:
        return NOMS_EN[name]
    return load_persona(name).nom or name


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

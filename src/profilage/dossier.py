"""One household ("dossier") as JSON: validation with field paths, and its flat table form.

Any field may be left out when it is not known: the criteria that read it then contribute an
interval. ``"conjoint": null`` says there is no partner (leaving the key out says we don't know);
``"enfants": []`` says there are no children. History dates accept ``"YYYY-MM"``,
``"YYYY-MM-DD"`` or ``"jamais"`` (never happened).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import polars as pl
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from profilage.errors import DossierError
from profilage.features import (
    ACTIVITES,
    DOSSIER_COLUMNS,
    LOGEMENTS,
    NATIONALITES,
    NEVER,
    SITUATIONS,
)

_MONTH = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")


def _parse_date(v: Any, *, allow_never: bool) -> Any:
    if isinstance(v, dt.date) or v is None:
        return v
    if isinstance(v, str):
        if allow_never and v.strip().lower() in ("jamais", "never"):
            return NEVER
        m = _MONTH.match(v.strip())
        if m:
            y, mo, d = int(m[1]), int(m[2]), int(m[3] or 1)
            try:
                return dt.date(y, mo, d)
            except ValueError:
                pass
        raise ValueError(f"expected a date 'YYYY-MM' or 'YYYY-MM-DD', got {v!r}"
                         + (" (or 'jamais')" if allow_never else ""))
    raise ValueError(f"expected a date string, got {type(v).__name__}")


Month = Annotated[dt.date, BeforeValidator(lambda v: _parse_date(v, allow_never=False))]
Event = Annotated[dt.date, BeforeValidator(lambda v: _parse_date(v, allow_never=True))]
Euros = Annotated[float, Field(ge=0, le=1_000_000, allow_inf_nan=False)]
Activite = Literal[ACTIVITES]  # type: ignore[valid-type]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


class Personne(_Strict):
    """The holder (allocataire) or the partner (conjoint)."""

    date_naissance: Month | None = None
    age: Annotated[int, Field(ge=0, le=120)] | None = None
    sexe: Literal["F", "M"] | None = None
    activite: Activite | None = None
    mois_travailles_12m: Annotated[int, Field(ge=0, le=12)] | None = None
    revenu_mensuel: Euros | None = None
    aah: bool | None = None
    esat: bool | None = Field(None, description="Works in a specialised establishment (ESAT).")
    nationalite: Literal[NATIONALITES] | None = Field(  # type: ignore[valid-type]
        None, description="Only the 2010 CNAF model read it (a protected ground).")


class Enfant(_Strict):
    date_naissance: Month | None = None
    age: Annotated[int, Field(ge=0, le=30)] | None = None


class Prestations(_Strict):
    rsa: bool | None = None
    prime_activite: bool | None = None
    aide_logement: bool | None = None
    allocations_familiales: bool | None = None
    montant_rsa: Euros | None = Field(None, description="Monthly amount, euros.")
    montant_aah: Euros | None = None
    montant_prime_activite: Euros | None = None
    montant_aide_logement: Euros | None = None
    montant_allocations_familiales: Euros | None = None


class Logement(_Strict):
    statut: Literal[LOGEMENTS] | None = None  # type: ignore[valid-type]
    loyer_mensuel: Euros | None = None
    qpv: bool | None = None


class Historique(_Strict):
    inscription_caf: Event | None = None
    changement_adresse: Event | None = None
    changement_loyer: Event | None = None
    dernier_contact: Event | None = Field(None, description="Last e-mail or visit to the CAF.")
    separation: Event | None = None
    nb_declarations_12m: Annotated[int, Field(ge=0, le=1000)] | None = None
    nb_controles_passes: Annotated[int, Field(ge=0, le=1000)] | None = None
    baisse_connexions_web: bool | None = None


class C2S(_Strict):
    """Complémentaire santé solidaire: what the CNAM models read."""

    premiere_demande: bool | None = None
    ressources_annuelles: Euros | None = Field(
        None, description="Household resources over the 12 months used for C2S eligibility.")
    pension_invalidite: bool | None = None
    consommation_soins: bool | None = None
    indemnites_journalieres: bool | None = None
    contact_assurance_maladie: bool | None = None


class Dossier(_Strict):
    """One household at a reference month."""

    reference_month: Month
    nom: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=5000)
    household_id: str | None = Field(None, max_length=200)
    allocataire: Personne = Field(default_factory=Personne)
    conjoint: Personne | None = None
    situation_familiale: Literal[SITUATIONS] | None = None  # type: ignore[valid-type]
    enfants: Annotated[list[Enfant], Field(max_length=30)] | None = None
    autres_revenus_mensuels: Euros | None = None
    prestations: Prestations = Field(default_factory=Prestations)
    logement: Logement = Field(default_factory=Logement)
    historique: Historique = Field(default_factory=Historique)
    c2s: C2S = Field(default_factory=C2S)

    def to_row(self) -> dict[str, Any]:
        """The flat dossier row (columns of ``features.DOSSIER_COLUMNS``)."""
        ref = self.reference_month.replace(day=1)
        a = self.allocataire
        has_partner = (self.conjoint is not None) if "conjoint" in self.model_fields_set else None
        c = self.conjoint or Personne()
        children = None
        if self.enfants is not None:
            children = [e.date_naissance or _birth_from_age(ref, e.age) for e in self.enfants]
            if any(d is None for d in children):
                children = None  # a child of unknown age: counts by age band are unknown
        row = {
            "reference_month": ref,
            "alloc_date_naissance": a.date_naissance, "alloc_age": a.age, "alloc_sexe": a.sexe,
            "alloc_activite": a.activite, "alloc_mois_travailles_12m": a.mois_travailles_12m,
            "alloc_revenu_mensuel": a.revenu_mensuel, "alloc_aah": a.aah, "alloc_esat": a.esat,
            "alloc_nationalite": a.nationalite,
            "conjoint": has_partner,
            "conj_date_naissance": c.date_naissance, "conj_age": c.age, "conj_sexe": c.sexe,
            "conj_activite": c.activite, "conj_mois_travailles_12m": c.mois_travailles_12m,
            "conj_revenu_mensuel": c.revenu_mensuel, "conj_aah": c.aah, "conj_esat": c.esat,
            "situation_familiale": self.situation_familiale,
            "enfants_dates_naissance": children,
            "autres_revenus_mensuels": self.autres_revenus_mensuels,
            "rsa": self.prestations.rsa, "prime_activite": self.prestations.prime_activite,
            "aide_logement": self.prestations.aide_logement,
            "allocations_familiales": self.prestations.allocations_familiales,
            **{k: v for k, v in self.prestations.model_dump().items() if k.startswith("montant_")},
            "statut_logement": self.logement.statut, "loyer_mensuel": self.logement.loyer_mensuel,
            "qpv": self.logement.qpv,
            "date_inscription_caf": self.historique.inscription_caf,
            "date_changement_adresse": self.historique.changement_adresse,
            "date_changement_loyer": self.historique.changement_loyer,
            "date_dernier_contact": self.historique.dernier_contact,
            "date_separation": self.historique.separation,
            "nb_declarations_12m": self.historique.nb_declarations_12m,
            "nb_controles_passes": self.historique.nb_controles_passes,
            "baisse_connexions_web": self.historique.baisse_connexions_web,
            **{f"c2s_{k}": v for k, v in self.c2s.model_dump().items()},
        }
        if self.logement.statut in ("proprietaire", "heberge") and row["loyer_mensuel"] is None:
            row["loyer_mensuel"] = 0.0
        return row

    def to_frame(self) -> pl.DataFrame:
        row = self.to_row()
        return pl.DataFrame([row], schema=DOSSIER_COLUMNS)


def _birth_from_age(ref: dt.date, age: int | None) -> dt.date | None:
    if age is None:
        return None
    months = ref.year * 12 + ref.month - 1 - (age * 12 + 6)
    return dt.date(months // 12, months % 12 + 1, 1)


def _path(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out or "(root)"


def _clean_msg(msg: str) -> str:
    return msg.removeprefix("Value error, ")


def parse_dossier(data: Any, *, source: str | None = None) -> Dossier:
    """Validate a parsed JSON object; raise DossierError naming the field path."""
    if not isinstance(data, dict):
        raise DossierError("a dossier must be a JSON object", source=source)
    try:
        d = Dossier.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = tuple(err["loc"])
        msg = _clean_msg(err["msg"])
        if err["type"] == "extra_forbidden":
            msg = "unknown field (check the spelling; see `profilage dossier schema`)"
        elif err["type"] == "missing":
            msg = "required field is missing"
        ctx = {k: v for k, v in (err.get("ctx") or {}).items() if isinstance(v, (int, float, str))}
        raise DossierError(msg, field=_path(loc), source=source, kind=err["type"],
                           ctx=ctx) from None
    _check_dates(d, source)
    couple_status = d.situation_familiale in ("marie", "pacse", "concubinage")
    if couple_status and "conjoint" in d.model_fields_set and d.conjoint is None:
        raise DossierError(f"situation_familiale {d.situation_familiale!r} needs a conjoint "
                           "(give one, or leave conjoint out if unknown)",
                           field="conjoint", source=source, kind="needs_conjoint")
    return d


def _check_dates(d: Dossier, source: str | None) -> None:
    """The reference month within the range every entry point accepts; no birth or event after
    the reference month (an event dated in the future would count as recent)."""
    from profilage.dates import RANGE_TEXT, in_range

    ref = d.reference_month.replace(day=1)
    if not in_range(ref):
        raise DossierError(f"{ref.year:04d}-{ref.month:02d} is outside {RANGE_TEXT}",
                           field="reference_month", source=source, kind="month_range")
    dates: list[tuple[str, dt.date | None]] = [("allocataire.date_naissance",
                                                d.allocataire.date_naissance)]
    if d.conjoint is not None:
        dates.append(("conjoint.date_naissance", d.conjoint.date_naissance))
    dates += [(f"enfants[{i}].date_naissance", e.date_naissance)
              for i, e in enumerate(d.enfants or [])]
    dates += [(f"historique.{k}", getattr(d.historique, k)) for k in
              ("inscription_caf", "changement_adresse", "changement_loyer", "dernier_contact",
               "separation")]
    for field, v in dates:
        if v is not None and v != NEVER and v.replace(day=1) > ref:
            raise DossierError(f"{v.year:04d}-{v.month:02d} is after the reference month "
                               f"{ref:%Y-%m}", field=field, source=source, kind="after_reference")
        if v is not None and v != NEVER and v.year < 1850:
            raise DossierError(f"{v.year:04d}-{v.month:02d} is before 1850", field=field,
                               source=source, kind="before_1850")


def load_dossier(path: str | Path) -> Dossier:
    """Read and validate a dossier JSON file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DossierError("file not found", source=str(p)) from None
    except (OSError, UnicodeDecodeError) as e:
        raise DossierError(f"cannot read: {e}", source=str(p)) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise DossierError(f"invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}",
                           source=str(p)) from None
    except RecursionError:
        raise DossierError("invalid JSON: nested too deeply", source=str(p)) from None
    except ValueError as e:  # an integer of more than 4,300 digits
        raise DossierError(f"invalid JSON: {str(e).splitlines()[0]}", source=str(p)) from None
    return parse_dossier(data, source=str(p))


def dossiers_frame(dossiers: list[Dossier]) -> pl.DataFrame:
    """Many dossiers as one flat frame."""
    return pl.DataFrame([d.to_row() for d in dossiers], schema=DOSSIER_COLUMNS)

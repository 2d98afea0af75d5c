"""User errors in the user's language: the field a 422 names, as the form labels it, and the
message, in French and in English. No internal path or identifier is shown to a person; the
dotted ``field`` stays in the response for programs."""

from __future__ import annotations

from typing import Any

SECTIONS: dict[str, tuple[str, str]] = {
    "allocataire": ("Allocataire", "Beneficiary"), "conjoint": ("Conjoint·e", "Partner"),
    "enfants": ("Enfants", "Children"), "prestations": ("Prestations", "Benefits"),
    "logement": ("Logement", "Housing"), "historique": ("Événements et dossier CAF",
                                                        "Events and CAF file"),
    "c2s": ("Complémentaire santé solidaire", "C2S"),
}

FIELDS: dict[str, tuple[str, str]] = {
    "dossier": ("le dossier", "the dossier"), "model": ("le modèle", "the model"),
    "reference_month": ("mois de référence", "reference month"),
    "nom": ("nom", "name"), "description": ("description", "description"),
    "household_id": ("identifiant du foyer", "household id"),
    "date_naissance": ("date de naissance", "date of birth"), "age": ("âge", "age"),
    "sexe": ("sexe", "sex"), "activite": ("activité", "activity"),
    "mois_travailles_12m": ("mois travaillés sur les 12 derniers", "months worked in the last 12"),
    "revenu_mensuel": ("revenu mensuel", "monthly income"), "aah": ("AAH", "AAH"),
    "esat": ("travail en ESAT", "works in an ESAT"), "nationalite": ("nationalité", "nationality"),
    "situation_familiale": ("situation familiale", "marital situation"),
    "autres_revenus_mensuels": ("autres revenus mensuels du foyer",
                                "other monthly household income"),
    "rsa": ("RSA", "RSA"), "prime_activite": ("prime d'activité", "activity bonus"),
    "aide_logement": ("aide au logement", "housing aid"),
    "allocations_familiales": ("allocations familiales", "family allowances"),
    "montant_rsa": ("montant du RSA", "RSA amount"), "montant_aah": ("montant de l'AAH",
                                                                      "AAH amount"),
    "montant_prime_activite": ("montant de la prime d'activité", "activity bonus amount"),
    "montant_aide_logement": ("montant de l'aide au logement", "housing aid amount"),
    "montant_allocations_familiales": ("montant des allocations familiales",
                                       "family allowances amount"),
    "statut": ("statut du logement", "housing status"),
    "loyer_mensuel": ("loyer mensuel", "monthly rent"),
    "qpv": ("quartier prioritaire (QPV)", "priority neighbourhood (QPV)"),
    "inscription_caf": ("inscription à la CAF", "registration at the CAF"),
    "changement_adresse": ("dernier déménagement", "last move"),
    "changement_loyer": ("dernier changement de loyer", "last rent change"),
    "dernier_contact": ("dernier mail ou visite à la CAF", "last e-mail or visit to the CAF"),
    "separation": ("séparation", "separation"),
    "nb_declarations_12m": ("déclarations sur 12 mois", "declarations in 12 months"),
    "nb_controles_passes": ("contrôles passés", "past controls"),
    "baisse_connexions_web": ("baisse des connexions en ligne", "drop in web logins"),
    "premiere_demande": ("première demande", "first application"),
    "ressources_annuelles": ("ressources annuelles", "annual resources"),
    "pension_invalidite": ("pension d'invalidité", "invalidity pension"),
    "consommation_soins": ("consommation de soins", "care consumption"),
    "indemnites_journalieres": ("indemnités journalières", "daily sickness allowances"),
    "contact_assurance_maladie": ("contact avec l'Assurance Maladie",
                                  "contact with the Assurance Maladie"),
    "households": ("taille de la population", "population size"),
    "seed": ("numéro de tirage", "draw number"), "path": ("fichier de population",
                                                          "population file"),
    "share": ("part des foyers contrôlés", "share of households controlled"),
    "budget_per_month": ("contrôles par mois", "controls a month"),
    "bootstrap": ("réplications", "replications"), "top": ("nombre de pistes", "number of moves"),
}


def field_label(loc: list | tuple) -> tuple[str, str]:
    """``["body", "dossier", "allocataire", "age"]`` -> ("Allocataire — âge", "Beneficiary — age")."""
    parts = [p for p in loc if p not in ("body", "query", "path", "dossier", "population")]
    if not parts:
        last = [p for p in loc if isinstance(p, str)]
        key = last[-1] if last else ""
        pair = FIELDS.get(key, ("la requête", "the request"))
        return pair
    fr: list[str] = []
    en: list[str] = []
    for i, p in enumerate(parts):
        if isinstance(p, int):
            if fr:
                fr[-1] += f" n° {p + 1}"
                en[-1] += f" #{p + 1}"
            continue
        if p == "enfants" and i + 1 < len(parts) and isinstance(parts[i + 1], int):
            fr.append("Enfant")
            en.append("Child")
            continue
        pair = SECTIONS.get(p) if i < len(parts) - 1 or p in ("enfants",) else None
        pair = pair or FIELDS.get(p) or SECTIONS.get(p) or (p.replace("_", " "),) * 2
        fr.append(pair[0])
        en.append(pair[1])
    return " — ".join(fr), " — ".join(en)


def _num(v: Any, lang: str) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    s = f"{v:,}" if isinstance(v, int) else f"{v:,}" if isinstance(v, float) else str(v)
    return s.replace(",", "\u202f").replace(".", ",") if lang == "fr" else s


def localized(kind: str | None, ctx: dict | None, msg: str) -> tuple[str, str]:
    """The message of a pydantic error type (or one of ours) in French and English."""
    ctx = ctx or {}
    k = kind or ""

    def both(fr: str, en: str) -> tuple[str, str]:
        return fr, en

    if k in ("greater_than_equal", "greater_than"):
        v = ctx.get("ge", ctx.get("gt"))
        return both(f"doit être au moins {_num(v, 'fr')}", f"must be at least {_num(v, 'en')}")
    if k in ("less_than_equal", "less_than"):
        v = ctx.get("le", ctx.get("lt"))
        return both(f"doit valoir au plus {_num(v, 'fr')}", f"must be at most {_num(v, 'en')}")
    if k in ("int_parsing", "int_type", "int_from_float"):
        return both("un nombre entier est attendu", "a whole number is expected")
    if k in ("float_parsing", "float_type", "finite_number"):
        return both("un nombre est attendu", "a number is expected")
    if k in ("bool_parsing", "bool_type"):
        return both("oui ou non est attendu", "yes or no is expected")
    if k in ("literal_error", "enum"):
        return both("valeur non reconnue", "value not recognised")
    if k in ("string_type", "string_too_long", "too_long", "list_type", "dict_type",
             "model_type", "model_attributes_type"):
        return both("valeur de forme inattendue", "value of an unexpected form")
    if k in ("missing",):
        return both("champ obligatoire manquant", "required field is missing")
    if k in ("extra_forbidden",):
        return both("champ inconnu (vérifiez l'orthographe)", "unknown field (check the spelling)")
    if k == "needs_conjoint":
        return both("une personne mariée, pacsée ou en concubinage a un·e conjoint·e : "
                    "renseignez-le ou laissez « vit en couple » inconnu",
                    "a married, PACS or cohabiting person has a partner: describe them, or "
                    "leave \"lives with a partner\" unknown")
    if k == "after_reference":
        return both("date postérieure au mois de référence", "date after the reference month")
    if k == "before_1850":
        return both("date antérieure à 1850", "date before 1850")
    if k == "month_range":
        return both("mois hors de la période acceptée (1990-01 à 2100-12)",
                    "month outside the accepted range (1990-01 to 2100-12)")
    if k == "json_invalid":
        return both("le texte envoyé n'est pas du JSON valide", "the text sent is not valid JSON")
    if k == "unknown_model":
        v = ctx.get("value")
        return both("modèle inconnu" + (f" « {v} »" if v else ""),
                    "unknown model" + (f" \"{v}\"" if v else ""))
    if k == "unknown_persona":
        return both("exemple inconnu", "unknown example")
    if k == "not_found":
        return both("introuvable", "not found")
    if "date" in msg and ("YYYY-MM" in msg or "date string" in msg):
        return both("une date AAAA-MM est attendue" + (" (ou « jamais »)" if "jamais" in msg
                                                        else ""),
                    "a date YYYY-MM is expected" + (" (or \"never\")" if "jamais" in msg else ""))
    if k == "value_error" and msg.startswith("must be a dossier"):
        return both("un dossier (objet JSON) ou le nom d'un exemple est attendu",
                    "a dossier (JSON object) or an example's name is expected")
    return both(msg, msg)


def describe(loc: list | tuple, msg: str, kind: str | None = None,
             ctx: dict | None = None) -> dict[str, dict[str, str]]:
    """``{"label": {"fr", "en"}, "message": {"fr", "en"}}`` for one error."""
    lf, le = field_label(loc)
    mf, me = localized(kind, ctx, msg)
    return {"label": {"fr": lf, "en": le}, "message": {"fr": mf, "en": me}}

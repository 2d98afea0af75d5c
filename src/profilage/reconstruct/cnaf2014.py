"""Reconstruction of the CNAF 2014-2020 data-mining model (``cnaf-2014``).

The official coefficient table is not available to this project. This module holds what *is*
public about the model (criteria, modalities, directions, each with where it is known from) and
a small, reproducible constrained fit that chooses coefficients so that the published facts hold:

    minimise  sum_k (beta_k - prior_k)^2          (stay close to modest, sign-only priors)
    subject to
      fact 1  bounded mean score of Nathalie = 0.24 (Le Monde's method, unknown inputs as bounds)
      fact 2  Nathalie three years later scores higher; partner >= 60 raises the score
      fact 3  Abel (AAH, working) scores at least 0.15 above Michel
      fact 4  a couple with two stable incomes scores below 0.7 whatever the rest
              (maximum over every other criterion; epigraph variables keep it linear)
      fact 5  a rent burden above 35 % raises the score (no interaction: rich or poor)
      fact 6  the 8 precarity criteria raise the score of the precarious modality
      fact 7  population level: among a year's controls (the top 1.2 % of scores of a fixed
              synthetic sample), single parents 35-37 % (published 36 % of home controls, 2015
              data) and households below the low-income threshold 65-68 % (published: two
              thirds); see ``fact7``
      + the directions reported by Le Monde and, outside the source documents, La Quadrature du
        Net, WIRED and faire-face.fr.

There is no direct single-parent criterion: seed 003 says single-parent families are harmed
"indirectement" (months of activity: under 15 a year is penalised and a single adult cannot
exceed 12). Fact 7 has to come from the criteria the sources describe (months of activity,
income per consumption unit, RSA, children aged 12-18, rent burden, AAH...).

Reference modalities are fixed at 0 (the usual normalisation of a one-hot logistic model).
Run ``python -m profilage.reconstruct.cnaf2014`` to rewrite ``models/cnaf-2014.toml``.
``extra_constraints`` adds further constraints to the same fit. The published figures come from
:mod:`profilage.facts.published`, the checks from :mod:`profilage.facts`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tomli_w

from profilage.engine import bounded_mean
from profilage.facts.published import (
    ABEL_MICHEL_GAP,
    LE_MONDE,
    NATHALIE_SCORE,
    OUTSIDE,
    STABLE_COUPLE_MAX_SCORE,
)
from profilage.models import MODELS_DIR

LM = LE_MONDE
LM_SIM = "Le Monde, étiquette du simulateur (seed 003, module-simulation)"
LQDN = "La Quadrature du Net, 27 nov. 2023"
PRESS = f"La Quadrature du Net, WIRED, faire-face.fr (2023-2024) : {OUTSIDE}"
FIT = "profilage.reconstruct.cnaf2014 (ajustement sous contraintes, non officiel)"
MODEL_ID = "cnaf-2014"


@dataclass
class M:
    id: str
    match: dict
    fr: str
    en: str
    prior: float = 0.0
    ref: bool = False
    label_source: str = ""


@dataclass
class C:
    id: str
    feature: str
    fr: str
    en: str
    modalities: list[M]
    known_from: str
    direction: str = "non publiée"
    ground: str | None = None
    precarity: str | None = None
    presence: str | None = None
    # (higher, lower, margin): beta[higher] >= beta[lower] + margin; "ref" is the 0 modality
    order: list[tuple[str, str, float]] = field(default_factory=list)


def _b(lo: float | None, hi: float | None) -> dict:
    d = {}
    if lo is not None:
        d["min"] = lo
    if hi is not None:
        d["max"] = hi
    return d


T, F = {"value": True}, {"value": False}

CRITERIA: list[C] = [
    C("age_allocataire", "age_allocataire", "Âge de l'allocataire", "Age of the beneficiary", [
        M("moins_25", _b(None, 25), "Moins de 25 ans", "Under 25", 0.3),
        M("25_34", _b(25, 35), "De 25 à 34 ans", "25 to 34", 0.2),
        M("35_59", _b(35, 60), "Entre 35 et 60 ans", "35 to 59", ref=True, label_source=LM_SIM),
        M("60_plus", _b(60, None), "60 ans et plus", "60 and over", -0.2),
    ], known_from=f"{LM} (« l'âge » parmi les critères protégés utilisés) ; {LM_SIM} (« Plus de "
        "34 ans », « Entre 35 et 60 ans »)",
        direction="non publiée ; découpage des autres tranches choisi par nous", ground="age"),
    C("age_conjoint", "age_conjoint", "Âge du conjoint", "Partner's age", [
        M("sans_conjoint", {"absent": True}, "Sans conjoint", "No partner", 0.0),
        M("moins_60", _b(None, 60), "Conjoint de moins de 60 ans", "Partner under 60", ref=True,
          label_source=LM_SIM),
        M("60_plus", _b(60, None), "Conjoint de 60 ans ou plus", "Partner 60 or over", 0.5),
    ], known_from=LM, direction="le score augmente quand le conjoint atteint 60 ans (fait 2, "
        "seed 003)", ground="age", presence="a_conjoint", order=[("60_plus", "ref", 0.25)]),
    C("situation_familiale", "situation_familiale", "Situation familiale", "Marital situation", [
        M("marie", {"value": "marie"}, "Marié·e", "Married", ref=True, label_source=LM_SIM),
        M("pacse", {"value": "pacse"}, "Pacsé·e", "Civil partnership (PACS)", -0.3),
        M("concubinage", {"value": "concubinage"}, "En concubinage", "Cohabiting", 0.1),
        M("celibataire", {"value": "celibataire"}, "Célibataire", "Single", 0.1),
        M("divorce", {"value": "divorce"}, "Divorcé·e", "Divorced", 0.2, label_source=LM_SIM),
        M("separe", {"value": "separe"}, "Séparé·e", "Separated", 0.3),
        M("veuf", {"value": "veuf"}, "Veuf·ve", "Widowed", 0.0),
    ], known_from=LM, direction="PACS plus bas que mariage ou concubinage (seed 003) ; autres "
        "modalités : non publiées", ground="family_situation",
        order=[("ref", "pacse", 0.1), ("concubinage", "pacse", 0.1)]),
    C("separation_recente", "mois_depuis_separation", "Séparation ou divorce depuis moins de 18 mois",
      "Separated or divorced less than 18 months ago", [
          M("moins_18_mois", _b(None, 18), "Séparation depuis moins de 18 mois",
            "Separated less than 18 months ago", 0.5),
          M("pas_recente", _b(18, None), "Pas de séparation récente", "No recent separation",
            ref=True),
      ], known_from=PRESS, direction=f"augmente ({PRESS})", ground="family_situation",
        order=[("moins_18_mois", "ref", 0.2)]),
    C("handicap_aah", "aah", "Handicap (AAH)", "Disability (AAH)", [
        M("valide", F, "Valide", "No AAH", ref=True, label_source=LM_SIM),
        M("touche_aah", T, "Touche l'AAH", "Receives AAH", 0.4, label_source=LM_SIM),
    ], known_from=f"{LM} (« L'algorithme cible aussi les personnes handicapées ») ; {LM_SIM}",
        direction="l'AAH augmente le score (fait 3, seed 003)", ground="disability",
        order=[("touche_aah", "ref", 0.2)]),
    C("aah_en_activite", "aah_activite_hors_esat", "AAH et activité hors établissement spécialisé",
      "AAH while working outside a specialised establishment", [
          M("non", F, "Non", "No", ref=True),
          M("oui", T, "Travaille en touchant l'AAH (hors ESAT)", "Works while on AAH (not ESAT)",
            1.0),
      ], known_from=f"{LM} (« travailler tout en bénéficiant de l'AAH [...] considéré comme "
        "suspect (sauf si c'est en établissement spécialisé) »)",
        direction="augmente fortement (fait 3, seed 003)", ground="disability",
        order=[("oui", "ref", 0.5)]),
    C("activite_allocataire", "activite_allocataire", "Activité de l'allocataire",
      "Holder's activity", [
          M("salarie", {"value": "salarie"}, "En activité salariée", "Salaried", ref=True,
            label_source=LM_SIM),
          M("independant", {"value": "independant"}, "Travailleur·se indépendant·e",
            "Self-employed", 0.2),
          M("chomage", {"value": "chomage"}, "Au chômage", "Unemployed", 0.4),
          M("etudiant", {"value": "etudiant"}, "Étudiant·e", "Student", 0.1),
          M("inactif", {"value": "inactif"}, "Sans activité", "Inactive", 0.3),
          M("retraite", {"value": "retraite"}, "Retraité·e", "Retired", -0.2),
      ], known_from=f"{LM_SIM} (« En activité salariée ») ; {LM} (« activité professionnelle "
        "irrégulière » parmi les critères qui majorent le score)",
        direction=f"le chômage augmente le score ({PRESS})", precarity="direct",
        order=[("chomage", "ref", 0.2)]),
    C("mois_activite_foyer", "mois_activite_foyer", "Mois d'activité du foyer sur la dernière année",
      "Household months of activity over the last year", [
          M("moins_6", _b(None, 6), "Moins de 6 mois d'activité", "Under 6 months", 0.6),
          M("6_14", _b(6, 15), "De 6 à 14 mois d'activité (dont « 12 mois »)",
            "6 to 14 months (incl. '12 months')", 0.4, label_source=LM_SIM),
          M("15_23", _b(15, 24), "De 15 à 23 mois d'activité", "15 to 23 months", 0.1),
          M("24", _b(24, None), "24 mois d'activité sur la dernière année", "24 months", ref=True,
            label_source=LM_SIM),
      ], known_from=f"{LM} (« l'algorithme pénalise les foyers qui travaillent moins de quinze "
        "mois sur l'année. Or, une personne seule ne peut dépasser ce seuil. Les familles "
        "monoparentales sont donc indirectement lésées ») ; " + LM_SIM,
        direction="moins de 15 mois augmente le score (seed 003) ; seuil de 6 mois : choisi par "
        "nous", precarity="direct",
        order=[("6_14", "ref", 0.2), ("6_14", "15_23", 0.1), ("moins_6", "6_14", 0.0),
               ("15_23", "ref", 0.0)]),
    C("revenu_par_uc", "revenu_par_uc", "Revenu ajusté par unité de consommation",
      "Adjusted income per consumption unit", [
          M("moins_577", _b(None, 577), "Revenu ajusté de moins de 577 euros par unité de "
            "consommation", "Under 577 euros per unit", 0.9),
          M("577_942", _b(577, 942), "Revenu ajusté de 577 à 942 euros par unité de consommation",
            "577 to 942 euros per unit", 0.7,
            label_source=f"{LM_SIM} : « Revenu ajusté de plus de 577 euros par personne »"),
          M("942_1484", _b(942, 1484), "Revenu ajusté de 942 à 1 484 euros par unité de "
            "consommation", "942 to 1,484 euros per unit", 0.2,
            label_source=f"{LM_SIM} : « Revenu ajusté de plus de 942 euros par personne »"),
          M("1484_plus", _b(1484, None), "Revenu ajusté de plus de 1 484 euros par unité de "
            "consommation", "Over 1,484 euros per unit", ref=True,
            label_source=f"{LM_SIM} : « Revenu ajusté de plus de 1484 euros par personne »"),
      ], known_from=f"{LM_SIM} (seuils 577, 942 et 1484 euros, « par personne » dans le "
        "simulateur ; calculé ici par unité de consommation CAF, notre lecture de « revenu "
        "ajusté ») ; " + LM + " (« critères de ressources, qui pèsent lourdement »)",
        direction="un revenu plus bas augmente le score (seed 003 : critères qui majorent le "
        f"score des bénéficiaires pauvres) ; « moins de 942 euros » : {OUTSIDE}",
        precarity="direct",
        order=[("577_942", "942_1484", 0.2), ("moins_577", "577_942", 0.0),
               ("942_1484", "ref", 0.0)]),
    C("revenus_stables", "revenus_stables_importants", "Revenus stables et importants",
      "Stable and high income", [
          M("non", F, "Revenus pas à la fois stables et importants", "Not both stable and high",
            ref=True),
          M("oui", T, "Revenus stables et importants", "Stable and high income", -1.5,
            label_source=LM_SIM),
      ], known_from=f"{LM} (« un couple avec deux revenus stables n'a presque aucune chance "
        "d'être contrôlé ») ; " + LM_SIM,
        direction="diminue fortement (fait 4, seed 003)", precarity="direct",
        order=[("ref", "oui", 1.0)]),
    C("minima_sociaux", "rsa", "Minima sociaux (RSA)", "Minimum social benefits (RSA)", [
        M("pas_minima", F, "Pas de minima sociaux", "No minimum benefit", ref=True,
          label_source=LM_SIM),
        M("rsa", T, "Touche le RSA", "Receives RSA", 0.5),
    ], known_from=LM_SIM + " (« Pas de minima sociaux »)",
        direction=f"le RSA augmente le score ({PRESS})", precarity="direct",
        order=[("rsa", "ref", 0.2)]),
    C("enfants_12_18", "nb_enfants_12_18", "Enfants de 12 à 18 ans", "Children aged 12 to 18", [
        M("aucun", _b(None, 1), "Pas d'enfant de 12 à 18 ans", "None aged 12-18", ref=True),
        M("au_moins_un", _b(1, None), "Enfants de 12 à 18 ans", "Children aged 12-18", 0.3,
          label_source=LM_SIM),
    ], known_from=LM_SIM, direction=f"un enfant de plus de 12 ans augmente le score ({LQDN} : "
        f"{OUTSIDE})", ground="family_situation", order=[("au_moins_un", "ref", 0.1)]),
    C("enfants_moins_12", "nb_enfants_moins_12", "Enfants de moins de 12 ans", "Children under 12",
      [
          M("aucun", _b(None, 1), "Pas d'enfant de moins de 12 ans", "None under 12", ref=True),
          M("au_moins_un", _b(1, None), "Enfants de moins de 12 ans", "Children under 12", 0.0,
            label_source=LM_SIM),
      ], known_from=LM_SIM, ground="family_situation"),
    C("enfant_19_plus", "nb_enfants_19_plus", "Enfant de 19 ans ou plus au foyer",
      "Child aged 19 or more in the household", [
          M("aucun", _b(None, 1), "Pas d'enfant de 19 ans ou plus", "None aged 19+", ref=True),
          M("au_moins_un", _b(1, None), "Enfant de 19 ans ou plus au foyer", "Child aged 19+",
            0.2),
      ], known_from=f"{LQDN} : {OUTSIDE}", direction="augmente (source faible)",
        ground="family_situation", order=[("au_moins_un", "ref", 0.05)]),
    C("anciennete_caf", "mois_depuis_inscription", "Ancienneté à la CAF",
      "Time registered at the CAF", [
          M("moins_2_ans", _b(None, 24), "Inscrit·e à la CAF depuis moins de 2 ans",
            "Registered under 2 years", 0.3),
          M("2_4_ans", _b(24, 48), "Inscrit·e depuis 2 à 4 ans", "Registered 2 to 4 years", 0.15),
          M("plus_4_ans", _b(48, None), "Inscrit·e à la CAF depuis plus de 4 ans",
            "Registered over 4 years", ref=True,
            label_source=f"{LM_SIM} : « Inscrite à la CAF depuis plus de 4 ans »"),
      ], known_from=LM_SIM),
    C("changement_adresse", "mois_depuis_changement_adresse", "Changement d'adresse récent",
      "Recent address change", [
          M("recent", _b(None, 12), "Changement d'adresse dans les 12 derniers mois",
            "Moved in the last 12 months", 0.4),
          M("pas_recent", _b(12, None), "Pas de changement d'adresse", "No recent move", ref=True,
            label_source=LM_SIM),
      ], known_from=f"{LM_SIM} (« Pas de changement d'adresse ») ; {LM} (« Ils n'ont pas "
        "déménagé récemment », parmi les critères qui influencent le score de Nathalie)",
        direction=f"déménager augmente le score ({PRESS})", ground="residence",
        order=[("recent", "ref", 0.2)]),
    C("changement_loyer", "mois_depuis_changement_loyer", "Changement de loyer récent",
      "Recent rent change", [
          M("recent", _b(None, 12), "Changement de loyer dans les 12 derniers mois",
            "Rent changed in the last 12 months", 0.3),
          M("pas_recent", _b(12, None), "Pas de changement de loyer", "No rent change", ref=True,
            label_source=LM_SIM),
      ], known_from=LM_SIM, direction=f"des changements fréquents augmentent le score ({PRESS})",
        order=[("recent", "ref", 0.05)]),
    C("dernier_contact", "mois_depuis_dernier_contact", "Dernier mail ou visite à la CAF",
      "Last e-mail or visit to the CAF", [
          M("moins_4_mois", _b(None, 4), "Contact avec la CAF il y a moins de 4 mois",
            "Contact less than 4 months ago", 0.3),
          M("plus_4_mois", _b(4, None), "Mail à la CAF il y a plus de 4 mois",
            "E-mail over 4 months ago", ref=True, label_source=LM_SIM),
      ], known_from=LM_SIM, direction=f"des contacts nombreux augmentent le score ({PRESS})",
        order=[("moins_4_mois", "ref", 0.05)]),
    C("nb_declarations", "nb_declarations_12m", "Déclarations sur le dossier (12 mois)",
      "Declarations on the file (12 months)", [
          M("aucune", _b(None, 1), "Aucune déclaration", "None", ref=True),
          M("1_3", _b(1, 4), "1 à 3 déclarations", "1 to 3", 0.15),
          M("4_plus", _b(4, None), "4 déclarations ou plus (ex. trimestrielles RSA/AAH)",
            "4 or more (e.g. quarterly RSA/AAH)", 0.4),
      ], known_from=f"{LM} (« le fait de multiplier les déclarations sur le même dossier est "
        "considéré comme suspect »)", direction="plus de déclarations augmentent le score "
        "(indirect : exigées pour le RSA et l'AAH ; seed 003) ; découpage choisi par nous",
        precarity="indirect", order=[("4_plus", "1_3", 0.05), ("1_3", "ref", 0.0)]),
    C("connexions_web", "baisse_connexions_web", "Baisse des connexions à l'espace en ligne",
      "Drop in web connections", [
          M("non", F, "Pas de baisse", "No drop", ref=True),
          M("oui", T, "Baisse des connexions", "Fewer logins", 0.3),
      ], known_from=PRESS, direction=f"une baisse augmente le score ({PRESS})",
        order=[("oui", "ref", 0.05)]),
    C("taux_effort", "taux_effort", "Taux d'effort (part du revenu consacrée au loyer)",
      "Rent burden (share of income spent on rent)", [
          M("jusqu_35", _b(None, 0.35), "Loyer de moins de 35 % des revenus", "Under 35 %",
            ref=True),
          M("plus_35", _b(0.35, None), "Loyer de plus de 35 % des revenus", "Over 35 %", 0.4),
      ], known_from=f"{LM} (« tous les foyers qui consacrent plus de 35 % de leurs revenus à "
        "leur loyer sont jugés suspects – qu'ils soient riches ou pauvres »)",
        direction="augmente, riche ou pauvre (fait 5, seed 003)", precarity="indirect",
        order=[("plus_35", "ref", 0.2)]),
    C("quartier_prioritaire", "qpv", "Quartier prioritaire (QPV)", "Priority neighbourhood (QPV)", [
        M("non", F, "Hors quartier prioritaire", "Not in a QPV", ref=True),
        M("oui", T, "Habite un quartier prioritaire", "Lives in a QPV", 0.3),
    ], known_from=f"{LM} cite seulement « le lieu de résidence » parmi les critères protégés "
        f"utilisés ; le critère QPV lui-même : {PRESS}", direction=f"augmente ({PRESS})",
        ground="residence", precarity="indirect", order=[("oui", "ref", 0.05)]),
    C("controles_passes", "nb_controles_passes", "Contrôles passés", "Past controls", [
        M("jamais", _b(None, 1), "Jamais contrôlé·e auparavant", "Never controlled", ref=True,
          label_source=f"{LM_SIM} : « Jamais contrôlé auparavant »"),
        M("deja", _b(1, None), "Déjà contrôlé·e", "Controlled before", 0.2),
    ], known_from=LM_SIM),
]

REDACTED = [
    {"id": f"variable_occultee_{i}", "label_fr": f"Variable occultée n° {i}",
     "label_en": f"Redacted variable no. {i}", "redacted": True, "status": "redacted",
     "source": "CNAF, code source transmis à Le Monde et à La Quadrature du Net : trois variables "
               "de la version 2014-2020 occultées sans explication (seed 003, méthodologie)"}
    for i in (1, 2, 3)
]

INTERCEPT_PRIOR = -1.0

# Fact 4: "a couple with two stable incomes" restricts these criteria; every other is free.
FACT4_RESTRICT = {
    "revenus_stables": ["oui"],
    "age_conjoint": ["moins_60", "60_plus"],
    "situation_familiale": ["marie", "pacse", "concubinage"],
    "activite_allocataire": ["salarie", "independant"],
    "mois_activite_foyer": ["24"],
    "revenu_par_uc": ["942_1484", "1484_plus"],
    "minima_sociaux": ["pas_minima"],
}
# "Almost no chance of being controlled": below 0.7 here; the audit checks it against the
# national selection cut-off of the control budget (fact 7 step).
FACT4_MAX_SCORE = STABLE_COUPLE_MAX_SCORE
FACT1_SCORE = NATHALIE_SCORE
FACT3_GAP = ABEL_MICHEL_GAP
FACT2_GAP = 0.03  # a margin of the fit (the check asks only for a rise)


class Problem:
    """Parameters: intercept, every non-reference modality, then fact-4 epigraph variables."""

    def __init__(self) -> None:
        self.keys: list[tuple[str, str]] = []
        for c in CRITERIA:
            for m in c.modalities:
                if not m.ref:
                    self.keys.append((c.id, m.id))
        self.pos = {k: i + 1 for i, k in enumerate(self.keys)}
        self.n_beta = 1 + len(self.keys)
        self.n = self.n_beta + len(CRITERIA)  # one epigraph variable per criterion (fact 4)
        self.prior = np.array([INTERCEPT_PRIOR] + [self._m(*k).prior for k in self.keys])

    @staticmethod
    def _c(cid: str) -> C:
        return next(c for c in CRITERIA if c.id == cid)

    def _m(self, cid: str, mid: str) -> M:
        return next(m for m in self._c(cid).modalities if m.id == mid)

    def beta(self, x: np.ndarray, cid: str, mid: str) -> float:
        if mid == "ref":
            return 0.0
        m = self._m(cid, mid)
        return 0.0 if m.ref else x[self.pos[(cid, mid)]]

    def coefs(self, x: np.ndarray, cid: str) -> list[float]:
        return [self.beta(x, cid, m.id) for m in self._c(cid).modalities]

    def bounds(self, x: np.ndarray, matched: dict[str, str | None]) -> tuple[float, float]:
        """Logit bounds of a household given its matched modality per criterion (None: unknown)."""
        lo = hi = x[0]
        for c in CRITERIA:
            mid = matched.get(c.id)
            if mid is None:
                cs = self.coefs(x, c.id)
                lo, hi = lo + min(cs), hi + max(cs)
            else:
                b = self.beta(x, c.id, mid)
                lo, hi = lo + b, hi + b
        return lo, hi

    def score(self, x: np.ndarray, matched: dict[str, str | None]) -> float:
        return bounded_mean(*self.bounds(x, matched))


def _matched_modalities(toml_path: Path, personas: list[str]) -> dict[str, dict[str, str | None]]:
    """Which modality each persona matches, read with the real features and engine."""
    import polars as pl

    from profilage.dossier import dossiers_frame
    from profilage.engine import compile_model
    from profilage.features import derive_features
    from profilage.models import load_model_file
    from profilage.personas import load_persona

    model = load_model_file(toml_path)
    frame = dossiers_frame([load_persona(p) for p in personas])
    scored = compile_model(model).score(derive_features(frame), contributions=True).collect()
    out: dict[str, dict[str, str | None]] = {}
    for i, name in enumerate(personas):
        row = scored.row(i, named=True)
        out[name] = {}
        for c in model.criteria:
            idx = row[f"m__{c.id}"]
            out[name][c.id] = None if idx is None else c.modalities[idx].id
    del pl
    return out


def build_constraints(p: Problem, matched: dict, extra: list[dict] | None = None) -> list[dict]:
    cons: list[dict] = []

    def ineq(f: Callable[[np.ndarray], float]) -> None:
        cons.append({"type": "ineq", "fun": f})

    # Directions from the sources, and facts 5 and 6 (taux_effort, precarity criteria).
    for c in CRITERIA:
        for hi_m, lo_m, margin in c.order:
            ineq(lambda x, c=c, a=hi_m, b=lo_m, g=margin: p.beta(x, c.id, a) - p.beta(x, c.id, b)
                 - g)
    # Fact 1: Nathalie's bounded mean is 0.24.
    cons.append({"type": "eq", "fun": lambda x: p.score(x, matched["nathalie"]) - FACT1_SCORE})
    # Fact 2: three years later, Nathalie scores higher.
    ineq(lambda x: p.score(x, matched["nathalie-plus-3-ans"]) - p.score(x, matched["nathalie"])
         - FACT2_GAP)
    # Fact 3: Abel well above Michel.
    ineq(lambda x: p.score(x, matched["abel"]) - p.score(x, matched["michel"]) - FACT3_GAP)
    # Fact 4: t_c >= beta of every allowed modality; intercept + sum t_c <= logit(max score).
    for j, c in enumerate(CRITERIA):
        allowed = FACT4_RESTRICT.get(c.id, [m.id for m in c.modalities])
        for mid in allowed:
            ineq(lambda x, j=j, c=c, mid=mid: x[p.n_beta + j] - p.beta(x, c.id, mid))
    limit = math.log(FACT4_MAX_SCORE / (1 - FACT4_MAX_SCORE)) - 0.05
    ineq(lambda x: limit - x[0] - x[p.n_beta:].sum())
    cons.extend(extra or [])
    return cons


def fit(extra_constraints: list[dict] | None = None, *, toml_path: Path | None = None,
        fact7: bool = True) -> tuple[Problem, np.ndarray, dict]:
    """Run the constrained fit; returns the problem, the solution and the personas' modalities.

    ``fact7`` adds the population-level constraints of :mod:`profilage.reconstruct.fact7`.
    """
    from scipy.optimize import minimize

    p = Problem()
    if fact7:
        from profilage.reconstruct.fact7 import Fact7

        extra_constraints = Fact7(p).constraints() + list(extra_constraints or [])
    path = toml_path or MODELS_DIR / f"{MODEL_ID}.toml"
    if not path.exists():
        write_model(p, np.concatenate([p.prior, np.zeros(len(CRITERIA))]), path, fitted=False)
    matched = _matched_modalities(path, ["nathalie", "nathalie-plus-3-ans", "michel", "abel"])
    x0 = np.concatenate([p.prior, np.full(len(CRITERIA), 1.0)])

    def objective(x: np.ndarray) -> float:
        return float(((x[:p.n_beta] - p.prior) ** 2).sum() + 1e-6 * (x[p.n_beta:] ** 2).sum())

    res = minimize(objective, x0, method="SLSQP", constraints=build_constraints(
        p, matched, extra_constraints), options={"maxiter": 1000, "ftol": 1e-12})
    if not res.success:
        raise RuntimeError(f"reconstruction fit failed: {res.message}")
    return p, res.x, matched


def _facts_for(c: C, m: M, matched: dict) -> list[str]:
    facts = []
    nat = matched.get("nathalie", {})
    if nat.get(c.id) == m.id or (nat.get(c.id, "x") is None):
        facts.append("1")
    if c.id in ("age_conjoint", "enfants_12_18", "enfant_19_plus"):
        facts.append("2")
    if c.id in ("handicap_aah", "aah_en_activite"):
        facts.append("3")
    facts.append("4")
    if c.id == "taux_effort":
        facts.append("5")
    if c.precarity:
        facts.append("6")
    facts.append("7")
    return facts


def write_model(p: Problem, x: np.ndarray, path: Path, *, fitted: bool = True,
                matched: dict | None = None) -> None:
    matched = matched or {}
    criteria = []
    for c in CRITERIA:
        mods = []
        for m in c.modalities:
            value = 0.0 if m.ref else round(float(x[p.pos[(c.id, m.id)]]), 4) + 0.0
            if m.ref:
                src = (f"modalité de référence, coefficient fixé à 0 (normalisation) — {FIT}")
            else:
                facts = ", ".join(_facts_for(c, m, matched))
                src = (f"{FIT} ; contraint par les faits publiés {facts} (sources.md §1) ; "
                       f"direction : {c.direction}")
            if m.label_source:
                src += f" ; libellé : {m.label_source}"
            mods.append({"id": m.id, "label_fr": m.fr, "label_en": m.en, **m.match,
                         "coefficient": value, "status": "reconstructed", "source": src})
        entry = {"id": c.id, "label_fr": c.fr, "label_en": c.en, "feature": c.feature}
        if c.presence:
            entry["presence"] = c.presence
        if c.ground:
            entry["protected_ground"] = c.ground
        if c.precarity:
            entry["precarity"] = c.precarity
        entry["notes"] = f"Critère connu par : {c.known_from}. Direction : {c.direction}."
        entry["modalities"] = mods
        criteria.append(entry)
    criteria.extend(REDACTED)
    doc = {
        "id": MODEL_ID,
        "title": "CNAF — data mining données entrantes (DMDE), version 2014-2020",
        "title_en": "CNAF incoming-data data-mining model (DMDE), 2014-2020 version",
        "institution": "CNAF",
        "years_in_use": [2014, 2020],
        "target": "indu (trop-perçu) constaté lors d'un contrôle / an overpayment found by a control",
        "notes": (
            "RECONSTRUCTION, PAS LES COEFFICIENTS OFFICIELS. La table officielle (publiée par La Quadrature "
            "du Net et intégrée au simulateur du Monde) n'est pas disponible pour ce projet. Les critères et "
            "modalités publics sont ceux de sources.md §1 ; chaque critère dit d'où il est connu (« seed 003 "
            "» seulement quand l'article du Monde le dit ; sinon « hors des documents sources (presse), non "
            "vérifié ici »). La version officielle comptait 36 critères, dont 3 occultés par la CNAF ; seuls "
            "les critères publics figurent ici. Pas de critère « parent isolé » direct : selon Le Monde (seed"
            " 003), les familles monoparentales sont « indirectement lésées » (moins de 15 mois d'activité "
            "par an pénalisés, une personne seule ne pouvant dépasser 12). Les coefficients sont choisis par "
            "un ajustement reproductible (python -m profilage.reconstruct.cnaf2014) pour que les faits "
            "publiés 1 à 7 soient vrais (le fait 7, au niveau de la population, sur un échantillon "
            "synthétique fixe : voir profilage.reconstruct.fact7 ; les chiffres publiés portent sur les "
            "contrôles à domicile, données 2015). Les définitions de « revenus stables et importants », du "
            "revenu ajusté (par unité de consommation) et du taux d'effort sont les nôtres (voir "
            "profilage.features)."),
        "facts": ["1", "2", "3", "4", "5", "6", "7"],
        "intercept": {"value": round(float(x[0]), 4), "status": "reconstructed",
                      "source": f"{FIT} ; fixé surtout par les faits 1 (Nathalie, 0,24), 4 et 7"
                      if fitted else "valeur initiale (a priori) avant ajustement"},
        "criteria": criteria,
    }
    path.write_text(
        "# Generated by `python -m profilage.reconstruct.cnaf2014`: edit the module, not this file.\n"
        "# RECONSTRUCTED coefficients (not official): see 'notes' and each coefficient's source.\n"
        + tomli_w.dumps(doc), encoding="utf-8")


def main() -> None:
    path = MODELS_DIR / f"{MODEL_ID}.toml"
    p, x, matched = fit(toml_path=path)
    write_model(p, x, path, matched=matched)
    print(f"wrote {path}")
    print(f"intercept {x[0]:.4f}")
    for k in p.keys:
        print(f"  {k[0]:<24} {k[1]:<16} {x[p.pos[k]]:+.4f}")
    for name, mt in matched.items():
        print(f"{name:<22} fitted score {p.score(x, mt):.4f}")


if __name__ == "__main__":
    main()

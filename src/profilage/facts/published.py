"""The published figures the facts are checked against, and the thresholds of our reading.

One place for the numbers: the fact checks (:mod:`profilage.facts`) and the fits that satisfy
them (:mod:`profilage.reconstruct`) both import them from here; nothing here depends on a model
or on the fitting code. Each constant says where it is known from (sources.md sections 1-3).
"""

from __future__ import annotations

#: Source labels. "seed 003" / "seed 000" only for what those documents say.
LE_MONDE = "Le Monde & Lighthouse Reports, 4 déc. 2023 (seed 003)"
LQDN_C2S = "La Quadrature du Net, 5 déc. 2024 (seed 000)"
OUTSIDE = "hors des documents sources (presse), non vérifié ici"
CNAF_2026 = ("CNAF, « Modèle de datamining données entrantes », caf.fr, 15 janv. 2026 (hors des "
             "documents sources, non vérifié ici)")

# --- cnaf-2014, facts 1-6 (seed 003) ----------------------------------------------------------
#: Fact 1: Nathalie's score (Le Monde's mean of the sigmoid between the bounds).
NATHALIE_SCORE = 0.24
NATHALIE_TOLERANCE = 0.0005
#: Fact 3: "bien supérieur" read as at least 0.15 above Michel (our reading).
ABEL_MICHEL_GAP = 0.15
#: Fact 4: "almost no chance of being controlled" read as a worst case below 0.7 (our reading).
STABLE_COUPLE_MAX_SCORE = 0.7
#: Fact 5: the rent-burden threshold (seed 003: "plus de 35 % de leurs revenus").
RENT_BURDEN_THRESHOLD = 0.35
#: Fact 6: "au moins sept des trente-six critères", "cinq critères ... directement".
PRECARITY_CRITERIA_MIN, PRECARITY_DIRECT_MIN = 7, 5
#: Fact 4's "couple with two stable incomes", as model inputs (every other input unknown).
STABLE_COUPLE_INPUTS = {"revenus_stables_importants": True, "a_conjoint": True,
                        "activite_allocataire": "salarie", "mois_activite_foyer": 24,
                        "revenu_par_uc": 1200.0, "rsa": False, "parent_isole": False}
STABLE_COUPLE_SITUATIONS = ("marie", "pacse", "concubinage")
STABLE_COUPLE_PARTNER_AGES = (40, 65)

# --- cnaf-2014, fact 7 (seed 003) --------------------------------------------------------------
#: Single-parent families: 16 % of beneficiary households, 36 % of home controls; "deux tiers
#: de ces contrôles visent les foyers les plus précaires" (read as below the CNAF low-income
#: threshold). Le Monde's figures are about HOME controls, from "les rares données publiques,
#: qui datent de 2015" -- not about the 2024 data-mining budget we select with.
SINGLE_PARENTS_HOUSEHOLDS = 0.16
SINGLE_PARENTS_CONTROLS = 0.36
LOW_INCOME_CONTROLS = 2 / 3
#: Accepted bands of the check (our tolerance: the published figures are rounded, 2015 data).
SINGLE_PARENTS_TOLERANCE, LOW_INCOME_TOLERANCE = 0.04, 0.05
#: A year's controls: the CNAF's ~166,000 data-mining controls (2024) for 13.8 M households.
ANNUAL_SHARE = 166_000 / 13_800_000
FACT7_SCOPE = ("chiffres publiés : contrôles à domicile (données 2015 du graphique du Monde), "
               "comparés ici aux 1,2 % de foyers du budget de contrôles du data mining de 2024")

# --- CNAM C2SG (seed 000) ----------------------------------------------------------------------
#: The CNAM's "profil-type du fraudeur", as model inputs: a first application by a woman over
#: 25 with more than one adult and at least one minor in the household.
PROFIL_TYPE = {"sexe_allocataire": "F", "age_allocataire": 32, "plus_d_un_adulte": True,
               "au_moins_un_mineur": True, "premiere_demande": True}

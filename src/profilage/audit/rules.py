"""Business rules a household's model inputs must satisfy: a counterfactual copy or an
archetype that breaks one is impossible (e.g. a partner's age without a partner) and is left
out, as Lighthouse Reports' experiments drop rows that break the rules.

Each rule is a Polars condition over feature columns; a null (unknown) never breaks a rule.
"""

from __future__ import annotations

import polars as pl

from profilage.features import SEUIL_REVENUS_IMPORTANTS

COUPLE_SITUATIONS = ["marie", "pacse", "concubinage"]

#: (id, French description, columns it reads, condition that must hold)
RULES: list[tuple[str, str, tuple[str, ...], pl.Expr]] = [
    ("age_conjoint_sans_conjoint", "un âge de conjoint suppose un conjoint",
     ("a_conjoint", "age_conjoint"), pl.col("a_conjoint") | pl.col("age_conjoint").is_null()),
    ("conjoint_sans_age", "un conjoint a un âge", ("a_conjoint", "age_conjoint"),
     ~pl.col("a_conjoint") | pl.col("age_conjoint").is_not_null()),
    ("situation_et_conjoint", "marié·e, pacsé·e ou en concubinage si et seulement si en couple",
     ("a_conjoint", "situation_familiale"),
     pl.col("situation_familiale").is_in(COUPLE_SITUATIONS) == pl.col("a_conjoint")),
    ("parent_isole", "parent isolé = sans conjoint avec au moins un enfant",
     ("parent_isole", "a_conjoint", "nb_enfants"),
     pl.col("parent_isole") == (~pl.col("a_conjoint") & (pl.col("nb_enfants") > 0))),
    ("mois_activite", "12 mois d'activité au plus par adulte (une personne seule ne peut "
     "dépasser 12)", ("mois_activite_foyer", "a_conjoint"),
     pl.col("mois_activite_foyer") <= 12 * (1 + pl.col("a_conjoint").cast(pl.Int32))),
    ("aah_activite", "l'AAH en activité suppose l'AAH", ("aah_activite_hors_esat", "aah"),
     ~pl.col("aah_activite_hors_esat") | pl.col("aah")),
    ("revenus_stables", f"revenus stables et importants : au moins {SEUIL_REVENUS_IMPORTANTS:g} "
     "€ par UC", ("revenus_stables_importants", "revenu_par_uc"),
     ~pl.col("revenus_stables_importants") | (pl.col("revenu_par_uc") >= SEUIL_REVENUS_IMPORTANTS)),
    ("enfants", "les enfants par tranche d'âge font le nombre d'enfants",
     ("nb_enfants", "nb_enfants_moins_12", "nb_enfants_12_18", "nb_enfants_19_plus"),
     pl.col("nb_enfants") == pl.col("nb_enfants_moins_12") + pl.col("nb_enfants_12_18")
     + pl.col("nb_enfants_19_plus")),
    ("age_allocataire", "un allocataire a au moins 15 ans", ("age_allocataire",),
     pl.col("age_allocataire") >= 15),
]


def valid_expr(columns: list[str] | set[str], extra: list[str] | None = None) -> pl.Expr:
    """True where a row breaks no rule (rules over absent columns are skipped); ``extra`` are
    SQL conditions describing impossible rows (``exclude`` in experiment files)."""
    have = set(columns)
    ok = pl.lit(True)
    for _, _, cols, cond in RULES:
        if set(cols) <= have:
            ok = ok & cond.fill_null(True)
    for cond in extra or []:
        ok = ok & ~pl.sql_expr(cond).fill_null(False)
    return ok

"""Score a population and attach the audit's built-in groups (one vectorised pass).

Built-in groups need no configuration. A population column of the same name (the generator
writes ``famille_type`` and ``aah_travaille``) takes precedence over the derived one.
"""

from __future__ import annotations

import polars as pl

from profilage.engine import compile_model
from profilage.errors import ProfilageError
from profilage.fastpath import CodedPopulation
from profilage.features import (
    DOSSIER_COLUMNS,
    FEATURES,
    _benefit,
    _working,
    conform,
    derive_features,
)
from profilage.models import Model, load_model

#: CNAF low-income threshold ("seuil de bas revenus"), euros per consumption unit and month, 2019
#: (sources.md section 3: CNAF). Applied to resources *including* benefits, CAF unit scale.
SEUIL_BAS_REVENUS = 1097.0
SEUIL_BAS_REVENUS_SOURCE = "CNAF, seuil de bas revenus 2019 : 1 097 € par UC et par mois"

#: Holder's age bands (completed years): label, lower bound (inclusive), upper bound (exclusive).
AGE_BANDS = (("moins_25", None, 25), ("25_34", 25, 35), ("35_49", 35, 50), ("50_59", 50, 60),
             ("60_plus", 60, None))

FAMILLES = ("personne_seule", "couple_sans_enfant", "couple_avec_enfants", "monoparentale")

#: Built-in groups: column -> (French label, English label).
BUILTIN_GROUPS: dict[str, tuple[str, str]] = {
    "famille_type": ("Type de famille", "Family type"),
    "sexe_allocataire": ("Sexe de l'allocataire", "Holder's sex"),
    "tranche_age": ("Tranche d'âge de l'allocataire", "Holder's age band"),
    "rsa": ("Touche le RSA", "Receives RSA"),
    "aah": ("Touche l'AAH", "Receives AAH"),
    "aah_travaille": ("AAH et en emploi (ESAT compris)", "AAH while working (incl. ESAT)"),
    "qpv": ("Habite un QPV", "Lives in a priority neighbourhood"),
    "decile_revenu_uc": ("Décile de revenu disponible par UC", "Disposable income per unit decile"),
    "bas_revenus": ("Sous le seuil de bas revenus (1 097 €/UC)", "Below the low-income threshold"),
}

#: Columns the audit frame always has.
CORE = ("household_id", "month", "score")
#: Model inputs the built-in groups read (group_exprs and the groups taken as they are).
GROUP_INPUTS = ("a_conjoint", "nb_enfants", "age_allocataire", "nb_uc", "sexe_allocataire", "rsa",
                "aah", "qpv")


def _pre_columns() -> list[pl.Expr]:
    """Columns computed from dossier fields before feature derivation."""
    couple = pl.col("conjoint").fill_null(False)
    aah = pl.col("alloc_aah") | (couple & pl.col("conj_aah"))
    resources = (pl.col("alloc_revenu_mensuel")
                 + pl.when(couple).then(pl.col("conj_revenu_mensuel")).otherwise(0.0)
                 + pl.col("autres_revenus_mensuels").fill_null(0.0)
                 + _benefit("rsa", pl.col("rsa")) + _benefit("aah", aah)
                 + _benefit("prime_activite", pl.col("prime_activite"))
                 + _benefit("aide_logement", pl.col("aide_logement"))
                 + _benefit("allocations_familiales", pl.col("allocations_familiales")))
    return [
        pl.col("reference_month").alias("_month"),
        resources.alias("_ressources"),
        ((pl.col("alloc_aah") & _working("alloc"))
         | (couple & pl.col("conj_aah") & _working("conj"))).alias("_aah_travaille"),
    ]


def _decile(col: str) -> pl.Expr:
    r = pl.col(col).rank("ordinal").over("month")
    n = pl.col(col).count().over("month")
    return ((r - 1) * 10 // n + 1).cast(pl.Int8)


def group_exprs(have: set[str]) -> list[pl.Expr]:
    """Built-in group columns over a scored feature frame (population columns win)."""
    out = []
    if "famille_type" not in have:
        couple, kids = pl.col("a_conjoint"), pl.col("nb_enfants") > 0
        out.append(pl.when(couple & kids).then(pl.lit("couple_avec_enfants"))
                   .when(couple).then(pl.lit("couple_sans_enfant"))
                   .when(kids).then(pl.lit("monoparentale"))
                   .when(couple.is_not_null()).then(pl.lit("personne_seule"))
                   .alias("famille_type"))
    age = pl.col("age_allocataire")
    band = pl.when(age.is_null()).then(pl.lit(None, dtype=pl.String))
    for label, _lo, hi in AGE_BANDS:
        band = band.when(age < hi).then(pl.lit(label)) if hi is not None else band
    band = band.otherwise(pl.lit(AGE_BANDS[-1][0]))
    out.append(band.alias("tranche_age"))
    if "aah_travaille" not in have:
        out.append(pl.col("_aah_travaille").alias("aah_travaille"))
    out.append((pl.col("_ressources") / pl.col("nb_uc")).alias("revenu_disponible_uc"))
    return out


def prepare(population: pl.DataFrame | pl.LazyFrame, model: Model | str = "cnaf-2014", *,
            keep: list[str] | None = None, features: bool = False, contributions: bool = False
            ) -> pl.DataFrame:
    """Score a population and add ``month`` and the built-in group columns.

    ``keep`` names extra population columns to carry (e.g. ``departement``); ``features`` keeps
    every model input, ``contributions`` every criterion's contribution (for proxies).
    """
    return prepare_coded(population, model, keep=keep, features=features,
                         contributions=contributions)[0]


def frame_columns(population: pl.DataFrame | pl.LazyFrame) -> list[str]:
    """The columns :func:`prepare` gives for this population (without features/contributions)."""
    names = population.lazy().collect_schema().names()
    extra = [c for c in names if c not in DOSSIER_COLUMNS and c not in FEATURES]
    cols = [*CORE, "score_low", "score_high", "logit_low", "logit_high", *BUILTIN_GROUPS,
            "revenu_disponible_uc"]
    return cols + [c for c in extra if c not in cols]


def prepare_coded(population: pl.DataFrame | pl.LazyFrame, model: Model | str = "cnaf-2014", *,
                  keep: list[str] | None = None, features: bool = False,
                  contributions: bool = False, groups: set[str] | None = None
                  ) -> tuple[pl.DataFrame, CodedPopulation | None]:
    """:func:`prepare`, and the population's modality codes (:mod:`profilage.fastpath`) so that
    other models over the same criteria (an ensemble's members) are scored without deriving the
    features again. Scores come from the fast path; with ``contributions``, from the Polars
    engine (one column per criterion), and no codes are returned. ``groups``: the built-in
    group columns wanted (default: all; the income decile ranks every household)."""
    m = load_model(model)
    lf = population.lazy()
    names = lf.collect_schema().names()
    if "household_id" not in names:
        lf = lf.with_row_index("household_id").with_columns(pl.col("household_id").cast(pl.Int64))
        names = ["household_id", *names]
    extra = [c for c in names if c not in DOSSIER_COLUMNS and c not in FEATURES]
    lf = conform(lf).with_columns(_pre_columns())
    feats = derive_features(lf, keep=[*extra, "_month", "_ressources", "_aah_travaille"],
                            conformed=True)
    coded = None
    if contributions:
        scored = compile_model(m).score(feats, contributions=True)
    elif features:
        feats = feats.collect()
        coded = CodedPopulation(feats)
        scored = feats.hstack(coded.score_frame(m)).lazy()
    else:  # one query: the groups' inputs and the model's codes (Polars prunes the rest)
        own = ["_aah_travaille"] if "aah_travaille" not in extra else []  # (else unused)
        want = [*extra, "_month", "_ressources", *own, *GROUP_INPUTS,
                *(c for c in keep or [] if c in FEATURES)]
        coded = CodedPopulation.from_lazy(feats, m, list(dict.fromkeys(want)))
        scored = coded.features.hstack(coded.score_frame(m)).lazy()
    have = set(extra)
    wanted = [g for g in BUILTIN_GROUPS if groups is None or g in groups]
    scored = scored.with_columns(group_exprs(have)).rename({"_month": "month"})
    scored = scored.with_columns(
        *([_decile("revenu_disponible_uc").alias("decile_revenu_uc")]
          if "decile_revenu_uc" in wanted else []),
        (pl.col("revenu_disponible_uc") < SEUIL_BAS_REVENUS).alias("bas_revenus"),
    )
    # Group labels as categoricals: the group table then counts cells on integer codes.
    cats = [c for c in ("famille_type", "sexe_allocataire") if c in wanted]
    scored = scored.with_columns(
        *([pl.col(cats).cast(pl.Categorical)] if cats else []),
        *([pl.col("tranche_age").cast(pl.Enum([b[0] for b in AGE_BANDS]))]
          if "tranche_age" in wanted else []))
    cols = [*CORE, "score_low", "score_high", "logit_low", "logit_high", *wanted,
            "revenu_disponible_uc"]
    cols += [c for c in (keep or extra) if c not in cols]
    if features:
        cols += [f for f in FEATURES if f not in cols]
    if contributions:
        cols += [c for c in scored.collect_schema().names()
                 if (c.startswith("c__") or c.startswith("m__")) and c not in cols]
    missing = [c for c in (keep or []) if c not in scored.collect_schema().names()]
    if missing:
        raise ProfilageError("column not in the population", field=missing[0])
    return scored.select(cols).collect(), coded

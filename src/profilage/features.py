"""Model inputs ("features") derived from dossier rows: one vectorised Polars definition.

The same ``derive_features`` serves one dossier (a one-row frame) and a national population
(millions of rows). A null anywhere means *unknown* and propagates: the engine then gives the
criterion an interval instead of a value.

Flat dossier columns (the table form of ``profilage.dossier.Dossier``) are listed in
``DOSSIER_COLUMNS``; a population or a user table may omit any of them (they become unknown).
Dates of events that never happened are stored as ``NEVER`` (1900-01-01): "infinitely long ago".
"""

from __future__ import annotations

import datetime as dt
import functools

import numpy as np
import polars as pl

NEVER = dt.date(1900, 1, 1)

#: Thresholds used by *derived* features. These definitions are ours (reconstructed), documented
#: in the model files; the CNAF's exact definitions are not public.
SEUIL_REVENUS_IMPORTANTS = 942.0  # euros per consumption unit and month (Le Monde label band)
CONSUMPTION_UNITS = {"holder": 1.0, "other_14_plus": 0.5, "child_under_14": 0.3,
                     "single_parent_bonus": 0.2}  # CAF scale (sources.md section 3)

SITUATIONS = ("marie", "pacse", "concubinage", "celibataire", "divorce", "separe", "veuf")
ACTIVITES = ("salarie", "independant", "chomage", "etudiant", "inactif", "retraite")
LOGEMENTS = ("locataire_prive", "locataire_social", "proprietaire", "heberge", "autre")
# Nationality as the 2010 CNAF model used it (Le Monde, seed 003: "extra-européenne" scored higher).
NATIONALITES = ("francaise", "europeenne", "extra_europeenne")

DOSSIER_COLUMNS: dict[str, pl.DataType] = {
    "reference_month": pl.Date,
    "alloc_date_naissance": pl.Date, "alloc_age": pl.Int32, "alloc_sexe": pl.String,
    "alloc_activite": pl.String, "alloc_mois_travailles_12m": pl.Int32,
    "alloc_revenu_mensuel": pl.Float64, "alloc_aah": pl.Boolean, "alloc_esat": pl.Boolean,
    "alloc_nationalite": pl.String,
    "conjoint": pl.Boolean,
    "conj_date_naissance": pl.Date, "conj_age": pl.Int32, "conj_sexe": pl.String,
    "conj_activite": pl.String, "conj_mois_travailles_12m": pl.Int32,
    "conj_revenu_mensuel": pl.Float64, "conj_aah": pl.Boolean, "conj_esat": pl.Boolean,
    "situation_familiale": pl.String,
    "enfants_dates_naissance": pl.List(pl.Date),
    "autres_revenus_mensuels": pl.Float64,
    "rsa": pl.Boolean, "prime_activite": pl.Boolean, "aide_logement": pl.Boolean,
    "allocations_familiales": pl.Boolean,
    "montant_rsa": pl.Float64, "montant_aah": pl.Float64, "montant_prime_activite": pl.Float64,
    "montant_aide_logement": pl.Float64, "montant_allocations_familiales": pl.Float64,
    "statut_logement": pl.String, "loyer_mensuel": pl.Float64, "qpv": pl.Boolean,
    "date_inscription_caf": pl.Date, "date_changement_adresse": pl.Date,
    "date_changement_loyer": pl.Date, "date_dernier_contact": pl.Date,
    "date_separation": pl.Date,
    "nb_declarations_12m": pl.Int32, "nb_controles_passes": pl.Int32,
    "baisse_connexions_web": pl.Boolean,
    # Complémentaire santé solidaire (CNAM models)
    "c2s_premiere_demande": pl.Boolean, "c2s_ressources_annuelles": pl.Float64,
    "c2s_pension_invalidite": pl.Boolean, "c2s_consommation_soins": pl.Boolean,
    "c2s_indemnites_journalieres": pl.Boolean, "c2s_contact_assurance_maladie": pl.Boolean,
}


def _f(kind: str, fr: str, en: str, desc: str, *, categories: tuple = (), min: float | None = None
       ) -> dict:
    spec = {"kind": kind, "label_fr": fr, "label_en": en, "description": desc,
            "categories": categories}
    if min is not None:
        spec["min"] = min
    return spec


#: Every feature a shipped model may read: kind, labels and, for numbers, the lowest value.
FEATURES: dict[str, dict] = {
    "age_allocataire": _f("int", "Âge de l'allocataire", "Age of the beneficiary",
                          "Completed years at the reference month.", min=0),
    "a_conjoint": _f("bool", "Vit en couple", "Lives with a partner", "A partner is declared."),
    "age_conjoint": _f("int", "Âge du conjoint", "Partner's age",
                       "Completed years at the reference month.", min=0),
    "situation_familiale": _f("category", "Situation familiale", "Marital situation",
                              "Declared marital situation.", categories=SITUATIONS),
    "mois_depuis_separation": _f("int", "Mois depuis la séparation", "Months since separation",
                                 "Months since a separation or divorce (never: very large).",
                                 min=0),
    "aah": _f("bool", "Touche l'AAH", "Receives AAH",
              "The holder or the partner receives the allocation aux adultes handicapés."),
    "aah_activite_hors_esat": _f("bool", "AAH et activité hors ESAT", "AAH while working (not ESAT)",
                                 "An AAH recipient in the household works outside a specialised "
                                 "establishment (ESAT)."),
    "activite_allocataire": _f("category", "Activité de l'allocataire", "Holder's activity",
                               "Activity status of the holder.", categories=ACTIVITES),
    "activite_conjoint": _f("category", "Activité du conjoint", "Partner's activity",
                            "Activity status of the partner (no partner: see a_conjoint).",
                            categories=ACTIVITES),
    "nationalite": _f("category", "Nationalité de l'allocataire", "Holder's nationality",
                      "French, other European, or non-European (protected ground; only the "
                      "2010 CNAF model used it).", categories=NATIONALITES),
    "mois_activite_foyer": _f("int", "Mois d'activité du foyer sur 12 mois",
                              "Household months of activity over the last 12 months",
                              "Holder's plus partner's months worked (0 to 24).", min=0),
    "nb_uc": _f("float", "Unités de consommation (échelle CAF)", "Consumption units (CAF scale)",
                "1 for the holder, 0.5 per other person aged 14+, 0.3 per child under 14, "
                "+0.2 for a single parent.", min=1),
    "revenu_par_uc": _f("float", "Revenu ajusté par unité de consommation",
                        "Adjusted income per consumption unit",
                        "Household monthly resources divided by consumption units (euros).",
                        min=0),
    "revenus_stables_importants": _f(
        "bool", "Revenus stables et importants", "Stable and high income",
        "Every adult worked 12 of the last 12 months and income per unit is at least "
        f"{SEUIL_REVENUS_IMPORTANTS:g} euros (our definition; the CNAF's is not public)."),
    "rsa": _f("bool", "Touche le RSA (minima sociaux)", "Receives RSA (minimum income)",
              "The household receives the revenu de solidarité active."),
    "nb_enfants": _f("int", "Nombre d'enfants", "Number of children", "Children in the household.",
                     min=0),
    "nb_enfants_moins_12": _f("int", "Enfants de moins de 12 ans", "Children under 12",
                              "Children aged under 12.", min=0),
    "nb_enfants_12_18": _f("int", "Enfants de 12 à 18 ans", "Children aged 12 to 18",
                           "Children aged 12 to 18 inclusive.", min=0),
    "nb_enfants_19_plus": _f("int", "Enfants de 19 ans ou plus", "Children aged 19 or more",
                             "Children aged 19 or more still in the household.", min=0),
    "parent_isole": _f("bool", "Parent isolé", "Single parent",
                       "No partner and at least one child."),
    "mois_depuis_inscription": _f("int", "Ancienneté à la CAF (mois)", "Months registered at the CAF",
                                  "Months since registration at the CAF.", min=0),
    "mois_depuis_changement_adresse": _f("int", "Mois depuis le dernier déménagement",
                                         "Months since the last address change",
                                         "Never: very large.", min=0),
    "mois_depuis_changement_loyer": _f("int", "Mois depuis le dernier changement de loyer",
                                       "Months since the last rent change",
                                       "Never: very large.", min=0),
    "mois_depuis_dernier_contact": _f("int", "Mois depuis le dernier mail ou visite à la CAF",
                                      "Months since the last e-mail or visit to the CAF",
                                      "Never: very large.", min=0),
    "nb_declarations_12m": _f("int", "Déclarations sur le dossier (12 mois)",
                              "Declarations on the file (12 months)",
                              "E.g. quarterly RSA or AAH declarations.", min=0),
    "baisse_connexions_web": _f("bool", "Baisse des connexions à l'espace en ligne",
                                "Drop in web connections", "Fewer logins than before."),
    "taux_effort": _f("float", "Taux d'effort (loyer net / ressources)",
                      "Rent burden (net rent / resources)",
                      "Monthly rent after housing aid divided by monthly resources including "
                      "benefits other than housing aid; 0 without rent; 99 with rent and no "
                      "resources.", min=0),
    "qpv": _f("bool", "Habite un quartier prioritaire (QPV)", "Lives in a priority neighbourhood",
              "Address in a quartier prioritaire de la politique de la ville."),
    "nb_controles_passes": _f("int", "Contrôles passés", "Past controls",
                              "Number of earlier controls of the file.", min=0),
    # --- Complémentaire santé solidaire (CNAM) ---
    "sexe_allocataire": _f("category", "Sexe du demandeur", "Applicant's sex",
                           "Sex of the holder / applicant.", categories=("F", "M")),
    "plus_d_un_adulte": _f("bool", "Plus d'un majeur au foyer", "More than one adult",
                           "A partner or a child aged 18 or more lives in the household."),
    "au_moins_un_mineur": _f("bool", "Au moins un mineur au foyer", "At least one minor",
                             "A child under 18 lives in the household."),
    "taille_foyer": _f("int", "Taille du foyer", "Household size",
                       "Holder, partner and children.", min=1),
    "premiere_demande": _f("bool", "Première demande de C2S", "First C2S application",
                           "The application is the household's first."),
    "revenu_rapport_plafond_c2sg": _f(
        "float", "Ressources / plafond C2S gratuite", "Resources / free-C2S ceiling",
        "Annual resources divided by the C2SG ceiling for the household size (data/).", min=0),
    "pension_invalidite": _f("bool", "Pension d'invalidité", "Invalidity pension",
                             "Someone in the household receives an invalidity pension."),
    "consommation_soins": _f("bool", "Consommateur de soins", "Care consumer",
                             "Health care consumption recorded (CNAM experimental model)."),
    "indemnites_journalieres": _f("bool", "Indemnités journalières perçues",
                                  "Daily sickness allowances received", "Sick leave paid."),
    "contact_assurance_maladie": _f("bool", "Contact avec l'Assurance Maladie",
                                    "Contact with the Assurance Maladie", "Recent contact."),
}


#: Value ranges of the numeric dossier columns (those of the dossier schema, dossier.py): a
#: population value outside (NaN, an infinity, a negative age or amount) is unknown, never a value
#: that would fall in the lowest or the highest bin.
NUMERIC_RANGES: dict[str, tuple[float, float]] = {
    "alloc_age": (0, 120), "conj_age": (0, 120),
    "alloc_mois_travailles_12m": (0, 12), "conj_mois_travailles_12m": (0, 12),
    "nb_declarations_12m": (0, 1000), "nb_controles_passes": (0, 1000),
    **{c: (0.0, 1_000_000.0) for c, t in DOSSIER_COLUMNS.items() if t == pl.Float64},
}


def _in_range(name: str, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(name).cast(dtype, strict=False)
    lo, hi = NUMERIC_RANGES[name]
    return pl.when((col >= lo) & (col <= hi)).then(col).alias(name)  # NaN, inf: false -> null


def conform(df: pl.DataFrame | pl.LazyFrame, columns: dict[str, pl.DataType] = DOSSIER_COLUMNS
            ) -> pl.LazyFrame:
    """Add missing dossier columns as nulls (unknown) and cast present ones to their types;
    numeric values outside their range (``NUMERIC_RANGES``) and dates after the reference month
    become unknown.

    An eager frame stays eager (small frames: the lazy planner's overhead dominates)."""
    lf = df
    schema = lf.collect_schema()
    have = set(schema.names())
    for name, dtype in columns.items():  # a list where a value is expected, or the reverse
        if name in have and schema[name] != pl.Null and (
                isinstance(schema[name], (pl.List, pl.Array, pl.Struct))
                != isinstance(dtype, pl.List)):
            from profilage.errors import ProfilageError

            raise ProfilageError(f"column has type {schema[name]}, expected {dtype}", field=name)
    exprs = []
    for name, dtype in columns.items():
        if name in have and name in NUMERIC_RANGES:
            exprs.append(_in_range(name, dtype))
        elif name in have:
            exprs.append(pl.col(name).cast(dtype, strict=False))
        else:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
    lf = lf.with_columns(exprs)
    # a birth or an event after the reference month is unknown (it would count as recent):
    # one comparison of day numbers with the first day of the next month (computed once per row)
    later = [pl.when(pl.col(c).to_physical() < pl.col("__next_month")).then(pl.col(c)).alias(c)
             for c, t in columns.items() if t == pl.Date and c != "reference_month" and c in have]
    if not later:
        return lf
    ref = pl.col("reference_month")
    next_month = (ref.to_physical() - ref.dt.day().cast(pl.Int32) + 1
                  + ref.dt.days_in_month().cast(pl.Int32))  # (day arithmetic: no calendar call)
    return lf.with_columns(__next_month=next_month).with_columns(later).drop("__next_month")


def _month_number(d: pl.Expr) -> pl.Expr:
    """year * 12 + month of a date (months since year 0, January = 1)."""
    return d.dt.year().cast(pl.Int32) * 12 + d.dt.month().cast(pl.Int32)


def _months_since(ref_m: pl.Expr, d: pl.Expr) -> pl.Expr:
    """Months from date ``d`` to the reference month whose month number is ``ref_m``."""
    return ref_m - _month_number(d)


def _age(ref_m: pl.Expr, prefix: str) -> pl.Expr:
    from_birth = _months_since(ref_m, pl.col(f"{prefix}_date_naissance")) // 12
    return pl.coalesce(from_birth, pl.col(f"{prefix}_age")).cast(pl.Int32)


def _working(prefix: str) -> pl.Expr:
    act = pl.col(f"{prefix}_activite")  # (two comparisons: cheaper than is_in on text)
    return (act == "salarie") | (act == "independant")


def _benefit(name: str, received: pl.Expr) -> pl.Expr:
    """Monthly amount of a benefit: 0 if not received, unknown if received without an amount."""
    return pl.when(received == False).then(0.0).otherwise(pl.col(f"montant_{name}"))


@functools.cache
def _feature_exprs(ref_column: str | None = None) -> tuple[pl.Expr, ...]:
    return tuple(_build_feature_exprs(ref_column))


def feature_exprs() -> list[pl.Expr]:
    """The first-stage feature expressions (built once; Polars expressions are immutable)."""
    return list(_feature_exprs())


def _build_feature_exprs(ref_column: str | None = None) -> list[pl.Expr]:
    """First-stage feature expressions over conformed dossier columns; ``ref_column``: a column
    holding the reference month's number (:func:`_month_number`), computed once beforehand."""
    ref = pl.col(ref_column) if ref_column else _month_number(pl.col("reference_month"))
    couple = pl.col("conjoint")
    partner_income = pl.when(couple).then(pl.col("conj_revenu_mensuel")).otherwise(0.0)
    partner_months = pl.when(couple).then(pl.col("conj_mois_travailles_12m")).otherwise(0)
    stage1 = [
        _age(ref, "alloc").alias("age_allocataire"),
        couple.alias("a_conjoint"),
        pl.when(couple).then(_age(ref, "conj")).alias("age_conjoint"),
        pl.col("situation_familiale"),
        _months_since(ref, pl.col("date_separation")).clip(lower_bound=0)
        .alias("mois_depuis_separation"),
        (pl.col("alloc_aah") | (couple & pl.col("conj_aah"))).alias("aah"),
        ((pl.col("alloc_aah") & _working("alloc") & ~pl.col("alloc_esat"))
         | (couple & pl.col("conj_aah") & _working("conj") & ~pl.col("conj_esat")))
        .alias("aah_activite_hors_esat"),
        pl.col("alloc_activite").alias("activite_allocataire"),
        pl.when(couple).then(pl.col("conj_activite")).alias("activite_conjoint"),
        pl.col("alloc_nationalite").alias("nationalite"),
        (pl.col("alloc_mois_travailles_12m") + partner_months).cast(pl.Int32)
        .alias("mois_activite_foyer"),
        (pl.col("alloc_revenu_mensuel") + partner_income
         + pl.col("autres_revenus_mensuels").fill_null(0.0)).alias("_revenu_total"),
        ((pl.col("alloc_mois_travailles_12m") >= 12)
         & pl.when(couple).then(pl.col("conj_mois_travailles_12m") >= 12).otherwise(True))
        .alias("_tous_12_mois"),
        pl.col("rsa"),
        pl.col("qpv"),
        pl.col("baisse_connexions_web"),
        pl.col("nb_declarations_12m"),
        pl.col("nb_controles_passes"),
        _months_since(ref, pl.col("date_inscription_caf")).clip(lower_bound=0)
        .alias("mois_depuis_inscription"),
        _months_since(ref, pl.col("date_changement_adresse")).clip(lower_bound=0)
        .alias("mois_depuis_changement_adresse"),
        _months_since(ref, pl.col("date_changement_loyer")).clip(lower_bound=0)
        .alias("mois_depuis_changement_loyer"),
        _months_since(ref, pl.col("date_dernier_contact")).clip(lower_bound=0)
        .alias("mois_depuis_dernier_contact"),
        pl.col("loyer_mensuel").alias("_loyer"),
        _benefit("rsa", pl.col("rsa")).alias("_montant_rsa"),
        _benefit("aah", pl.col("alloc_aah") | (couple & pl.col("conj_aah"))).alias("_montant_aah"),
        _benefit("prime_activite", pl.col("prime_activite")).alias("_montant_pa"),
        _benefit("allocations_familiales", pl.col("allocations_familiales")).alias("_montant_af"),
        _benefit("aide_logement", pl.col("aide_logement")).alias("_montant_al"),
    ]
    return stage1


#: Children's counts: ``nb_enfants``, then the age bands (completed years at the reference
#: month), each the number of children of known age below a number of months of age.
_KIDS_BELOW = {"nb_enfants_moins_12": 144, "_nb_moins_14": 168, "_nb_mineurs": 216,
               "_nb_moins_19": 228}
_KIDS = pl.Struct({"nb_enfants": pl.Int32, **{k: pl.Int32 for k in _KIDS_BELOW},
                   "_nb_connus": pl.Int32})
_BITS = 12  # per count in the packed sums: fewer than 4,096 children per row


def _first_day_months_before(ref: pl.Series, months: int) -> pl.Series:
    """Day number of the first day of the month ``months - 1`` months before ``ref``'s: a child
    born on it or later is under ``months`` months old at the reference month."""
    return pl.select(pl.lit(ref).dt.month_start().dt.offset_by(f"-{months - 1}mo")
                     .to_physical()).to_series()


def _children_batch(s: pl.Series) -> pl.Series:
    """Children's counts of a batch of rows (struct of ``reference_month`` and
    ``enfants_dates_naissance``), in one numpy pass over the lists' values.

    A child's age is (reference month - birth month) // 12 completed years, so "under A years"
    is "fewer than 12 A months", that is born on or after the first day of the month 12 A - 1
    months before the reference month: the birth dates are compared with four day numbers,
    without computing a month per child. A child of unknown birth date (or every child, when
    the reference month is unknown) counts in ``nb_enfants`` and in no band; an unknown list
    makes every count unknown. Each child adds 1 to the 12-bit field of every band it is in,
    of one integer per child, summed per list (a row of 4,096 children or more: band by band)."""
    ref = s.struct.field("reference_month")
    kids = s.struct.field("enfants_dates_naissance")
    n = len(s)
    lens = kids.list.len()
    per_row = lens.fill_null(0).to_numpy().astype(np.int64)
    births = kids.explode(empty_as_null=False, keep_nulls=False)  # the values, list after list
    days = births.to_physical().fill_null(0).to_numpy()
    edges = list(_KIDS_BELOW.values())
    one_ref = ref.null_count() == 0 and ref.n_unique() == 1
    if one_ref:  # a threshold per band: how many of them the birth date falls below
        first = [int(_first_day_months_before(ref[:1], m)[0]) for m in edges]
        band = len(edges) - np.searchsorted(first[::-1], days, side="right")
    else:
        band = np.zeros(len(days), dtype=np.int64)
        for m in edges:
            first = _first_day_months_before(ref, m)
            band += days < np.repeat(first.fill_null(0).to_numpy(), per_row)
    unknown_birth = births.is_null().to_numpy() if births.null_count() else None
    if not one_ref and ref.null_count():
        missing_ref = np.repeat(ref.is_null().to_numpy(), per_row)
        unknown_birth = missing_ref if unknown_birth is None else unknown_birth | missing_ref
    if unknown_birth is not None:
        band[unknown_birth] = len(edges) + 1  # in no band
    # counts[k]: children under edges[k] (k < len(edges)), then every child of known age
    if per_row.max(initial=0) < 1 << _BITS:
        weight = np.array([sum(1 << (_BITS * k) for k in range(b, len(edges) + 1))
                           for b in range(len(edges) + 1)] + [0], dtype=np.int64)
        packed = _per_list(weight[band], per_row)
        counts = [((packed >> (_BITS * k)) & ((1 << _BITS) - 1)).astype(np.int32)
                  for k in range(len(edges) + 1)]
    else:
        counts = [_per_list((band <= k).astype(np.int64), per_row)
                  for k in range(len(edges) + 1)]
    cols = [pl.Series(k, v, dtype=pl.Int32) for k, v in
            zip(_KIDS.to_schema(), [per_row, *counts])]
    unknown = lens.is_null()
    if unknown.any():
        cols = [c.set(unknown, None) for c in cols]
    return pl.DataFrame(cols, height=n).to_struct(s.name)


def _per_list(values: np.ndarray, per_row: np.ndarray) -> np.ndarray:
    """Sum of ``values`` (one per child, list after list) over each row's list."""
    out = np.zeros(len(per_row), dtype=np.int64)
    some = np.flatnonzero(per_row)
    if len(some):
        out[some] = np.add.reduceat(values, (np.cumsum(per_row) - per_row)[some])
    return out


def _children_counts(lf: pl.LazyFrame) -> pl.LazyFrame:
    """Counts of children by age band, vectorised: ages from (reference month, birth dates)."""
    kids = pl.struct("reference_month", "enfants_dates_naissance").map_batches(
        _children_batch, return_dtype=_KIDS, is_elementwise=True).alias("_kids")
    lf = lf.with_columns(kids).unnest("_kids")
    return lf.with_columns(
        nb_enfants_12_18=pl.col("_nb_moins_19") - pl.col("nb_enfants_moins_12"),
        nb_enfants_19_plus=pl.col("_nb_connus") - pl.col("_nb_moins_19"),
        _nb_majeurs_enfants=pl.col("_nb_connus") - pl.col("_nb_mineurs"),
    )


def _taux_effort() -> pl.Expr:
    """Rent after housing aid over resources including benefits other than housing aid."""
    resources = (pl.col("_revenu_total") + pl.col("_montant_rsa") + pl.col("_montant_aah")
                 + pl.col("_montant_pa") + pl.col("_montant_af"))
    net_rent = (pl.col("_loyer") - pl.col("_montant_al")).clip(lower_bound=0.0)
    return (pl.when(pl.col("_loyer") == 0).then(0.0)
            .when(net_rent == 0).then(0.0)
            .when(resources <= 0).then(99.0)
            .otherwise(net_rent / resources))


def derive_features(dossiers: pl.DataFrame | pl.LazyFrame, *, keep: list[str] | None = None,
                    conformed: bool = False) -> pl.LazyFrame:
    """Derive every model input from flat dossier rows (lazy; collect when you need it).

    ``keep`` names extra input columns to carry through (e.g. ``household_id``); ``conformed``:
    the rows already went through :func:`conform` (it is not applied twice).
    """
    lf = dossiers if conformed else conform(dossiers)
    have = lf.collect_schema().names()
    keep = [c for c in (keep or []) if c in have]
    c2s = [c for c in DOSSIER_COLUMNS if c.startswith("c2s_")]
    ref_m = "__ref_month_number"  # computed once for the six month counts below
    lf = _children_counts(lf.with_columns(_month_number(pl.col("reference_month")).alias(ref_m))
                          .select(*keep, *_feature_exprs(ref_m), "enfants_dates_naissance",
                                  "reference_month", "alloc_sexe", *c2s))
    couple = pl.col("a_conjoint")
    parent_isole = (~couple & (pl.col("nb_enfants") > 0))
    u = CONSUMPTION_UNITS
    nb_uc = (u["holder"] + pl.when(couple).then(u["other_14_plus"]).otherwise(0.0)
             + u["other_14_plus"] * (pl.col("nb_enfants") - pl.col("_nb_moins_14"))
             + u["child_under_14"] * pl.col("_nb_moins_14")
             + pl.when(parent_isole).then(u["single_parent_bonus"]).otherwise(0.0))
    lf = lf.with_columns(parent_isole=parent_isole, nb_uc=nb_uc)
    lf = lf.with_columns(
        revenu_par_uc=pl.col("_revenu_total") / pl.col("nb_uc"),
        taux_effort=_taux_effort(),
    ).with_columns(
        revenus_stables_importants=pl.col("_tous_12_mois")
        & (pl.col("revenu_par_uc") >= SEUIL_REVENUS_IMPORTANTS),
    )
    return _c2s_features(lf).select(*keep, *FEATURES.keys()).lazy()


@functools.cache
def c2sg_ceiling_table() -> tuple[pl.DataFrame, dict[int, float]]:
    """The C2SG ceiling for one person by date, and the household-size multipliers (data/)."""
    from profilage.resources import resource_dir

    d = resource_dir("data")
    ceilings = pl.read_csv(d / "c2sg_plafonds.csv", try_parse_dates=True).filter(
        pl.col("territoire") == "metropole").sort("date_effet")
    mult = pl.read_csv(d / "c2sg_multiplicateurs.csv")
    return ceilings, dict(zip(mult["taille_foyer"].to_list(), mult["multiplicateur"].to_list()))


def c2sg_multiplier(size: pl.Expr, table: dict[int, float]) -> pl.Expr:
    """1 / 1.5 / 1.8 / 2.1 then +0.4 per person beyond 4 (sources.md section 2)."""
    top = max(table)
    expr = pl.lit(table[top]) + 0.4 * (size - top)
    for n in sorted(table, reverse=True):
        expr = pl.when(size <= n).then(pl.lit(table[n])).otherwise(expr)
    return expr


def _c2s_features(lf: pl.LazyFrame) -> pl.LazyFrame:
    ceilings, mult = c2sg_ceiling_table()
    size = (1 + pl.col("a_conjoint").cast(pl.Int32) + pl.col("nb_enfants")).cast(pl.Int32)
    # Ceiling in force at the reference month: the latest one dated on or before it, else the
    # earliest we have (documented approximation for earlier months).
    dates = ceilings["date_effet"].to_list()
    values = ceilings["plafond_annuel_1_personne"].cast(pl.Float64).to_list()
    base = pl.lit(values[0])
    for d_, v in zip(dates[1:], values[1:]):
        base = pl.when(pl.col("reference_month") >= d_).then(pl.lit(v)).otherwise(base)
    return lf.with_columns(
        sexe_allocataire=pl.col("alloc_sexe"),
        plus_d_un_adulte=pl.col("a_conjoint") | (pl.col("_nb_majeurs_enfants") > 0),
        au_moins_un_mineur=pl.col("_nb_mineurs") > 0,
        taille_foyer=size,
        premiere_demande=pl.col("c2s_premiere_demande"),
        revenu_rapport_plafond_c2sg=pl.col("c2s_ressources_annuelles")
        / (base * c2sg_multiplier(size, mult)),
        pension_invalidite=pl.col("c2s_pension_invalidite"),
        consommation_soins=pl.col("c2s_consommation_soins"),
        indemnites_journalieres=pl.col("c2s_indemnites_journalieres"),
        contact_assurance_maladie=pl.col("c2s_contact_assurance_maladie"),
    )


def dossier_features(dossiers: pl.DataFrame, *, keep: list[str] | None = None) -> pl.DataFrame:
    """Eager convenience wrapper around :func:`derive_features`."""
    return derive_features(dossiers, keep=keep).collect()


def model_inputs(dossiers: pl.DataFrame | pl.LazyFrame, model, *,
                 keep: list[str] | None = None) -> pl.LazyFrame:
    """``keep`` columns + the model's input features, from flat dossier rows.

    Features profilage derives come from :func:`derive_features`; the inputs a model declares
    itself (``[features]`` of its file, e.g. an imported model's own fields, even one named
    like a profilage feature) are read from the table when it has them, unknown otherwise."""
    lf = dossiers.lazy()
    have = lf.collect_schema().names()
    spec = model.raw.get("features", {}) if isinstance(model.raw, dict) else {}
    # a model's own input may carry a profilage feature's name (an imported file's field)
    declared = [f for f in model.features if f not in FEATURES or f in spec]
    carried = [f for f in declared if f in have]
    keep = [c for c in (keep or []) if c in have and c not in carried]
    own = {f: f"__own__{f}" for f in carried}  # never confused with a derived feature
    out = derive_features(lf.with_columns(pl.col(f).alias(t) for f, t in own.items()),
                          keep=[*keep, *own.values()])
    out = out.drop([f for f in carried if f in FEATURES]).rename({t: f for f, t in own.items()})
    missing = []
    kinds = {"bool": pl.Boolean, "int": pl.Int64, "float": pl.Float64, "category": pl.String}
    for f in declared:
        if f not in carried:
            missing.append(pl.lit(None, dtype=kinds[spec.get(f, {}).get("kind", "float")]).alias(f))
    if missing:
        out = out.with_columns(missing)
    return out.select(*keep, *model.features)


def table_kind(model, columns: list[str], *, source: str | None = None) -> str:
    """Whether a table holds dossier rows (``"dossiers"``) or the model's inputs (``"features"``).

    A table with any dossier column that is not also a feature (``alloc_age``,
    ``enfants_dates_naissance``...) is dossier rows, even when it carries some feature-named
    columns (a generated population has ``aah`` and ``sexe_allocataire`` for grouping). Otherwise
    a table with at least one of the model's inputs is a feature table (missing inputs are
    unknown). A table with neither is refused, naming what was expected: scoring it would
    silently give every household the all-unknown interval."""
    from profilage.errors import ProfilageError

    cols = set(columns)
    dossier_only = [c for c in DOSSIER_COLUMNS if c not in FEATURES and c in cols]
    if dossier_only:
        return "dossiers"
    if any(f in cols for f in model.features):
        return "features"
    expected = ", ".join(model.features[:6]) + (", ..." if len(model.features) > 6 else "")
    raise ProfilageError(
        f"the table has none of the model {model.id}'s inputs ({expected}; see `profilage "
        "features list`) and no dossier column (alloc_age, conjoint, reference_month, ...; see "
        "`profilage dossier schema`): nothing to score", source=source)


_TRUE = {"true", "1", "1.0", "yes", "oui", "vrai", "o", "y", "t"}
_FALSE = {"false", "0", "0.0", "no", "non", "faux", "n", "f"}


def coerce_inputs(model, df: pl.DataFrame, *, source: str | None = None) -> pl.DataFrame:
    """A table of model inputs with its true/false inputs as booleans.

    A boolean input may be written as text (``oui``/``non``, ``true``/``false``, ``1``/``0``...,
    as in an imported PMML's own test data) or as 0/1 numbers; any other value is refused
    naming the column and the value."""
    from profilage.errors import ProfilageError

    spec = model.raw.get("features", {}) if isinstance(model.raw, dict) else {}
    casts = []
    for f in model.features:
        kind = (spec.get(f) or FEATURES.get(f) or {}).get("kind")
        if kind != "bool" or f not in df.columns or df.schema[f] in (pl.Boolean, pl.Null):
            continue
        dtype = df.schema[f]
        if dtype.is_numeric():
            bad = df.filter(pl.col(f).is_not_null() & ~pl.col(f).is_in([0, 1]))
            if bad.height:
                raise ProfilageError(f"value {bad[f][0]!r} is not true/false (1/0)", field=f,
                                     source=source)
            casts.append((pl.col(f) == 1).alias(f))
        elif dtype == pl.String:
            low = pl.col(f).str.strip_chars().str.to_lowercase()
            bad = df.filter(pl.col(f).is_not_null() & ~low.is_in(sorted(_TRUE | _FALSE)))
            if bad.height:
                raise ProfilageError(f"value {bad[f][0]!r} is not true/false (oui/non, 1/0)",
                                     field=f, source=source)
            casts.append(pl.when(low.is_in(sorted(_TRUE))).then(True)
                         .when(low.is_in(sorted(_FALSE))).then(False).alias(f))
    return df.with_columns(casts) if casts else df

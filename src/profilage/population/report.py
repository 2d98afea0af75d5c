"""Check a generated population against every published marginal (``data/population_marges.csv``).

Each published figure has a tolerance band [min, max] in the CSV. A population is drawn at
random, so a small file also carries sampling noise: the band we check against is widened by
three standard errors of the statistic at the file's size (shown separately in the report), so
a 1,000-household sample is not declared wrong for being small while a 1,000,000-household one
is held to the published band.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import polars as pl

from profilage.errors import ProfilageError
from profilage.features import derive_features
from profilage.population.calibration import margins_for

_REQUIRED = ("famille_type", "aah_travaille", "aide_logement", "prime_activite",
             "statut_logement")
_C2S = ("c2s_anomalie", "c2s_fraude")


def _share(cond: pl.Expr, among: pl.Expr | None = None) -> tuple[pl.Expr, pl.Expr, str]:
    if among is None:
        return cond.cast(pl.Float64).mean(), pl.len().cast(pl.Float64), "share"
    return (cond.filter(among).cast(pl.Float64).mean(), among.sum().cast(pl.Float64), "share")


def _median(x: pl.Expr, among: pl.Expr) -> tuple[pl.Expr, pl.Expr, str]:
    return x.filter(among).median(), among.sum().cast(pl.Float64), "median"


def _stats() -> dict[str, tuple[pl.Expr, pl.Expr, str]]:
    fam = pl.col("famille_type")
    couple = fam.is_in(["couple_sans_enfant", "couple_avec_enfants"])
    mono = fam == "monoparentale"
    al = pl.col("aide_logement")
    female = pl.col("sexe_allocataire") == "F"
    c2s = {
        "c2s_part_anomalie": _share(pl.col("c2s_anomalie")),
        "c2s_part_fraude": _share(pl.col("c2s_fraude")),
        "c2s_part_premiere_demande": _share(pl.col("premiere_demande")),
        "c2s_part_rsa": _share(pl.col("rsa")),
    }
    return c2s | {
        "part_personnes_seules": _share(fam == "personne_seule"),
        "part_couples_avec_enfants": _share(fam == "couple_avec_enfants"),
        "part_monoparentales": _share(mono),
        "part_couples_sans_enfant": _share(fam == "couple_sans_enfant"),
        "part_qpv": _share(pl.col("qpv")),
        "part_rsa": _share(pl.col("rsa")),
        "part_rsa_qpv": _share(pl.col("rsa"), pl.col("qpv")),
        "part_aide_logement": _share(al),
        "part_aide_logement_qpv": _share(al, pl.col("qpv")),
        "rsa_part_personnes_seules": _share(fam == "personne_seule", pl.col("rsa")),
        "rsa_part_monoparentales": _share(mono, pl.col("rsa")),
        "rsa_part_couples": _share(couple, pl.col("rsa")),
        "part_aah": _share(pl.col("aah")),
        "femmes_monoparentales": _share(female, mono),
        "femmes_monoparentales_rsa": _share(female, mono & pl.col("rsa")),
        "aah_en_emploi": _share(pl.col("aah_travaille"), pl.col("aah")),
        "part_prime_activite": _share(pl.col("prime_activite")),
        "personnes_par_foyer": (pl.col("taille_foyer").cast(pl.Float64).mean(),
                                pl.len().cast(pl.Float64), "mean"),
        "taux_effort_median_al": _median(pl.col("taux_effort"), al),
        "taux_effort_median_al_isole": _median(pl.col("taux_effort"),
                                               al & (fam == "personne_seule")),
        "taux_effort_median_al_social": _median(pl.col("taux_effort"),
                                                al & (pl.col("statut_logement")
                                                     == "locataire_social")),
        "taux_effort_median_al_prive": _median(pl.col("taux_effort"),
                                               al & (pl.col("statut_logement")
                                                     == "locataire_prive")),
    }


def _source(population: str | Path | pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    if isinstance(population, (pl.DataFrame, pl.LazyFrame)):
        lf = population.lazy()
    else:
        path = Path(population)
        if not path.is_file():
            raise ProfilageError("file not found", source=str(path))
        try:
            lf = pl.scan_parquet(path, glob=False)
            names = lf.collect_schema().names()
        except Exception as e:  # not Parquet, truncated...
            first = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise ProfilageError(f"not a readable Parquet file ({first})", source=str(path)
                                 ) from None
        missing = [c for c in _REQUIRED if c not in names]
        if missing:
            raise ProfilageError("not a generated population: column missing",
                                 field=missing[0], source=str(path))
    return lf


def population_report(population: str | Path | pl.DataFrame | pl.LazyFrame) -> dict[str, Any]:
    """Published vs generated figures with tolerances; ``ok`` is False when one is outside."""
    lf = _source(population)
    kind = "c2s" if all(c in lf.collect_schema().names() for c in _C2S) else "caf"
    margins = margins_for(kind)
    feats = derive_features(lf, keep=list(_REQUIRED) + (list(_C2S) if kind == "c2s" else []))
    stats = {k: v for k, v in _stats().items() if k in margins}
    exprs = []
    for key, (value, n, _kind) in stats.items():
        exprs += [value.alias(key), n.alias(f"{key}__n")]
    got = feats.select(exprs).collect(engine="streaming").row(0, named=True)
    households = feats.select(pl.len()).collect(engine="streaming").item()
    rows = []
    for key, m in margins.items():
        stat_kind = stats[key][2]
        value, n = got[key], got[f"{key}__n"] or 0.0
        lo, hi = float(m["min"]), float(m["max"])
        # Sampling noise at this size: 3 standard errors (binomial for shares; for medians
        # and means a rough scale-free bound of the same order).
        p = float(m["valeur"])
        if stat_kind == "share":
            se = math.sqrt(p * (1 - p) / n) if n else math.inf
        else:
            se = (1.25 * 0.5 * p / math.sqrt(n)) if n else math.inf
        noise = 3 * se
        ok = value is not None and (lo - noise) <= value <= (hi + noise)
        rows.append({
            "id": key, "libelle_fr": m["libelle_fr"], "label_en": m["label_en"],
            "published": p, "min": lo, "max": hi, "sampling_margin": noise,
            "generated": value, "difference": None if value is None else value - p,
            "n": int(n), "usage": m["usage"], "year": m["annee"], "source": m["source"],
            "ok": bool(ok),
        })
    return {"households": households, "population": kind, "ok": all(r["ok"] for r in rows),
            "rows": rows}


# --- single parents vs other family types (issue 12) ------------------------------------

#: Family groups of ``data/population_familles.csv``: the generator's types plus two pools.
FAMILY_GROUPS: dict[str, tuple[str, ...]] = {
    "personne_seule": ("personne_seule",),
    "couple_sans_enfant": ("couple_sans_enfant",),
    "couple_avec_enfants": ("couple_avec_enfants",),
    "monoparentale": ("monoparentale",),
    "couples": ("couple_sans_enfant", "couple_avec_enfants"),
    "familles": ("couple_avec_enfants", "monoparentale"),
}
FAMILY_LABELS = {"personne_seule": "personnes seules", "couple_sans_enfant": "couples sans enfant",
                 "couple_avec_enfants": "couples avec enfants", "monoparentale": "monoparentales",
                 "couples": "couples", "familles": "familles avec enfants"}
_FAMILY_REQUIRED = ("famille_type", "aide_logement", "statut_logement")


def family_margins() -> dict[str, dict]:
    """Published figures by family type (``data/population_familles.csv``): id -> row."""
    from profilage.resources import resource_dir

    df = pl.read_csv(resource_dir("data") / "population_familles.csv")
    return {r["id"]: r for r in df.iter_rows(named=True)}


def family_frame(population: str | Path | pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """Household features plus ``revenu_disponible_uc`` and ``bas_revenus`` (audit definitions:
    resources including benefits, CAF consumption units, CNAF threshold of 1,097 euros)."""
    from profilage.audit.frame import SEUIL_BAS_REVENUS, _pre_columns
    from profilage.features import conform

    lf = _source(population)
    lf = conform(lf).with_columns(_pre_columns())
    feats = derive_features(lf, keep=[*_FAMILY_REQUIRED, "_ressources"])
    rdu = pl.col("_ressources") / pl.col("nb_uc")
    return feats.with_columns(revenu_disponible_uc=rdu,
                              bas_revenus=rdu < SEUIL_BAS_REVENUS,
                              _mineurs=pl.col("nb_enfants_moins_12") + pl.col("nb_enfants_12_18"))


def _in(group: str) -> pl.Expr:
    return pl.col("famille_type").is_in(list(FAMILY_GROUPS[group]))


def _family_stats() -> dict[str, tuple[pl.Expr, pl.Expr, str]]:
    """id -> (value, n, kind) over a :func:`family_frame`."""
    mono = pl.col("famille_type") == "monoparentale"
    work = pl.col("activite_allocataire").is_in(["salarie", "independant"])
    social = (pl.col("statut_logement") == "locataire_social").cast(pl.Float64)
    owner = (pl.col("statut_logement") == "proprietaire").cast(pl.Float64)
    al = pl.col("aide_logement")

    def share(cond, group):
        return _share(cond, _in(group))

    def mean(x, group):
        among = _in(group)
        return (x.filter(among).cast(pl.Float64).mean(), among.sum().cast(pl.Float64),
                "mean")

    def child_weighted(cond, group):
        w = pl.col("_mineurs").filter(_in(group)).cast(pl.Float64)
        return ((cond.filter(_in(group)) * w).sum() / w.sum(), w.sum(), "share")

    return {
        "rsa_taux_personnes_seules": share(pl.col("rsa"), "personne_seule"),
        "rsa_taux_monoparentales": share(pl.col("rsa"), "monoparentale"),
        "rsa_taux_couples": share(pl.col("rsa"), "couples"),
        "femmes_monoparentales": share(pl.col("sexe_allocataire") == "F", "monoparentale"),
        "emploi_monoparentales": share(work, "monoparentale"),
        "bas_revenus_monoparentales": share(pl.col("bas_revenus"), "monoparentale"),
        "bas_revenus_couples_avec_enfants": share(pl.col("bas_revenus"), "couple_avec_enfants"),
        "monoparentales_parmi_al": _share(mono, al),
        "enfants_monoparentales": mean(pl.col("nb_enfants"), "monoparentale"),
        "enfants_couples": mean(pl.col("nb_enfants"), "couple_avec_enfants"),
        "enfants_hlm_monoparentales": child_weighted(social, "monoparentale"),
        "enfants_hlm_couples": child_weighted(social, "couple_avec_enfants"),
        "enfants_proprietaires_monoparentales": child_weighted(owner, "monoparentale"),
        "enfants_proprietaires_couples": child_weighted(owner, "couple_avec_enfants"),
        "taux_effort_al_monoparentales": _median(pl.col("taux_effort"), mono & al),
    }


def _children_age_ratio(population) -> dict[str, float | None]:
    """Share of minor children living in a single-parent family, 15-17 year-olds over
    under-3s (``rapport_ages_enfants_monoparentales``), from the children's birth dates."""
    key = "rapport_ages_enfants_monoparentales"
    ref_m = pl.col("reference_month").dt.year() * 12 + pl.col("reference_month").dt.month()
    kids = (_source(population).select("famille_type", "reference_month",
                                       "enfants_dates_naissance")
            .explode("enfants_dates_naissance").drop_nulls("enfants_dates_naissance")
            .with_columns(age=(ref_m - pl.col("enfants_dates_naissance").dt.year() * 12
                               - pl.col("enfants_dates_naissance").dt.month()) // 12))
    mono = (pl.col("famille_type") == "monoparentale").cast(pl.Float64)
    old, young = pl.col("age").is_between(15, 17), pl.col("age") < 3
    r = kids.select(p1=mono.filter(old).mean(), n1=old.sum().cast(pl.Float64),
                    p2=mono.filter(young).mean(), n2=young.sum().cast(pl.Float64)
                    ).collect(engine="streaming").row(0, named=True)
    value = r["p1"] / r["p2"] if r["p1"] is not None and r["p2"] else None
    return {key: value, f"{key}__n": r["n1"] + r["n2"],
            **{f"{key}__{k}": v for k, v in r.items()}}


#: Generated profile by family type (no published counterpart for most: shown, not checked).
PROFILE_STATS: tuple[tuple[str, str, str], ...] = (
    ("part", "Part des foyers", "share"),
    ("rsa", "Au RSA", "share"),
    ("aide_logement", "Aidés au logement", "share"),
    ("bas_revenus", "Sous le seuil de bas revenus (1 097 €/UC)", "share"),
    ("emploi", "Allocataire en emploi", "share"),
    ("mois_activite", "Mois d'activité du foyer (moyenne)", "number"),
    ("moins_15_mois", "Moins de 15 mois d'activité du foyer", "share"),
    ("revenu_uc", "Revenu par UC, médiane (€/mois)", "euros"),
    ("revenu_disponible_uc", "Revenu disponible par UC, médiane (€/mois)", "euros"),
    ("taux_effort_al", "Taux d'effort médian (aidés au logement)", "share"),
    ("taux_effort_35", "Taux d'effort supérieur à 35 %", "share"),
    ("femmes", "Femmes (allocataire)", "share"),
    ("enfants_12_18", "Au moins un enfant de 12 à 18 ans", "share"),
    ("aah", "À l'AAH", "share"),
)


def _profile_exprs() -> list[pl.Expr]:
    al = pl.col("aide_logement")
    return [
        pl.len().alias("n"),
        pl.col("rsa").mean().alias("rsa"),
        al.mean().alias("aide_logement"),
        pl.col("bas_revenus").mean().alias("bas_revenus"),
        pl.col("activite_allocataire").is_in(["salarie", "independant"]).mean().alias("emploi"),
        pl.col("mois_activite_foyer").mean().alias("mois_activite"),
        (pl.col("mois_activite_foyer") < 15).mean().alias("moins_15_mois"),
        pl.col("revenu_par_uc").median().alias("revenu_uc"),
        pl.col("revenu_disponible_uc").median().alias("revenu_disponible_uc"),
        pl.col("taux_effort").filter(al).median().alias("taux_effort_al"),
        (pl.col("taux_effort") > 0.35).mean().alias("taux_effort_35"),
        (pl.col("sexe_allocataire") == "F").mean().alias("femmes"),
        (pl.col("nb_enfants_12_18") > 0).mean().alias("enfants_12_18"),
        pl.col("aah").mean().alias("aah"),
    ]


def family_report(population: str | Path | pl.DataFrame | pl.LazyFrame) -> dict[str, Any]:
    """Single parents vs the other family types: published figures (``rows``, checked like
    :func:`population_report`) and the generated profile by family type (``profile``)."""
    lf = family_frame(population).cache()
    margins = family_margins()
    stats = _family_stats()
    exprs = []
    for key in margins:
        if key not in stats:  # computed per child below
            continue
        value, n, _kind = stats[key]
        exprs += [value.alias(key), n.alias(f"{key}__n")]
    # Means (children per family) need their standard deviation for the sampling margin.
    sd_exprs = [pl.col("nb_enfants").filter(_in(margins[k]["famille_type"])).cast(pl.Float64)
                .std().alias(f"{k}__sd") for k in margins if k in stats and stats[k][2] == "mean"]
    got = lf.select(exprs + sd_exprs).collect(engine="streaming").row(0, named=True)
    got.update(_children_age_ratio(population))
    rows = []
    for key, m in margins.items():
        kind = stats[key][2] if key in stats else "ratio"
        value, n = got[key], got[f"{key}__n"] or 0.0
        p, lo, hi = float(m["valeur"]), float(m["min"]), float(m["max"])
        if not n:
            se = math.inf
        elif kind == "share":
            se = math.sqrt(p * (1 - p) / n)
        elif kind == "mean":
            se = (got[f"{key}__sd"] or 0.0) / math.sqrt(n)
        elif kind == "ratio":  # delta method on the ratio of two shares
            p1, n1, p2, n2 = (got[f"{key}__{x}"] for x in ("p1", "n1", "p2", "n2"))
            se = (value * math.sqrt((1 - p1) / (n1 * p1) + (1 - p2) / (n2 * p2))
                  if value and n1 and n2 and p1 and p2 else math.inf)
        else:
            se = 1.25 * 0.5 * p / math.sqrt(n)
        noise = 3 * se
        ok = value is not None and (lo - noise) <= value <= (hi + noise)
        rows.append({
            "id": key, "famille_type": m["famille_type"],
            "famille_fr": FAMILY_LABELS[m["famille_type"]], "libelle_fr": m["libelle_fr"],
            "label_en": m["label_en"], "published": p, "min": lo, "max": hi,
            "sampling_margin": noise, "generated": value,
            "difference": None if value is None else value - p, "n": int(n),
            "kind": kind, "usage": m["usage"], "year": m["annee"], "source": m["source"],
            "ok": bool(ok),
        })
    prof = (lf.group_by("famille_type").agg(_profile_exprs()).collect(engine="streaming"))
    total = prof["n"].sum() or 1
    order = [f for f in FAMILY_GROUPS if len(FAMILY_GROUPS[f]) == 1]
    profile = {}
    for r in prof.iter_rows(named=True):
        r["part"] = r["n"] / total
        profile[r.pop("famille_type")] = r
    profile = {f: profile[f] for f in order if f in profile}
    return {"ok": all(r["ok"] for r in rows), "rows": rows, "profile": profile}

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
            lf = pl.scan_parquet(path)
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

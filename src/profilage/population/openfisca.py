"""Check the fast generator's benefits against the law with OpenFisca-France (optional extra).

``pip install profilage[openfisca]``. For a *sample* of generated households we build one
OpenFisca simulation per chunk with its vectorised builder (persons, famille, foyer fiscal,
ménage declared from arrays: no per-household Python objects), set the incomes of the past 26
months (RSA and prime d'activité look back three months, housing aid and AAH further), and
compute RSA, prime d'activité, housing aid, AAH, allocations familiales and the C2S
eligibility at the reference month.

We *report the agreement* rather than replace the generator's amounts, because OpenFisca
costs tens of kilobytes and about a millisecond per household per variable: fine for thousands
of households, not for 13.8 million in a minute. The generator's flags are calibrated on
published counts (which include non-take-up and situations a survey-free synthetic household
cannot carry), so the two will not agree everywhere; the report says by how much.

Approximations in the mapping (documented, visible in the report): each adult's monthly
income is put in one OpenFisca variable according to the activity (salaried and self-employed
-> ``salaire_net``, unemployed -> ``chomage_net``, retired -> ``retraite_nette``, plus the
taxable twins the resource bases read); incomes are constant over the past months; AAH
recipients get an incapacity rate of 80 %; the APL zone comes from the département (Paris
and inner suburbs: zone 1; other Île-de-France and the largest metropolitan départements:
zone 2; the rest: zone 3).
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import numpy as np
import polars as pl

from profilage.errors import ProfilageError

BENEFITS = {  # generator column -> (OpenFisca variable, entity)
    "rsa": ("rsa", "famille"),
    "prime_activite": ("ppa", "famille"),
    "aide_logement": ("aide_logement", "famille"),
    "aah": ("aah", "individu"),
    "allocations_familiales": ("af", "famille"),
}
_STATUT = {"locataire_prive": "locataire_vide", "locataire_social": "locataire_hlm",
           "proprietaire": "proprietaire", "heberge": "loge_gratuitement",
           "autre": "locataire_foyer"}
_MARITAL = {"marie": "marie", "pacse": "pacse", "concubinage": "celibataire",
            "celibataire": "celibataire", "divorce": "divorce", "separe": "marie",
            "veuf": "veuf"}
_ACTIVITE = {"salarie": "actif", "independant": "actif", "chomage": "chomeur",
             "etudiant": "etudiant", "inactif": "inactif", "retraite": "retraite"}
_ZONE1 = {"75", "92", "93", "94"}
_ZONE2 = {"77", "78", "91", "95", "13", "69", "06", "31", "33", "59", "44", "34", "67", "974",
          "971", "972", "973", "976"}
MONTHS_BACK = 26


def openfisca_available() -> bool:
    try:
        import openfisca_france  # noqa: F401
    except ImportError:
        return False
    return True


_TBS = None


def _tbs():
    global _TBS
    if _TBS is None:
        try:
            from openfisca_france import FranceTaxBenefitSystem
        except ImportError:
            raise ProfilageError("OpenFisca-France is not installed: pip install "
                                 "'profilage[openfisca]'", field="openfisca") from None
        _TBS = FranceTaxBenefitSystem()
    return _TBS


def _persons(pop: pl.DataFrame) -> pl.DataFrame:
    """One row per person: household index, role, birth date, activity, income, AAH."""
    h = pop.with_row_index("_h")
    holder = h.select(
        "_h", pl.lit("parent").alias("role"), pl.lit(0).alias("rank"),
        pl.col("alloc_date_naissance").alias("naissance"), pl.col("alloc_activite").alias("act"),
        pl.col("alloc_revenu_mensuel").alias("revenu"), pl.col("alloc_aah").alias("handicap"),
        pl.col("autres_revenus_mensuels").fill_null(0.0).alias("pension_alim"))
    partner = h.filter("conjoint").select(
        "_h", pl.lit("parent").alias("role"), pl.lit(1).alias("rank"),
        pl.col("conj_date_naissance").alias("naissance"), pl.col("conj_activite").alias("act"),
        pl.col("conj_revenu_mensuel").alias("revenu"), pl.col("conj_aah").alias("handicap"),
        pl.lit(0.0).alias("pension_alim"))
    kids = h.select("_h", pl.col("enfants_dates_naissance").alias("naissance")).explode(
        "naissance").drop_nulls("naissance").select(
        "_h", pl.lit("enfant").alias("role"), pl.lit(2).alias("rank"), "naissance",
        pl.lit("inactif").alias("act"), pl.lit(0.0).alias("revenu"),
        pl.lit(False).alias("handicap"), pl.lit(0.0).alias("pension_alim"))
    return pl.concat([holder, partner, kids]).sort("_h", "rank", maintain_order=True)


def _months(ref: dt.date, back: int) -> list[str]:
    out = []
    y, m = ref.year, ref.month
    for _ in range(back + 1):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out


def _enum(tbs, variable: str, labels: np.ndarray) -> np.ndarray:
    enum = tbs.variables[variable].possible_values
    return enum.encode(np.asarray(labels, dtype=str))


def _simulate(pop: pl.DataFrame) -> dict[str, np.ndarray]:
    tbs = _tbs()  # first: a clear error when the extra is not installed
    from openfisca_core.simulations import SimulationBuilder

    ref = pop["reference_month"][0]
    period = f"{ref.year:04d}-{ref.month:02d}"
    persons = _persons(pop)
    n = pop.height
    hh = persons["_h"].to_numpy()
    role = persons["role"].to_numpy()
    rank = persons["rank"].to_numpy()
    ids = np.arange(persons.height)

    sb = SimulationBuilder()
    sb.create_entities(tbs)
    sb.declare_person_entity("individu", ids)
    groups = np.arange(n)
    fam = sb.declare_entity("famille", groups)
    # Sub-roles matter: formulas read famille.demandeur and foyer_fiscal.declarant_principal.
    sb.join_with_persons(fam, hh, np.select([rank == 0, rank == 1],
                                            ["demandeur", "conjoint"], "enfant"))
    ff = sb.declare_entity("foyer_fiscal", groups)
    sb.join_with_persons(ff, hh, np.select([rank == 0, rank == 1],
                                           ["declarant_principal", "conjoint"],
                                           "personne_a_charge"))
    men = sb.declare_entity("menage", groups)
    sb.join_with_persons(men, hh, np.select([rank == 0, rank == 1],
                                            ["personne_de_reference", "conjoint"], "enfant"))
    sim = sb.build(tbs)

    act = persons["act"].to_numpy()
    revenu = persons["revenu"].fill_null(0.0).to_numpy()
    salaire = np.where(np.isin(act, ["salarie", "independant", "etudiant"]), revenu, 0.0)
    chomage = np.where(act == "chomage", revenu, 0.0)
    retraite = np.where(act == "retraite", revenu, 0.0)
    handicap = persons["handicap"].fill_null(False).to_numpy()
    births = persons["naissance"].to_numpy().astype("datetime64[D]")
    sim.set_input("date_naissance", "ETERNITY", births)
    activite = _enum(tbs, "activite", np.array([_ACTIVITE[a] for a in act]))
    sit = pop["situation_familiale"].to_numpy()[hh]
    marital = _enum(tbs, "statut_marital",
                    np.where(role == "parent", [_MARITAL[s] for s in sit], "celibataire"))
    statut = _enum(tbs, "statut_occupation_logement",
                   np.array([_STATUT[s] for s in pop["statut_logement"].to_list()]))
    deps = pop["departement"].to_numpy()
    zone = _enum(tbs, "zone_apl", np.where(np.isin(deps, list(_ZONE1)), "zone_1",
                                           np.where(np.isin(deps, list(_ZONE2)), "zone_2",
                                                    "zone_3")))
    loyer = pop["loyer_mensuel"].fill_null(0.0).to_numpy()
    pension_alim = persons["pension_alim"].to_numpy()
    for month in _months(ref, MONTHS_BACK):
        sim.set_input("salaire_net", month, salaire)
        sim.set_input("chomage_net", month, chomage)
        sim.set_input("retraite_nette", month, retraite)
        # Taxable amounts feed housing aid (rolling year) and AAH (year N-2): net pay plus the
        # non-deductible CSG/CRDS, about 3 % (approximation); benefits and pensions as net.
        sim.set_input("salaire_imposable", month, salaire * 1.03)
        sim.set_input("chomage_imposable", month, chomage)
        sim.set_input("retraite_imposable", month, retraite)
        sim.set_input("pensions_alimentaires_percues", month, pension_alim)
        sim.set_input("handicap", month, handicap)
        sim.set_input("taux_incapacite", month, np.where(handicap, 0.8, 0.0))
        sim.set_input("activite", month, activite)
        sim.set_input("statut_marital", month, marital)
        sim.set_input("statut_occupation_logement", month, statut)
        sim.set_input("loyer", month, loyer)
    # Some formulas look further back (e.g. housing aid in earlier months): the zone does not
    # change, so set it over six years.
    for month in _months(ref, 72):
        sim.set_input("zone_apl", month, zone)

    out: dict[str, np.ndarray] = {}
    for col, (var, entity) in BENEFITS.items():
        values = np.asarray(sim.calculate(var, period), dtype=float)
        if entity == "individu":
            values = np.bincount(hh, weights=values, minlength=n)
        out[col] = values
    out["c2s_gratuite"] = np.asarray(sim.calculate("cmu_c", period), dtype=bool)
    return out


def openfisca_benefits(pop: pl.DataFrame, *, chunk: int = 1_000) -> pl.DataFrame:
    """OpenFisca-France amounts for each household of ``pop`` (chunked to bound memory).

    Returns ``household_id`` and, per benefit, ``of_montant_<benefit>`` (euros a month), plus
    ``of_c2s_gratuite`` (eligible to the free C2S).
    """
    parts = []
    for start in range(0, pop.height, chunk):
        part = pop.slice(start, chunk)
        res = _simulate(part)
        cols = {"household_id": part["household_id"]}
        for col in BENEFITS:
            cols[f"of_montant_{col}"] = np.round(res[col], 2)
        cols["of_c2s_gratuite"] = res["c2s_gratuite"]
        parts.append(pl.DataFrame(cols))
    return pl.concat(parts)


def agreement_report(pop: pl.DataFrame, *, sample: int = 500, seed: int = 0,
                     chunk: int = 1_000) -> dict[str, Any]:
    """Compare the generator's benefits with OpenFisca-France's on a random sample."""
    if sample < 1:
        raise ProfilageError(f"expected a whole number >= 1, got {sample}", field="--sample")
    sample = min(sample, pop.height)
    idx = np.sort(np.random.default_rng(seed).choice(pop.height, sample, replace=False))
    part = pop[idx]
    t0 = time.perf_counter()
    of = openfisca_benefits(part, chunk=chunk)
    seconds = time.perf_counter() - t0
    return {"sample": sample, "seed": seed, **compare(part, of), "seconds": round(seconds, 2)}


def compare(part: pl.DataFrame, of: pl.DataFrame) -> dict[str, Any]:
    """Agreement between the generator's benefits (``part``) and OpenFisca's (``of``)."""
    from importlib.metadata import version

    rows = []
    for col in BENEFITS:
        gen_amount = part[f"montant_{col}"].fill_null(0.0).to_numpy()
        gen_flag = gen_amount > 0
        of_amount = of[f"of_montant_{col}"].to_numpy()
        of_flag = of_amount > 0
        both = gen_flag & of_flag
        rows.append({
            "benefit": col,
            "generator_share": float(gen_flag.mean()),
            "openfisca_share": float(of_flag.mean()),
            "flag_agreement": float((gen_flag == of_flag).mean()),
            "generator_mean_when_paid": float(gen_amount[gen_flag].mean()) if gen_flag.any()
            else None,
            "openfisca_mean_when_paid": float(of_amount[of_flag].mean()) if of_flag.any()
            else None,
            "median_abs_difference_both_paid": float(np.median(np.abs(
                gen_amount[both] - of_amount[both]))) if both.any() else None,
            "both_paid": int(both.sum()),
        })
    return {"openfisca_france": version("openfisca-france"),
            "reference_month": str(part["reference_month"][0])[:7],
            "openfisca_c2s_gratuite_share": float(of["of_c2s_gratuite"].mean()),
            "rows": rows}

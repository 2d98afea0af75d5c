"""Calibrate the joint table of household cells on published marginals (iterative raking / IPF).

The generator draws every household's *cell* (family type x QPV x RSA x housing aid x AAH) from
one joint probability table. That table starts from a *seed* that encodes associations the
published figures do not pin down (e.g. RSA households more often receive housing aid), and is
then raked until each published marginal holds exactly. Raking keeps the seed's odds ratios for
every interaction no target constrains, which is why the seed matters and is documented here.

We rake a 64-cell numpy table ourselves (a few lines, vectorised, no dependency): ``ipfn`` does
the same but is unmaintained and adds nothing on a table this small.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FAMILLES = ("personne_seule", "couple_sans_enfant", "couple_avec_enfants", "monoparentale")
#: Axes of the joint table, in order.
AXES = ("famille_type", "qpv", "rsa", "aide_logement", "aah")
#: Margin ids (data/population_marges.csv) of the family-type shares, in FAMILLES order.
FAMILY_KEYS = ("part_personnes_seules", "part_couples_sans_enfant", "part_couples_avec_enfants",
               "part_monoparentales")



def published_margins() -> dict[str, dict]:
    """Published marginals (``data/population_marges.csv``): id -> row (valeur, min, max...)."""
    import polars as pl

    from profilage.resources import resource_dir

    df = pl.read_csv(resource_dir("data") / "population_marges.csv")
    return {r["id"]: r for r in df.iter_rows(named=True)}


def margins_for(population: str) -> dict[str, dict]:
    """The margins of one population kind: ``caf`` or ``c2s``."""
    return {k: r for k, r in published_margins().items() if r["population"] == population}


def _v(margins: dict[str, dict], key: str) -> float:
    return float(margins[key]["valeur"])


@dataclass(frozen=True)
class Target:
    """One published margin: the axes it constrains and the target probabilities over them."""

    axes: tuple[str, ...]
    table: np.ndarray


def _seed_table() -> np.ndarray:
    """Prior joint table: independence times documented odds ratios (our assumptions)."""
    shape = (4, 2, 2, 2, 2)
    t = np.ones(shape)
    fam = np.arange(4)
    # QPV: single parents over-represented (Insee Focus 348 commentary); couples without
    # children under-represented.
    qpv_or = np.array([1.0, 0.6, 1.0, 1.8])
    t[:, 1] *= qpv_or[:, None, None, None]
    # Housing aid and RSA go together (RSA households are mostly tenants with low resources).
    t[:, :, 1, 1] *= 3.0
    # Housing aid by family type: persons alone (students, young workers) and single parents
    # more often; couples with children less (our prior, shaped on CNAF annual figures).
    al_or = np.array([2.0, 0.8, 0.6, 2.0])
    t[:, :, :, 1] *= al_or[:, None, None, None]
    # AAH: mostly persons alone; rarely combined with RSA (AAH exceeds the RSA amount).
    aah_or = np.array([3.0, 2.5, 0.6, 0.6])
    t[fam, ..., 1] *= aah_or[:, None, None, None]
    t[:, :, 1, :, 1] *= 0.15
    t[:, :, :, 1, 1] *= 1.5
    return t / t.sum()


def default_targets() -> list[Target]:
    """The published margins (``usage = calage`` in the CSV) as targets over the table's axes."""
    m = published_margins()
    fam = np.array([_v(m, k) for k in FAMILY_KEYS])
    fam = fam / fam.sum()
    rsa, q, rsa_q = _v(m, "part_rsa"), _v(m, "part_qpv"), _v(m, "part_rsa_qpv")
    al, al_q, aah = _v(m, "part_aide_logement"), _v(m, "part_aide_logement_qpv"), _v(m, "part_aah")
    # RSA by family type: Insee composition (Dec 2021) scaled to the Dec 2023 RSA share;
    # couples' RSA households are split between couples with and without children by weight.
    comp = {k: _v(m, f"rsa_part_{k}") for k in ("personnes_seules", "monoparentales", "couples")}
    total = sum(comp.values())
    comp = {k: v / total * rsa for k, v in comp.items()}
    couples = fam[1] + fam[2]
    rsa_joint = np.array([comp["personnes_seules"], comp["couples"] * fam[1] / couples,
                          comp["couples"] * fam[2] / couples, comp["monoparentales"]])
    fam_rsa = np.stack([fam - rsa_joint, rsa_joint], axis=1)
    qpv_rsa = np.array([[1 - q - (rsa - q * rsa_q), rsa - q * rsa_q],
                        [q * (1 - rsa_q), q * rsa_q]])
    qpv_al = np.array([[1 - q - (al - q * al_q), al - q * al_q],
                       [q * (1 - al_q), q * al_q]])
    return [
        Target(("famille_type", "rsa"), fam_rsa),
        Target(("qpv", "rsa"), qpv_rsa),
        Target(("qpv", "aide_logement"), qpv_al),
        Target(("aah",), np.array([1 - aah, aah])),
    ]


def rake(seed: np.ndarray, targets: list[Target], *, tol: float = 1e-12, max_iter: int = 2000
         ) -> np.ndarray:
    """Iterative proportional fitting: scale ``seed`` until every target margin holds."""
    t = seed / seed.sum()
    for _ in range(max_iter):
        worst = 0.0
        for tg in targets:
            keep = tuple(AXES.index(a) for a in tg.axes)
            drop = tuple(i for i in range(t.ndim) if i not in keep)
            margin = t.sum(axis=drop)
            worst = max(worst, float(np.abs(margin - tg.table).max()))
            ratio = np.divide(tg.table, margin, out=np.zeros_like(margin), where=margin > 0)
            t = t * np.expand_dims(ratio, drop)
        if worst < tol:
            break
    return t


_TABLE: np.ndarray | None = None


def joint_table() -> np.ndarray:
    """The calibrated joint table (4 x 2 x 2 x 2 x 2), probabilities summing to 1."""
    global _TABLE
    if _TABLE is None:
        _TABLE = rake(_seed_table(), default_targets())
    return _TABLE


#: Share of RSA households among C2SG households (our assumption: RSA recipients are presumed
#: eligible since 2022 and make up the core of the 5.9 M people covered; the rest are modest
#: households, taken here among housing-aid recipients without RSA).
C2S_RSA_SHARE = 0.6


def c2s_table() -> np.ndarray:
    """Joint cell table for C2SG households: a mix of the CAF table's RSA cells and its
    housing-aid cells without RSA (``C2S_RSA_SHARE``); documented assumption, no published
    composition of C2SG households by family type was available to us."""
    t = joint_table()
    rsa = np.zeros_like(t)
    rsa[:, :, 1] = t[:, :, 1]
    modest = np.zeros_like(t)
    modest[:, :, 0, 1] = t[:, :, 0, 1]
    return C2S_RSA_SHARE * rsa / rsa.sum() + (1 - C2S_RSA_SHARE) * modest / modest.sum()

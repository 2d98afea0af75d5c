"""National synthetic population of CAF beneficiary households (foyers allocataires).

One row per household, with every flat dossier column the models read
(``profilage.features.DOSSIER_COLUMNS``) plus descriptive columns for the audit. Fully
vectorised numpy: each chunk of households is drawn in a few dozen array operations, no Python
loop over households. Deterministic: chunk ``k`` of seed ``s`` is drawn from
``numpy.random.default_rng([s, k])``, so the same seed and size give the same rows.

How it is drawn (each step documented beside its code):

1. the *cell* (family type x QPV x RSA x housing aid x AAH) from a joint table raked on the
   published national figures (``calibration.py``);
2. département from population shares (``data/departements_population.csv``);
3. ages, sexes, children's ages, marital situation conditional on the cell;
4. activity, months worked and incomes per adult, conditional on the cell and age;
5. housing status and rent conditional on housing aid and QPV;
6. benefit amounts from simplified scales in force in March 2024 (our approximations of the
   legal formulas; the optional OpenFisca-France path checks them against the law);
7. file history (registration, moves, rent changes, contacts, declarations, past controls).

The distributions in steps 3-7 are *our* assumptions, shaped on published figures where they
exist (cited inline); the calibrated margins are checked by ``profilage population report``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator

import numpy as np
import polars as pl
import pyarrow as pa

from profilage.errors import ProfilageError
from profilage.features import ACTIVITES, DOSSIER_COLUMNS, LOGEMENTS, NATIONALITES, NEVER
from profilage.population.calibration import FAMILLES, c2s_table, joint_table

CHUNK = 1 << 20  # households per chunk: bounds memory and fixes the random streams

# --- Scales in force in March 2024 (revaluation of 1 April 2023) --------------------------
RSA_BASE = 607.75            # RSA montant forfaitaire, one person (décret 2023, +4.6 %)
RSA_FORFAIT_LOGEMENT = (72.93, 145.86, 180.50)  # 1, 2, 3+ persons
PA_BASE = 595.25             # prime d'activité montant forfaitaire, one person
PA_BONUS_MAX = 173.75        # individual bonus reached at about one Smic (approximation)
PA_TAKE_UP = 0.885           # share of eligible households that claim it (see below)
SMIC_NET = 1398.69           # monthly net Smic, Jan 2024 (35 h)
AAH_MAX = 971.37             # AAH full rate
AF_2, AF_3, AF_EXTRA, AF_14 = 141.99, 323.91, 181.92, 71.00  # allocations familiales

NEVER_DAYS = (NEVER - dt.date(1970, 1, 1)).days
_ACT = {a: i for i, a in enumerate(ACTIVITES)}
SITUATIONS_OUT = ("marie", "pacse", "concubinage", "celibataire", "divorce", "separe", "veuf")
_SIT = {s: i for i, s in enumerate(SITUATIONS_OUT)}
IDF = ("75", "77", "78", "91", "92", "93", "94", "95")


def parse_reference_month(value: str | dt.date) -> dt.date:
    """'YYYY-MM' (or a date) to the first day of that month; a clear error otherwise."""
    if isinstance(value, dt.date):
        ref = value.replace(day=1)
    else:
        try:
            y, m = str(value).strip().split("-")[:2]
            ref = dt.date(int(y), int(m), 1)
        except (ValueError, TypeError):
            raise ProfilageError(f"expected 'YYYY-MM', got {value!r}", field="reference_month"
                                 ) from None
    # Birth dates and CAF history are drawn back from the month: it must leave room for them
    # (found by the API fuzz test: month 0001-01 made the generator index out of bounds).
    from profilage.dates import RANGE_TEXT, in_range

    if not in_range(ref):
        raise ProfilageError(f"month {ref.year:04d}-{ref.month:02d} is outside {RANGE_TEXT}",
                             field="reference_month")
    return ref


@functools.cache
def departements() -> pl.DataFrame:
    """Département codes, names and population (weights) from ``data/``."""
    from profilage.resources import resource_dir

    return pl.read_csv(resource_dir("data") / "departements_population.csv",
                       schema_overrides={"code": pl.String})


# --- small vectorised helpers ------------------------------------------------------------

def _choice(rng: np.random.Generator, n: int, p) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    cdf = np.cumsum(p / p.sum())
    cdf[-1] = 1.0
    return np.searchsorted(cdf, rng.random(n), side="right").astype(np.int16)


def _cond_choice(rng: np.random.Generator, group: np.ndarray, probs) -> np.ndarray:
    """Draw one category per row from the row of ``probs`` its ``group`` selects.

    One ``searchsorted`` for all rows: row ``g``'s cumulative probabilities are shifted by
    ``g`` so the rows sit one after another on [0, G], and ``u + g`` falls in row ``g``.
    """
    probs = np.asarray(probs, dtype=float)
    n_groups, k = probs.shape
    cdf = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    cdf[:, -1] = 1.0
    flat = (cdf + np.arange(n_groups)[:, None]).ravel()
    g = group.astype(np.int64)
    pos = np.searchsorted(flat, rng.random(group.shape[0]) + g, side="right")
    return np.minimum(pos - g * k, k - 1).astype(np.int16)


def _lognormal(rng: np.random.Generator, median, sigma, n: int) -> np.ndarray:
    return np.asarray(median) * np.exp(sigma * rng.standard_normal(n))


def _geometric_months(rng: np.random.Generator, mean, n: int) -> np.ndarray:
    """Months since an event (0, 1, 2...) with the given mean."""
    p = 1.0 / (1.0 + np.asarray(mean, dtype=float))
    return (rng.geometric(np.broadcast_to(p, (n,))) - 1).astype(np.int64)


# Days since 1970-01-01 of the first day of each month, January 1850 to December 2100 (the last
# reference month accepted, profilage.dates). A lookup table: an integer gather is several times
# faster than datetime64 conversions on millions of rows.
_MONTH0 = (1850 - 1970) * 12
_MONTH_START = (np.arange(_MONTH0, 2101 * 12 - 1970 * 12).astype("datetime64[M]")
                .astype("datetime64[D]").astype(np.int32))


def _months_ago_to_days(ref: dt.date, months_ago: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Date ``months_ago`` months before the reference month, on ``day``: days since 1970."""
    ref_m = (ref.year - 1970) * 12 + (ref.month - 1)
    return _MONTH_START[ref_m - months_ago - _MONTH0] + (day - 1).astype(np.int32)


def _date_series(name: str, days: np.ndarray, valid: np.ndarray | None = None) -> pl.Series:
    s = pl.Series(name, days, dtype=pl.Int32).cast(pl.Date)
    if valid is not None:
        s = pl.select(pl.when(pl.Series(valid)).then(s)).to_series().alias(name)
    return s


def _str_series(name: str, labels, idx: np.ndarray, valid: np.ndarray | None = None
                ) -> pl.Series:
    s = pl.Series(name, list(labels), dtype=pl.String).gather(idx.astype(np.uint32))
    if valid is not None:
        s = pl.select(pl.when(pl.Series(valid)).then(s)).to_series()
    return s.alias(name)


def _masked(name: str, values: np.ndarray, valid: np.ndarray, dtype: pl.DataType) -> pl.Series:
    s = pl.Series(name, values).cast(dtype)
    return pl.select(pl.when(pl.Series(valid)).then(s)).to_series().alias(name)


def _composition(couple: np.ndarray, nkids: np.ndarray, isole: np.ndarray) -> np.ndarray:
    """RSA / prime d'activité household coefficient on the one-person amount.

    +50 % for a second adult, +30 % for each of the next two persons, +40 % beyond; a single
    parent gets the majoration pour isolement instead (128.412 % + 42.804 % per child).
    """
    others = couple.astype(np.int64) + nkids
    second = np.minimum(others, 1) * 0.5
    next_two = np.clip(others - 1, 0, 2) * 0.3
    beyond = np.clip(others - 3, 0, None) * 0.4
    normal = 1.0 + second + next_two + beyond
    majore = 1.28412 + 0.42804 * nkids
    return np.where(isole, majore, normal)


def _forfait_logement(persons: np.ndarray) -> np.ndarray:
    fl = np.asarray(RSA_FORFAIT_LOGEMENT)
    return fl[np.clip(persons, 1, 3) - 1]


# --- adults ------------------------------------------------------------------------------

# Age bins (inclusive lower, exclusive upper) and their probabilities by group.
_AGE_BINS = np.array([[18, 25], [25, 35], [35, 50], [50, 62], [62, 75], [75, 91]])
_AGE_P = np.array([
    [.30, .24, .15, .14, .11, .06],   # 0 personne seule (students, young workers, elderly)
    [.00, .33, .36, .31, .00, .00],   # 1 personne seule au RSA (25-61: RSA from 25)
    [.04, .16, .32, .43, .05, .00],   # 2 personne seule à l'AAH
    [.10, .25, .17, .20, .19, .09],   # 3 couple sans enfant
    [.02, .25, .55, .17, .01, .00],   # 4 couple avec enfants
    [.05, .30, .50, .14, .01, .00],   # 5 famille monoparentale
])

# Activity probabilities (salarie, independant, chomage, etudiant, inactif, retraite).
_ACT_P = np.array([
    [.72, .07, .11, .01, .09, .00],   # 0 working age, no RSA
    [.14, .04, .42, .00, .40, .00],   # 1 RSA household
    [.35, .02, .10, .48, .05, .00],   # 2 under 25 without RSA
    [.06, .02, .01, .00, .04, .87],   # 3 aged 62+
    # Parents (25-61, no RSA), rows added after checking single parents against published
    # figures (issue 12; data/population_familles.csv, `profilage population report`):
    [.85, .05, .05, .01, .04, .00],   # 4 single parent: with the 18 % in work on RSA, about
    #                                     two thirds in work (Insee Focus 249, 2021: "dans un
    #                                     tiers des familles monoparentales, le parent ... n'a
    #                                     pas d'emploi")
    [.80, .08, .05, .00, .07, .00],   # 5 parent in a couple: our assumption, set so that
    #                                     couples with children are not poorer than published
    #                                     (Insee chiffres-clés 3566846: 13.0 % poor in 2022)
])
#: Share of workers employed all year: RSA households, parents (groups 4-5), others (ours).
_FULL_YEAR = (0.30, 0.85, 0.72)
_COUPLE_PARENT_WAGE = 2000.0 / 1700.0
KID_AGE_POWER_MONO = 0.65


def _activity(rng, n, age, rsa, aah_person, qpv, parent=None):
    """Activity, months worked (12 m), monthly income and ESAT flag for one adult per row.

    ``parent``: 0 no child, 1 single parent, 2 parent in a couple (per row; default 0).
    """
    parent = np.zeros(n, dtype=np.int8) if parent is None else parent
    group = np.where(rsa, 1, np.where(age >= 62, 3, np.where(
        age < 25, 2, np.select([parent == 1, parent == 2], [4, 5], 0))))
    act = _cond_choice(rng, group, _ACT_P)
    # AAH recipients: 17-20 % work (CNAF, Dares, incl. specialised establishments, 2012);
    # we take 18.5 %, of whom 45 % in an ESAT (our assumption).
    aah_works = rng.random(n) < 0.185
    esat = aah_person & aah_works & (rng.random(n) < 0.45)
    act = np.where(aah_person, np.where(aah_works, _ACT["salarie"], _ACT["inactif"]), act)
    working = (act == _ACT["salarie"]) | (act == _ACT["independant"])
    full_year = rng.random(n) < np.where(rsa, _FULL_YEAR[0],
                                         np.where(parent > 0, _FULL_YEAR[1], _FULL_YEAR[2]))
    months = np.where(full_year, 12, rng.integers(1, 12, n))
    months = np.where(working, months, 0)
    months = np.where(act == _ACT["chomage"], rng.integers(0, 9, n), months)
    student_job = (act == _ACT["etudiant"]) & (rng.random(n) < 0.35)
    months = np.where(student_job, rng.integers(1, 10, n), months)
    # Full-time-equivalent monthly net pay: lognormal, lower in QPV and for RSA households.
    # Parents in a couple (no RSA) earn more: 2,000 euros outside QPV, near the private
    # sector's median of 2,091 euros net full-time (Insee Première 1971, 2022) less part time
    # (our assumption, set with group 5 above so couples with children are not too poor).
    wage = _lognormal(rng, np.where(rsa, 750.0, np.where(qpv, 1450.0, 1700.0))
                      * np.where(parent == 2, _COUPLE_PARENT_WAGE, 1.0), 0.45, n)
    wage = np.where(act == _ACT["etudiant"], wage * 0.5, wage)
    wage = np.where(aah_person, np.where(esat, _lognormal(rng, 650.0, 0.15, n),
                                         _lognormal(rng, 1100.0, 0.4, n)), wage)
    earn = wage * months / 12.0
    # Unemployment benefit for the months without work (ARE, about 60 % of pay).
    are_rate = np.where(rsa, 0.35, 0.7)
    gets_are = ((act == _ACT["chomage"]) | working) & (rng.random(n) < are_rate) & ~aah_person
    are = np.where(gets_are, 0.6 * _lognormal(rng, 1500.0, 0.35, n) * (12 - months) / 12.0, 0.0)
    pension = np.where(act == _ACT["retraite"], _lognormal(rng, 1250.0, 0.45, n), 0.0)
    return act, months.astype(np.int32), earn, are + pension, esat


def _ages(rng, n, group):
    b = _cond_choice(rng, group, _AGE_P)
    lo, hi = _AGE_BINS[b, 0], _AGE_BINS[b, 1]
    return (lo + np.floor(rng.random(n) * (hi - lo))).astype(np.int64)


# --- one chunk ---------------------------------------------------------------------------

def _chunk(seed: int, index: int, n: int, start_id: int, ref: dt.date, kind: str = "caf"
           ) -> pl.DataFrame:
    c2s = kind == "c2s"
    rng = np.random.default_rng([seed, index, 1] if c2s else [seed, index])
    table = c2s_table() if c2s else joint_table()
    cell = _choice(rng, n, table.ravel())
    fam, qpv, rsa, al, aah = np.unravel_index(cell, table.shape)
    qpv, rsa, al, aah = qpv == 1, rsa == 1, al == 1, aah == 1
    couple = (fam == 1) | (fam == 2)
    has_kids = (fam == 2) | (fam == 3)
    mono = fam == 3

    deps = departements()
    dep_idx = _choice(rng, n, deps["population"].to_numpy())
    dep_codes = deps["code"].to_numpy()
    idf = np.isin(dep_codes, IDF)[dep_idx]
    paris = (dep_codes == "75")[dep_idx]

    # --- holder and partner ---
    # Nationality (française, européenne, extra-européenne): our assumption, about 8 % foreign
    # residents in France (Insee) and more among low-income and QPV households.
    nat = _cond_choice(rng, np.where(qpv, 2, np.where(rsa, 1, 0)),
                       [[.90, .03, .07], [.80, .03, .17], [.70, .03, .27]])
    age_group = np.select([(fam == 0) & rsa, (fam == 0) & aah, fam == 0, fam == 1, fam == 2],
                          [1, 2, 0, 3, 4], 5)
    age = _ages(rng, n, age_group)
    # RSA before 25 only for parents: move childless young RSA holders into 25-31.
    age = np.where(rsa & ~has_kids & (age < 25), age + 7, age)
    # Holder's sex. The CAF usually names the mother as allocataire in couples with children
    # (our assumption: 70 %); single parents: 91.7 % women among RSA single parents (Insee),
    # 80 % among the others so that all single parents are about 83 % (Insee: 81-85 %).
    p_f = np.select([fam == 0, fam == 1, fam == 2], [0.52, 0.5, 0.70], np.where(rsa, 0.917, 0.80))
    female = rng.random(n) < p_f
    gap = np.rint(rng.normal(np.where(female, 2.0, -2.0), 4.0, n)).astype(np.int64)
    conj_age = np.clip(age + gap, 18, 95)
    conj_female = np.where(rng.random(n) < 0.98, ~female, female)

    # AAH: the holder, or in a couple the holder or the partner (half each); 5 % of AAH couples
    # have both (our assumption).
    who = rng.random(n)
    alloc_aah = aah & (~couple | (who < 0.5) | (who > 0.95))
    conj_aah = aah & couple & (who >= 0.5)

    parent = np.where(mono, 1, np.where(has_kids, 2, 0)).astype(np.int8)
    a_act, a_months, a_earn, a_other, a_esat = _activity(rng, n, age, rsa, alloc_aah, qpv,
                                                         parent)
    c_act, c_months, c_earn, c_other, c_esat = _activity(rng, n, conj_age, rsa, conj_aah, qpv,
                                                         parent)
    for arr in (c_months, c_earn, c_other):
        arr[~couple] = 0
    c_esat &= couple
    working_a = (a_act <= 1)
    working_c = (c_act <= 1) & couple
    aah_travaille = (alloc_aah & working_a) | (conj_aah & working_c)

    # --- children ---
    nkids = np.zeros(n, dtype=np.int64)
    k = _cond_choice(rng, np.where(mono, 1, 0),
                     [[.33, .42, .18, .05, .02], [.50, .32, .13, .04, .01]]) + 1
    nkids = np.where(has_kids, k, 0)
    youngest_parent = np.where(couple, np.minimum(age, conj_age), age)
    max_child_age = np.clip(youngest_parent - 17, 0, 20)
    total_kids = int(nkids.sum())
    kid_hh = np.repeat(np.arange(n), nkids)
    # Children of single parents are older: a family becomes single-parent mostly through a
    # separation, so the share of children living with one parent grows with their age (Insee,
    # 14 Jan 2020, 2018 data: 13 % of the under-3s, 27 % of the 15-17s). Their ages are drawn
    # as max * u ** KID_AGE_POWER_MONO (older for a power below 1), set to match that ratio.
    u = rng.random(total_kids)
    u = np.where(mono[kid_hh], u ** KID_AGE_POWER_MONO, u)
    kid_age = np.floor(u * (max_child_age[kid_hh] + 1)).astype(np.int64)
    kid_days = _months_ago_to_days(ref, kid_age * 12 + rng.integers(0, 12, total_kids),
                                   rng.integers(1, 29, total_kids))
    # Children in a household stay sorted by household: offsets are a cumulative sum.
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(nkids, out=offsets[1:])
    kids_under_20 = np.bincount(kid_hh, weights=kid_age < 20, minlength=n).astype(np.int64)
    kids_14_plus = np.bincount(kid_hh, weights=(kid_age >= 14) & (kid_age < 20), minlength=n
                               ).astype(np.int64)
    oldest = np.zeros(n, dtype=np.int64)
    np.maximum.at(oldest, kid_hh, kid_age)

    # --- marital situation and separation ---
    sit_couple = _cond_choice(rng, np.where(has_kids, 0, 1),
                              [[.50, .12, .38], [.40, .14, .46]])
    alone_group = np.where(mono, 3, np.where(age < 35, 0, np.where(age < 62, 1, 2)))
    sit_alone = _cond_choice(rng, alone_group, [
        [.90, .04, .06, .00],     # under 35: célibataire, divorcé, séparé, veuf
        [.50, .30, .15, .05],
        [.25, .30, .05, .40],
        [.42, .28, .28, .02],     # single parents
    ]) + 3
    sit = np.where(couple, sit_couple, sit_alone)
    separated = (sit == _SIT["separe"]) | (sit == _SIT["divorce"])
    sep_months = np.minimum(
        _geometric_months(rng, np.where(sit == _SIT["separe"], 24.0, 72.0), n),
        np.maximum((age - 18) * 12, 0))
    sep_days = np.where(separated, _months_ago_to_days(ref, sep_months, rng.integers(1, 29, n)),
                        NEVER_DAYS)

    # --- housing ---
    # Status (locataire_prive, locataire_social, proprietaire, heberge, autre) given housing
    # aid and QPV: QPV housing is mostly social (our assumption, ANCT figures: ~3/4 social).
    st_group = np.where(al, np.where(qpv, 0, 1), np.where(qpv, 2, 3))
    # Families with children without housing aid are more often owners (groups 4-7): set so
    # that their children live in social housing and own their home about as often as
    # published (Insee Focus 249, 2021: 15.8 % and 66 % of children in "traditional"
    # families; 37 % and 29 % in single-parent families). Housing aid goes to tenants only
    # here (no accédants), which keeps owners slightly under the published shares.
    st_group = np.where(~al & has_kids, st_group + np.where(mono, 4, 2), st_group)
    statut = _cond_choice(rng, st_group, [
        [.17, .80, .00, .00, .03],
        [.55, .38, .00, .00, .07],
        [.15, .60, .15, .07, .03],
        [.25, .14, .45, .11, .05],
        [.10, .40, .45, .02, .03],    # 4 couple with children, QPV, no housing aid
        [.12, .04, .78, .03, .03],    # 5 couple with children, elsewhere, no housing aid
        [.15, .55, .22, .05, .03],    # 6 single parent, QPV, no housing aid
        [.22, .12, .55, .06, .05],    # 7 single parent, elsewhere, no housing aid
    ])
    persons = 1 + couple.astype(np.int64) + nkids
    rent = np.select(
        [statut == 0, statut == 1, statut == 4],
        [_lognormal(rng, (465.0 + 90.0 * (persons - 1)) * np.where(paris, 1.5,
                                                                   np.where(idf, 1.25, 1.0)),
                    0.3, n),
         _lognormal(rng, 385.0 + 50.0 * (persons - 1), 0.2, n),
         _lognormal(rng, 420.0, 0.2, n)], 0.0)
    rent = np.round(rent, 0)

    # --- resources and benefits ---
    # Allocations familiales: two children or more under 20 (income modulation left out).
    af = kids_under_20 >= 2
    montant_af = np.where(af, np.select([kids_under_20 == 2], [AF_2],
                                        AF_3 + AF_EXTRA * (kids_under_20 - 3))
                          + AF_14 * np.maximum(kids_14_plus - (kids_under_20 == 2), 0), 0.0)
    autres = np.where(mono & (rng.random(n) < 0.35), _lognormal(rng, 170.0, 0.5, n), 0.0)
    comp = _composition(couple, nkids, mono)
    fl = _forfait_logement(persons) * (al | (statut == 2) | (statut == 3))
    resources = a_earn + a_other + c_earn + c_other + autres
    # RSA households have low resources by definition: cap them so that, with the family
    # allowance and the forfait logement, they stay under 60 % of their scale.
    cap = np.maximum(0.6 * RSA_BASE * comp - montant_af - fl, 0.0)
    scale = np.where(rsa & (resources > cap), cap / np.maximum(resources, 1e-9), 1.0)
    a_earn, a_other, c_earn, c_other, autres = (x * scale for x in
                                                (a_earn, a_other, c_earn, c_other, autres))
    resources = a_earn + a_other + c_earn + c_other + autres
    # RSA and prime d'activité count the family allowance among resources.
    montant_rsa = np.where(rsa, np.maximum(RSA_BASE * comp - fl - resources - montant_af, 0.0),
                           0.0)
    # AAH: full rate minus part of own earnings (simplified differential).
    aah_one = lambda earn: np.maximum(AAH_MAX - 0.3 * np.maximum(earn - 200.0, 0.0), 40.0)  # noqa: E731
    montant_aah = np.where(alloc_aah, aah_one(a_earn), 0.0) + np.where(conj_aah, aah_one(c_earn),
                                                                       0.0)
    # Prime d'activité: forfait x composition + 61 % of earnings + bonuses
    # - max(forfait x composition, resources + forfait logement).
    def bonus(e):
        return PA_BONUS_MAX * np.clip((e - 0.5 * SMIC_NET) / (0.5 * SMIC_NET), 0.0, 1.0)

    earn_pro = a_earn + c_earn
    pa_raw = (PA_BASE * comp + 0.61 * earn_pro + bonus(a_earn) + bonus(c_earn)
              - np.maximum(PA_BASE * comp, resources + montant_aah + montant_af + fl))
    # Take-up: about a third of eligible households do not claim it (DREES estimates of
    # non-recours); PA_TAKE_UP is a calibration parameter, set so the share matches the
    # published 4.55 M households (0.80 before parents' activity was raised, issue 12: it is
    # above the DREES take-up because our simplified scale finds fewer eligible households).
    claims = rng.random(n) < PA_TAKE_UP
    montant_pa = np.where((earn_pro > 0) & (pa_raw >= 15.0) & claims, np.round(pa_raw, 2), 0.0)
    prime_activite = montant_pa > 0
    # Housing aid (simplified APL/ALS scale, zone 2): capped rent + charges - participation.
    plafond = np.where(persons == 1, 265.0, np.where((persons == 2) & couple, 325.0,
                                                     365.0 + 53.0 * np.maximum(nkids - 1, 0)))
    charges = 56.0 + 12.6 * (persons - 1)
    participation = np.maximum(37.0, 0.085 * (rent + charges)) + 0.28 * np.maximum(
        resources - 420.0 * comp, 0.0)
    al_raw = np.minimum(rent, plafond) + charges - participation
    montant_al = np.where(al, np.clip(al_raw, 20.0, np.maximum(rent, 20.0)), 0.0)

    # --- file history ---
    insc = np.minimum(_geometric_months(rng, 96.0, n), (age - 17) * 12)
    insc = np.where(has_kids, np.maximum(insc, (oldest * 12 * rng.uniform(0.5, 1.0, n))
                                         .astype(np.int64)), insc)
    insc = np.maximum(insc, 0)
    move = _geometric_months(rng, np.where(age < 30, 20.0, 45.0), n)
    move_days = np.where(move <= insc, _months_ago_to_days(ref, move, rng.integers(1, 29, n)),
                         NEVER_DAYS)
    tenant = statut != 2
    tenant &= statut != 3
    rent_change = _geometric_months(rng, 20.0, n)
    rent_days = np.where(tenant & (rent_change <= insc),
                         _months_ago_to_days(ref, rent_change, rng.integers(1, 29, n)),
                         NEVER_DAYS)
    contact = _geometric_months(rng, np.where(rsa, 3.0, 6.0), n)
    contact_days = np.where(contact <= insc, _months_ago_to_days(ref, contact,
                                                                 rng.integers(1, 29, n)),
                            NEVER_DAYS)
    # Quarterly declarations: RSA, prime d'activité and AAH with earnings.
    quarterly = rsa | prime_activite | aah_travaille
    decl = np.where(quarterly, 4 - (rng.random(n) < 0.15), rng.poisson(0.3, n))
    controles = rng.poisson(0.25 * (insc / 96.0))
    web = rng.random(n) < 0.08

    # --- assemble ---
    alloc_birth = _months_ago_to_days(ref, age * 12 + rng.integers(0, 12, n),
                                      rng.integers(1, 29, n))
    conj_birth = _months_ago_to_days(ref, conj_age * 12 + rng.integers(0, 12, n),
                                     rng.integers(1, 29, n))
    kids_list = pl.from_arrow(pa.ListArray.from_arrays(
        pa.array(offsets, pa.int64()).cast(pa.int32()),
        pa.array(kid_days, pa.int32()).cast(pa.date32())))
    sexes = ("M", "F")
    cols = [
        pl.Series("household_id", np.arange(start_id, start_id + n), dtype=pl.Int64),
        _str_series("famille_type", FAMILLES, fam),
        _str_series("sexe_allocataire", sexes, female.astype(np.int64)),
        _str_series("departement", dep_codes, dep_idx),
        pl.Series("aah", aah),
        pl.Series("aah_travaille", aah_travaille),
        pl.Series("reference_month", np.full(n, (ref - dt.date(1970, 1, 1)).days, np.int32)
                  ).cast(pl.Date),
        _date_series("alloc_date_naissance", alloc_birth),
        pl.Series("alloc_age", age, dtype=pl.Int32),
        _str_series("alloc_sexe", sexes, female.astype(np.int64)),
        _str_series("alloc_activite", ACTIVITES, a_act),
        pl.Series("alloc_mois_travailles_12m", a_months, dtype=pl.Int32),
        pl.Series("alloc_revenu_mensuel", np.round(a_earn + a_other, 2)),
        pl.Series("alloc_aah", alloc_aah),
        pl.Series("alloc_esat", a_esat),
        _str_series("alloc_nationalite", NATIONALITES, nat),
        pl.Series("conjoint", couple),
        _date_series("conj_date_naissance", conj_birth, couple),
        _masked("conj_age", conj_age, couple, pl.Int32),
        _str_series("conj_sexe", sexes, conj_female.astype(np.int64), couple),
        _str_series("conj_activite", ACTIVITES, c_act, couple),
        _masked("conj_mois_travailles_12m", c_months, couple, pl.Int32),
        _masked("conj_revenu_mensuel", np.round(c_earn + c_other, 2), couple, pl.Float64),
        _masked("conj_aah", conj_aah, couple, pl.Boolean),
        _masked("conj_esat", c_esat, couple, pl.Boolean),
        _str_series("situation_familiale", SITUATIONS_OUT, sit),
        kids_list.alias("enfants_dates_naissance"),
        pl.Series("autres_revenus_mensuels", np.round(autres, 2)),
        pl.Series("rsa", rsa),
        pl.Series("prime_activite", prime_activite),
        pl.Series("aide_logement", al),
        pl.Series("allocations_familiales", af),
        pl.Series("montant_rsa", np.round(montant_rsa, 2)),
        pl.Series("montant_aah", np.round(montant_aah, 2)),
        pl.Series("montant_prime_activite", montant_pa),
        pl.Series("montant_aide_logement", np.round(montant_al, 2)),
        pl.Series("montant_allocations_familiales", np.round(montant_af, 2)),
        _str_series("statut_logement", LOGEMENTS, statut),
        pl.Series("loyer_mensuel", rent),
        pl.Series("qpv", qpv),
        _date_series("date_inscription_caf",
                     _months_ago_to_days(ref, insc, rng.integers(1, 29, n))),
        _date_series("date_changement_adresse", move_days),
        _date_series("date_changement_loyer", rent_days),
        _date_series("date_dernier_contact", contact_days),
        _date_series("date_separation", sep_days),
        pl.Series("nb_declarations_12m", decl, dtype=pl.Int32),
        pl.Series("nb_controles_passes", controles, dtype=pl.Int32),
        pl.Series("baisse_connexions_web", web),
    ]
    if c2s:
        cols += _c2s_columns(rng, n, ref, persons, couple, has_kids, aah, female, age,
                             working_a | working_c, cols)
    df = pl.DataFrame(cols)
    # C2S fields: not part of a CAF household (see generate_c2s_population): unknown.
    missing = [pl.lit(None, dtype=t).alias(c) for c, t in DOSSIER_COLUMNS.items()
               if c not in df.columns]
    return df.with_columns(missing).select(C2S_COLUMNS if c2s else POPULATION_COLUMNS)


# --- C2S (complémentaire santé solidaire gratuite) households ----------------------------

#: Resources relative to the C2SG ceiling (our assumptions; the CNAM publishes no
#: distribution): 94 % under the ceiling, 5.5 % between 1 and 3 times it ("anomalie"),
#: 0.5 % above 3 times (classified as fraud by the CNAM, sources.md section 2). First
#: applications and couples with children are twice as often above (our assumption, so that
#: the CNAM's "profil-type" is not contradicted by the synthetic ground truth).
C2S_ABOVE, C2S_FRAUD = 0.055, 0.005
C2S_FIRST_APPLICATION = 0.25


def c2sg_ceiling(ref: dt.date, persons: np.ndarray) -> np.ndarray:
    """Annual C2SG ceiling for the household size at the reference month (data/ tables)."""
    from profilage.features import c2sg_ceiling_table

    ceilings, mult = c2sg_ceiling_table()
    dates = ceilings["date_effet"].to_list()
    values = ceilings["plafond_annuel_1_personne"].cast(pl.Float64).to_list()
    base = values[0]
    for d_, v in zip(dates, values):
        if ref >= d_:
            base = v
    top = max(mult)
    table = np.array([mult[max(k, 1)] for k in range(0, top + 1)])
    m = np.where(persons <= top, table[np.clip(persons, 1, top)], mult[top] + 0.4 * (persons - top))
    return base * m


def _c2s_columns(rng, n, ref, persons, couple, has_kids, aah, female, age, working, cols):
    first = rng.random(n) < C2S_FIRST_APPLICATION
    boost = np.where(first, 2.0, 1.0) * np.where(couple & has_kids, 1.5, 1.0)
    # Normalise the boost so the overall shares stay C2S_ABOVE and C2S_FRAUD.
    boost = boost / boost.mean()
    u = rng.random(n)
    fraud = u < C2S_FRAUD * boost
    above = ~fraud & (u < (C2S_ABOVE + C2S_FRAUD) * boost)
    ratio = np.where(fraud, rng.uniform(3.0, 6.0, n),
                     np.where(above, rng.uniform(1.0, 3.0, n), 0.2 + 0.8 * rng.beta(4.0, 2.0, n)))
    ceiling = c2sg_ceiling(ref, persons)
    resources = np.round(ratio * ceiling, 0)
    return [
        pl.Series("c2s_premiere_demande", first),
        pl.Series("c2s_ressources_annuelles", resources),
        pl.Series("c2s_pension_invalidite", rng.random(n) < np.where(aah, 0.30, 0.03)),
        pl.Series("c2s_consommation_soins", rng.random(n) < 0.85),
        pl.Series("c2s_indemnites_journalieres", working & (rng.random(n) < 0.10)),
        pl.Series("c2s_contact_assurance_maladie", rng.random(n) < 0.30),
        pl.Series("c2s_plafond_annuel", ceiling),
        pl.Series("c2s_anomalie", ratio > 1.0),
        pl.Series("c2s_fraude", ratio > 3.0),
    ]


#: Column order of a generated population: identifiers and descriptors, then dossier columns.
EXTRA_COLUMNS: dict[str, pl.DataType] = {
    "household_id": pl.Int64, "famille_type": pl.String, "sexe_allocataire": pl.String,
    "departement": pl.String, "aah": pl.Boolean, "aah_travaille": pl.Boolean,
}
POPULATION_COLUMNS = list(EXTRA_COLUMNS) + [c for c in DOSSIER_COLUMNS if c not in EXTRA_COLUMNS]
POPULATION_SCHEMA: dict[str, pl.DataType] = {**EXTRA_COLUMNS, **DOSSIER_COLUMNS}
#: A C2S population adds the ceiling and the synthetic ground truth (resources above it).
C2S_EXTRA: dict[str, pl.DataType] = {"c2s_plafond_annuel": pl.Float64,
                                     "c2s_anomalie": pl.Boolean, "c2s_fraude": pl.Boolean}
C2S_COLUMNS = POPULATION_COLUMNS + list(C2S_EXTRA)
C2S_SCHEMA: dict[str, pl.DataType] = {**POPULATION_SCHEMA, **C2S_EXTRA}


def iter_population(households: int, seed: int = 0, *, reference_month: str | dt.date = "2024-03",
                    kind: str = "caf", workers: int = 1) -> Iterator[pl.DataFrame]:
    """Yield the population chunk by chunk (``CHUNK`` households each, the last shorter).

    ``kind``: ``"caf"`` (CAF beneficiary households) or ``"c2s"`` (C2SG households).
    ``workers``: threads drawing chunks ahead (same rows whatever the number).
    """
    if kind not in ("caf", "c2s"):
        raise ProfilageError(f"expected 'caf' or 'c2s', got {kind!r}", field="kind")
    if not isinstance(households, int) or households < 0:
        raise ProfilageError(f"expected a whole number >= 0, got {households!r}",
                             field="households")
    if not isinstance(seed, int) or seed < 0:
        raise ProfilageError(f"expected a whole number >= 0, got {seed!r}", field="seed")
    ref = parse_reference_month(reference_month)
    tasks = [(index, min(CHUNK, households - start), start)
             for index, start in enumerate(range(0, households, CHUNK))]
    if workers <= 1 or len(tasks) <= 1:
        for index, n, start in tasks:
            yield _chunk(seed, index, n, start, ref, kind)
        return
    # Chunks are independent (each has its own random stream), so worker threads draw them
    # ahead while the caller writes (numpy and Polars release the GIL); order is kept and at
    # most ``workers + 1`` chunks are in memory.
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    joint_table(), departements()  # build shared caches once, before the threads
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque = deque()
        for index, n, start in tasks:
            pending.append(pool.submit(_chunk, seed, index, n, start, ref, kind))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def generate_population(households: int, seed: int = 0, *, reference_month: str = "2024-03",
                        progress: Callable[[int], None] | None = None, kind: str = "caf"
                        ) -> pl.DataFrame:
    """Generate ``households`` CAF beneficiary households (one row each), deterministically.

    The frame has every column of ``profilage.features.DOSSIER_COLUMNS`` (so
    ``derive_features`` and ``score_dossiers_frame`` read it directly) plus ``household_id``,
    ``famille_type``, ``sexe_allocataire``, ``departement``, ``aah`` and ``aah_travaille``.
    ``progress(n)``, if given, is called after each chunk of ``n`` households (the caller
    draws any bar: this module prints nothing).
    """
    parts = []
    for df in iter_population(households, seed, reference_month=reference_month, kind=kind):
        parts.append(df)
        if progress:
            progress(df.height)
    if not parts:
        if kind == "c2s":
            return pl.DataFrame(schema=C2S_SCHEMA).select(C2S_COLUMNS)
        return pl.DataFrame(schema=POPULATION_SCHEMA).select(POPULATION_COLUMNS)
    return pl.concat(parts, rechunk=False)


def generate_c2s_population(households: int, seed: int = 0, *, reference_month: str = "2024-03",
                            progress: Callable[[int], None] | None = None) -> pl.DataFrame:
    """Generate C2SG (free complémentaire santé solidaire) households for the CNAM models.

    Same columns as :func:`generate_population` with the ``c2s_*`` fields filled
    (resources relative to the ceiling from ``data/c2sg_plafonds.csv``), plus
    ``c2s_plafond_annuel`` and the synthetic ground truth ``c2s_anomalie`` (resources above
    the ceiling) and ``c2s_fraude`` (above 3 times the ceiling).
    """
    return generate_population(households, seed, reference_month=reference_month,
                               progress=progress, kind="c2s")

"""One dossier scored in plain Python: the scalar path behind the web API and ``score_dossier``.

The Polars path (:func:`profilage.features.derive_features` then
:meth:`profilage.engine.CompiledModel.score`) costs about 10 ms for one dossier, almost all of it
fixed: planning and running a few hundred expressions over a one-row frame. This module computes
the same row for one parsed :class:`profilage.dossier.Dossier` in a few tens of microseconds.

- :func:`dossier_features` is a line-by-line port of ``conform`` and ``derive_features``
  (features.py stays the one definition; its comments explain each feature). ``None`` is
  *unknown* and propagates with Polars' rules: arithmetic and comparisons with ``None`` give
  ``None``; ``&``/``|``/``~`` follow three-valued (Kleene) logic; a ``when`` whose condition is
  ``None`` takes its ``otherwise`` branch. The same port exists in JavaScript
  (web/static/profilage-engine.js).
- :class:`ScalarModel` is a model compiled once (cached by the model file's sha256) into one
  matching table per criterion, with the engine's semantics (:mod:`profilage.engine`): bins,
  categories and booleans matched as ``modality_index`` does, presence features, numeric
  predictors, an unknown input giving [lowest, highest] (or the source evaluator's interval),
  unknown or redacted coefficients giving their ranges, and Le Monde's bounded mean with the
  engine's formulas.

:meth:`ScalarModel.row` returns the row dict ``score_dossiers_json`` reads from the Polars
frame: the features, ``m__<criterion>`` (matched modality index), ``c__<criterion>__low/high``,
``logit_low/high``, ``score_low/high``, ``score`` and ``determined``. Parity with the Polars
path, to 1e-12 on every field, is tested on every shipped model, every persona, an imported
PMML model and random dossiers (tests/test_scalar_parity.py). The only difference is the order
of the floating-point sum over criteria (Polars sums in a tree), a few ulps at most.
"""

from __future__ import annotations

import math
import threading
from typing import Any

from profilage.dossier import Dossier
from profilage.engine import (
    SERIES_WIDTH,
    categorical_unknown_bounds,
    contrib_cols,
    numeric_unknown_bounds,
)
from profilage.features import (
    CONSUMPTION_UNITS,
    DOSSIER_COLUMNS,
    FEATURES,
    NUMERIC_RANGES,
    SEUIL_REVENUS_IMPORTANTS,
    c2sg_ceiling_table,
)
from profilage.models import Model

# ---- three-valued logic and null-propagating arithmetic (Polars semantics) -------------------


def _and(a: Any, b: Any) -> bool | None:
    if (a is not None and not a) or (b is not None and not b):
        return False
    if a is None or b is None:
        return None
    return True


def _or(a: Any, b: Any) -> bool | None:
    if (a is not None and a) or (b is not None and b):
        return True
    if a is None or b is None:
        return None
    return False


def _not(a: Any) -> bool | None:
    return None if a is None else not a


def _is_true(a: Any) -> bool:
    """A ``when`` condition: ``None`` (unknown) is not true."""
    return a is not None and bool(a)


def _is_false(a: Any) -> bool:
    """``x == False``: ``None`` is not false."""
    return a is not None and not a


def _ge(a: Any, b: Any) -> bool | None:
    return None if a is None or b is None else a >= b


def _gt(a: Any, b: Any) -> bool | None:
    return None if a is None or b is None else a > b


def _clip0(x: int | None) -> int | None:
    return None if x is None else max(x, 0)


# ---- conform: types, value ranges, events after the reference month --------------------------

_DATES = tuple(c for c, t in DOSSIER_COLUMNS.items()
               if str(t) == "Date" and c != "reference_month")
_INTS = frozenset(c for c, t in DOSSIER_COLUMNS.items() if str(t) == "Int32")
_FLOATS = frozenset(c for c, t in DOSSIER_COLUMNS.items() if str(t) == "Float64")
_RANGES = {c: (float(lo), float(hi)) for c, (lo, hi) in NUMERIC_RANGES.items()}


def _conform(row: dict[str, Any]) -> dict[str, Any]:
    """``features.conform`` on one row, in place: numbers cast to their column's type, out of
    their range (NaN, infinite, negative...) unknown; dates after the reference month unknown."""
    for name, (lo, hi) in _RANGES.items():
        v = row.get(name)
        if v is None:
            continue
        if name in _INTS:
            if isinstance(v, float):  # Polars' non-strict cast: truncation, NaN/inf -> null
                v = int(v) if math.isfinite(v) else None
            else:
                v = int(v)
        else:
            v = float(v)
        row[name] = v if v is not None and lo <= v <= hi else None
    ref = row["reference_month"].replace(day=1)
    row["reference_month"] = ref
    for name in _DATES:
        d = row.get(name)
        if d is not None and d.replace(day=1) > ref:
            row[name] = None
    return row


def _month_index(d) -> int:
    return d.year * 12 + d.month


def _months_between(ref_m: int, d) -> int | None:
    return None if d is None else ref_m - _month_index(d)


def _age(ref_m: int, birth, age: int | None) -> int | None:
    m = _months_between(ref_m, birth)
    return age if m is None else m // 12


def _working(activite: str | None) -> bool | None:
    return None if activite is None else activite in ("salarie", "independant")


def _benefit(amount: float | None, received: bool | None) -> float | None:
    """Monthly amount of a benefit: 0 if not received, unknown if received without an amount."""
    return 0.0 if _is_false(received) else amount


_C2S: tuple[list, list, dict] | None = None


def _c2s_tables() -> tuple[list, list, dict]:
    global _C2S
    if _C2S is None:
        ceilings, mult = c2sg_ceiling_table()
        _C2S = (ceilings["date_effet"].to_list(),
                [float(x) for x in ceilings["plafond_annuel_1_personne"].to_list()], dict(mult))
    return _C2S


def _c2sg_multiplier(size: int, table: dict) -> float:
    for n in sorted(table):
        if size <= n:
            return table[n]
    top = max(table)
    return table[top] + 0.4 * (size - top)


def dossier_features(d: Dossier) -> dict[str, Any]:
    """Every model input (``features.FEATURES``) of one dossier, as ``derive_features`` gives
    them: the same values and Python types (int, float, bool, str, None for unknown)."""
    r = _conform(d.to_row())
    return row_features(r)


def row_features(r: dict[str, Any]) -> dict[str, Any]:
    """The features of one conformed flat dossier row (see :func:`dossier_features`)."""
    ref = r["reference_month"]
    ref_m = _month_index(ref)
    couple = r["conjoint"]
    in_couple = _is_true(couple)
    f: dict[str, Any] = {}
    f["age_allocataire"] = _age(ref_m, r["alloc_date_naissance"], r["alloc_age"])
    f["a_conjoint"] = couple
    f["age_conjoint"] = (_age(ref_m, r["conj_date_naissance"], r["conj_age"]) if in_couple
                         else None)
    f["situation_familiale"] = r["situation_familiale"]
    f["mois_depuis_separation"] = _clip0(_months_between(ref_m, r["date_separation"]))
    aah = _or(r["alloc_aah"], _and(couple, r["conj_aah"]))
    f["aah"] = aah
    f["aah_activite_hors_esat"] = _or(
        _and(_and(r["alloc_aah"], _working(r["alloc_activite"])), _not(r["alloc_esat"])),
        _and(_and(_and(couple, r["conj_aah"]), _working(r["conj_activite"])),
             _not(r["conj_esat"])))
    f["activite_allocataire"] = r["alloc_activite"]
    f["activite_conjoint"] = r["conj_activite"] if in_couple else None
    f["nationalite"] = r["alloc_nationalite"]
    alloc_months = r["alloc_mois_travailles_12m"]
    partner_months = r["conj_mois_travailles_12m"] if in_couple else 0
    f["mois_activite_foyer"] = (None if alloc_months is None or partner_months is None
                                else alloc_months + partner_months)
    partner_income = r["conj_revenu_mensuel"] if in_couple else 0.0
    autres = r["autres_revenus_mensuels"]
    alloc_income = r["alloc_revenu_mensuel"]
    revenu_total = (None if alloc_income is None or partner_income is None
                    else alloc_income + partner_income + (0.0 if autres is None else autres))
    tous_12 = _and(_ge(alloc_months, 12),
                   _ge(r["conj_mois_travailles_12m"], 12) if in_couple else True)
    f["rsa"] = r["rsa"]
    f["qpv"] = r["qpv"]
    f["baisse_connexions_web"] = r["baisse_connexions_web"]
    f["nb_declarations_12m"] = r["nb_declarations_12m"]
    f["nb_controles_passes"] = r["nb_controles_passes"]
    f["mois_depuis_inscription"] = _clip0(_months_between(ref_m, r["date_inscription_caf"]))
    f["mois_depuis_changement_adresse"] = _clip0(
        _months_between(ref_m, r["date_changement_adresse"]))
    f["mois_depuis_changement_loyer"] = _clip0(
        _months_between(ref_m, r["date_changement_loyer"]))
    f["mois_depuis_dernier_contact"] = _clip0(
        _months_between(ref_m, r["date_dernier_contact"]))
    loyer = r["loyer_mensuel"]
    m_rsa = _benefit(r["montant_rsa"], r["rsa"])
    m_aah = _benefit(r["montant_aah"], aah)
    m_pa = _benefit(r["montant_prime_activite"], r["prime_activite"])
    m_af = _benefit(r["montant_allocations_familiales"], r["allocations_familiales"])
    m_al = _benefit(r["montant_aide_logement"], r["aide_logement"])

    # children by age band (a child of unknown birth date counts in no band)
    dates = r["enfants_dates_naissance"]
    if dates is None:
        nb = lt12 = b12_18 = ge19 = lt14 = minors = adult_kids = None
    else:
        nb = len(dates)
        lt12 = b12_18 = ge19 = lt14 = minors = adult_kids = 0
        for b in dates:
            if b is None:
                continue
            a = (ref_m - _month_index(b)) // 12
            lt12 += a < 12
            b12_18 += 12 <= a <= 18
            ge19 += a >= 19
            lt14 += a < 14
            minors += a < 18
            adult_kids += a >= 18
    f["nb_enfants"] = nb
    f["nb_enfants_moins_12"] = lt12
    f["nb_enfants_12_18"] = b12_18
    f["nb_enfants_19_plus"] = ge19
    parent_isole = _and(_not(couple), _gt(nb, 0))
    f["parent_isole"] = parent_isole
    u = CONSUMPTION_UNITS
    if nb is None:
        nb_uc = None
    else:
        nb_uc = (u["holder"] + (u["other_14_plus"] if in_couple else 0.0)
                 + u["other_14_plus"] * (nb - lt14) + u["child_under_14"] * lt14
                 + (u["single_parent_bonus"] if _is_true(parent_isole) else 0.0))
    f["nb_uc"] = nb_uc
    revenu_par_uc = None if revenu_total is None or nb_uc is None else revenu_total / nb_uc
    f["revenu_par_uc"] = revenu_par_uc
    # rent after housing aid over resources including benefits other than housing aid
    resources = (None if None in (revenu_total, m_rsa, m_aah, m_pa, m_af)
                 else revenu_total + m_rsa + m_aah + m_pa + m_af)
    net_rent = None if loyer is None or m_al is None else max(loyer - m_al, 0.0)
    if loyer is not None and loyer == 0:
        te = 0.0
    elif net_rent is not None and net_rent == 0:
        te = 0.0
    elif resources is not None and resources <= 0:
        te = 99.0
    else:
        te = None if net_rent is None or resources is None else net_rent / resources
    f["taux_effort"] = te
    f["revenus_stables_importants"] = _and(tous_12, _ge(revenu_par_uc, SEUIL_REVENUS_IMPORTANTS))
    # Complémentaire santé solidaire
    f["sexe_allocataire"] = r["alloc_sexe"]
    f["plus_d_un_adulte"] = _or(couple, _gt(adult_kids, 0))
    f["au_moins_un_mineur"] = _gt(minors, 0)
    size = None if couple is None or nb is None else 1 + int(bool(couple)) + nb
    f["taille_foyer"] = size
    f["premiere_demande"] = r["c2s_premiere_demande"]
    ressources = r["c2s_ressources_annuelles"]
    if ressources is None or size is None:
        f["revenu_rapport_plafond_c2sg"] = None
    else:
        dates_, values, mult = _c2s_tables()
        base = values[0]
        for d_, v in zip(dates_[1:], values[1:]):
            if ref >= d_:
                base = v
        f["revenu_rapport_plafond_c2sg"] = ressources / (base * _c2sg_multiplier(size, mult))
    f["pension_invalidite"] = r["c2s_pension_invalidite"]
    f["consommation_soins"] = r["c2s_consommation_soins"]
    f["indemnites_journalieres"] = r["c2s_indemnites_journalieres"]
    f["contact_assurance_maladie"] = r["c2s_contact_assurance_maladie"]
    return {k: f[k] for k in FEATURES}


# ---- the engine, one row --------------------------------------------------------------------


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _sigmoid(x: float) -> float:
    """1 / (1 + exp(-x)): the engine's formula (not the stable one), inf-safe."""
    return 1.0 / (1.0 + _exp(-x))


def _log1p_exp_neg(x: float) -> float:
    """log1p(exp(-x))."""
    return math.log1p(_exp(-x))


def _softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(_exp(-abs(x)))


def scores(lo: float, hi: float) -> dict[str, Any]:
    """``score_low/high``, ``score`` (Le Monde's bounded mean, None when a bound is infinite)
    and ``determined``, with the engine's formulas (engine.CompiledModel.score)."""
    width = hi - lo
    finite = math.isfinite(lo) and math.isfinite(hi)
    if width < SERIES_WIDTH:
        s = _sigmoid((lo + hi) / 2)
        d2 = s * (1.0 - s) * (1.0 - 2.0 * s)
        score = s + d2 * width * width / 24.0 + d2 * (1.0 - 12.0 * s + 12.0 * s * s) \
            * width ** 4 / 1920.0
    elif finite:
        if lo >= 0:
            score = 1.0 + (_log1p_exp_neg(hi) - _log1p_exp_neg(lo)) / width
        else:
            score = (_softplus(hi) - _softplus(lo)) / width
    else:
        score = None
    return {"score_low": _sigmoid(lo), "score_high": _sigmoid(hi), "determined": width == 0,
            "score": score}


def _pow(x: float, e: float) -> float:
    if e == 1:
        return x
    try:
        return math.pow(x, e)
    except ValueError:  # a negative number to a fractional power: NaN, as Polars
        return math.nan
    except OverflowError:
        return math.inf


class _Criterion:
    """One criterion as a matching table (see ScalarModel)."""

    __slots__ = ("id", "kind", "feature", "presence", "values", "maxes", "last", "absent",
                 "lows", "highs", "unk", "coef", "exponent", "low_col", "high_col", "m_col")

    def __init__(self, c) -> None:
        self.id, self.kind, self.feature, self.presence = c.id, c.kind, c.feature, c.presence
        self.low_col, self.high_col, self.m_col = contrib_cols(c.id)
        self.absent = next((i for i, m in enumerate(c.modalities) if m.kind == "absent"), None)
        self.exponent = c.exponent
        if c.kind == "numeric":
            coef = c.modalities[0].coefficient
            self.coef = (coef.low, coef.high)
            self.unk = numeric_unknown_bounds(c)
            return
        self.lows = tuple(m.coefficient.low for m in c.modalities)
        self.highs = tuple(m.coefficient.high for m in c.modalities)
        self.unk = categorical_unknown_bounds(c)
        regular = [(i, m) for i, m in enumerate(c.modalities) if m.kind != "absent"]
        if c.kind == "categorical":
            self.values: dict[Any, int] = {}
            for i, m in regular:  # the first modality with the value wins, as in the engine
                self.values.setdefault(m.value, i)
        else:  # bins, validated to cover the whole domain without overlap
            ordered = sorted(regular, key=lambda im: -math.inf if im[1].min is None else im[1].min)
            self.maxes = [(m.max, i) for i, m in ordered[:-1]]
            self.last = ordered[-1][0]

    def index(self, feats: dict[str, Any]) -> int | None:
        """``engine.modality_index`` for one row."""
        x = feats.get(self.feature)
        idx = None
        if x is not None:
            if self.kind == "categorical":
                idx = self.values.get(x)  # (Polars too compares 1 == true)
            else:
                idx = self.last
                for mx, i in self.maxes:
                    if x < mx:
                        idx = i
                        break
        if self.presence:
            pres = feats.get(self.presence)
            if self.absent is not None:
                if pres is None:
                    return None
                if not pres:
                    return self.absent
            elif _is_false(pres):
                return None
        return idx

    def numeric(self, feats: dict[str, Any]) -> tuple[float, float]:
        """The engine's numeric predictor for one row."""
        if self.presence and _is_false(feats.get(self.presence)):
            return 0.0, 0.0
        x = feats.get(self.feature)
        if x is None:
            return self.unk
        v = _pow(float(x), self.exponent)
        lo, hi = self.coef
        if lo == hi:
            return v * lo, v * lo
        # an input of 0 contributes 0 even when the coefficient is unbounded (0 * inf)
        a = 0.0 if v == 0 else v * lo
        b = 0.0 if v == 0 else v * hi
        return min(a, b), max(a, b)


class ScalarModel:
    """A model compiled for one-row scoring (see the module docstring)."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.criteria = tuple(_Criterion(c) for c in model.criteria)
        self.base = model.base_bounds()
        # the model's inputs that profilage does not derive: unknown (missing columns)
        self.own = tuple(f for f in model.features if f not in FEATURES)

    def row(self, feats: dict[str, Any]) -> dict[str, Any]:
        """The row the Polars engine gives with ``contributions=True``: the features, the
        matched modality and contribution bounds per criterion, the log-odds and the scores."""
        row = dict(feats)
        for f in self.own:
            row[f] = None
        lo_sum = hi_sum = 0.0
        for c in self.criteria:
            if c.kind == "numeric":
                lo, hi = c.numeric(row)
            else:
                idx = c.index(row)
                row[c.m_col] = idx
                if idx is None:
                    lo, hi = c.unk
                else:
                    lo, hi = c.lows[idx], c.highs[idx]
            row[c.low_col] = lo
            row[c.high_col] = hi
            lo_sum += lo
            hi_sum += hi
        logit_low, logit_high = lo_sum + self.base[0], hi_sum + self.base[1]
        row["logit_low"] = logit_low
        row["logit_high"] = logit_high
        row.update(scores(logit_low, logit_high))
        return row


_COMPILED: dict[tuple[str, str], ScalarModel] = {}
_LOCK = threading.Lock()


def scalar_model(model: Model) -> ScalarModel:
    """The model compiled once, cached by its file's sha256 and id (as ``compile_model``); a
    model without a sha256 (built in memory) is compiled each time."""
    if not model.sha256:
        return ScalarModel(model)
    key = (model.sha256, model.id)
    sm = _COMPILED.get(key)
    if sm is None:
        sm = ScalarModel(model)
        with _LOCK:
            _COMPILED[key] = sm
    return sm


def score_row(d: Dossier, model: Model) -> dict[str, Any]:
    """One dossier's scored row (what ``score_dossiers_json`` reads from the Polars frame)."""
    return scalar_model(model).row(dossier_features(d))

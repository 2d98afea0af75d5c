"""The published facts a model is checked against (sources.md sections 1-2), run live.

A model file lists fact ids in ``facts`` (``"cnaf-2014:1"``, or a bare ``"1"`` meaning the
model's own family). :func:`check_model` evaluates each one on any :class:`Model` with the real
features and engine and says whether it holds; a fact that needs numbers the model does not
have is "undetermined". An imported table can be checked against a family's facts with
``against="cnaf-2014"``. The figures come from :mod:`profilage.facts.published`; the fitting code
(:mod:`profilage.reconstruct`) imports them from here, never the other way round.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import polars as pl

from profilage.facts import fact7 as _fact7_sample
from profilage.facts.published import (
    ABEL_MICHEL_GAP,
    CNAF_2026,
    LE_MONDE,
    LQDN_C2S,
    NATHALIE_SCORE,
    NATHALIE_TOLERANCE,
    OUTSIDE,
    PRECARITY_CRITERIA_MIN,
    PRECARITY_DIRECT_MIN,
    PROFIL_TYPE,
    RENT_BURDEN_THRESHOLD,
    STABLE_COUPLE_INPUTS,
    STABLE_COUPLE_MAX_SCORE,
    STABLE_COUPLE_PARTNER_AGES,
    STABLE_COUPLE_SITUATIONS,
)
from profilage.models.schema import Model

__all__ = ["FACTS", "Fact", "all_hold", "check_model", "facts_for"]


@dataclass
class Fact:
    id: str
    text: str
    source: str
    #: returns (holds, detail) or (holds, detail, figures)
    check: Callable[[Model], tuple]


@lru_cache(maxsize=16)
def _persona_features(name: str) -> pl.DataFrame:
    """A persona's model inputs, derived once (the checks run on many models)."""
    from profilage.dossier import dossiers_frame
    from profilage.features import derive_features
    from profilage.personas import load_persona

    return derive_features(dossiers_frame([load_persona(name)])).collect()


def _score(model: Model, persona: str) -> float | None:
    from profilage.scoring import score_frame

    s = score_frame(_persona_features(persona), model)["score"][0]
    return None if s is None or (isinstance(s, float) and math.isnan(s)) else s


def _need(*xs) -> bool:
    return all(x is not None for x in xs)


def _fact1(m):
    s = _score(m, "nathalie")
    if s is None:
        return None, "score de Nathalie indéterminé"
    return abs(s - NATHALIE_SCORE) < NATHALIE_TOLERANCE, f"Nathalie : {s:.4f} (publié : 0,24)"


def _fact2(m):
    a, b = _score(m, "nathalie"), _score(m, "nathalie-plus-3-ans")
    if not _need(a, b):
        return None, "scores indéterminés"
    return b > a, f"Nathalie {a:.4f} → trois ans plus tard {b:.4f}"


def _fact3(m):
    a, b = _score(m, "michel"), _score(m, "abel")
    if not _need(a, b):
        return None, "scores indéterminés"
    return (b - a >= ABEL_MICHEL_GAP,
            f"Michel {a:.4f}, Abel {b:.4f} (écart {b - a:+.4f}, seuil 0,15)")


def _fact4(m):
    from profilage.scoring import score_frame

    rows = [dict(STABLE_COUPLE_INPUTS, age_conjoint=age, situation_familiale=sit)
            for sit, age in itertools.product(STABLE_COUPLE_SITUATIONS,
                                              STABLE_COUPLE_PARTNER_AGES)]
    # every other input unknown: score_high is the worst case over all their modalities
    worst = score_frame(pl.DataFrame(rows), m)["score_high"].max()
    if worst is None or (isinstance(worst, float) and math.isnan(worst)):
        return None, "bornes indéterminées"
    return (worst < STABLE_COUPLE_MAX_SCORE,
            f"pire cas d'un couple à deux revenus stables : {worst:.4f} (< 0,7)")


def _criteria_on(m, feature):
    return [c for c in m.criteria if c.feature == feature]


def _fact5(m):
    cs = _criteria_on(m, "taux_effort")
    if not cs:
        return False, "pas de critère sur le taux d'effort"
    t = RENT_BURDEN_THRESHOLD
    for c in cs:
        lo = [x.coefficient.value for x in c.modalities if x.kind == "bin" and x.max is not None
              and x.max <= t]
        hi = [x.coefficient.value for x in c.modalities if x.kind == "bin" and x.min is not None
              and x.min >= t]
        if not _need(*lo, *hi) or not lo or not hi:
            return None, "coefficients inconnus"
        if min(hi) <= max(lo):
            return False, f"plus de 35 % : {min(hi):+.4f} ≤ moins de 35 % : {max(lo):+.4f}"
    return True, "plus de 35 % de taux d'effort augmente le score, sans interaction avec le revenu"


def _fact6(m):
    prec = [c for c in m.criteria if c.precarity]
    direct = [c for c in prec if c.precarity == "direct"]
    raising = [c for c in prec if len({x.coefficient.value for x in c.modalities}) > 1]
    ok = (len(prec) >= PRECARITY_CRITERIA_MIN and len(direct) >= PRECARITY_DIRECT_MIN
          and len(raising) >= PRECARITY_CRITERIA_MIN)
    return ok, (f"{len(prec)} critères de précarité (≥ 7), dont {len(direct)} directs (≥ 5), "
                f"{len(raising)} qui font varier le score")


def _fact7(m):
    return _fact7_sample.check(m)


def _nationality(m):
    cs = _criteria_on(m, "nationalite")
    if not cs:
        return False, "pas de critère de nationalité"
    mods = {x.value: x.coefficient.value for x in cs[0].modalities}
    a, b = mods.get("francaise"), mods.get("extra_europeenne")
    if not _need(a, b):
        return None, "coefficients inconnus"
    return b > a, f"extra-européenne {b:+.4f} vs française {a:+.4f}"


def _dmde_structure(m):
    n = len(m.criteria) + len(m.redacted)
    return n == 17 and len(m.criteria) == 12, (f"{len(m.criteria)} variables nommées + "
                                               f"{len(m.redacted)} non publiées = {n} (17)")


def _dmde_exclusions(m):
    grounds = {c.protected_ground for c in m.criteria}
    bad = grounds & {"nationality", "sex", "residence"}
    return not bad, ("ni nationalité, ni sexe, ni adresse" if not bad
                     else "critères exclus présents : " + ", ".join(sorted(bad)))


def _profil_type(m):
    from profilage.scoring import score_frame

    keys = list(PROFIL_TYPE)
    rows = [dict(zip(keys, combo)) for combo in itertools.product(
        ["F", "M"], [20, 32], [True, False], [True, False], [True, False])]
    s = score_frame(pl.DataFrame(rows), m).sort("score", descending=True, nulls_last=True)
    if s["score"][0] is None:
        return None, "scores indéterminés"
    best = s.row(0, named=True)
    ok = {k: best[k] for k in keys} == PROFIL_TYPE and best["score"] > s["score"][1]
    return ok, f"score maximal {best['score']:.4f} pour " + (
        "le profil-type" if ok else "un autre profil")


def _c2s_directions(m):
    out = []
    for feature, value in (("sexe_allocataire", "F"), ("au_moins_un_mineur", True)):
        for c in _criteria_on(m, feature):
            mods = {x.value: x.coefficient.value for x in c.modalities}
            if not _need(*mods.values()):
                return None, "coefficients inconnus"
            out.append(mods[value] == max(mods.values()) and mods[value] > min(mods.values()))
    for c in _criteria_on(m, "age_allocataire"):
        hi = [x.coefficient.value for x in c.modalities if x.min is not None and x.min >= 25]
        lo = [x.coefficient.value for x in c.modalities if x.max is not None and x.max <= 25]
        if not _need(*hi, *lo):
            return None, "coefficients inconnus"
        out.append(min(hi) > max(lo))
    return (len(out) == 3 and all(out)), "femme, mineur, plus de 25 ans augmentent le score"


C2S_2018_FEATURES = {"sexe_allocataire", "age_allocataire", "plus_d_un_adulte",
                     "au_moins_un_mineur", "premiere_demande"}


def _at_the_margin(m):
    used = {c.feature for c in m.criteria}
    new = used - C2S_2018_FEATURES
    return not new, ("variables toutes reprises du modèle 2018" if not new
                     else "variables nouvelles : " + ", ".join(sorted(new)))


def _no_sex_age(m):
    used = {c.feature for c in m.criteria}
    bad = used & {"sexe_allocataire", "age_allocataire"}
    return not bad, ("ni sexe ni âge (hypothèse de la variante)" if not bad
                     else "utilise : " + ", ".join(sorted(bad)))


def _experimental(m):
    feats = ("pension_invalidite", "consommation_soins", "indemnites_journalieres",
             "contact_assurance_maladie")
    res = []
    for f in feats:
        cs = _criteria_on(m, f)
        if not cs:
            return False, f"pas de critère sur {f}"
        mods = {x.value: x.coefficient.value for x in cs[0].modalities}
        if not _need(*mods.values()):
            return None, "coefficients inconnus"
        res.append(mods.get(True, 0) > mods.get(False, 0))
    return all(res), f"{sum(res)} des 4 ajouts augmentent le score"


NO_SEX_AGE_SOURCE = (f"{OUTSIDE} ; le seed 000 dit seulement que le modèle a été « modifié à la "
                     "marge » en 2021 et décrit l'algorithme, au présent, comme ciblant les femmes")

FACTS: dict[str, dict[str, Fact]] = {
    "cnaf-2014": {f.id: f for f in [
        Fact("1", "Nathalie obtient 0,24 (moyenne de la sigmoïde entre les bornes)", LE_MONDE,
             _fact1),
        Fact("2", "Quand Philippe atteint 60 ans, le score de Nathalie monte", LE_MONDE, _fact2),
        Fact("3", "Abel (AAH) a un score « bien supérieur » à Michel", LE_MONDE, _fact3),
        Fact("4", "Un couple à deux revenus stables n'a presque aucune chance d'être contrôlé",
             LE_MONDE, _fact4),
        Fact("5", "Plus de 35 % du revenu en loyer augmente le score, riche ou pauvre", LE_MONDE,
             _fact5),
        Fact("6", "Au moins 7 critères pénalisent les plus précaires, dont 5 directement",
             LE_MONDE, _fact6),
        Fact("7", "Parents isolés : 16 % des foyers mais 36 % des contrôles à domicile ; deux "
                  "tiers de ces contrôles sur les plus précaires (données 2015), sans critère "
                  "« parent isolé » direct (« indirectement lésées »)", LE_MONDE, _fact7),
    ]},
    "cnaf-2010": {"nationalite": Fact(
        "nationalite", "La nationalité extra-européenne augmente le score", LE_MONDE,
        _nationality)},
    "cnaf-dmde-2026-m1": {
        "structure": Fact("structure", "17 variables, dont 12 nommées", CNAF_2026,
                          _dmde_structure),
        "exclusions": Fact("exclusions", "Nationalité, sexe et adresse exacte exclus",
                           CNAF_2026, _dmde_exclusions)},
    "cnam-c2sg-2018": {
        "profil-type": Fact("profil-type", "Le « profil-type » CNAM a le score le plus élevé",
                            LQDN_C2S, _profil_type),
        "directions": Fact("directions", "Femme, mineurs, plus de 25 ans augmentent le score",
                           LQDN_C2S, _c2s_directions)},
    "cnam-c2sg-2021": {
        "a-la-marge": Fact("a-la-marge", "Modèle 2018 « modifié à la marge » en 2021 : pas de "
                           "variable nouvelle", LQDN_C2S, _at_the_margin),
        "sans-sexe-ni-age": Fact(
            "sans-sexe-ni-age", "HYPOTHÈSE de cette variante (pas un fait publié) : ni sexe ni "
            "âge", NO_SEX_AGE_SOURCE, _no_sex_age)},
    "cnam-c2sg-experimental": {"ajouts": Fact(
        "ajouts", "Invalidité, soins, indemnités journalières, contact augmentent le score",
        LQDN_C2S, _experimental)},
}


def facts_for(model: Model, against: str | None = None) -> list[tuple[str, Fact]]:
    """The facts a model declares (or a whole family's, with ``against``)."""
    if against:
        if against not in FACTS:
            from profilage.errors import ProfilageError

            raise ProfilageError(f"no facts for {against!r} (known: {', '.join(FACTS)})",
                                 field="--against")
        return [(f"{against}:{k}", f) for k, f in FACTS[against].items()]
    out = []
    for ref in model.facts:
        family, _, fid = ref.rpartition(":")
        family = family or model.id
        fact = FACTS.get(family, {}).get(fid)
        if fact is not None:
            out.append((f"{family}:{fid}", fact))
        else:
            out.append((ref, Fact(fid, f"fait inconnu {ref!r}", "", lambda m: (None, "inconnu"))))
    return out


def check_model(model: Model, against: str | None = None) -> list[dict]:
    """Evaluate each fact on any model.

    One row per fact: ``fact``, ``text``, ``source``, ``holds`` (True: passes, False: fails,
    None: undetermined), ``detail`` (the achieved figures, in French) and ``figures`` (a dict of
    the measured numbers where the check has some, e.g. fact 7's shares and bands, else None).
    """
    rows = []
    for ref, fact in facts_for(model, against):
        try:
            out = fact.check(model)
        except Exception as e:  # a fact that cannot run on this model is undetermined
            out = None, f"non évaluable : {type(e).__name__}: {str(e)[:120]}"
        holds, detail = out[0], out[1]
        rows.append({"fact": ref, "text": fact.text, "source": fact.source, "holds": holds,
                     "detail": detail, "figures": out[2] if len(out) > 2 else None})
    return rows


def all_hold(rows: list[dict]) -> bool:
    """True when every checked fact passes (an undetermined fact does not pass)."""
    return all(r["holds"] is True for r in rows)

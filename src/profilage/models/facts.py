"""The published facts a model is checked against (sources.md sections 1-2), run live.

A model file lists fact ids in ``facts`` (``"cnaf-2014:1"``, or a bare ``"1"`` meaning the
model's own family). ``check_model`` evaluates each one with the real features and engine and
says whether it holds now; a fact that needs numbers the model does not have is "undetermined".
An imported table can be checked against a family's facts with ``--against cnaf-2014``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from profilage.models.schema import Model


@dataclass
class Fact:
    id: str
    text: str
    source: str
    check: Callable[[Model], tuple[bool | None, str]]


def _score(model: Model, persona: str) -> float | None:
    from profilage.scoring import score_dossier

    return score_dossier(persona, model)["score"]


def _need(*xs) -> bool:
    return all(x is not None for x in xs)


def _fact1(m):
    s = _score(m, "nathalie")
    if s is None:
        return None, "score de Nathalie indéterminé"
    return abs(s - 0.24) < 0.0005, f"Nathalie : {s:.4f} (publié : 0,24)"


def _fact2(m):
    a, b = _score(m, "nathalie"), _score(m, "nathalie-plus-3-ans")
    if not _need(a, b):
        return None, "scores indéterminés"
    return b > a, f"Nathalie {a:.4f} → trois ans plus tard {b:.4f}"


def _fact3(m):
    a, b = _score(m, "michel"), _score(m, "abel")
    if not _need(a, b):
        return None, "scores indéterminés"
    return b - a >= 0.15, f"Michel {a:.4f}, Abel {b:.4f} (écart {b - a:+.4f}, seuil 0,15)"


def _fact4(m):
    from profilage.scoring import score_frame

    rows = []
    for sit, age in itertools.product(("marie", "pacse", "concubinage"), (40, 65)):
        rows.append({"revenus_stables_importants": True, "a_conjoint": True, "age_conjoint": age,
                     "situation_familiale": sit, "activite_allocataire": "salarie",
                     "mois_activite_foyer": 24, "revenu_par_uc": 1200.0, "rsa": False,
                     "parent_isole": False})
    # every other input unknown: score_high is the worst case over all their modalities
    worst = score_frame(pl.DataFrame(rows), m)["score_high"].max()
    if worst is None or (isinstance(worst, float) and math.isnan(worst)):
        return None, "bornes indéterminées"
    return worst < 0.7, f"pire cas d'un couple à deux revenus stables : {worst:.4f} (< 0,7)"


def _criteria_on(m, feature):
    return [c for c in m.criteria if c.feature == feature]


def _fact5(m):
    cs = _criteria_on(m, "taux_effort")
    if not cs:
        return False, "pas de critère sur le taux d'effort"
    for c in cs:
        lo = [x.coefficient.value for x in c.modalities if x.kind == "bin" and x.max is not None
              and x.max <= 0.35]
        hi = [x.coefficient.value for x in c.modalities if x.kind == "bin" and x.min is not None
              and x.min >= 0.35]
        if not _need(*lo, *hi) or not lo or not hi:
            return None, "coefficients inconnus"
        if min(hi) <= max(lo):
            return False, f"plus de 35 % : {min(hi):+.4f} ≤ moins de 35 % : {max(lo):+.4f}"
    return True, "plus de 35 % de taux d'effort augmente le score, sans interaction avec le revenu"


def _fact6(m):
    prec = [c for c in m.criteria if c.precarity]
    direct = [c for c in prec if c.precarity == "direct"]
    raising = [c for c in prec if len({x.coefficient.value for x in c.modalities}) > 1]
    ok = len(prec) >= 7 and len(direct) >= 5 and len(raising) >= 7
    return ok, (f"{len(prec)} critères de précarité (≥ 7), dont {len(direct)} directs (≥ 5), "
                f"{len(raising)} qui font varier le score")


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
    from profilage.reconstruct.catalog import PROFIL_TYPE
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


def _no_sex_age(m):
    used = {c.feature for c in m.criteria}
    bad = used & {"sexe_allocataire", "age_allocataire"}
    return not bad, "ni sexe ni âge" if not bad else "utilise : " + ", ".join(sorted(bad))


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


def _fact7(m):
    from profilage.reconstruct.fact7 import check_model as fact7_check

    return fact7_check(m)


LM = "Le Monde, 4 déc. 2023 (seed 003)"
LQDN = "La Quadrature du Net, 5 déc. 2024 (seed 000)"
FACTS: dict[str, dict[str, Fact]] = {
    "cnaf-2014": {f.id: f for f in [
        Fact("1", "Nathalie obtient 0,24 (moyenne de la sigmoïde entre les bornes)", LM, _fact1),
        Fact("2", "Quand Philippe atteint 60 ans, le score de Nathalie monte", LM, _fact2),
        Fact("3", "Abel (AAH) a un score « bien supérieur » à Michel", LM, _fact3),
        Fact("4", "Un couple à deux revenus stables n'a presque aucune chance d'être contrôlé",
             LM, _fact4),
        Fact("5", "Plus de 35 % du revenu en loyer augmente le score, riche ou pauvre", LM,
             _fact5),
        Fact("6", "Au moins 7 critères pénalisent les plus précaires, dont 5 directement", LM,
             _fact6),
        Fact("7", "Parents isolés : 16 % des foyers mais 36 % des contrôles ; deux tiers des "
                  "contrôles sur les plus précaires", LM, _fact7),
    ]},
    "cnaf-2010": {"nationalite": Fact(
        "nationalite", "La nationalité extra-européenne augmente le score", LM, _nationality)},
    "cnaf-dmde-2026-m1": {
        "structure": Fact("structure", "17 variables, dont 12 nommées", "CNAF, 15 janv. 2026",
                          _dmde_structure),
        "exclusions": Fact("exclusions", "Nationalité, sexe et adresse exacte exclus",
                           "CNAF, 15 janv. 2026", _dmde_exclusions)},
    "cnam-c2sg-2018": {
        "profil-type": Fact("profil-type", "Le « profil-type » CNAM a le score le plus élevé",
                            LQDN, _profil_type),
        "directions": Fact("directions", "Femme, mineurs, plus de 25 ans augmentent le score",
                           LQDN, _c2s_directions)},
    "cnam-c2sg-2021": {"sans-sexe-ni-age": Fact(
        "sans-sexe-ni-age", "Le modèle actuel n'utilise ni le sexe ni l'âge", LQDN, _no_sex_age)},
    "cnam-c2sg-experimental": {"ajouts": Fact(
        "ajouts", "Invalidité, soins, indemnités journalières, contact augmentent le score",
        LQDN, _experimental)},
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
    """Evaluate each fact; ``holds`` is True, False or None (undetermined)."""
    rows = []
    for ref, fact in facts_for(model, against):
        try:
            holds, detail = fact.check(model)
        except Exception as e:  # a fact that cannot run on this model is undetermined
            holds, detail = None, f"non évaluable : {type(e).__name__}: {str(e)[:120]}"
        rows.append({"fact": ref, "text": fact.text, "source": fact.source, "holds": holds,
                     "detail": detail})
    return rows

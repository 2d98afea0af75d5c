"""Random valid dossiers (any field may be unknown) for comparing the browser engine with Python."""

from __future__ import annotations

import random

ACTS = ["salarie", "independant", "chomage", "etudiant", "inactif", "retraite"]
SITS = ["marie", "pacse", "concubinage", "celibataire", "divorce", "separe", "veuf"]
LOGS = ["locataire_prive", "locataire_social", "proprietaire", "heberge", "autre"]


def _maybe(rng: random.Random, value, p_unknown: float = 0.25):
    return None if rng.random() < p_unknown else value


def _month(rng: random.Random, y0: int, y1: int) -> str:
    return f"{rng.randint(y0, y1)}-{rng.randint(1, 12):02d}"


def _person(rng: random.Random) -> dict:
    p = {}
    if rng.random() < 0.5:
        p["age"] = rng.randint(18, 80)
    elif rng.random() < 0.8:
        p["date_naissance"] = _month(rng, 1940, 2005)
    for k, v in (("sexe", rng.choice("FM")), ("activite", rng.choice(ACTS)),
                 ("mois_travailles_12m", rng.randint(0, 12)),
                 ("revenu_mensuel", rng.choice([0, 450.5, 850, 1500, 2600, rng.uniform(0, 4000)])),
                 ("aah", rng.random() < 0.2), ("esat", rng.random() < 0.3),
                 ("nationalite", rng.choice(["francaise", "europeenne", "extra_europeenne"]))):
        x = _maybe(rng, v)
        if x is not None:
            p[k] = x
    return p


def random_dossier(rng: random.Random) -> dict:
    """A valid dossier with random facts, each left out (unknown) with probability ~1/4."""
    d: dict = {"reference_month": _month(rng, 2015, 2024), "allocataire": _person(rng)}
    r = rng.random()
    couple_sits = ["marie", "pacse", "concubinage"]
    if r < 0.4:
        d["conjoint"] = _person(rng)
        sit = _maybe(rng, rng.choice(couple_sits))
    elif r < 0.8:
        d["conjoint"] = None
        sit = _maybe(rng, rng.choice(SITS[3:]))
    else:
        sit = _maybe(rng, rng.choice(SITS))
    if sit:
        d["situation_familiale"] = sit
    r = rng.random()
    if r < 0.7:
        d["enfants"] = [({"age": rng.randint(0, 25)} if rng.random() < 0.6 else
                         {"date_naissance": _month(rng, 1995, 2015)}) for _ in range(rng.randint(0, 4))]
    elif r < 0.8:
        d["enfants"] = [{}]  # a child of unknown age
    if rng.random() < 0.7:
        d["autres_revenus_mensuels"] = rng.choice([0, 120, 300.25])
    pres = {}
    for k in ("rsa", "prime_activite", "aide_logement", "allocations_familiales"):
        x = _maybe(rng, rng.random() < 0.4)
        if x is not None:
            pres[k] = x
    for k in ("montant_rsa", "montant_aah", "montant_prime_activite", "montant_aide_logement",
              "montant_allocations_familiales"):
        x = _maybe(rng, round(rng.uniform(0, 900), 2), 0.4)
        if x is not None:
            pres[k] = x
    d["prestations"] = pres
    log = {}
    for k, v in (("statut", rng.choice(LOGS)), ("loyer_mensuel", rng.choice([0, 300, 420, 780.5])),
                 ("qpv", rng.random() < 0.3)):
        x = _maybe(rng, v)
        if x is not None:
            log[k] = x
    d["logement"] = log
    hist = {}
    for k in ("inscription_caf", "changement_adresse", "changement_loyer", "dernier_contact",
              "separation"):
        x = _maybe(rng, rng.choice(["jamais", _month(rng, 2000, 2024), _month(rng, 2014, 2024)]))
        if x is not None:
            hist[k] = x
    for k, v in (("nb_declarations_12m", rng.randint(0, 12)),
                 ("nb_controles_passes", rng.randint(0, 3)),
                 ("baisse_connexions_web", rng.random() < 0.3)):
        x = _maybe(rng, v)
        if x is not None:
            hist[k] = x
    d["historique"] = hist
    if rng.random() < 0.6:
        c2s = {}
        for k, v in (("premiere_demande", rng.random() < 0.5),
                     ("ressources_annuelles", round(rng.uniform(0, 20000), 2)),
                     ("pension_invalidite", rng.random() < 0.2),
                     ("consommation_soins", rng.random() < 0.5),
                     ("indemnites_journalieres", rng.random() < 0.3),
                     ("contact_assurance_maladie", rng.random() < 0.5)):
            x = _maybe(rng, v)
            if x is not None:
                c2s[k] = x
        d["c2s"] = c2s
    return _not_after_reference(d)


def _not_after_reference(d: dict) -> dict:
    """Births and events are never after the reference month (the API refuses them): the
    random draws above are clamped to it, the same random stream otherwise."""
    ref = d["reference_month"]
    clamp = lambda v: ref if isinstance(v, str) and v[:1].isdigit() and v > ref else v  # noqa: E731
    for who in ("allocataire", "conjoint"):
        if d.get(who) and "date_naissance" in d[who]:
            d[who]["date_naissance"] = clamp(d[who]["date_naissance"])
    for e in d.get("enfants") or []:
        if "date_naissance" in e:
            e["date_naissance"] = clamp(e["date_naissance"])
    d["historique"] = {k: clamp(v) for k, v in d["historique"].items()}
    return d

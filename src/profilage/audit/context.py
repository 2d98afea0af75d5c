"""Where one score stands: its percentile among a reference synthetic population scored by the
same model, that population's control threshold under the default budget, and whether the score
would be selected.

The reference is fixed and documented: :data:`REFERENCE_HOUSEHOLDS` households generated with
seed :data:`REFERENCE_SEED` for month :data:`REFERENCE_MONTH` (the CAF population; the C2S
applicants for the CNAM models), selected as ``profilage audit`` does by default (166,000
controls a year scaled to the population, per month). It is computed once per model (a few
seconds) and cached in memory: a request then costs a binary search.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

REFERENCE_HOUSEHOLDS = 100_000
REFERENCE_SEED = 0
REFERENCE_MONTH = "2024-03"


@dataclass(frozen=True)
class Reference:
    model_id: str
    sha256: str
    kind: str
    households: int
    scores: np.ndarray  # sorted ascending, scored households only
    threshold: float | None
    budget: int

    def describe(self, lang: str = "fr") -> str:
        who = {"caf": ("foyers allocataires (CAF) synthétiques", "CAF beneficiary households"),
               "c2s": ("demandeurs de la C2S synthétiques", "C2S applicants")}[self.kind]
        budget_fr = budget_en = ""
        if self.kind == "c2s":
            budget_fr = " ; la CNAM ne publie pas de budget : celui de la CNAF sert d'ordre de grandeur"
            budget_en = "; the CNAM publishes no budget: the CNAF's gives an order of magnitude"
        n = f"{self.households:,}".replace(",", "\u202f" if lang == "fr" else ",")
        if lang == "en":
            return (f"{n} synthetic {who[1]} (seed {REFERENCE_SEED}, month {REFERENCE_MONTH}), "
                    f"scored by {self.model_id}; threshold: the {self.budget} highest scores of "
                    "the month (the CNAF's 166,000 controls a year, scaled to this population"
                    f"{budget_en})")
        return (f"{n} {who[0]} (tirage n° {REFERENCE_SEED}, mois {REFERENCE_MONTH}), notés par "
                f"{self.model_id} ; seuil : les {self.budget} scores les plus hauts du mois (les "
                f"166 000 contrôles annuels de la CNAF, ramenés à cette population{budget_fr})")


_cache: dict[tuple[str, str], Reference] = {}
_lock = threading.Lock()


def reference_ready(model) -> bool:
    """Whether ``model``'s reference population is already scored (then ``score_context`` is a
    binary search: cheap enough to run on the web server's event loop)."""
    return (model.id, model.sha256) in _cache


def reference(model) -> Reference:
    """The reference population's scores for ``model`` (a loaded Model), computed once."""
    key = (model.id, model.sha256)
    ref = _cache.get(key)
    if ref is not None:
        return ref
    with _lock:
        ref = _cache.get(key)
        if ref is None:
            ref = _cache[key] = _build(model)
    return ref


def _build(model) -> Reference:
    """Score the reference population with the plain frame scorer and take the month's
    threshold as the audit's default selection would: the ``budget``-th highest score."""
    from profilage.audit.selection import default_budget_per_month
    from profilage.population import generate_population
    from profilage.scoring import score_dossiers_frame

    kind = "c2s" if model.institution.upper().startswith("CNAM") else "caf"
    pop = generate_population(REFERENCE_HOUSEHOLDS, REFERENCE_SEED,
                              reference_month=REFERENCE_MONTH, kind=kind)
    scores = np.sort(score_dossiers_frame(pop, model)["score"].drop_nulls()
                     .cast(float).to_numpy())
    budget = default_budget_per_month(REFERENCE_HOUSEHOLDS)
    threshold = float(scores[-budget]) if len(scores) >= budget else None
    return Reference(model.id, model.sha256, kind, REFERENCE_HOUSEHOLDS, scores, threshold,
                     budget)


def score_context(score: float | None, model, lang: str = "fr") -> dict[str, Any]:
    """``{"percentile", "threshold", "selected_under_budget", "population"}`` for one score.

    ``percentile``: share (in %) of the reference households whose score is strictly lower.
    ``selected_under_budget``: the score reaches the month's threshold (None if undetermined)."""
    ref = reference(model)
    if score is None or not len(ref.scores):
        pctl = None
    else:
        pctl = 100.0 * float(np.searchsorted(ref.scores, score, side="left")) / len(ref.scores)
    selected = None if score is None or ref.threshold is None else bool(score >= ref.threshold)
    return {"percentile": pctl, "threshold": ref.threshold, "selected_under_budget": selected,
            "population": ref.describe(lang), "households": ref.households,
            "seed": REFERENCE_SEED, "reference_month": REFERENCE_MONTH,
            "budget_per_month": ref.budget}

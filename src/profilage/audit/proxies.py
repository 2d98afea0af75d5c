"""Proxies: which criteria carry protected grounds indirectly.

For each criterion, its association with each protected ground in the population: Cramér's V
between the modality a household matches and the ground's group (age band, sex, family type,
AAH, QPV, nationality when the population has it), and the gap in the criterion's mean
contribution (log-odds) between the ground's groups. Also the modalities a group cannot reach
by construction: observed in the population but never in that group (a single adult cannot
exceed 12 months of activity).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from profilage.audit.experiments import _lab
from profilage.engine import contrib_cols
from profilage.models import Model, load_model

#: Protected ground -> population group column standing for it.
GROUND_COLUMNS = {"age": "tranche_age", "sex": "sexe_allocataire",
                  "family_situation": "famille_type", "disability": "aah", "residence": "qpv",
                  "nationality": "nationalite"}


def cramers_v(counts: np.ndarray) -> float:
    """Cramér's V of a contingency table (rows x columns of counts); 0 for a degenerate one."""
    counts = counts[counts.sum(axis=1) > 0][:, counts.sum(axis=0) > 0]
    if counts.shape[0] < 2 or counts.shape[1] < 2:
        return 0.0
    n = counts.sum()
    expected = counts.sum(axis=1, keepdims=True) * counts.sum(axis=0, keepdims=True) / n
    chi2 = ((counts - expected) ** 2 / expected).sum()
    return float(np.sqrt(chi2 / (n * (min(counts.shape) - 1))))


def proxies(frame: pl.DataFrame, model: Model | str = "cnaf-2014") -> dict[str, Any]:
    """Association of every criterion with every protected ground present in ``frame``
    (a population prepared with ``contributions=True``)."""
    m = load_model(model)
    grounds = {g: c for g, c in GROUND_COLUMNS.items() if c in frame.columns}
    rows, unreachable = [], []
    for c in m.criteria:
        _, _, mcol = contrib_cols(c.id)
        low, high, _ = contrib_cols(c.id)
        if mcol not in frame.columns:
            continue
        mod_ids = [mod.id for mod in c.modalities]
        for ground, gcol in grounds.items():
            t = frame.group_by(gcol, mcol).agg(n=pl.len(),
                                              contrib=((pl.col(low) + pl.col(high)) / 2).sum())
            groups = sorted(set(t[gcol].to_list()), key=lambda v: (v is None, str(v)))
            mods = sorted(set(t[mcol].to_list()), key=lambda v: (v is None, v if v is not None
                                                                   else 0))
            gi = {g: i for i, g in enumerate(groups)}
            mi = {x: i for i, x in enumerate(mods)}
            counts = np.zeros((len(groups), len(mods)))
            contrib = np.zeros(len(groups))
            for g, x, n, s in t.iter_rows():
                counts[gi[g], mi[x]] += n
                contrib[gi[g]] += s
            per_group = contrib / counts.sum(axis=1)
            v = cramers_v(counts)
            rows.append({"criterion": c.id, "label_fr": c.label_fr, "ground": ground,
                         "group_column": gcol, "declared_ground": c.protected_ground,
                         "indirect": c.protected_ground != ground, "cramers_v": v,
                         "contribution_gap": float(per_group.max() - per_group.min()),
                         "mean_contribution": {_lab(g): float(v) for g, v in
                                               zip(groups, per_group)}})
            if v > 0.99:  # the criterion encodes the ground itself: nothing to learn
                continue
            present = counts.sum(axis=0) > 0
            for g, i in gi.items():
                for x, j in mi.items():
                    if x is None or not present[j] or counts[i, j] > 0:
                        continue
                    unreachable.append({"criterion": c.id, "modality": mod_ids[x],
                                        "group_column": gcol, "group": _lab(g),
                                        "households_in_group": int(counts[i].sum()),
                                        "households_with_modality": int(counts[:, j].sum())})
    rows.sort(key=lambda r: -r["cramers_v"])
    return {"model": m.id, "associations": rows, "unreachable": unreachable,
            "note": "Cramér's V entre la modalité du critère et le groupe ; modalités jamais "
                    "observées dans un groupe alors qu'elles le sont ailleurs (par construction "
                    "ou par rareté : voir households_in_group)."}



"""A small ensemble of reconstructions written by the tests (never shipped): the point model
perturbed member by member. Its first member is the point model itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from profilage.models import load_model
from profilage.models.ensemble import load_ensemble_file, write_ensemble


def write_fixture(directory: Path, model: str = "cnaf-2014", size: int = 12, seed: int = 0,
                  scale: float = 0.3):
    """Write ``directory/<model>.json`` and return the loaded Ensemble."""
    base = load_model(model)
    keys = ["intercept"] + [f"{c.id}.{m.id}" for c in base.criteria if c.kind != "numeric"
                            for m in c.modalities if m.coefficient.value not in (None, 0.0)]
    point = np.array([base.intercept.value] + [base.criterion(k.split(".")[0]).modality(
        k.split(".", 1)[1]).coefficient.value for k in keys[1:]])
    rng = np.random.default_rng(seed)
    members = []
    for i in range(size):
        v = point if i == 0 else point + rng.normal(0.0, scale, len(point))
        members.append((f"{model}-e{i + 1:03d}", [round(float(x), 6) for x in v]))
    path = Path(directory) / f"{model}.json"
    write_ensemble(path, base, method="Fixture de test : le modèle ponctuel puis des bruits "
                   "gaussiens. Non compatible avec les faits : pour les tests seulement.",
                   method_en="Test fixture: the point model, then Gaussian noise.", seed=seed,
                   facts=["test"], keys=keys, members=members)
    return load_ensemble_file(path)

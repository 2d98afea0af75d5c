"""Ensembles of reconstructions: many coefficient vectors that all satisfy the published facts.

A reconstruction is one point among all the coefficient vectors consistent with what is public
about a model. An ensemble ships many such points (``models/ensembles/<model>.json``, written by
``python -m profilage.reconstruct.ensemble``) so that a conclusion can be reported as a range over
all of them, and called robust only where the whole range points the same way.

The file stores, for each member, only the coefficients that vary (``keys``: ``intercept`` and
``criterion.modality``); every other number keeps the point model's value. A member is rendered
as a complete model TOML (status ``reconstructed``, source naming the ensemble and the member),
and its sha256 is the sha256 of that text, so an exported member scores exactly as here.
"""

from __future__ import annotations

import copy
import hashlib
import json
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import tomli_w

from profilage.errors import ProfilageError
from profilage.models import MODELS_DIR, Model, load_model, parse_model

ENSEMBLES_DIR = MODELS_DIR / "ensembles"


def ensemble_path(model_id: str) -> Path:
    """Where the shipped ensemble of ``model_id`` lives (it may not exist)."""
    return ENSEMBLES_DIR / f"{model_id}.json"


def _model_id(model: str | Model) -> str:
    return model.id if isinstance(model, Model) else str(model)


def has_ensemble(model: str | Model) -> bool:
    """Whether an ensemble of reconstructions is shipped for this model."""
    return ensemble_path(_model_id(model)).is_file()


def _member_suffix(member_id: str, model_id: str) -> str:
    return member_id[len(model_id) + 1:] if member_id.startswith(model_id + "-") else member_id


@dataclass(frozen=True)
class Ensemble:
    """A shipped ensemble: the point model's id, how members were drawn, and their coefficients."""

    model: str
    base_sha256: str
    method: str
    method_en: str
    seed: int
    facts: tuple[str, ...]
    keys: tuple[str, ...]
    member_ids: tuple[str, ...]
    matrix: np.ndarray  # size x len(keys)
    path: Path

    @property
    def size(self) -> int:
        return len(self.member_ids)

    def base(self) -> Model:
        """The point model the ensemble belongs to."""
        return load_model(self.model)

    def _column(self, key: str) -> np.ndarray | None:
        try:
            return self.matrix[:, self.keys.index(key)]
        except ValueError:
            return None

    def intercepts(self) -> np.ndarray:
        """The intercept of every member."""
        col = self._column("intercept")
        if col is not None:
            return col.copy()
        v = self.base().intercept.value
        return np.full(self.size, np.nan if v is None else v)

    def coefficient_table(self, criterion_id: str) -> np.ndarray:
        """size x n_modalities: the criterion's coefficient for each modality, member by member."""
        c = self.base().criterion(criterion_id)
        out = np.empty((self.size, len(c.modalities)))
        for j, m in enumerate(c.modalities):
            col = self._column(f"{criterion_id}.{m.id}")
            if col is None:
                v = m.coefficient.value
                out[:, j] = np.nan if v is None else v
            else:
                out[:, j] = col
        return out

    def member_toml(self, i: int) -> str:
        """The complete TOML text of member ``i`` (what ``models ensemble --export`` writes)."""
        return _render_member(self, i)

    def member(self, i: int) -> Model:
        """Member ``i`` as a model; its sha256 is the sha256 of :meth:`member_toml`."""
        return _member_cached(self.path, self.path.stat().st_mtime, i)

    def members(self) -> list[Model]:
        return [self.member(i) for i in range(self.size)]

    def manifest(self) -> dict[str, Any]:
        """The ``models ensemble MODEL --json`` contract."""
        return {
            "model": self.model, "size": self.size, "method": self.method, "seed": self.seed,
            "facts": list(self.facts),
            "members": [{"id": mid, "sha256": hashlib.sha256(self.member_toml(i).encode()).hexdigest()}
                        for i, mid in enumerate(self.member_ids)],
        }


def _render_member(ens: Ensemble, i: int) -> str:
    base = ens.base()
    doc = copy.deepcopy(base.raw)
    mid = ens.member_ids[i]
    suffix = _member_suffix(mid, ens.model)
    source = (f"ensemble de reconstructions {ens.model}, membre {mid} (non officiel) ; "
              f"{ens.method.split('.')[0]}")
    values = dict(zip(ens.keys, (float(x) for x in ens.matrix[i])))
    doc["id"] = mid
    # the member has its own id: bare fact ids ("1") would resolve against it, so name the family
    if "facts" in doc:
        doc["facts"] = [f if ":" in f else f"{ens.model}:{f}" for f in doc["facts"]]
    doc["title"] = f"{doc.get('title', ens.model)} — membre {suffix} de l'ensemble de reconstructions"
    if "title_en" in doc:
        doc["title_en"] = f"{doc['title_en']} — member {suffix} of the ensemble of reconstructions"
    if "intercept" in values:
        doc["intercept"] = {**doc["intercept"], "value": values["intercept"],
                            "status": "reconstructed", "source": source}
    for c in doc.get("criteria", []):
        for m in c.get("modalities", []) or []:
            key = f"{c.get('id')}.{m.get('id')}"
            if key in values:
                m["coefficient"] = values[key]
                m["status"] = "reconstructed"
                m["source"] = source
    return (f"# Member {mid} of the ensemble of reconstructions of {ens.model}"
            f" (profilage.models.ensemble; file {ens.path.name}).\n"
            "# RECONSTRUCTED coefficients (not official), each satisfying the published facts "
            + ", ".join(ens.facts) + ".\n" + tomli_w.dumps(doc))


@lru_cache(maxsize=8)
def _load_cached(path: Path, mtime: float) -> Ensemble:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        keys = tuple(data["keys"])
        members = data["members"]
        matrix = np.array([m["coefficients"] for m in members], dtype=float).reshape(len(members),
                                                                                     len(keys))
        ens = Ensemble(model=data["model"], base_sha256=data["base_sha256"], method=data["method"],
                       method_en=data.get("method_en", data["method"]), seed=int(data["seed"]),
                       facts=tuple(data["facts"]), keys=keys,
                       member_ids=tuple(m["id"] for m in members), matrix=matrix, path=path)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ProfilageError(f"ensemble file {path.name} unreadable: {e}", field="--ensemble") from None
    base = ens.base()
    known = {"intercept"} | {f"{c.id}.{m.id}" for c in base.criteria for m in c.modalities}
    bad = [k for k in keys if k not in known]
    if bad:
        raise ProfilageError(f"ensemble file {path.name}: keys not in model {ens.model}: "
                             + ", ".join(bad[:5]), field="--ensemble")
    return ens


@lru_cache(maxsize=512)
def _member_cached(path: Path, mtime: float, i: int) -> Model:
    ens = _load_cached(path, mtime)
    text = _render_member(ens, i)
    return parse_model(tomllib.loads(text), f"{path.name}#{ens.member_ids[i]}",
                       sha256=hashlib.sha256(text.encode()).hexdigest())


def load_ensemble_file(path: str | Path) -> Ensemble:
    """An ensemble read from any file of the same format (tests, a user's own ensemble)."""
    p = Path(path).resolve()
    if not p.is_file():
        raise ProfilageError(f"ensemble file not found: {p.name}", field="--ensemble")
    return _load_cached(p, p.stat().st_mtime)


def load_ensemble(model: str | Model) -> Ensemble:
    """The shipped ensemble of ``model``; a clear error if there is none."""
    mid = _model_id(model)
    path = ensemble_path(mid)
    if not path.is_file():
        shipped = sorted(p.stem for p in ENSEMBLES_DIR.glob("*.json")) if ENSEMBLES_DIR.is_dir() else []
        raise ProfilageError(
            f"no ensemble of reconstructions shipped for model {mid!r} (available: "
            + (", ".join(shipped) or "none") + ")", field="--ensemble")
    return _load_cached(path, path.stat().st_mtime)


def write_ensemble(path: str | Path, base: Model, *, method: str, method_en: str, seed: int,
                   facts: list[str] | tuple[str, ...], keys: list[str] | tuple[str, ...],
                   members: list[tuple[str, list[float]]]) -> None:
    """Write an ensemble file (deterministic bytes: same inputs, same file)."""
    doc = {
        "model": base.id, "base_sha256": base.sha256, "method": method, "method_en": method_en,
        "seed": int(seed), "facts": [str(f) for f in facts], "keys": [str(k) for k in keys],
        "members": [{"id": mid, "coefficients": [float(x) + 0.0 for x in coefs]}
                    for mid, coefs in members],
    }
    for mid, coefs in members:
        if len(coefs) != len(keys):
            raise ValueError(f"member {mid}: {len(coefs)} coefficients for {len(keys)} keys")
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, ensure_ascii=False, indent=1)
    # one member per line keeps the file readable and its diffs small
    text = _compact_members(text)
    p.write_text(text + "\n", encoding="utf-8")


def _compact_members(text: str) -> str:
    doc = json.loads(text)
    head = {k: v for k, v in doc.items() if k != "members"}
    lines = json.dumps(head, ensure_ascii=False, indent=1)[:-2]
    members = ",\n".join("  " + json.dumps(m, ensure_ascii=False) for m in doc["members"])
    return f'{lines},\n "members": [\n{members}\n ]\n}}'

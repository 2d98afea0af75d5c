"""Shared steps of model import: field-to-feature mapping, value parsing, the model document.

Importers (``tables``, ``pmml``) turn a file into criteria in the TOML form of ``schema``; this
module resolves which profilage feature each field feeds, parses booleans and bins, fills the
reference modalities a table leaves out, and validates the result with the normal loader.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from profilage.errors import ProfilageError
from profilage.models.schema import Model, parse_model

TRUE_WORDS = {"true", "1", "1.0", "yes", "oui", "vrai", "o", "y", "t"}
FALSE_WORDS = {"false", "0", "0.0", "no", "non", "faux", "n", "f"}
INTERCEPT_NAMES = {"intercept", "(intercept)", "constante", "const", "_intercept_", "constant"}
REFERENCE_SOURCE = ("modalité absente de la table importée : modalité de référence, "
                    "coefficient 0 (convention de la régression logistique)")


class ImportError_(ProfilageError):  # noqa: N801 - not the builtin ImportError
    """A file cannot be imported as a model; the message names the file and the field."""


def parse_bool(text: Any, *, where: str, source: str) -> bool:
    if isinstance(text, bool):
        return text
    t = str(text).strip().lower()
    if t in TRUE_WORDS:
        return True
    if t in FALSE_WORDS:
        return False
    raise ImportError_(f"{text!r} is not a boolean value (true/false, oui/non, 1/0)",
                       field=where, source=source)


_BIN = re.compile(r"^\s*([\[\(])\s*([^,;]*)\s*[,;]\s*([^\]\)]*)\s*([\]\)])\s*$")
_CMP = re.compile(r"^\s*(<|>=|≥)\s*(-?[\d.]+)\s*$")


def _num(text: str) -> float | None:
    t = text.strip().lower().replace(" ", "").replace(",", ".")
    if t in ("", "-inf", "+inf", "inf", "-∞", "+∞", "∞"):
        return None
    return float(t)


def parse_bin(text: str, *, where: str, source: str) -> tuple[float | None, float | None]:
    """``[a, b)``, ``[a, +inf)``, ``(-inf, b)``, ``<b``, ``>=a``: a bin [min, max)."""
    m = _CMP.match(text)
    if m:
        v = float(m[2])
        return (None, v) if m[1] == "<" else (v, None)
    m = _BIN.match(text)
    if m:
        try:
            lo, hi = _num(m[2]), _num(m[3])
        except ValueError:
            lo = hi = math.nan
        ok = not (isinstance(lo, float) and math.isnan(lo))
        if ok and (lo is None or m[1] == "[") and (hi is None or m[4] == ")"):
            return lo, hi
    raise ImportError_(f"{text!r} is not a bin: write [min, max) (lower bound included, upper "
                       "excluded), <max or >=min, or give min/max columns", field=where,
                       source=source)


@dataclass
class FeatureMap:
    """Which profilage feature each field of the imported file feeds."""

    mapping: dict[str, str] = field(default_factory=dict)
    declare_unknown: bool = False
    declared: dict[str, dict] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)

    @classmethod
    def from_options(cls, items: list[str] | None, *, declare_unknown: bool = False) -> FeatureMap:
        """``--map FIELD=feature`` (repeatable) or ``--map file.csv`` (columns field,feature)."""
        mapping: dict[str, str] = {}

        def add(f: str, feat: str) -> None:
            if f in mapping and mapping[f] != feat:
                raise ProfilageError(f"field {f!r} is mapped twice ({mapping[f]} and {feat})",
                                     field="--map")
            other = next((g for g, x in mapping.items() if x == feat and g != f), None)
            if other is not None:
                raise ProfilageError(f"fields {other!r} and {f!r} are both mapped to feature "
                                     f"{feat!r}: a feature feeds one field", field="--map")
            mapping[f] = feat

        for item in items or []:
            p = Path(item)
            if "=" not in item and p.is_file():
                import csv

                try:
                    with p.open(encoding="utf-8-sig", newline="") as fh:
                        for row in csv.DictReader(fh):
                            f = str(row.get("field") or "").strip()
                            feat = str(row.get("feature") or "").strip()
                            if f and feat:
                                add(f, feat)
                except (UnicodeDecodeError, csv.Error) as e:
                    raise ProfilageError(f"{item}: not a UTF-8 CSV file ({e})".splitlines()[0],
                                         field="--map") from None
                continue
            if "=" not in item:
                raise ProfilageError(f"{item!r}: expected FIELD=feature or a CSV file with "
                                     "columns field,feature", field="--map")
            f, feat = item.split("=", 1)
            add(f.strip(), feat.strip())
        from profilage.features import FEATURES

        for f, feat in mapping.items():
            if feat not in FEATURES:
                raise ProfilageError(f"{f}={feat}: {feat!r} is not a profilage feature (see "
                                     "`profilage features list`)", field="--map")
        return cls(mapping, declare_unknown)

    def feature(self, field_name: str, *, kind_hint: str | None = None,
                categories: list[str] | None = None, check_values: bool = False
                ) -> tuple[str, dict | None]:
        """The feature for a field, and its spec (None while the field is unknown)."""
        from profilage.features import FEATURES

        feat = self.mapping.get(field_name, field_name)
        if feat in self.declared:
            return feat, {**self.declared[feat],
                          "categories": tuple(self.declared[feat].get("categories", ()))}
        clash = None
        if feat in FEATURES:
            # A field named like a profilage feature feeds it when asked (--map) or when its
            # values are the feature's; otherwise it stays the file's own input, so that tables
            # in the file's own vocabulary score (e.g. a categorical 'situation_familiale' with
            # values M/C/D is not profilage's marie/celibataire/divorce).
            clash = None if field_name in self.mapping or not check_values else _clash(
                FEATURES[feat], kind_hint, categories)
            if clash is None:
                return feat, FEATURES[feat]
        if self.declare_unknown and kind_hint:
            spec: dict[str, Any] = {"kind": kind_hint, "label_fr": field_name,
                                    "label_en": field_name,
                                    "description": "declared by `profilage models import` "
                                                   "(not derived from dossiers: give it in a "
                                                   "feature table)"}
            if kind_hint == "category":
                spec["categories"] = list(categories or [])
            self.declared[feat] = spec
            return feat, {**spec, "categories": tuple(spec.get("categories", ()))}
        entry = field_name + (f" ({clash})" if clash else "")
        if entry not in self.unknown:
            self.unknown.append(entry)
        return feat, None

    def check(self, source: str) -> None:
        if self.unknown:
            raise ImportError_(
                "field(s) not mapped to a profilage feature: " + ", ".join(self.unknown)
                + " (map each with --map FIELD=feature, see `profilage features list`; or "
                "--declare-unknown to keep them as inputs given in feature tables)",
                source=source)


def _clash(spec: dict, kind_hint: str | None, categories: list[str] | None) -> str | None:
    """Why a field cannot feed the profilage feature of the same name (None: it can)."""
    cats = [c for c in (categories or []) if c != ""]
    if spec["kind"] == "bool":
        if kind_hint in ("bool", "float", None):
            return None
        if kind_hint == "category" and cats and all(
                c.strip().lower() in TRUE_WORDS | FALSE_WORDS for c in cats):
            return None
        return f"values {', '.join(cats[:4])} are not true/false"
    if spec["kind"] == "category":
        if kind_hint not in ("category", None):
            return "numeric in the file, categorical in profilage"
        extra = [c for c in cats if c not in spec["categories"]]
        if extra:
            return (f"values {', '.join(extra[:4])} are not the feature's categories "
                    f"{', '.join(spec['categories'][:4])}...")
        return None
    if kind_hint not in ("float", None):
        return "categorical in the file, numeric in profilage"
    return None


def category_modalities(feature: str, spec: dict, given: dict[Any, dict], *, where: str,
                        source: str) -> list[dict]:
    """Modalities of a boolean or category feature; values the file leaves out get 0."""
    mods = []
    if spec["kind"] == "bool":
        values: list[Any] = [False, True]
    else:
        values = list(spec.get("categories", ())) or list(given)
    extra = [v for v in given if v not in values]
    if extra:
        raise ImportError_(f"value {extra[0]!r} is not a category of feature {feature!r} "
                           f"(expected one of {', '.join(map(str, values))})", field=where,
                           source=source)
    for v in list(given) + [v for v in values if v not in given]:  # the file's order first
        if v in given:
            mods.append({**given[v], "value": v})
        else:
            if isinstance(v, bool):
                mid, fr, en = ("oui", "oui", "yes") if v else ("non", "non", "no")
            else:
                mid, fr, en = str(v).lower(), str(v), str(v)
            mods.append({"id": mid, "label_fr": fr, "label_en": en, "value": v,
                         "coefficient": 0.0, "status": "published", "source": REFERENCE_SOURCE})
    return mods


def finish(doc: dict, *, source: str) -> Model:
    """Validate an imported model document with the normal loader (every problem listed)."""
    import hashlib

    text = tomli_w.dumps(doc)
    return parse_model(doc, source, sha256=hashlib.sha256(text.encode()).hexdigest())


def base_document(model_id: str, *, source: str, title: str | None, institution: str | None,
                  target: str | None, file_name: str, fmt: str) -> dict:
    if not model_id or not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", model_id):
        raise ProfilageError("model id must be letters, digits, '-', '_' or '.'", field="--id")
    if not source or not source.strip():
        raise ProfilageError("say where the coefficients come from (e.g. 'CNAF, réponse CADA du "
                             "...')", field="--source")
    return {
        "id": model_id,
        "title": title or f"Modèle importé {model_id}",
        "title_en": title or f"Imported model {model_id}",
        "institution": institution or "non précisée",
        "target": target or "",
        "notes": (f"Importé par `profilage models import` depuis {file_name} (format {fmt}). "
                  f"Source déclarée : {source}"),
    }


def write_toml(doc: dict, out: str | Path) -> Path:
    """Write a model document as TOML through a temporary file (never half-written)."""
    out = Path(out)
    if not out.parent.exists():
        raise ProfilageError(f"directory {str(out.parent)!r} does not exist", field="--out")
    tmp = out.with_name(out.name + ".part")
    tmp.write_text("# Imported by `profilage models import`: status and source of every number "
                   "as the file gave them.\n" + tomli_w.dumps(doc), encoding="utf-8")
    tmp.replace(out)
    return out

"""Scoring models as data: the TOML format, its dataclasses and a loader that reports every problem.

A model is a logistic regression: an intercept plus one coefficient per (criterion, modality).
Every number carries a ``status`` (published, reconstructed, redacted, unknown) and a ``source``.
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from profilage.errors import ModelFileError

STATUSES = ("published", "reconstructed", "redacted", "unknown")
PROTECTED_GROUNDS = ("age", "sex", "disability", "family_situation", "residence", "nationality",
                     "health")
PRECARITY = ("direct", "indirect")
UNKNOWN_AS_SOURCE = ("zero", "no-score", "replacement")
UNKNOWN_MODES = ("interval", "as-source")
GROUND_LABELS_FR = {
    "age": "âge", "sex": "sexe", "disability": "handicap", "family_situation": "situation de famille",
    "residence": "lieu de résidence", "nationality": "nationalité", "health": "état de santé",
}


@dataclass(frozen=True)
class Coefficient:
    """One number of a model with its provenance.

    ``low``/``high`` bound the number: equal to ``value`` when it is known; the range a user gave
    for an unknown coefficient; or infinite when nothing is known.
    """

    value: float | None
    status: str
    source: str
    low: float
    high: float

    @property
    def known(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class Modality:
    id: str
    label_fr: str
    label_en: str
    kind: str  # "category" | "bin" | "absent" | "numeric"
    coefficient: Coefficient
    value: Any = None  # category value (str or bool)
    min: float | None = None  # bin lower bound, inclusive
    max: float | None = None  # bin upper bound, exclusive

    def describe(self) -> str:
        if self.kind == "category":
            return repr(self.value)
        if self.kind == "absent":
            return "absent"
        if self.kind == "numeric":
            return "value"
        lo = "-inf" if self.min is None else f"{self.min:g}"
        hi = "+inf" if self.max is None else f"{self.max:g}"
        return f"[{lo}, {hi})"


@dataclass(frozen=True)
class Criterion:
    id: str
    label_fr: str
    label_en: str
    feature: str | None
    kind: str  # "categorical" | "bins" | "numeric" | "redacted"
    modalities: tuple[Modality, ...] = ()
    protected_ground: str | None = None
    precarity: str | None = None
    presence: str | None = None  # boolean feature; False selects the "absent" modality
    exponent: float = 1.0
    value_range: tuple[float, float] | None = None  # bounds of an unknown numeric input
    status: str | None = None  # for redacted criteria
    # A redacted criterion's contribution range, when the user gives one; otherwise the criterion
    # stays out of the score (and every output says so).
    contribution: tuple[float, float] | None = None
    source: str = ""
    notes: str = ""
    # What the source evaluator of an imported model does with an unknown input ("zero": the
    # term counts 0, as PMML's CategoricalPredictor; "no-score": no score at all), and the
    # contribution interval profilage uses for an unknown input when the model's
    # [missing] unknown = "as-source" (None: [lowest, highest], the default interval).
    unknown_as_source: str | None = None
    unknown_replacement: Any = None  # with "replacement": the value put in place of a missing one
    unknown: tuple[float, float] | None = None

    @property
    def redacted(self) -> bool:
        return self.kind == "redacted"

    def modality(self, modality_id: str) -> Modality:
        for m in self.modalities:
            if m.id == modality_id:
                return m
        raise KeyError(modality_id)


@dataclass(frozen=True)
class Model:
    id: str
    title: str
    title_en: str
    institution: str
    years_in_use: tuple[int, int | None]
    target: str
    intercept: Coefficient
    criteria: tuple[Criterion, ...]
    redacted: tuple[Criterion, ...]
    sha256: str
    path: str
    notes: str = ""
    facts: tuple[str, ...] = ()
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def all_coefficients(self) -> list[Coefficient]:
        out = [self.intercept]
        for c in self.criteria:
            out.extend(m.coefficient for m in c.modalities)
        return out

    def coefficients_status(self) -> dict[str, int]:
        """Number of coefficients by status (redacted criteria count once each)."""
        counts = dict.fromkeys(STATUSES, 0)
        for coef in self.all_coefficients:
            counts[coef.status] += 1
        counts["redacted"] += len(self.redacted)
        return counts

    def base_bounds(self) -> tuple[float, float]:
        """Log-odds bounds before the criteria: intercept plus the redacted criteria's ranges."""
        lo, hi = self.intercept.low, self.intercept.high
        for c in self.redacted:
            if c.contribution is not None:
                lo, hi = lo + c.contribution[0], hi + c.contribution[1]
        return lo, hi

    def criterion(self, criterion_id: str) -> Criterion:
        for c in self.criteria:
            if c.id == criterion_id:
                return c
        raise KeyError(criterion_id)

    @property
    def features(self) -> list[str]:
        """The input features the model reads, in order, without duplicates."""
        seen: list[str] = []
        for c in self.criteria:
            for f in (c.feature, c.presence):
                if f and f not in seen:
                    seen.append(f)
        return seen

    def provenance_line(self) -> str:
        """One line saying where the numbers come from, for every output."""
        counts = self.coefficients_status()
        parts = [f"{n} {s}" for s, n in counts.items() if n]
        warn = ""
        if counts["reconstructed"] or counts["unknown"]:
            warn = " — coefficients NOT official: reconstructed/unknown ones are ours, not the institution's"
        return f"{self.id} ({self.institution}, sha256 {self.sha256[:12]}): " + ", ".join(parts) + warn


# --------------------------------------------------------------------------------------------
# Loading and validation

def _num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


class _Collector:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, where: str, what: str) -> None:
        self.problems.append(f"{where}: {what}" if where else what)


def _coefficient(d: dict, where: str, col: _Collector, *, key: str = "coefficient") -> Coefficient:
    value = d.get(key)
    status = d.get("status")
    source = d.get("source", "")
    if value is not None and not _num(value):
        col.add(where, f"'{key}' must be a number, got {value!r}")
        value = None
    if status is None:
        col.add(where, "coefficient without status (one of " + ", ".join(STATUSES) + ")")
        status = "unknown"
    elif status not in STATUSES:
        col.add(where, f"unknown status {status!r} (expected one of {', '.join(STATUSES)})")
        status = "unknown"
    if not isinstance(source, str) or not source.strip():
        col.add(where, "coefficient without source")
        source = ""
    if status in ("published", "reconstructed") and value is None:
        col.add(where, f"status {status!r} but no {key}")
    if status in ("redacted", "unknown") and value is not None:
        col.add(where, f"status {status!r} but a {key} is given; use 'published' or 'reconstructed'")
        value = None
    if value is not None:
        v = float(value)
        if not math.isfinite(v):
            col.add(where, f"{key} must be finite")
            v = 0.0
        return Coefficient(v, status, source, v, v)
    lo, hi = d.get(f"{key}_min"), d.get(f"{key}_max")
    low = float(lo) if _num(lo) else -math.inf
    high = float(hi) if _num(hi) else math.inf
    if low > high:
        col.add(where, f"{key}_min {low} is above {key}_max {high}")
    return Coefficient(None, status, source, low, high)


def _labels(d: dict, where: str, col: _Collector, fallback: str) -> tuple[str, str]:
    fr = d.get("label_fr")
    en = d.get("label_en")
    if fr is not None and not isinstance(fr, str):
        col.add(where, "label_fr must be text")
        fr = None
    if en is not None and not isinstance(en, str):
        col.add(where, "label_en must be text")
        en = None
    return fr or en or fallback, en or fr or fallback


def _criterion(d: Any, i: int, col: _Collector, features: dict) -> Criterion | None:
    if not isinstance(d, dict):
        col.add(f"criteria[{i}]", "must be a table")
        return None
    cid = d.get("id")
    if not isinstance(cid, str) or not cid:
        col.add(f"criteria[{i}]", "missing 'id'")
        cid = f"#{i}"
    where = f"criterion {cid}"
    label_fr, label_en = _labels(d, where, col, cid)
    ground = d.get("protected_ground")
    if ground is not None and ground not in PROTECTED_GROUNDS:
        col.add(where, f"unknown protected_ground {ground!r} (expected one of "
                f"{', '.join(PROTECTED_GROUNDS)})")
        ground = None
    precarity = d.get("precarity")
    if precarity is not None and precarity not in PRECARITY:
        col.add(where, f"precarity must be 'direct' or 'indirect', got {precarity!r}")
        precarity = None
    as_source = d.get("unknown_as_source")
    if as_source is not None and as_source not in UNKNOWN_AS_SOURCE:
        col.add(where, f"unknown_as_source must be one of {', '.join(UNKNOWN_AS_SOURCE)}")
        as_source = None
    replacement = d.get("unknown_replacement")
    if (as_source == "replacement") != (replacement is not None):
        col.add(where, "unknown_as_source = 'replacement' goes with unknown_replacement (the "
                "value the source evaluator puts in place of a missing input)")
        as_source = None
    common = dict(id=cid, label_fr=label_fr, label_en=label_en, protected_ground=ground,
                  precarity=precarity, notes=str(d.get("notes", "")),
                  unknown_as_source=as_source, unknown_replacement=replacement)

    if d.get("redacted"):
        status = d.get("status", "redacted")
        if status != "redacted":
            col.add(where, "a redacted criterion must have status 'redacted'")
        if d.get("modalities") or "coefficient" in d:
            col.add(where, "a redacted criterion cannot have modalities or coefficients")
        lo, hi = d.get("contribution_min"), d.get("contribution_max")
        contribution = None
        if lo is not None or hi is not None:
            if not (_num(lo) and _num(hi)) or lo > hi or not all(map(math.isfinite, (lo, hi))):
                col.add(where, "contribution_min and contribution_max must both be finite numbers, "
                        "min <= max")
            else:
                contribution = (float(lo), float(hi))
        feat = d.get("feature")
        return Criterion(feature=feat if isinstance(feat, str) else None, kind="redacted",
                         status="redacted", source=str(d.get("source", "")),
                         contribution=contribution, **common)

    feat = d.get("feature")
    spec = features.get(feat) if isinstance(feat, str) else None
    if not isinstance(feat, str):
        col.add(where, "missing 'feature'")
    elif spec is None:
        col.add(where, f"unknown feature {feat!r} (see `profilage features list` or declare it "
                "under [features])")
    presence = d.get("presence")
    if presence is not None and not isinstance(presence, str):
        col.add(where, "presence must be a feature name (text)")
        presence = None
    if presence is not None:
        pspec = features.get(presence)
        if pspec is None:
            col.add(where, f"unknown presence feature {presence!r}")
        elif pspec["kind"] != "bool":
            col.add(where, f"presence feature {presence!r} must be boolean")

    if d.get("kind") == "numeric" or ("coefficient" in d and "modalities" not in d):
        if spec is not None and spec["kind"] not in ("int", "float"):
            col.add(where, f"numeric predictor on non-numeric feature {feat!r}")
        coef = _coefficient(d, where, col)
        exponent = d.get("exponent", 1)
        if not _num(exponent):
            col.add(where, "exponent must be a number")
            exponent = 1
        rng = d.get("range")
        value_range = None
        if rng is not None:
            if (isinstance(rng, list) and len(rng) == 2 and all(_num(x) for x in rng)
                    and rng[0] <= rng[1]):
                value_range = (float(rng[0]), float(rng[1]))
            else:
                col.add(where, "range must be [low, high] numbers")
        if value_range is not None and _num(exponent):
            for end in value_range:
                try:
                    ve = float(end) ** float(exponent)
                except (OverflowError, ZeroDivisionError):
                    ve = None
                if not isinstance(ve, float) or not math.isfinite(ve):
                    col.add(where, f"range end {end:g} to the power {float(exponent):g} is not a "
                            "finite real number: narrow the range or change the exponent")
                    value_range = None
                    break
        mod = Modality(id="valeur", label_fr="valeur", label_en="value", kind="numeric",
                       coefficient=coef)
        return Criterion(feature=feat, kind="numeric", modalities=(mod,), presence=presence,
                         exponent=float(exponent), value_range=value_range, **common)

    mods_raw = d.get("modalities")
    if not isinstance(mods_raw, list) or not mods_raw:
        col.add(where, "no modalities (give [[criteria.modalities]], or 'redacted = true')")
        return None
    mods: list[Modality] = []
    kinds = set()
    for j, m in enumerate(mods_raw):
        if not isinstance(m, dict):
            col.add(f"{where}, modality {j + 1}", "must be a table")
            continue
        mid = m.get("id")
        if not isinstance(mid, str) or not mid:
            mid = str(m.get("value", j + 1)).lower()
        mwhere = f"{where}, modality {mid}"
        mfr, men = _labels(m, mwhere, col, mid)
        coef = _coefficient(m, mwhere, col)
        if m.get("absent"):
            if presence is None:
                col.add(mwhere, "'absent' modality needs the criterion's 'presence' feature")
            mods.append(Modality(mid, mfr, men, "absent", coef))
        elif "value" in m:
            kinds.add("category")
            v = m["value"]
            if spec is not None:
                if spec["kind"] == "bool" and not isinstance(v, bool):
                    col.add(mwhere, f"feature {feat!r} is boolean: value must be true or false")
                elif spec["kind"] == "category" and v not in spec["categories"]:
                    col.add(mwhere, f"value {v!r} is not a category of feature {feat!r} "
                            f"(expected one of {', '.join(map(str, spec['categories']))})")
                elif spec["kind"] in ("int", "float"):
                    col.add(mwhere, f"feature {feat!r} is numeric: use min/max bins, not value")
            mods.append(Modality(mid, mfr, men, "category", coef, value=v))
        elif "min" in m or "max" in m:
            kinds.add("bin")
            lo, hi = m.get("min"), m.get("max")
            for name, b in (("min", lo), ("max", hi)):
                if b is not None and not _num(b):
                    col.add(mwhere, f"{name} must be a number")
            lo = float(lo) if _num(lo) else None
            hi = float(hi) if _num(hi) else None
            if lo is not None and hi is not None and lo >= hi:
                col.add(mwhere, f"empty bin: min {lo:g} is not below max {hi:g}")
            if spec is not None and spec["kind"] not in ("int", "float"):
                col.add(mwhere, f"feature {feat!r} is not numeric: use 'value', not min/max")
            mods.append(Modality(mid, mfr, men, "bin", coef, min=lo, max=hi))
        else:
            col.add(mwhere, "modality needs 'value' (category), 'min'/'max' (bin) or 'absent'")
    if len(kinds) > 1:
        col.add(where, "mixes category values and numeric bins")
    ids = [m.id for m in mods]
    for dup in sorted({x for x in ids if ids.count(x) > 1}):
        col.add(where, f"modality id {dup!r} appears twice")
    kind = "bins" if kinds == {"bin"} else "categorical"
    if kinds == {"category"}:
        vals = [m.value for m in mods if m.kind == "category"]
        for dup in {repr(x) for x in vals if vals.count(x) > 1}:
            col.add(where, f"category {dup} appears twice")
        if (spec is not None and spec["kind"] == "bool" and all(isinstance(v, bool) for v in vals)
                and sorted(vals) != [False, True]):  # non-booleans are reported above
            col.add(where, "boolean feature needs exactly the modalities true and false")
        if spec is not None and spec["kind"] == "category":
            missing = [c for c in spec["categories"] if c not in vals]
            if missing:
                col.add(where, "missing categories: " + ", ".join(map(str, missing)))
    if kinds == {"bin"}:
        _check_bins(mods, where, col, spec)
    return Criterion(feature=feat, kind=kind, modalities=tuple(mods), presence=presence, **common)


def _as_source(c: Criterion) -> Criterion:
    """The criterion with the unknown-input contribution its source evaluator uses."""
    import dataclasses

    if c.unknown_as_source == "zero":
        return dataclasses.replace(c, unknown=(0.0, 0.0))
    if c.unknown_as_source == "no-score":
        return dataclasses.replace(c, unknown=(-math.inf, math.inf))
    if c.unknown_as_source == "replacement":
        coef = _replacement_contribution(c)
        return dataclasses.replace(c, unknown=coef) if coef is not None else c
    return c


def _replacement_contribution(c: Criterion) -> tuple[float, float] | None:
    """The contribution of the value a source evaluator puts in place of a missing input."""
    r = c.unknown_replacement
    if c.kind == "numeric":
        try:
            v = float(r) ** c.exponent
        except (TypeError, ValueError):
            return None
        co = c.modalities[0].coefficient
        return (min(v * co.low, v * co.high), max(v * co.low, v * co.high))
    for m in c.modalities:
        if m.kind == "category":
            same = (m.value == r or (isinstance(m.value, bool) and isinstance(r, str)
                                     and r.strip().lower() in (("true", "1", "oui", "yes")
                                                               if m.value else
                                                               ("false", "0", "non", "no"))))
            if same:
                return (m.coefficient.low, m.coefficient.high)
        elif m.kind == "bin":
            try:
                v = float(r)
            except (TypeError, ValueError):
                return None
            if (m.min is None or v >= m.min) and (m.max is None or v < m.max):
                return (m.coefficient.low, m.coefficient.high)
    return None


def _check_bins(mods: list[Modality], where: str, col: _Collector, spec: dict | None) -> None:
    bins = sorted((m for m in mods if m.kind == "bin"),
                  key=lambda m: -math.inf if m.min is None else m.min)
    domain_lo = spec.get("min", -math.inf) if spec else -math.inf
    first = bins[0].min
    if first is not None and first > domain_lo:
        col.add(where, f"missing bin: values from {domain_lo:g} to {first:g} match no modality")
    for a, b in zip(bins, bins[1:]):
        a_hi = math.inf if a.max is None else a.max
        b_lo = -math.inf if b.min is None else b.min
        if b_lo < a_hi:
            col.add(where, f"overlapping bins: {a.id} {a.describe()} and {b.id} {b.describe()}")
        elif b_lo > a_hi:
            col.add(where, f"missing bin: values from {a_hi:g} to {b_lo:g} match no modality")
    if bins[-1].max is not None:
        col.add(where, f"missing bin: values from {bins[-1].max:g} upwards match no modality")


#: Size limits of a model file, said in the error. The shipped models have at most 25 criteria
#: and 7 modalities per criterion; a model of 4,000 bins took 47 s per dossier (the engine's
#: matching expression grows with the bins).
MAX_CRITERIA = 200
MAX_MODALITIES = 100


def _too_large(crits_raw: Any, col: _Collector) -> bool:
    if not isinstance(crits_raw, list):
        return False
    if len(crits_raw) > MAX_CRITERIA:
        col.add("criteria", f"{len(crits_raw)} criteria, over the limit of {MAX_CRITERIA}")
        return True
    big = False
    for i, d in enumerate(crits_raw):
        mods = d.get("modalities") if isinstance(d, dict) else None
        if isinstance(mods, list) and len(mods) > MAX_MODALITIES:
            col.add(f"criteria[{i}]", f"{len(mods)} modalities, over the limit of "
                    f"{MAX_MODALITIES}")
            big = True
    return big


def parse_model(data: dict, source: str, *, sha256: str = "", path: str = "") -> Model:
    """Validate a parsed TOML model; raise ModelFileError listing every problem."""
    from profilage.features import FEATURES

    col = _Collector()
    if not isinstance(data, dict):
        raise ModelFileError(source, ["the file must be a TOML table"])
    for key in ("id", "title", "institution"):
        if not isinstance(data.get(key), str) or not data.get(key):
            col.add("", f"missing '{key}'")
    features = {k: v for k, v in FEATURES.items()}
    extra = data.get("features", {})
    if not isinstance(extra, dict):
        col.add("features", "must be a table of feature declarations")
        extra = {}
    for name, spec in extra.items():
        if not isinstance(spec, dict) or spec.get("kind") not in ("bool", "int", "float", "category"):
            col.add(f"features.{name}", "declare kind = bool | int | float | category")
            continue
        if spec["kind"] == "category" and not isinstance(spec.get("categories"), list):
            col.add(f"features.{name}", "a category feature needs 'categories'")
            continue
        features[name] = {**spec, "categories": tuple(spec.get("categories", ()))}
    inter = data.get("intercept")
    if isinstance(inter, dict):
        intercept = _coefficient(inter, "intercept", col, key="value")
    elif _num(inter):
        col.add("intercept", "give the intercept as a table with value, status and source")
        intercept = Coefficient(float(inter), "unknown", "", float(inter), float(inter))
    else:
        col.add("intercept", "missing intercept table (value, status, source)")
        intercept = Coefficient(None, "unknown", "", -math.inf, math.inf)
    crits_raw = data.get("criteria")
    if _too_large(crits_raw, col):
        raise ModelFileError(source, col.problems)
    if not isinstance(crits_raw, list) or not crits_raw:
        col.add("", "no [[criteria]]")
        crits_raw = []
    crits = [c for i, d in enumerate(crits_raw) if (c := _criterion(d, i, col, features))]
    ids = [c.id for c in crits]
    for dup in sorted({x for x in ids if ids.count(x) > 1}):
        col.add(f"criterion {dup}", "id appears twice")
    years = data.get("years_in_use", [None, None])
    if not (isinstance(years, list) and 1 <= len(years) <= 2
            and all(y is None or (isinstance(y, int) and not isinstance(y, bool)) for y in years)):
        col.add("years_in_use", "must be [first_year] or [first_year, last_year] (integers)")
        years = [None, None]
    years = (list(years) + [None])[:2]
    facts = data.get("facts", [])
    if not (isinstance(facts, list) and all(isinstance(f, str) for f in facts)):
        col.add("facts", "must be a list of fact ids (text)")
        facts = []
    missing = data.get("missing", {})
    mode = missing.get("unknown", "interval") if isinstance(missing, dict) else None
    if mode not in UNKNOWN_MODES:
        col.add("missing.unknown", f"must be one of {', '.join(UNKNOWN_MODES)}")
    elif mode == "as-source":
        if not any(c.unknown_as_source for c in crits):
            col.add("missing.unknown", "'as-source' needs the criteria's unknown_as_source "
                    "(recorded by `profilage models import`)")
        crits = [_as_source(c) for c in crits]
        for c in crits:
            if c.unknown_as_source == "replacement" and c.unknown is None:
                col.add(f"criterion {c.id}", f"unknown_replacement {c.unknown_replacement!r} "
                        "matches no modality")
    if col.problems:
        raise ModelFileError(source, col.problems)
    return Model(
        id=data["id"], title=data["title"], title_en=str(data.get("title_en", data["title"])),
        institution=data["institution"], years_in_use=(years[0], years[1]),
        target=str(data.get("target", "")), intercept=intercept,
        criteria=tuple(c for c in crits if not c.redacted),
        redacted=tuple(c for c in crits if c.redacted),
        sha256=sha256, path=path, notes=str(data.get("notes", "")),
        facts=tuple(facts), raw=data,
    )


def load_model_file(path: str | Path) -> Model:
    """Load and validate one model TOML file."""
    p = Path(path)
    try:
        blob = p.read_bytes()
    except FileNotFoundError:
        raise ModelFileError(str(p), ["file not found"]) from None
    except OSError as e:
        raise ModelFileError(str(p), [f"cannot read: {e.strerror}"]) from None
    try:
        data = tomllib.loads(blob.decode("utf-8"))
    except UnicodeDecodeError:
        raise ModelFileError(str(p), ["not UTF-8 text"]) from None
    except tomllib.TOMLDecodeError as e:
        raise ModelFileError(str(p), [f"invalid TOML: {e}"]) from None
    except RecursionError:
        raise ModelFileError(str(p), ["invalid TOML: nested too deeply"]) from None
    return parse_model(data, str(p), sha256=hashlib.sha256(blob).hexdigest(), path=str(p))

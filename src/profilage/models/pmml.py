"""PMML 4.x logistic regressions in, PMML 4.4 ``RegressionModel`` out.

Import reads the logistic regressions other tools write: ``RegressionModel`` with
``normalizationMethod="logit"`` (one table, or the binary layout with a reference table whose
intercept, Spark's decision threshold, does not change the probability) or ``"softmax"`` with
two tables (R's ``multinom``: the logistic function of their difference), and
``GeneralRegressionModel`` (``profilage.models.pmml_grm``: R's ``glm``, KNIME).
``NumericPredictor`` (integer ``exponent``), ``CategoricalPredictor`` and derived fields:
``Discretize`` (closedOpen bins), ``FieldRef`` (an alias), ``if(equal(presence, false),
constant, ...)`` (how we write ``presence``), and the categorical recodings exporters use for
dummy coding (``profilage.models.pmml_fields``: ``NormDiscrete``, ``MapValues``, SAS's string
normalisation). The terms on one input are summed into one criterion. Anything else
(interactions, more than two outcomes, other links or normalisations, target rescaling) is
refused with one line naming it. The version comes from the namespace when the attribute is
missing (Spark MLlib). Each criterion records what a PMML evaluator does with a missing input
(``unknown_as_source``), and ``[missing] unknown`` whether the model uses it (``as-source``) or
profilage's interval.

Export writes PMML 4.4 that reads back to the same model: each criterion's and modality's id,
labels, status and source travel in ``<Extension extender="profilage">`` elements, which other
PMML consumers ignore. A missing input is "unknown" for profilage (score bounds); a PMML
evaluator would return no score for it instead.
"""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from profilage.errors import ProfilageError
from profilage.models.build import (
    FeatureMap,
    ImportError_,
    base_document,
    category_modalities,
    finish,
    parse_bool,
)
from profilage.models.schema import Model

NS = "http://www.dmg.org/PMML-4_4"
EXT = "profilage"
MODEL_TAGS = ("AnomalyDetectionModel", "AssociationModel", "BayesianNetworkModel",
              "BaselineModel", "ClusteringModel", "GaussianProcessModel", "GeneralRegressionModel",
              "MiningModel", "NaiveBayesModel", "NearestNeighborModel", "NeuralNetwork",
              "RegressionModel", "RuleSetModel", "SequenceModel", "Scorecard",
              "SupportVectorMachineModel", "TextModel", "TimeSeriesModel", "TreeModel")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(el: ET.Element, name: str | None = None) -> list[ET.Element]:
    return [c for c in el if not isinstance(c.tag, str) or name is None or _local(c.tag) == name]


def _child(el: ET.Element, name: str) -> ET.Element | None:
    for c in el:
        if isinstance(c.tag, str) and _local(c.tag) == name:
            return c
    return None


def _ext(el: ET.Element, name: str) -> Any:
    """The JSON of our Extension ``name`` on an element, or None."""
    for c in el:
        if isinstance(c.tag, str) and _local(c.tag) == "Extension" and c.get("extender") == EXT \
                and c.get("name") == name:
            try:
                return json.loads(c.get("value") or "null")
            except json.JSONDecodeError:
                return None
    return None


def _float(text: str | None, *, where: str, src: str) -> float:
    try:
        v = float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ImportError_(f"{text!r} is not a number", field=where, source=src) from None
    if not math.isfinite(v):
        raise ImportError_(f"{text!r} is not a finite number", field=where, source=src)
    return v


# ---------------------------------------------------------------------------------------------
# Import

class _Declaration(Exception):
    pass


def _refuse_dtd(raw: bytes, src: str) -> None:
    """Refuse any DOCTYPE or ENTITY declaration as the XML parser itself sees it, whatever the
    encoding (UTF-16...) and wherever it stands (after a long comment...): a first pass of expat
    whose declaration handlers abort. (A text search for '<!DOCTYPE' missed both.)"""
    from xml.parsers import expat

    def refuse(*_args):
        raise _Declaration

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    try:
        parser.Parse(raw, True)
    except _Declaration:
        raise ImportError_("DOCTYPE/ENTITY declarations are not accepted in PMML files",
                           source=src) from None
    except Exception:  # noqa: BLE001 - malformed XML is reported by the parse that follows
        pass


def _parse(path: Path) -> ET.Element:
    src = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ImportError_("file not found", source=src) from None
    except OSError as e:
        raise ImportError_(f"cannot read: {e.strerror}", source=src) from None
    _refuse_dtd(raw, src)
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as e:
        raise ImportError_(f"not well-formed XML: {e}", source=src) from None
    except (LookupError, ValueError) as e:  # <?xml encoding="..."?> unknown or unsupported
        raise ImportError_(f"XML declaration: {e}", source=src) from None
    if _local(root.tag) != "PMML":
        raise ImportError_(f"root element is <{_local(root.tag)}>, not <PMML>", source=src)
    ns_version = None
    if root.tag.startswith("{"):
        ns = root.tag[1:].split("}", 1)[0]
        m = re.fullmatch(r"http://www\.dmg\.org/PMML-(\d+)_(\d+)", ns)
        if m is None:
            raise ImportError_(f"namespace {ns!r} is not PMML's (http://www.dmg.org/PMML-4_x)",
                               field="PMML", source=src)
        ns_version = f"{m[1]}.{m[2]}"
    # Spark MLlib leaves the version attribute out: its namespace says it (PMML-4_2)
    version = root.get("version") or ns_version or ""
    if not version.startswith("4."):
        raise ImportError_(f"PMML version {version or '?'} is not supported (4.x only)",
                           source=src)
    return root


def _derived_fields(root: ET.Element, model: ET.Element) -> dict[str, ET.Element]:
    out: dict[str, ET.Element] = {}
    for holder in (_child(root, "TransformationDictionary"), _child(model, "LocalTransformations")):
        if holder is None:
            continue
        for df in _children(holder, "DerivedField"):
            out[df.get("name", "")] = df
    return out


def _expression(el: ET.Element) -> ET.Element | None:
    for c in el:
        if isinstance(c.tag, str) and _local(c.tag) not in ("Extension", "Value"):
            return c
    return None


def _discretize_bins(disc: ET.Element, *, where: str, src: str) -> list[tuple[str, float | None,
                                                                              float | None]]:
    bins = []
    for b in _children(disc, "DiscretizeBin"):
        iv = _child(b, "Interval")
        if iv is None:
            raise ImportError_("DiscretizeBin without Interval", field=where, source=src)
        closure = iv.get("closure")
        lo = iv.get("leftMargin")
        hi = iv.get("rightMargin")
        # Only [min, max) bins are exact in profilage; an unbounded side may be open or closed.
        ok = closure == "closedOpen" or (lo is None and closure in ("openOpen", "openClosed")
                                         and hi is None) or (lo is None and closure == "openOpen")
        if not ok:
            raise ImportError_(f"Discretize bin {b.get('binValue')!r} has closure {closure!r}; "
                               "only closedOpen bins [min, max) are supported", field=where,
                               source=src)
        bins.append((b.get("binValue", ""),
                     None if lo is None else _float(lo, where=where, src=src),
                     None if hi is None else _float(hi, where=where, src=src)))
    if not bins:
        raise ImportError_("Discretize without bins", field=where, source=src)
    return bins


def _resolve(name: str, derived: dict[str, ET.Element], *, src: str) -> dict[str, Any]:
    """What a predictor's field is: a data field, or one of the derived forms we support."""
    if name not in derived:
        return {"field": name}
    df = derived[name]
    expr = _expression(df)
    where = f"DerivedField {name!r}"
    tag = _local(expr.tag) if expr is not None else None
    if tag == "FieldRef":
        return {"field": expr.get("field", "")}
    if tag == "Discretize":
        return {"field": expr.get("field", ""), "bins": _discretize_bins(expr, where=where,
                                                                          src=src)}
    if tag == "Apply" and expr.get("function") == "if":
        args = [c for c in expr if isinstance(c.tag, str) and _local(c.tag) != "Extension"]
        if len(args) == 3 and _local(args[0].tag) == "Apply" and args[0].get("function") == "equal":
            cond = [c for c in args[0] if isinstance(c.tag, str)]
            if (len(cond) == 2 and _local(cond[0].tag) == "FieldRef"
                    and _local(cond[1].tag) == "Constant"
                    and (cond[1].text or "").strip().lower() == "false"
                    and _local(args[1].tag) == "Constant"):
                inner_tag = _local(args[2].tag)
                out: dict[str, Any] = {"presence": cond[0].get("field"),
                                       "absent": (args[1].text or "").strip()}
                if inner_tag == "FieldRef":
                    out["field"] = args[2].get("field", "")
                    return out
                if inner_tag == "Discretize":
                    out["field"] = args[2].get("field", "")
                    out["bins"] = _discretize_bins(args[2], where=where, src=src)
                    return out
    raise ImportError_(f"unsupported transformation <{tag}>: only Discretize, FieldRef and "
                       "if(equal(field, false), constant, ...) derived fields are supported",
                       field=where, source=src)


UNKNOWN_SEMANTICS = {
    "RegressionModel": "PMML RegressionModel : un prédicteur catégoriel (CategoricalPredictor) "
                       "dont l'entrée manque compte 0 ; un prédicteur numérique, ou une variable "
                       "indicatrice dérivée (NormDiscrete, MapValues), dont l'entrée manque : "
                       "pas de score.",
    "GeneralRegressionModel": "PMML GeneralRegressionModel : une entrée manquante (facteur ou "
                              "covariable) : pas de score.",
}


def import_pmml(path: str | Path, *, model_id: str, source: str, fmap: FeatureMap,
                title: str | None = None, institution: str | None = None,
                target: str | None = None, target_category: str | None = None,
                unknown: str = "interval") -> tuple[dict, Model]:
    """Read a PMML logistic regression (``RegressionModel`` or ``GeneralRegressionModel``) into
    a model document (validated). ``unknown`` is how the imported model treats an unknown
    input: ``interval`` (profilage's bounds) or ``as-source`` (what a PMML evaluator does)."""
    from profilage.models.pmml_fields import Fields
    from profilage.models.pmml_grm import grm_table

    if unknown not in ("interval", "as-source"):
        raise ProfilageError(f"{unknown!r}: expected interval or as-source", field="--unknown")
    path = Path(path)
    src = str(path)
    root = _parse(path)
    models = [c for c in root if isinstance(c.tag, str) and _local(c.tag) in MODEL_TAGS]
    if not models:
        raise ImportError_("no model element in the file", source=src)
    if len(models) > 1:
        raise ImportError_(f"{len(models)} models in one file; give a file with one "
                           "RegressionModel or GeneralRegressionModel", source=src)
    model = models[0]
    kind = _local(model.tag)
    if kind not in ("RegressionModel", "GeneralRegressionModel"):
        raise ImportError_(f"<{kind}> is not supported: only RegressionModel (logit, or softmax "
                           "with two outcomes) and GeneralRegressionModel (logistic)", source=src)
    targets = _child(model, "Targets")
    if targets is not None:
        for t in _children(targets, "Target"):
            factor = _float(t.get("rescaleFactor", "1"), where="Targets rescaleFactor", src=src)
            const = _float(t.get("rescaleConstant", "0"), where="Targets rescaleConstant", src=src)
            if factor != 1 or const != 0:
                raise ImportError_("Targets with rescaleFactor/rescaleConstant are not supported",
                                   field="Targets", source=src)

    meta = _ext(model, "model") or {}
    derived = _derived_fields(root, model)
    tdict = _child(root, "TransformationDictionary")
    functions = {f.get("name", ""): f for f in _children(tdict, "DefineFunction")} \
        if tdict is not None else {}
    dd = _child(root, "DataDictionary")
    data_fields = {f.get("name"): f for f in _children(dd, "DataField")} if dd is not None else {}
    fields = Fields(derived, functions, data_fields, src)
    mining = _child(model, "MiningSchema")
    target_field = None
    replacements: dict[str, str] = {}
    if mining is not None:
        for mf in _children(mining, "MiningField"):
            if mf.get("usageType") in ("target", "predicted"):
                target_field = mf.get("name")
            elif mf.get("missingValueReplacement") is not None:
                replacements[mf.get("name", "")] = mf.get("missingValueReplacement")
    target_values = _field_values(data_fields.get(target_field))

    if kind == "RegressionModel":
        table = _regression_table(model, src)
    else:
        table = grm_table(model, target_values=target_values, src=src)
    sign, event = 1.0, table.event
    if target_category is not None and target_category != table.event:
        if table.other is not None and target_category == table.other:
            sign, event = -1.0, table.other
        else:
            cats = [c for c in (table.event, table.other) if c is not None]
            raise ProfilageError(f"{target_category!r} is not a target category of the file "
                                 f"({', '.join(str(c) for c in cats) or 'none'})",
                                 field="--target-category")

    if meta:
        doc = {k: meta[k] for k in ("id", "title", "title_en", "institution", "years_in_use",
                                    "target", "notes", "facts", "features") if meta.get(k)}
        doc["id"] = model_id
    else:
        what = f"{target_field} = {event}" if target_field and event is not None else (
            target_field or "")
        doc = base_document(model_id, source=source, title=title, institution=institution,
                            target=target or what, file_name=path.name, fmt="pmml")
        if sign < 0:
            doc["notes"] += f" Score = probabilité de la catégorie {event!r} (1 - logit)."
        for note in table.notes:
            doc["notes"] += " " + note
    if fmap.declared or doc.get("features"):
        fmap.declared.update(doc.get("features", {}))

    doc["intercept"] = {"value": sign * table.intercept,
                        **_provenance(table.intercept_ext, source)}

    preds = _merge(_expand(table.predictors, fields, derived, data_fields, src), src)
    # Group predictors by field, keeping file order.
    groups: dict[str, list[ET.Element]] = {}
    for p in preds:
        groups.setdefault(p.get("name", ""), []).append(p)
    criteria = []
    for name, group in groups.items():
        criteria += _criteria_for(name, group, derived=derived, data_fields=data_fields,
                                  fmap=fmap, sign=sign, source=source, src=src,
                                  replacements=replacements)
    fmap.check(src)
    order = {c["id"]: c.pop("_index") for c in criteria if "_index" in c}
    criteria.sort(key=lambda c: order.get(c["id"], len(order)))
    criteria += [{**r, "redacted": True, "status": "redacted"} for r in meta.get("redacted", [])]
    doc["criteria"] = criteria
    if fmap.declared:
        doc["features"] = fmap.declared
    doc["missing"] = {"unknown": unknown, "source": UNKNOWN_SEMANTICS[kind]}
    return doc, finish(doc, source=src)


def _regression_table(model: ET.Element, src: str):
    """A RegressionModel's tables as one logistic table (log-odds of the first category)."""
    from profilage.models.pmml_grm import Table

    fn = model.get("functionName", "")
    norm = model.get("normalizationMethod", "none")
    notes = []
    if fn == "regression":
        if norm != "logit":
            raise ImportError_(f'functionName="regression" with normalizationMethod="{norm}" is '
                               'not a logistic regression (only "logit")', field="RegressionModel",
                               source=src)
        notes.append('functionName="regression" : le score est la valeur prédite '
                     "1 / (1 + exp(-y)) du modèle.")
    elif fn != "classification":
        raise ImportError_(f'functionName="{fn}" is not supported (classification or regression)',
                           field="RegressionModel", source=src)
    if norm not in ("logit", "softmax"):
        raise ImportError_(f'normalizationMethod="{norm}" is not supported: only "logit", or '
                           '"softmax" with two outcomes (logistic regression)',
                           field="RegressionModel", source=src)
    tables = _children(model, "RegressionTable")
    if not tables:
        raise ImportError_("no RegressionTable", field="RegressionModel", source=src)
    if len(tables) > 2:
        raise ImportError_(f"{len(tables)} RegressionTables (multinomial, more than two "
                           "outcomes): only a binary target can be represented",
                           field="RegressionModel", source=src)
    for i, t in enumerate(tables):
        if _children(t, "PredictorTerm"):
            raise ImportError_("PredictorTerm (interaction) is not supported: profilage criteria "
                               "contribute independently", field=f"RegressionTable[{i + 1}]",
                               source=src)
    first = tables[0]
    inter = _float(first.get("intercept"), where="RegressionTable intercept", src=src)
    preds = [p for p in first if isinstance(p.tag, str)
             and _local(p.tag) in ("NumericPredictor", "CategoricalPredictor")]
    other = tables[1].get("targetCategory") if len(tables) == 2 else None
    if norm == "softmax":
        if len(tables) != 2:
            raise ImportError_('normalizationMethod="softmax" with one RegressionTable: a '
                               "logistic regression needs two outcomes", field="RegressionModel",
                               source=src)
        # p(first) = exp(y1) / (exp(y1) + exp(y2)) = sigmoid(y1 - y2): subtract the second table
        second = tables[1]
        inter -= _float(second.get("intercept"), where="RegressionTable[2] intercept", src=src)
        for p in second:
            if isinstance(p.tag, str) and _local(p.tag) in ("NumericPredictor",
                                                             "CategoricalPredictor"):
                q = ET.Element(_local(p.tag), dict(p.attrib))
                q.set("coefficient", repr(-_float(p.get("coefficient"),
                                                  where=f"predictors of {p.get('name')!r}",
                                                  src=src)))
                preds.append(q)
    elif len(tables) == 2:
        ref = tables[1]
        if list(_children(ref, "NumericPredictor")) or list(_children(ref, "CategoricalPredictor")):
            raise ImportError_("with the logit normalisation the second RegressionTable must be "
                               "the reference table (no predictors)", field="RegressionTable[2]",
                               source=src)
        ref_inter = _float(ref.get("intercept"), where="RegressionTable[2] intercept", src=src)
        if ref_inter != 0:
            # PMML evaluators take the probability from the first table alone; Spark MLlib
            # stores its decision threshold as this intercept (-log(1/threshold - 1)).
            notes.append(f"La seconde table (constante {ref_inter!r}) ne change pas la "
                         "probabilité (seuil de décision de l'outil d'origine).")
    table = Table(inter, preds, first.get("targetCategory"), other, notes)
    table.intercept_ext = _ext(first, "intercept")
    return table


def _exponent(p: ET.Element, src: str) -> int:
    text = p.get("exponent", "1")
    e = _float(text, where=f"NumericPredictor {p.get('name')!r} exponent", src=src)
    if e != int(e):
        raise ImportError_(f"exponent {text} is not an integer: a non-integer power is not "
                           "supported", field=f"NumericPredictor {p.get('name')!r}", source=src)
    return int(e)


def _is_plain(name: str, derived: dict[str, ET.Element], data_fields: dict) -> bool:
    """Whether a predictor's field is a raw field or one of the forms ``_resolve`` reads."""
    if name not in derived:
        return True
    expr = _expression(derived[name])
    tag = _local(expr.tag) if expr is not None else None
    if tag == "FieldRef":
        return expr.get("field", "") in data_fields and expr.get("mapMissingTo") is None
    return tag in ("Discretize",) or (tag == "Apply" and expr.get("function") == "if")


def _expand(preds: list[ET.Element], fields, derived: dict[str, ET.Element], data_fields: dict,
            src: str) -> list[ET.Element]:
    """Predictors on categorical recodings of one raw field (dummy fields, normalised
    categories) become CategoricalPredictors on the raw field, one per value it lists."""
    out: list[ET.Element] = []
    for p in preds:
        name, tag = p.get("name", ""), _local(p.tag)
        if _is_plain(name, derived, data_fields):
            out.append(p)
            continue
        vm = fields.value_map(name)
        raw = vm.field
        values = _field_values(data_fields.get(raw))
        where = f"predictors of {name!r}"
        if not values:
            raise ImportError_(f"{name!r} recodes {raw!r} ({vm.chain}): the DataDictionary must "
                               f"list the values of {raw!r}", field=where, source=src)
        coef = _float(p.get("coefficient"), where=where, src=src)
        if tag == "CategoricalPredictor":
            target = p.get("value", "")
            missing = "zero"

            def contrib(d: Any, target=target, coef=coef) -> float:
                if d is None:
                    return 0.0
                same = d == target or (isinstance(d, float) and _same_number(d, target))
                return coef if same else 0.0
        else:
            k = _exponent(p, src)
            if vm.missing is None:
                missing = p.get("_missing", "no-score")
            elif vm.missing == 0:
                missing = p.get("_missing", "zero")
            else:
                raise ImportError_(f"{name!r} maps a missing {raw!r} to {vm.missing!r}: only 0 "
                                   "(or no value) can be represented", field=where, source=src)

            def contrib(d: Any, k=k, coef=coef, name=name, where=where) -> float:
                if d is None:
                    return math.nan
                if not isinstance(d, float):
                    raise ImportError_(f"{name!r} gives the text {d!r}: a NumericPredictor needs "
                                       "a number", field=where, source=src)
                return coef * d ** k
        for v in values:
            c = contrib(vm.fn(v))
            if math.isnan(c):
                raise ImportError_(f"value {v!r} of {raw!r} has no value in {name!r} ({vm.chain}) "
                                   "and no default: a PMML evaluator gives no score for it",
                                   field=where, source=src)
            out.append(ET.Element("CategoricalPredictor", {
                "name": raw, "value": v, "coefficient": repr(c), "_missing": missing,
                "_synthetic": "1"}))
    return out


def _same_number(d: float, text: str) -> bool:
    try:
        return float(text) == d
    except ValueError:
        return False


def _merge(preds: list[ET.Element], src: str) -> list[ET.Element]:
    """Sum the predictors that share a field and value (or exponent): what an evaluator does
    with the terms of several dummy fields, of two softmax tables or of several parameters."""
    keyed: dict[tuple, list[ET.Element]] = {}
    for p in preds:
        tag = _local(p.tag)
        key = (tag, p.get("name", ""), p.get("value") if tag == "CategoricalPredictor"
               else _exponent(p, src))
        keyed.setdefault(key, []).append(p)
    out = []
    for key, ps in keyed.items():
        if len(ps) == 1:
            out.append(ps[0])
            continue
        total = sum(_float(p.get("coefficient"), where=f"predictors of {key[1]!r}", src=src)
                    for p in ps)
        q = ET.Element(key[0], {k: v for k, v in ps[0].attrib.items() if k != "coefficient"})
        q.set("coefficient", repr(total))
        if any(p.get("_missing", "no-score" if key[0] == "NumericPredictor" else "zero")
               == "no-score" for p in ps):
            q.set("_missing", "no-score")
        q.extend(c for c in ps[0] if isinstance(c.tag, str) and _local(c.tag) == "Extension")
        out.append(q)
    return out


def _provenance(ext: Any, source: str) -> dict[str, Any]:
    if isinstance(ext, dict) and ext.get("status") in ("published", "reconstructed"):
        return {"status": ext["status"], "source": ext.get("source") or source}
    return {"status": "published", "source": source}


def _field_values(df: ET.Element | None) -> list[str]:
    if df is None:
        return []
    return [v.get("value", "") for v in _children(df, "Value")
            if v.get("property", "valid") == "valid"]


def _criteria_for(name: str, preds: list[ET.Element], *, derived: dict[str, ET.Element],
                  data_fields: dict, fmap: FeatureMap, sign: float, source: str, src: str,
                  replacements: dict[str, str] | None = None) -> list[dict]:
    info = _resolve(name, derived, src=src)
    field = info["field"]
    numeric = [p for p in preds if _local(p.tag) == "NumericPredictor"]
    categorical = [p for p in preds if _local(p.tag) == "CategoricalPredictor"]
    where = f"predictors of {name!r}"
    if numeric and categorical:
        raise ImportError_("both numeric and categorical predictors on one field", field=where,
                           source=src)
    cmeta = next((m for p in preds if (m := _ext(p, "criterion"))), None) or {}
    df = data_fields.get(field)
    optype = df.get("optype") if df is not None else None
    dtype = df.get("dataType") if df is not None else None
    if numeric or "bins" in info:
        hint = "float"
    elif dtype == "boolean":
        hint = "bool"
    else:
        hint = "category"
    feat, spec = fmap.feature(field, kind_hint=hint, categories=_field_values(df),
                              check_values=True)
    if spec is None:
        return []
    base: dict[str, Any] = {"id": cmeta.get("id") or name,
                            "label_fr": cmeta.get("label_fr") or (df.get("displayName") if df is
                                                                  not None else None) or name,
                            "label_en": cmeta.get("label_en") or name, "feature": feat}
    for k in ("protected_ground", "precarity", "notes"):
        if cmeta.get(k):
            base[k] = cmeta[k]
    if isinstance(cmeta.get("index"), int):
        base["_index"] = cmeta["index"]
    # what a PMML evaluator does when this criterion's input is missing
    default = "no-score" if numeric else "zero"
    base["unknown_as_source"] = "no-score" if any(
        p.get("_missing", default) == "no-score" for p in preds) else "zero"
    if field in (replacements or {}) and "presence" not in info:
        # the evaluator puts this value in place of a missing input (MiningField)
        base["unknown_as_source"] = "replacement"
        base["unknown_replacement"] = replacements[field]
    if "presence" in info:
        pfeat, pspec = fmap.feature(info["presence"], kind_hint="bool")
        if pspec is None:
            return []
        base["presence"] = pfeat

    if numeric:
        out = []
        if spec["kind"] == "bool":  # a 0/1 column: a true/false criterion
            if len(numeric) != 1:
                raise ImportError_("several numeric predictors on a boolean feature",
                                   field=where, source=src)
            p = numeric[0]
            coef = sign * _float(p.get("coefficient"), where=where, src=src)
            prov = _provenance(_ext(p, "modality"), source)
            given = {True: {"id": "oui", "label_fr": "oui", "label_en": "yes",
                            "coefficient": coef, **prov}}
            return [{**base, "modalities": category_modalities(feat, spec, given, where=where,
                                                               source=src)}]
        if spec["kind"] not in ("int", "float"):
            raise ImportError_(f"NumericPredictor on non-numeric feature {feat!r} ({optype})",
                               field=where, source=src)
        for p in numeric:
            exponent = _exponent(p, src)
            entry = {**base, "kind": "numeric", "exponent": exponent,
                     "coefficient": sign * _float(p.get("coefficient"), where=where, src=src),
                     **_provenance(_ext(p, "modality"), source)}
            meta_p = _ext(p, "criterion") or {}
            if meta_p.get("id"):
                entry["id"] = meta_p["id"]
                if isinstance(meta_p.get("index"), int):
                    entry["_index"] = meta_p["index"]
            elif len(numeric) > 1 and exponent != 1:
                entry["id"] = f"{base['id']}__puissance_{exponent}"
            if meta_p.get("value_range"):
                entry["range"] = meta_p["value_range"]
            out.append(entry)
        return out

    coefs: dict[str, tuple[float, dict, Any]] = {}
    for p in categorical:
        v = p.get("value", "")
        if v in coefs:
            raise ImportError_(f"value {v!r} has two CategoricalPredictors", field=where,
                               source=src)
        coefs[v] = (sign * _float(p.get("coefficient"), where=where, src=src),
                    _provenance(_ext(p, "modality"), source), _ext(p, "modality"))

    def modality(value_text: str, default_id: str) -> dict:
        if value_text in coefs:
            c, prov, m = coefs[value_text]
        else:
            c, prov, m = 0.0, {"status": "published",
                               "source": f"{source} ; PMML : pas de prédicteur pour cette "
                                         "valeur, contribution 0"}, None
        m = m or {}
        return {"id": m.get("id") or default_id, "label_fr": m.get("label_fr") or value_text,
                "label_en": m.get("label_en") or value_text, "coefficient": c, **prov}

    mods: list[dict] = []
    if "presence" in info:
        mods.append({**modality(info["absent"], info["absent"] or "absent"), "absent": True})
    if "bins" in info:
        if spec["kind"] not in ("int", "float"):
            raise ImportError_(f"Discretize on non-numeric feature {feat!r}", field=where,
                               source=src)
        for bin_value, lo, hi in info["bins"]:
            m = modality(bin_value, bin_value)
            if lo is not None:
                m["min"] = lo
            if hi is not None:
                m["max"] = hi
            mods.append(m)
        unknown = set(coefs) - {b[0] for b in info["bins"]} - {info.get("absent")}
        if unknown:
            raise ImportError_(f"CategoricalPredictor value {sorted(unknown)[0]!r} is not a bin "
                               f"of {name!r}", field=where, source=src)
        return [{**base, "modalities": mods}]
    given: dict[Any, dict] = {}
    values = [v for v in coefs if v != info.get("absent")]
    for v in values:
        key: Any = parse_bool(v, where=where, source=src) if spec["kind"] == "bool" else v
        given[key] = modality(v, str(v).strip().lower() or str(v))
    mods += category_modalities(feat, spec, given, where=where, source=src)
    return [{**base, "modalities": mods}]


# ---------------------------------------------------------------------------------------------
# Export

def _num(x: float) -> str:
    return repr(float(x))  # shortest decimal that reads back to the same float


def _data_type(kind: str) -> tuple[str, str]:
    return {"bool": ("categorical", "boolean"), "category": ("categorical", "string"),
            "int": ("continuous", "integer"), "float": ("continuous", "double")}[kind]


def model_to_pmml(model: Model) -> str:
    """The model as PMML 4.4 (valid against the DMG schema); refuses unknown coefficients."""
    from profilage.features import FEATURES

    for coef_owner, coef in [("intercept", model.intercept)] + [
            (f"{c.id}/{m.id}", m.coefficient) for c in model.criteria for m in c.modalities]:
        if not coef.known:
            raise ProfilageError(
                f"cannot export {model.id} to PMML: {coef_owner} has an {coef.status} "
                "coefficient (PMML needs numbers; export --format json or csv instead)",
                field="--format")
    for c in model.criteria:
        if c.kind == "numeric" and c.exponent != int(c.exponent):
            raise ProfilageError(f"cannot export {model.id} to PMML: criterion {c.id} has a "
                                 "non-integer exponent", field="--format")
    declared = model.raw.get("features", {}) if isinstance(model.raw, dict) else {}

    def spec(f: str) -> dict:
        return declared.get(f) or FEATURES.get(f) or {"kind": "float"}

    root = ET.Element("PMML", {"xmlns": NS, "version": "4.4"})
    header = ET.SubElement(root, "Header", {
        "copyright": f"{model.institution} (coefficients : voir les statuts ; profilage, AGPL)",
        "description": model.title})
    from profilage import __version__

    ET.SubElement(header, "Application", {"name": "profilage", "version": __version__})
    ET.SubElement(header, "Annotation").text = model.provenance_line()

    dd = ET.SubElement(root, "DataDictionary")
    fields = model.features
    for f in fields:
        s = spec(f)
        optype, dtype = _data_type(s["kind"])
        df = ET.SubElement(dd, "DataField", {"name": f, "optype": optype, "dataType": dtype,
                                             "displayName": s.get("label_fr", f)})
        if s["kind"] == "bool":
            for v in ("false", "true"):
                ET.SubElement(df, "Value", {"value": v})
        elif s["kind"] == "category":
            for v in s.get("categories", ()):
                ET.SubElement(df, "Value", {"value": str(v)})
    ET.SubElement(dd, "DataField", {"name": "profilage_cible", "optype": "categorical",
                                    "dataType": "string"})
    dd[-1].extend([ET.Element("Value", {"value": "1"}), ET.Element("Value", {"value": "0"})])
    dd.set("numberOfFields", str(len(fields) + 1))

    rm = ET.SubElement(root, "RegressionModel", {
        "modelName": model.id, "functionName": "classification",
        "algorithmName": "logisticRegression", "normalizationMethod": "logit"})
    meta = {k: model.raw.get(k) for k in ("id", "title", "title_en", "institution",
                                          "years_in_use", "target", "notes", "facts", "features")
            if isinstance(model.raw, dict) and model.raw.get(k)}
    meta["redacted"] = [{"id": c.id, "label_fr": c.label_fr, "label_en": c.label_en,
                         "source": c.source,
                         **({"protected_ground": c.protected_ground} if c.protected_ground
                            else {})} for c in model.redacted]
    _add_ext(rm, "model", meta)
    ms = ET.SubElement(rm, "MiningSchema")
    for f in fields:
        ET.SubElement(ms, "MiningField", {"name": f})
    ET.SubElement(ms, "MiningField", {"name": "profilage_cible", "usageType": "target"})

    lt = ET.SubElement(rm, "LocalTransformations")
    table = ET.SubElement(rm, "RegressionTable", {"intercept": _num(model.intercept.value),
                                                   "targetCategory": "1"})
    _add_ext(table, "intercept", {"status": model.intercept.status,
                                  "source": model.intercept.source})
    used_names = set(fields) | {"profilage_cible"}
    for index, c in enumerate(model.criteria):
        cmeta = {"id": c.id, "index": index, "label_fr": c.label_fr, "label_en": c.label_en,
                 "protected_ground": c.protected_ground, "precarity": c.precarity,
                 "notes": c.notes}
        if c.kind == "numeric":
            m = c.modalities[0]
            name = c.feature
            if c.presence:
                name = _unique(f"{c.id}__si_{c.presence}", used_names)
                dfield = ET.SubElement(lt, "DerivedField", {"name": name, "optype": "continuous",
                                                            "dataType": "double"})
                _if_absent(dfield, c.presence, "0", "double", ET.Element("FieldRef",
                                                                          {"field": c.feature}))
            p = ET.SubElement(table, "NumericPredictor", {
                "name": name, "exponent": str(int(c.exponent)),
                "coefficient": _num(m.coefficient.value)})
            cmeta["value_range"] = list(c.value_range) if c.value_range else None
            _add_ext(p, "criterion", cmeta)
            _add_ext(p, "modality", _mod_meta(m))
            continue
        regular = [m for m in c.modalities if m.kind != "absent"]
        absent = next((m for m in c.modalities if m.kind == "absent"), None)
        if c.kind == "categorical" and not c.presence:
            name = c.feature
            if name in {x.get("name") for x in table if x.tag == "CategoricalPredictor"}:
                name = _unique(c.id, used_names)  # a second criterion on the same feature
                dfield = ET.SubElement(lt, "DerivedField", {"name": name, "optype": "categorical",
                                                            "dataType": "string"})
                ET.SubElement(dfield, "FieldRef", {"field": c.feature})
        else:
            name = _unique(f"{c.id}__modalite", used_names)
            dfield = ET.SubElement(lt, "DerivedField", {"name": name, "optype": "categorical",
                                                        "dataType": "string"})
            if c.kind == "bins":
                inner = ET.Element("Discretize", {"field": c.feature, "dataType": "string"})
                for m in regular:
                    b = ET.SubElement(inner, "DiscretizeBin", {"binValue": m.id})
                    attrs = {"closure": "closedOpen"}
                    if m.min is not None:
                        attrs["leftMargin"] = _num(m.min)
                    if m.max is not None:
                        attrs["rightMargin"] = _num(m.max)
                    ET.SubElement(b, "Interval", attrs)
            else:
                inner = ET.Element("FieldRef", {"field": c.feature})
            if c.presence:
                _if_absent(dfield, c.presence, absent.id if absent else "absent", "string", inner)
            else:
                dfield.append(inner)
        for i, m in enumerate(c.modalities):
            if m.kind == "absent":
                value = m.id
            elif m.kind == "category":
                value = str(m.value).lower() if isinstance(m.value, bool) else str(m.value)
            else:
                value = m.id
            p = ET.SubElement(table, "CategoricalPredictor", {
                "name": name, "value": value, "coefficient": _num(m.coefficient.value)})
            if i == 0:
                _add_ext(p, "criterion", cmeta)
            _add_ext(p, "modality", _mod_meta(m))
    ET.SubElement(rm, "RegressionTable", {"intercept": "0.0", "targetCategory": "0"})
    if not len(lt):
        rm.remove(lt)
    # Extensions must come first among a RegressionTable's children (schema order).
    for el in [table]:
        exts = [c for c in el if c.tag == "Extension"]
        rest = [c for c in el if c.tag != "Extension"]
        nums = [c for c in rest if c.tag == "NumericPredictor"]
        cats = [c for c in rest if c.tag == "CategoricalPredictor"]
        for c in list(el):
            el.remove(c)
        el.extend(exts + nums + cats)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _unique(name: str, used: set[str]) -> str:
    base, i = name, 2
    while name in used:
        name = f"{base}_{i}"
        i += 1
    used.add(name)
    return name


def _if_absent(parent: ET.Element, presence: str, absent_value: str, dtype: str,
               inner: ET.Element) -> None:
    apply_ = ET.SubElement(parent, "Apply", {"function": "if"})
    cond = ET.SubElement(apply_, "Apply", {"function": "equal"})
    ET.SubElement(cond, "FieldRef", {"field": presence})
    ET.SubElement(cond, "Constant", {"dataType": "boolean"}).text = "false"
    ET.SubElement(apply_, "Constant", {"dataType": dtype}).text = absent_value
    apply_.append(inner)


def _mod_meta(m) -> dict:
    return {"id": m.id, "label_fr": m.label_fr, "label_en": m.label_en,
            "status": m.coefficient.status, "source": m.coefficient.source}


def _add_ext(el: ET.Element, name: str, value: Any) -> None:
    ET.SubElement(el, "Extension", {"extender": EXT, "name": name,
                                    "value": json.dumps(value, ensure_ascii=False)})

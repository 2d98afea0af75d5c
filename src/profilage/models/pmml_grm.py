"""PMML ``GeneralRegressionModel`` (logistic forms) as one equivalent regression table.

Supported (what R's ``pmml`` for a binomial ``glm``, Rattle and KNIME's logistic regression
write): ``modelType="generalizedLinear"`` with ``linkFunction="logit"`` (binomial distribution),
and ``modelType="multinomialLogistic"`` with two outcomes (the reference category and one
other, i.e. a logistic regression). Factors (``FactorList``) and covariates
(``CovariateList``) are linked to parameters by the ``PPMatrix``: a parameter with no cell is
the intercept, a factor cell is an indicator (factor = value), a covariate cell a power
(covariate ^ value, an integer). Parameters with cells on two predictors (interactions),
contrast matrices, offsets or trials given by a variable, and more than two outcomes cannot be
represented by independent criteria: they are refused with one line naming them.

The result is a list of ``CategoricalPredictor``/``NumericPredictor`` elements, as in a
``RegressionModel``'s table, so both model types import through the same code.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from profilage.models.build import ImportError_
from profilage.models.pmml import _float


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _kids(el: ET.Element | None, name: str) -> list[ET.Element]:
    if el is None:
        return []
    return [c for c in el if isinstance(c.tag, str) and _local(c.tag) == name]


def _child(el: ET.Element, name: str) -> ET.Element | None:
    k = _kids(el, name)
    return k[0] if k else None


@dataclass
class Table:
    """A logistic regression as an intercept and predictor elements (log-odds of ``event``)."""

    intercept: float
    predictors: list[ET.Element]
    event: str | None
    other: str | None
    notes: list[str] = field(default_factory=list)
    intercept_ext: Any = None  # profilage's own Extension on the intercept (round trip)


def grm_table(model: ET.Element, *, target_values: list[str], src: str) -> Table:
    where = "GeneralRegressionModel"
    mtype = model.get("modelType", "")
    fn = model.get("functionName", "")
    if mtype == "generalizedLinear":
        link = model.get("linkFunction")
        if link != "logit":
            what = f'linkFunction="{link}"' if link else "generalizedLinear without linkFunction"
            raise ImportError_(f'{what} is not supported: only "logit" (logistic regression)',
                               field=where, source=src)
        dist = model.get("distribution", "binomial")
        if dist != "binomial":
            raise ImportError_(f'distribution="{dist}" is not supported with the logit link: '
                               'only "binomial"', field=where, source=src)
        for attr in ("offsetVariable", "trialsVariable", "trialsValue"):
            if model.get(attr) is not None:
                raise ImportError_(f"{attr} is not supported (a per-household offset or number "
                                   "of trials is not a criterion)", field=where, source=src)
    elif mtype == "multinomialLogistic":
        if fn != "classification":
            raise ImportError_('multinomialLogistic needs functionName="classification"',
                               field=where, source=src)
    else:
        raise ImportError_(f'modelType="{mtype}" is not supported: only generalizedLinear with '
                           "the logit link and multinomialLogistic with two outcomes",
                           field=where, source=src)
    params = [p.get("name", "") for p in _kids(_child(model, "ParameterList"), "Parameter")]
    labels = {p.get("name", ""): p.get("label") or p.get("name", "")
              for p in _kids(_child(model, "ParameterList"), "Parameter")}
    factors = {}
    for p in _kids(_child(model, "FactorList"), "Predictor"):
        if p.get("contrastMatrixType") or _child(p, "Matrix") is not None:
            raise ImportError_(f"factor {p.get('name')!r} has a contrast matrix: only the "
                               "indicator coding of the PPMatrix is supported", field=where,
                               source=src)
        factors[p.get("name", "")] = p
    covariates = {p.get("name", "") for p in _kids(_child(model, "CovariateList"), "Predictor")}
    cells: dict[str, list[ET.Element]] = {}
    for c in _kids(_child(model, "PPMatrix"), "PPCell"):
        if c.get("targetCategory") is not None:
            raise ImportError_("PPCell with a targetCategory (a different design per outcome) "
                               "is not supported", field="PPMatrix", source=src)
        cells.setdefault(c.get("parameterName", ""), []).append(c)
    for pname, cs in cells.items():
        preds = {c.get("predictorName", "") for c in cs}
        if len(cs) > 1:
            raise ImportError_(f"parameter {pname} ({labels.get(pname, pname)}) is an interaction "
                               f"of {' x '.join(sorted(preds))}: profilage criteria contribute "
                               "independently", field="PPMatrix", source=src)
        pred = cs[0].get("predictorName", "")
        if pred not in factors and pred not in covariates:
            raise ImportError_(f"PPCell predictor {pred!r} is in neither FactorList nor "
                               "CovariateList", field="PPMatrix", source=src)
        if pname not in params:
            raise ImportError_(f"PPCell parameter {pname!r} is not in the ParameterList",
                               field="PPMatrix", source=src)

    pcells = _kids(_child(model, "ParamMatrix"), "PCell")
    cats = []
    for c in pcells:
        t = c.get("targetCategory")
        if t not in cats:
            cats.append(t)
    notes: list[str] = []
    if mtype == "multinomialLogistic":
        ref = model.get("targetReferenceCategory")
        cats = [c for c in cats if c != ref]
        if len(cats) > 1 or (ref is None and len(target_values) > 2):
            n = len(set(cats) | {ref} | set(target_values)) - (ref is None)
            raise ImportError_(f"multinomialLogistic with {n} outcomes: only two outcomes (a "
                               "logistic regression) can be represented", field=where,
                               source=src)
        event = cats[0] if cats else None
        other = ref if ref is not None else next((v for v in target_values if v != event), None)
    else:
        if len(cats) > 1:
            raise ImportError_(f"ParamMatrix has cells for {len(cats)} target categories: a "
                               "binomial model has one", field="ParamMatrix", source=src)
        event = cats[0] if cats else None
        other = next((v for v in target_values if v != event), None) if event else None
        if fn == "regression":
            notes.append('functionName="regression" : le score est la valeur prédite '
                         "1 / (1 + exp(-η)) du modèle (binomial, lien logit).")
        elif fn != "classification":
            raise ImportError_(f'functionName="{fn}" is not supported', field=where, source=src)

    intercept = _float(model.get("offsetValue", "0"), where="offsetValue", src=src)
    preds: list[ET.Element] = []
    for c in pcells:
        pname = c.get("parameterName", "")
        if pname not in params:
            raise ImportError_(f"PCell parameter {pname!r} is not in the ParameterList",
                               field="ParamMatrix", source=src)
        beta = _float(c.get("beta"), where=f"ParamMatrix {pname}", src=src)
        if pname not in cells:
            intercept += beta
            continue
        cell = cells[pname][0]
        pred, value = cell.get("predictorName", ""), cell.get("value", "")
        if pred in factors:
            el = ET.Element("CategoricalPredictor", {"name": pred, "value": value,
                                                     "coefficient": repr(beta)})
        else:
            exponent = _float(value, where=f"PPCell {pname}", src=src)
            el = ET.Element("NumericPredictor", {"name": pred, "exponent": value or "1",
                                                 "coefficient": repr(beta)})
            if exponent != int(exponent):
                raise ImportError_(f"covariate {pred!r} has the non-integer exponent {value} "
                                   f"(parameter {pname})", field="PPMatrix", source=src)
        el.attrib["_missing"] = "no-score"  # a missing factor or covariate: no score
        el.attrib["_label"] = labels.get(pname, pname)
        preds.append(el)
    return Table(intercept, preds, event, other, notes)

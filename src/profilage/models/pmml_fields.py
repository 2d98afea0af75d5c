"""PMML derived fields that recode one categorical input: what exporters use for dummy coding.

A predictor whose field is such a derived field contributes, for each value of the raw input,
a fixed amount: it becomes a profilage criterion on the raw input with one modality per value
(the values the DataDictionary lists). Supported, alone or chained:

- ``FieldRef`` (an alias);
- ``NormDiscrete field=F value=v`` (1 when F = v, else 0), R's and KNIME's dummy fields;
- ``MapValues`` with one ``FieldColumnPair`` and an ``InlineTable`` (``defaultValue`` for the
  values the table leaves out), SAS Enterprise Miner's dummy coding;
- ``Apply`` of the string functions ``trimBlanks``, ``uppercase``, ``lowercase``, ``substring``,
  and of a ``DefineFunction`` built from them (SAS Enterprise Miner's
  ``SAS-EM-String-Normalize(width, value)``: trim, upper-case and cut the category before
  matching it; SAS writes its width parameter as ``<Constant>FMTWIDTH</Constant>`` in the
  function's body, which we read as the parameter it names, as the evaluators do).

Anything else in such a chain is refused with one line naming the function or element.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from profilage.models.build import ImportError_


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _kids(el: ET.Element) -> list[ET.Element]:
    return [c for c in el if isinstance(c.tag, str) and _local(c.tag) != "Extension"]


@dataclass
class ValueMap:
    """A derived field as a function of one raw categorical input (None: missing)."""

    field: str  # the raw input (a DataField)
    fn: Callable[[str], Any]
    missing: Any = None  # the derived value when the raw input is missing (mapMissingTo)
    chain: str = ""  # what the derivation is, for messages


STRING_FUNCTIONS = ("trimBlanks", "uppercase", "lowercase", "substring")


class Fields:
    """Resolves derived fields of a PMML document into value maps of raw inputs."""

    def __init__(self, derived: dict[str, ET.Element], functions: dict[str, ET.Element],
                 data_fields: dict[str, ET.Element], src: str):
        self.derived, self.functions, self.data_fields, self.src = (derived, functions,
                                                                    data_fields, src)

    def fail(self, what: str, where: str) -> ImportError_:
        return ImportError_(what, field=where, source=self.src)

    # -- the derived field as a function of its raw input ---------------------------------

    def value_map(self, name: str, *, depth: int = 0) -> ValueMap | None:
        """The derived field ``name`` as a value map, or None when it is a raw field."""
        if name not in self.derived:
            return None
        if depth > 20:
            raise self.fail("derived fields refer to each other in a loop", f"DerivedField {name!r}")
        df = self.derived[name]
        where = f"DerivedField {name!r}"
        kids = _kids(df)
        expr = kids[0] if kids else None
        if expr is None:
            raise self.fail("DerivedField without an expression", where)
        return self._expr_map(expr, where, depth)

    def _source(self, field: str, where: str, depth: int) -> ValueMap:
        inner = self.value_map(field, depth=depth + 1)
        if inner is not None:
            return inner
        if field not in self.data_fields:
            raise self.fail(f"field {field!r} is neither a DataField nor a DerivedField", where)
        return ValueMap(field, lambda v: v, None, field)

    def _expr_map(self, expr: ET.Element, where: str, depth: int) -> ValueMap:
        tag = _local(expr.tag)
        if tag == "FieldRef":
            src = self._source(expr.get("field", ""), where, depth)
            miss = expr.get("mapMissingTo")
            return ValueMap(src.field, src.fn, miss if miss is not None else src.missing, src.chain)
        if tag == "NormDiscrete":
            src = self._source(expr.get("field", ""), where, depth)
            value = expr.get("value", "")
            fn = src.fn
            miss = expr.get("mapMissingTo")
            return ValueMap(src.field, lambda v: None if fn(v) is None else float(fn(v) == value),
                            float(miss) if miss is not None else None,
                            f"NormDiscrete({src.chain} = {value!r})")
        if tag == "MapValues":
            return self._map_values(expr, where, depth)
        if tag == "Apply":
            return self._apply(expr, where, depth, env={})
        raise self.fail(f"unsupported transformation <{tag}> in a categorical recoding (supported: "
                        "FieldRef, NormDiscrete, MapValues, Apply of trimBlanks, uppercase, "
                        "lowercase, substring, SAS-EM-String-Normalize)", where)

    def _map_values(self, mv: ET.Element, where: str, depth: int) -> ValueMap:
        pairs = [c for c in _kids(mv) if _local(c.tag) == "FieldColumnPair"]
        if len(pairs) != 1:
            raise self.fail(f"MapValues with {len(pairs)} FieldColumnPairs: only one input is "
                            "supported", where)
        table = next((c for c in _kids(mv) if _local(c.tag) == "InlineTable"), None)
        if table is None:
            raise self.fail("MapValues without an InlineTable (TableLocator is not supported)",
                            where)
        src = self._source(pairs[0].get("field", ""), where, depth)
        col_in, col_out = pairs[0].get("column", ""), mv.get("outputColumn", "")
        mapping: dict[str, str] = {}
        for row in _kids(table):
            cells = {_local(c.tag): (c.text or "") for c in _kids(row)}
            if col_in not in cells or col_out not in cells:
                raise self.fail(f"InlineTable row without columns {col_in!r} and {col_out!r}",
                                where)
            mapping[cells[col_in]] = cells[col_out]
        default, miss = mv.get("defaultValue"), mv.get("mapMissingTo")
        numeric = mv.get("dataType") in ("double", "float", "integer")

        def conv(x: str | None) -> Any:
            if x is None:
                return None
            if numeric:
                try:
                    return float(x)
                except ValueError:
                    raise self.fail(f"MapValues value {x!r} is not a number", where) from None
            return x

        fn = src.fn
        return ValueMap(src.field,
                        lambda v: None if fn(v) is None else conv(mapping.get(fn(v), default)),
                        conv(miss), f"MapValues({src.chain})")

    # -- string functions -----------------------------------------------------------------

    def _apply(self, ap: ET.Element, where: str, depth: int, env: dict[str, Any]) -> ValueMap:
        """An Apply over exactly one raw field, as a value map (constants folded)."""
        name = ap.get("function", "")
        args = _kids(ap)
        if name in self.functions:
            return self._define_function(name, args, where, depth, env)
        if name not in STRING_FUNCTIONS:
            raise self.fail(f"function {name!r} is not supported in a categorical recoding "
                            f"(supported: {', '.join(STRING_FUNCTIONS)}, and DefineFunctions "
                            "built from them)", where)
        parts = [self._arg(a, where, depth, env) for a in args]
        fields = [p for p in parts if isinstance(p, ValueMap)]
        if len(fields) != 1 or not isinstance(parts[0], ValueMap):
            raise self.fail(f"{name}() must apply to one field", where)
        src: ValueMap = parts[0]
        consts = parts[1:]
        if name == "substring":
            if len(consts) != 2:
                raise self.fail("substring() needs (value, start, length)", where)
            try:
                start, length = int(float(consts[0])), int(float(consts[1]))
            except (TypeError, ValueError):
                raise self.fail(f"substring() start/length {consts!r} are not integers",
                                where) from None
            if start < 1 or length < 0:
                raise self.fail("substring() start must be >= 1 and length >= 0", where)

            def op(s: str, a=start, n=length) -> str:
                return s[a - 1:a - 1 + n]
        else:
            if consts:
                raise self.fail(f"{name}() takes one argument", where)
            op = {"trimBlanks": str.strip, "uppercase": str.upper,
                  "lowercase": str.lower}[name]
        fn = src.fn
        return ValueMap(src.field, lambda v: None if fn(v) is None else op(str(fn(v))),
                        None, f"{name}({src.chain})")

    def _arg(self, el: ET.Element, where: str, depth: int, env: dict[str, Any]) -> Any:
        tag = _local(el.tag)
        if tag == "Constant":
            text = (el.text or "").strip()
            # SAS writes <Constant>FMTWIDTH</Constant> for its width parameter
            return env.get(text, text)
        if tag == "FieldRef":
            f = el.get("field", "")
            if f in env:
                return env[f]
            return self._source(f, where, depth)
        if tag == "Apply":
            return self._apply(el, where, depth, env)
        raise self.fail(f"<{tag}> is not supported inside a categorical recoding", where)

    def _define_function(self, name: str, args: list[ET.Element], where: str, depth: int,
                         env: dict[str, Any]) -> ValueMap:
        fdef = self.functions[name]
        params = [p.get("name", "") for p in _kids(fdef) if _local(p.tag) == "ParameterField"]
        body = [c for c in _kids(fdef) if _local(c.tag) != "ParameterField"]
        if len(params) != len(args) or len(body) != 1:
            raise self.fail(f"DefineFunction {name!r} called with {len(args)} arguments for "
                            f"{len(params)} parameters", where)
        inner = {p: self._arg(a, where, depth, env) for p, a in zip(params, args)}
        expr = body[0]
        if _local(expr.tag) == "FieldRef" and isinstance(inner.get(expr.get("field", "")),
                                                         ValueMap):
            return inner[expr.get("field", "")]
        if _local(expr.tag) != "Apply":
            raise self.fail(f"DefineFunction {name!r}: body <{_local(expr.tag)}> is not supported",
                            where)
        return self._apply(expr, f"{where} (function {name!r})", depth, inner)

"""Experiments declared in small TOML files (after Lighthouse Reports' ``conf/archetypes`` and
``conf/single_feature``): archetypes and counterfactual copies.

- ``kind = "archetype"``: one persona varied along chosen model inputs (``[vary]``: input ->
  list of values); every combination is scored, impossible ones (see ``rules``) left out.
- ``kind = "counterfactual"``: the whole population re-scored with one input set to each value
  in turn (``feature``, ``values``: default every modality); rows where the new value breaks a
  business rule are removed; for each value, the selection rate under the original month's
  cut-off score (the budget's last selected score), overall and per group.

Both accept ``exclude = ["SQL condition", ...]``: more impossible rows. Work is done on model
inputs (features), so a change does not ripple to other inputs: the rules catch the rows where
that matters.
"""

from __future__ import annotations

import itertools
import tomllib
from pathlib import Path
from typing import Any

import polars as pl

from profilage.audit.frame import BUILTIN_GROUPS, prepare
from profilage.audit.rules import valid_expr
from profilage.audit.selection import Selection, cutoff_scores, select
from profilage.engine import compile_model
from profilage.errors import ProfilageError
from profilage.features import FEATURES
from profilage.models import Model, load_model

KINDS = ("archetype", "counterfactual")
#: Size limits, said in the error: combinations of an archetype grid (5 inputs x 60 values asked
#: for 777 million rows and was killed at 24 GB), values of a counterfactual (each re-scores the
#: whole population).
MAX_COMBINATIONS = 100_000
MAX_VALUES = 100


def _cast(feature: str, values: list, field: str) -> pl.Series:
    kind = FEATURES.get(feature, {}).get("kind")
    dtype = {"bool": pl.Boolean, "int": pl.Int64, "float": pl.Float64,
             "category": pl.String}.get(kind)
    if dtype is None:
        raise ProfilageError(f"unknown model input {feature!r}", field=field)
    try:
        return pl.Series(feature, values, dtype=dtype, strict=True)
    except Exception:
        raise ProfilageError(f"values of {feature} must be {kind}: {values!r}", field=field
                             ) from None


def modality_values(model: Model, feature: str) -> list:
    """One representative input value per modality of the criteria reading ``feature``."""
    vals: list = []
    for c in model.criteria:
        if c.feature != feature:
            continue
        for mod in c.modalities:
            if mod.kind == "category":
                vals.append(mod.value)
            elif mod.kind == "bin":
                vals.append(mod.min if mod.min is not None else mod.max - 1)
    if not vals and FEATURES.get(feature, {}).get("kind") == "bool":
        vals = [False, True]
    if not vals:
        raise ProfilageError(f"the model has no modality for {feature!r}: give values",
                             field="values")
    return list(dict.fromkeys(vals))


def archetype(persona: str | dict, vary: dict[str, list], model: Model | str = "cnaf-2014", *,
              exclude: list[str] | None = None, population_cutoff: float | None = None
              ) -> tuple[pl.DataFrame, int]:
    """Score a persona on the grid of ``vary`` (input -> values): one row per possible
    combination with ``score``, ``score_low``, ``score_high`` (and ``above_cutoff``), and the
    number of impossible combinations left out."""
    from profilage.features import derive_features
    from profilage.scoring import _as_dossier

    m = load_model(model)
    base = derive_features(_as_dossier(persona).to_frame()).collect()
    if not vary:
        raise ProfilageError("nothing to vary", field="vary")
    for f, v in vary.items():
        if not isinstance(v, list) or not v:
            raise ProfilageError("give a non-empty list of values", field=f"vary.{f}")
    n = 1
    for v in vary.values():
        n *= len(v)
    if n > MAX_COMBINATIONS:
        raise ProfilageError(" x ".join(str(len(v)) for v in vary.values()) + f" = {n} "
                             f"combinations, over the limit of {MAX_COMBINATIONS}: vary fewer "
                             "inputs or fewer values", field="vary")
    series = {f: _cast(f, list(v), f"vary.{f}").to_list() for f, v in vary.items()}
    combos = list(itertools.product(*series.values()))
    grid = pl.DataFrame([dict(zip(series, c)) for c in combos],
                        schema={f: _cast(f, [], f).dtype for f in series}, orient="row")
    rows = base.select(pl.exclude(list(series))).join(grid, how="cross").select(base.columns)
    n_all = rows.height
    rows = rows.filter(valid_expr(rows.columns, exclude))
    scored = compile_model(m).score(rows).collect()
    out = scored.select(*series, "score", "score_low", "score_high")
    if population_cutoff is not None:
        out = out.with_columns(above_cutoff=pl.col("score") >= population_cutoff)
    return out, n_all - rows.height


def counterfactual(population: pl.DataFrame | pl.LazyFrame, feature: str,
                   values: list | None = None, model: Model | str = "cnaf-2014", *,
                   selection: Selection | None = None, by: list[str] | None = None,
                   exclude: list[str] | None = None, frame: pl.DataFrame | None = None
                   ) -> dict[str, Any]:
    """Re-score the whole population with ``feature`` set to each value in turn.

    Returns {``feature``, ``cutoff``, ``baseline`` {selection_rate, mean_score},
    ``values``: [{value, households, excluded, mean_score, selection_rate, top_decile_share,
    groups: [{by, group, households, selection_rate, baseline_rate}]}]}.
    """
    m = load_model(model)
    if feature not in FEATURES:
        raise ProfilageError(f"unknown model input {feature!r}", field="feature")
    values = values if values is not None else modality_values(m, feature)
    if isinstance(values, list) and len(values) > MAX_VALUES:
        raise ProfilageError(f"{len(values)} values, over the limit of {MAX_VALUES}",
                             field="values")
    vals = _cast(feature, values, "values").to_list()
    if frame is None:
        frame = prepare(population, m, features=True)
    sel = select(frame, selection or Selection())
    cut = cutoff_scores(sel)
    n_months = frame["month"].n_unique()
    if n_months != 1:
        raise ProfilageError("counterfactual copies need a one-month population", field="month")
    cutoff = next(iter(cut.values())) if cut else float("inf")
    top_cut = sel.filter("top_decile")["score"].min()
    groups = [g for g in (by or []) if g in sel.columns]
    for g in by or []:
        if g not in sel.columns:
            raise ProfilageError(f"unknown group column {g!r}", field="by")
    cm = compile_model(m)
    feats = [f for f in FEATURES if f in sel.columns]
    results = []
    gcol = {g: f"g__{g}" for g in groups}  # groups keep their original value
    base_rate = {g: sel.group_by(pl.col(g).alias(gcol[g])).agg(r=pl.col("selected").mean())
                 for g in groups}
    for v in vals:
        copy = sel.select("household_id", *[pl.col(g).alias(gcol[g]) for g in groups], *feats,
                          pl.col("selected").alias("_sel0"))
        copy = copy.with_columns(pl.lit(v, dtype=sel.schema[feature]).alias(feature))
        ok = copy.filter(valid_expr(copy.columns, exclude))
        scored = cm.score(ok).collect().with_columns(
            sel_cf=pl.col("score") >= cutoff, top_cf=pl.col("score") >= top_cut)
        row = {"value": v, "households": scored.height, "excluded": copy.height - scored.height,
               "mean_score": scored["score"].mean(),
               "selection_rate": scored["sel_cf"].mean() if scored.height else None,
               "baseline_rate_same_households": scored["_sel0"].mean() if scored.height else None,
               "top_decile_share": scored["top_cf"].mean() if scored.height else None,
               "groups": []}
        for g in groups:
            t = scored.group_by(gcol[g]).agg(
                households=pl.len(), selection_rate=pl.col("sel_cf").mean(),
                mean_score=pl.col("score").mean()).join(
                base_rate[g], on=gcol[g], how="left", nulls_equal=True).sort(gcol[g],
                                                                           nulls_last=True)
            for r in t.iter_rows(named=True):
                row["groups"].append({"by": g, "group": _lab(r[gcol[g]]), "households": r["households"],
                                      "selection_rate": r["selection_rate"],
                                      "baseline_rate": r["r"], "mean_score": r["mean_score"]})
        results.append(row)
    return {"feature": feature, "label_fr": FEATURES[feature]["label_fr"], "cutoff": cutoff,
            "baseline": {"selection_rate": sel["selected"].mean(),
                         "mean_score": sel["score"].mean(), "households": sel.height},
            "values": results}


def _lab(v) -> str:
    if v is None:
        return "inconnu"
    if isinstance(v, bool):
        return "oui" if v else "non"
    return str(v)


def load_experiment(path: str | Path) -> dict:
    """Read and check an experiment file; errors name the file and the key."""
    p = Path(path)
    if not p.is_file():
        raise ProfilageError("file not found", source=str(p))
    try:
        spec = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ProfilageError(f"invalid TOML: {e}", source=str(p)) from None
    except RecursionError:
        raise ProfilageError("invalid TOML: nested too deeply", source=str(p)) from None
    kind = spec.get("kind")
    if kind not in KINDS:
        raise ProfilageError(f"expected one of {', '.join(KINDS)}, got {kind!r}", field="kind",
                             source=str(p))
    if kind == "archetype":
        if "persona" not in spec:
            raise ProfilageError("an archetype needs a persona", field="persona", source=str(p))
        if not isinstance(spec.get("vary"), dict) or not spec["vary"]:
            raise ProfilageError("expected a table of input = [values]", field="vary",
                                 source=str(p))
    else:
        if "feature" not in spec:
            raise ProfilageError("a counterfactual needs a feature", field="feature",
                                 source=str(p))
    if "population" in spec and not Path(spec["population"]).is_absolute():
        spec["population"] = str(p.parent / spec["population"])
    spec["_path"] = str(p)
    return spec


def run_experiment(spec: dict, *, population: str | Path | pl.DataFrame | None = None
                   ) -> dict[str, Any]:
    """Run a loaded experiment; returns a JSON-ready dict."""
    from profilage.audit import read_population

    m = load_model(spec.get("model", "cnaf-2014"))
    src = spec.get("_path")
    pop = population if population is not None else spec.get("population")
    sel = Selection(budget_per_month=spec.get("budget_per_month"), share=spec.get("share"),
                    threshold=spec.get("threshold"))
    out: dict[str, Any] = {"kind": spec["kind"], "title": spec.get("title", ""),
                           "model": {"id": m.id, "sha256": m.sha256,
                                     "coefficients_status": m.coefficients_status()}}
    try:
        if spec["kind"] == "archetype":
            cutoff = None
            if pop is not None:
                popf = pop if isinstance(pop, pl.DataFrame) else read_population(pop)
                cutoff = next(iter(cutoff_scores(select(prepare(popf, m), sel)).values()), None)
            g, excluded = archetype(spec["persona"], spec["vary"], m,
                                    exclude=spec.get("exclude"), population_cutoff=cutoff)
            out.update(persona=spec["persona"], cutoff=cutoff, excluded=excluded,
                       grid=g.to_dicts())
        else:
            if pop is None:
                raise ProfilageError("a counterfactual needs a population (key population or "
                                     "--population)", field="population")
            popf = pop if isinstance(pop, pl.DataFrame) else read_population(pop)
            by = spec.get("by", ["famille_type", "sexe_allocataire"])
            out.update(counterfactual(popf, spec["feature"], spec.get("values"), m,
                                      selection=sel, by=[b for b in by if b in BUILTIN_GROUPS
                                                         or b in popf.columns],
                                      exclude=spec.get("exclude")))
    except ProfilageError as e:
        if e.source is None and src:
            e.source = src
            e.args = (e.one_line(),)
        raise
    return out

"""The group table: selection rates per group and per intersection of groups, with bootstrap
intervals, disparity against the overall rate and a reference group, and the random baseline.

Bootstrap: resampling households with replacement, their selection held fixed, is the same as
drawing the (group, selected) cell counts from a multinomial with the observed cell shares; we
draw those counts directly with numpy (exact, and no loop over households). The interval is the
uncertainty of each rate *given* the model's decisions, as Fairlearn's bootstrap gives it.
"""

from __future__ import annotations

import warnings

import numpy as np
import polars as pl

from profilage.errors import ProfilageError

#: The "four-fifths" band (Aequitas): a ratio outside it is flagged, not judged.
BAND = (0.8, 1.25)
SEP = " × "

#: Limits on one group table. Groups per grouping: a table of tens of thousands of rows is no
#: longer a disparity audit (and the intersection of ten columns reaches 52,000). Bootstrap cells
#: (draws x groups, summed over the groupings): each cell costs about 40 bytes at once (the
#: multinomial draws and the rates), so 5 million cells is about 200 MB.
MAX_GROUPS = 10_000
MAX_BOOT_CELLS = 5_000_000


def _label(v) -> str:
    if v is None:
        return "inconnu"
    if isinstance(v, bool):
        return "oui" if v else "non"
    return str(v)


def _group_label(col: str, v) -> str:
    if col == "decile_revenu_uc" and v is not None:
        return f"D{v}"
    return _label(v)


def parse_by(by: str | list | None, columns: list[str], default: list[str]) -> list[list[str]]:
    """``"a,b"`` -> [[a], [b], [a, b]] (each column and their intersection); None -> defaults."""
    if by is None:
        return [[c] for c in default if c in columns]
    cols = [c.strip() for c in (by.split(",") if isinstance(by, str) else by) if c.strip()]
    if not cols:
        raise ProfilageError("expected one or more column names", field="--by")
    twice = next((c for i, c in enumerate(cols) if c in cols[:i]), None)
    if twice is not None:
        raise ProfilageError(f"group column {twice!r} given twice", field="--by")
    hidden = {"household_id", "month", "score", "score_low", "score_high", "logit_low",
              "logit_high", "revenu_disponible_uc"}
    for c in cols:
        if c not in columns or c in hidden:
            avail = ", ".join(sorted(x for x in columns if x not in hidden))
            raise ProfilageError(f"unknown group column {c!r} (available: {avail})", field="--by")
    specs = [[c] for c in cols]
    if len(cols) > 1:
        specs.append(cols)
    return specs


def group_table(df: pl.DataFrame, specs: list[list[str]], *, reference: dict | None = None,
                n_boot: int = 200, seed: int = 0, score: str = "score",
                max_groups: int = MAX_GROUPS, max_boot_cells: int = MAX_BOOT_CELLS
                ) -> pl.DataFrame:
    """One row per (grouping, group) from a frame with ``selected``, ``random_selected``,
    ``top_decile`` and the score; see the module docstring for the intervals.

    More than ``max_groups`` groups in one grouping, or more than ``max_boot_cells`` bootstrap
    draws x groups in all, is refused before any draw, with the limit in the message."""
    reference = reference or {}
    n_total = df.height
    overall_sel = int(df["selected"].sum())
    overall_rate = overall_sel / n_total if n_total else float("nan")
    rng = np.random.default_rng([seed, 0xB0075])  # salted: independent of a population seed
    rows = []
    # One pass over the households: counts per cell of every grouping column at once; each
    # grouping (and intersection) is then summed from this small table.
    all_cols = list(dict.fromkeys(c for spec in specs for c in spec))
    base = _cells(df, all_cols, score)
    tables = []
    for spec in specs:
        cells = (_sum_by(base, spec, ["households", "selected", "random_selected",
                                      "top_decile", "score_sum", "score_n"])
                 .with_columns(mean_score=pl.col("score_sum") / pl.col("score_n"))
                 .sort(spec, nulls_last=True))
        if cells.height > max_groups:
            raise ProfilageError(f"{SEP.join(spec)} makes {cells.height} groups, over the limit "
                                 f"of {max_groups}: group by fewer or coarser columns",
                                 field="--by")
        tables.append((spec, cells))
    n_cells = n_boot * sum(c.height for _, c in tables)
    if n_cells > max_boot_cells:
        raise ProfilageError(f"{n_boot} bootstrap draws x {n_cells // n_boot} groups = {n_cells} "
                             f"cells, over the limit of {max_boot_cells}: lower the bootstrap "
                             "or group by fewer columns", field="--bootstrap")
    for spec, cells in tables:
        by_name = SEP.join(spec)
        labels = [SEP.join(_group_label(c, r[c]) for c in spec) for r in cells.iter_rows(named=True)]
        hh = cells["households"].to_numpy().astype(np.int64)
        se = cells["selected"].to_numpy().astype(np.int64)
        rate = np.divide(se, hh, out=np.full(len(hh), np.nan), where=hh > 0)
        ref_label = reference.get(by_name)
        if ref_label is None:
            ref_idx = int(np.argmax(hh))
        elif ref_label in labels:
            ref_idx = labels.index(ref_label)
        else:
            raise ProfilageError(f"group {ref_label!r} not found in {by_name} "
                                 f"(groups: {', '.join(labels)})", field="--reference")
        # Bootstrap: multinomial counts over the 2G cells (selected, not selected) per group.
        if n_boot > 0 and n_total > 0:
            p = np.concatenate([se, hh - se]) / n_total
            draws = rng.multinomial(n_total, p, size=n_boot)
            g = len(hh)
            bs_sel, bs_hh = draws[:, :g], draws[:, :g] + draws[:, g:]
            with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: empty groups
                bs_rate = bs_sel / bs_hh
                bs_ratio = bs_rate / bs_rate[:, [ref_idx]]
                bs_ratio = np.where(np.isfinite(bs_ratio), bs_ratio, np.nan)
                ci_lo, ci_hi = np.nanpercentile(bs_rate, [2.5, 97.5], axis=0)
                r_lo, r_hi = np.nanpercentile(bs_ratio, [2.5, 97.5], axis=0)
        else:
            ci_lo = ci_hi = r_lo = r_hi = np.full(len(hh), np.nan)
        ref_rate = rate[ref_idx]
        for i, r in enumerate(cells.iter_rows(named=True)):
            ratio_ref = rate[i] / ref_rate if ref_rate and ref_rate > 0 else float("nan")
            ratio_all = rate[i] / overall_rate if overall_rate > 0 else float("nan")
            flag = None
            if np.isfinite(ratio_ref):
                flag = "bas" if ratio_ref < BAND[0] else ("haut" if ratio_ref > BAND[1] else None)
            rows.append({
                "by": by_name, "group": labels[i], "households": int(hh[i]),
                "selected": int(se[i]),
                "population_share": hh[i] / n_total,
                "selected_share": se[i] / overall_sel if overall_sel else float("nan"),
                "selection_rate": float(rate[i]),
                "ratio_to_overall": float(ratio_all), "ratio_to_reference": float(ratio_ref),
                "ci_low": float(ci_lo[i]), "ci_high": float(ci_hi[i]),
                "ratio_ci_low": float(r_lo[i]), "ratio_ci_high": float(r_hi[i]),
                "reference": labels[ref_idx], "flag": flag,
                "mean_score": r["mean_score"],
                "top_decile_share": r["top_decile"] / hh[i] if hh[i] else float("nan"),
                "random_selected": int(r["random_selected"]),
                "random_selection_rate": r["random_selected"] / hh[i] if hh[i] else float("nan"),
            })
    return pl.DataFrame(rows, schema=TABLE_SCHEMA)


def _sum_by(df: pl.DataFrame, spec: list[str], cols: list[str]) -> pl.DataFrame:
    """``df.group_by(spec)`` with the sums of ``cols``, each added in row order (numpy
    bincount): the same floating-point sums on every run, where a parallel group_by adds the
    cells of a group in any order (the mean scores then varied in their last digit)."""
    if df.height == 0:
        return df.group_by(spec).agg(pl.col(cols).sum())
    ids = df.select(pl.struct(spec).rank("dense")).to_series().to_numpy().astype(np.int64) - 1
    first = np.unique(ids, return_index=True)[1]  # the first cell of group 0, 1, ...
    sums = [pl.Series(c, np.bincount(ids, weights=df[c].cast(pl.Float64).to_numpy(),
                                     minlength=len(first))).cast(df.schema[c]) for c in cols]
    return df[first].select(spec).with_columns(sums)


def selected_by_group(df: pl.DataFrame, specs: list[list[str]], selections: list[np.ndarray]
                      ) -> tuple[dict[tuple[str, str], np.ndarray], np.ndarray]:
    """For each (grouping, group label) of :func:`group_table`, the number of households
    selected under each of several selections (arrays of row indices), and each selection's
    total: one pass to code the cells, then a small bincount per selection."""
    all_cols = list(dict.fromkeys(c for spec in specs for c in spec))
    cell, cells = _cell_ids(df, all_cols)
    k = cells.height
    counts = np.stack([np.bincount(cell[r], minlength=k) for r in selections]) if selections \
        else np.zeros((0, k), dtype=np.int64)
    names = [f"_s{i}" for i in range(len(selections))]
    base = cells.with_columns([pl.Series(n, counts[i]) for i, n in enumerate(names)])
    out: dict[tuple[str, str], np.ndarray] = {}
    for spec in specs:
        by_name = SEP.join(spec)
        agg = base.group_by(spec).agg(pl.col(names).sum() if names else pl.len()).sort(
            spec, nulls_last=True)
        mat = agg.select(names).to_numpy() if names else np.zeros((agg.height, 0))
        for i, r in enumerate(agg.select(spec).iter_rows(named=True)):
            label = SEP.join(_group_label(c, r[c]) for c in spec)
            out[(by_name, label)] = mat[i].astype(np.int64)
    return out, counts.sum(axis=1)


def _cell_ids(df: pl.DataFrame, cols: list[str]) -> tuple[np.ndarray, pl.DataFrame]:
    """Dense cell number of each row over ``cols`` and the cells' values (one row per number),
    with the same values as :func:`_cells` gives (categories as strings)."""
    coded, radix = [], 1
    for c in cols:
        r = _codes(df[c])
        if r is None:
            break
        coded.append((c, r[0], r[1], radix))
        radix *= len(r[1])
        if radix > 5_000_000:
            break
    else:
        code = np.zeros(df.height, dtype=np.int64)
        for _, v, _, mult in coded:
            code += v * mult
        nz = np.flatnonzero(np.bincount(code, minlength=radix))
        remap = np.full(radix, -1, dtype=np.int64)
        remap[nz] = np.arange(len(nz))
        cells = pl.DataFrame({c: values.gather(pl.Series((nz // mult) % len(values)))
                              for c, _, values, mult in coded})
        return remap[code], cells
    ids = df.select(pl.struct(cols).rank("dense")).to_series().to_numpy().astype(np.int64) - 1
    first = np.unique(ids, return_index=True)[1]
    cells = df[first].select(cols).with_columns(
        [pl.col(c).cast(pl.String) for c in cols
         if isinstance(df.schema[c], (pl.Categorical, pl.Enum))])
    return ids, cells


def _codes(s: pl.Series) -> tuple[np.ndarray, pl.Series] | None:
    """Small integer codes of a column and the value of each code (null included), or None."""
    if s.dtype == pl.Boolean:
        return s.cast(pl.Int8).fill_null(2).to_numpy().astype(np.int64), pl.Series(
            s.name, [False, True, None], dtype=pl.Boolean)
    if s.dtype.is_integer():
        lo, hi = s.min(), s.max()
        if lo is None or lo < 0 or hi > 1000:
            return None
        return (s.fill_null(hi + 1).to_numpy().astype(np.int64),
                pl.Series(s.name, [*range(hi + 1), None], dtype=s.dtype))
    if isinstance(s.dtype, (pl.Categorical, pl.Enum)):
        phys = s.to_physical()
        hi = phys.max()
        hi = -1 if hi is None else int(hi)
        vals: list = [None] * (hi + 2)
        first = phys.arg_unique()  # first row of each code: a small gather, no string work
        for p_, v in zip(phys.gather(first).to_list(), s.gather(first).cast(pl.String).to_list()):
            if p_ is not None:
                vals[p_] = v
        return phys.fill_null(hi + 1).to_numpy().astype(np.int64), pl.Series(
            s.name, vals, dtype=pl.String)
    return None


def _cells(df: pl.DataFrame, cols: list[str], score: str) -> pl.DataFrame:
    """Counts per cell of ``cols`` in one vectorised pass (numpy bincount on a mixed-radix code
    when the columns are small; on the cells' ranks otherwise), each sum in row order."""
    def by_rank() -> pl.DataFrame:
        terms = df.select(*cols, households=pl.lit(1, dtype=pl.Int64),
                          selected=pl.col("selected").cast(pl.Int64),
                          random_selected=pl.col("random_selected").cast(pl.Int64),
                          top_decile=pl.col("top_decile").cast(pl.Int64),
                          score_sum=pl.col(score).cast(pl.Float64).fill_null(0.0),
                          score_n=pl.col(score).is_not_null().cast(pl.Int64))
        return _sum_by(terms, cols, [c for c in terms.columns if c not in cols])

    coded, radix = [], 1
    for c in cols:
        r = _codes(df[c])
        if r is None:
            return by_rank()
        coded.append((c, r[0], r[1], radix))
        radix *= len(r[1])
        if radix > 5_000_000:
            return by_rank()
    code = np.zeros(df.height, dtype=np.int64)
    for _, v, _, mult in coded:
        code += v * mult
    sc = df[score].cast(pl.Float64).to_numpy()
    has = ~np.isnan(sc)
    households = np.bincount(code, minlength=radix)

    def count(rows: np.ndarray) -> np.ndarray:  # (the flagged rows only: no weights pass)
        return np.bincount(code[rows], minlength=radix)

    sums = {"households": households,
            **{c: count(df[c].arg_true().to_numpy())
               for c in ("selected", "random_selected", "top_decile")},
            "score_sum": np.bincount(code, weights=np.where(has, sc, 0.0), minlength=radix),
            "score_n": households if has.all() else count(np.flatnonzero(has))}
    nz = np.flatnonzero(sums["households"])
    out = {c: values.gather(pl.Series((nz // mult) % len(values))) for c, _, values, mult
           in coded}
    out.update({k: pl.Series(v[nz]).cast(pl.Int64 if k != "score_sum" else pl.Float64)
                for k, v in sums.items()})
    return pl.DataFrame(out)


TABLE_SCHEMA = {
    "by": pl.String, "group": pl.String, "households": pl.Int64, "selected": pl.Int64,
    "population_share": pl.Float64, "selected_share": pl.Float64, "selection_rate": pl.Float64,
    "ratio_to_overall": pl.Float64, "ratio_to_reference": pl.Float64, "ci_low": pl.Float64,
    "ci_high": pl.Float64, "ratio_ci_low": pl.Float64, "ratio_ci_high": pl.Float64,
    "reference": pl.String, "flag": pl.String, "mean_score": pl.Float64,
    "top_decile_share": pl.Float64, "random_selected": pl.Int64,
    "random_selection_rate": pl.Float64,
}

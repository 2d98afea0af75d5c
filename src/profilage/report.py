"""Audit charts (Vega-Lite via Altair, rendered to SVG on this machine by vl-convert) and the
self-contained HTML report (inline CSS and SVG: opening it needs no network), with an optional
PDF through headless Chromium.

Charts: selection rate by group with its 95 % interval; over-representation among the selected
(share of the selected / share of the population); composition of the score deciles; threshold
effects (each group's selection rate as the share of households controlled grows).
"""

from __future__ import annotations

import datetime as dt
import html
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import polars as pl

from profilage.errors import ProfilageError

CURVE_SHARES = [0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5]

LABELS = {
    "fr": {
        "rate": "Taux de contrôle", "group": "Groupe", "by": "Regroupement",
        "overall": "taux global", "ratio": "Part parmi les contrôlés / part dans la population",
        "decile": "Décile de score (10 = les plus hauts)", "share": "Part des foyers",
        "budget_share": "Part des foyers contrôlés", "t_rate": "Taux de contrôle par taille de "
        "budget (effet de seuil)", "t_sel": "Taux de contrôle par groupe (intervalle à 95 %)",
        "t_over": "Sur-représentation parmi les contrôlés (bande 0,8 – 1,25)",
        "t_dec": "Composition des déciles de score",
    },
    "en": {
        "rate": "Selection rate", "group": "Group", "by": "Grouping", "overall": "overall rate",
        "ratio": "Share among the selected / share in the population",
        "decile": "Score decile (10 = highest)", "share": "Share of households",
        "budget_share": "Share of households controlled", "t_rate": "Selection rate by budget "
        "size (threshold effect)", "t_sel": "Selection rate by group (95 % interval)",
        "t_over": "Over-representation among the selected (0.8 – 1.25 band)",
        "t_dec": "Composition of the score deciles",
    },
}


def _svg(chart) -> str:
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(chart.to_dict())
    return svg[svg.index("<svg"):] if "<svg" in svg else svg


def _curve_column(table: pl.DataFrame, selections: pl.DataFrame) -> str:
    """The grouping drawn in the decile and threshold charts: famille_type if present."""
    for c in ("famille_type", *table["by"].unique(maintain_order=True).to_list()):
        if c in selections.columns and c in table["by"].to_list():
            return c
    return table["by"][0]


def threshold_curves(selections: pl.DataFrame, column: str,
                     shares: list[float] = CURVE_SHARES) -> pl.DataFrame:
    """Each group's selection rate if the top ``share`` of scores were controlled (one pass)."""
    scored = selections.filter(pl.col("score").is_not_null())
    cut = scored.select([pl.col("score").quantile(1 - s, interpolation="higher").alias(str(s))
                         for s in shares]).row(0)
    exprs = [(pl.col("score") >= c).mean().alias(str(s)) for s, c in zip(shares, cut)]
    wide = scored.group_by(pl.col(column).cast(pl.String).alias("group")).agg(exprs)
    return wide.unpivot(index="group", variable_name="budget_share", value_name="rate") \
        .with_columns(pl.col("budget_share").cast(pl.Float64)).sort("group", "budget_share")


def decile_composition(selections: pl.DataFrame, column: str) -> pl.DataFrame:
    """Share of each group within each score decile (1 = lowest scores)."""
    scored = selections.filter(pl.col("score").is_not_null())
    n = scored.height
    ranked = scored.with_columns(
        decile=(pl.col("score").rank("ordinal") * 10 / (n + 1)).floor().cast(pl.Int32) + 1)
    counts = ranked.group_by("decile", pl.col(column).cast(pl.String).alias("group")).len()
    return counts.with_columns(share=pl.col("len") / pl.col("len").sum().over("decile")) \
        .sort("decile", "group")


def _named(svg: str, name: str) -> str:
    """An accessible name on a chart's SVG (its figure caption says the same)."""
    return svg.replace("<svg", f'<svg role="img" aria-label="{html.escape(name, quote=True)}"', 1)


def audit_charts(result: Any, lang: str = "fr") -> dict[str, dict]:
    """The four audit charts: ``{key: {"title", "svg", "table"}}``, SVG rendered locally by
    vl-convert (no network), labelled with the groups' names (not their identifiers), sized to
    fit an A4 page; ``table`` is the chart's data for the two charts the group table does not
    already give."""
    import altair as alt

    from profilage.render import group_label, grouping_label, pct

    lg = "en" if lang == "en" else "fr"
    L = LABELS[lg]
    table = result.table
    rows = [{**r, "label": f"{grouping_label(r['by'], lg)} · {group_label(r['group'], lg)}"}
            for r in table.filter(pl.col("households") > 0).to_dicts()]
    overall = float(result.selections["selected"].mean())
    data = alt.Data(values=rows)
    order = [r["label"] for r in rows]
    height = alt.Step(14)
    base = alt.Chart(data).encode(y=alt.Y("label:N", title=None, sort=order,
                                          axis=alt.Axis(labelLimit=230)))
    bars = base.mark_bar().encode(
        x=alt.X("selection_rate:Q", title=L["rate"], axis=alt.Axis(format="%")),
        color=alt.Color("by:N", title=L["by"], legend=None))
    err = base.mark_errorbar(color="#111").encode(x=alt.X("ci_low:Q", title=L["rate"]),
                                                  x2="ci_high:Q")
    rule = alt.Chart(alt.Data(values=[{"overall": overall}])).mark_rule(
        color="#c62828", strokeDash=[4, 3]).encode(x="overall:Q")
    pad = {"left": 70, "top": 5, "right": 10, "bottom": 5}  # vl-convert under-measures labels
    sel = alt.layer(bars, err, rule).properties(width=300, height=height, padding=pad)
    over_bars = base.mark_bar().encode(
        x=alt.X("ratio_to_overall:Q", title=L["ratio"]),
        color=alt.condition("datum.ratio_to_overall > 1.25 || datum.ratio_to_overall < 0.8",
                            alt.value("#c62828"), alt.value("#90a4ae")))
    band = alt.Chart(alt.Data(values=[{"a": 0.8, "b": 1.25}])).mark_rect(
        opacity=0.15, color="#2e7d32").encode(x="a:Q", x2="b:Q")
    one = alt.Chart(alt.Data(values=[{"x": 1}])).mark_rule(color="#111").encode(x="x:Q")
    over = alt.layer(band, over_bars, one).properties(width=300, height=height, padding=pad)

    column = _curve_column(table, result.selections)
    col_label = grouping_label(column, lg)
    dec = decile_composition(result.selections, column).with_columns(
        pl.col("group").map_elements(lambda g: group_label(g, lg), return_dtype=pl.String))
    legend = alt.Legend(orient="bottom", columns=2, labelLimit=220, titleLimit=400,
                        columnPadding=40)
    decile = alt.Chart(alt.Data(values=dec.to_dicts())).mark_bar().encode(
        x=alt.X("decile:O", title=L["decile"]),
        y=alt.Y("share:Q", title=L["share"], axis=alt.Axis(format="%"), stack="normalize"),
        color=alt.Color("group:N", title=col_label, legend=legend)).properties(
            width=420, height=240)
    curves = threshold_curves(result.selections, column).with_columns(
        pl.col("group").map_elements(lambda g: group_label(g, lg), return_dtype=pl.String))
    thr = alt.Chart(alt.Data(values=curves.to_dicts())).mark_line(point=True).encode(
        x=alt.X("budget_share:Q", title=L["budget_share"], axis=alt.Axis(format="%")),
        y=alt.Y("rate:Q", title=L["rate"], axis=alt.Axis(format="%")),
        color=alt.Color("group:N", title=col_label, legend=legend)).properties(
            width=420, height=240)
    diag = alt.Chart(alt.Data(values=[{"x": 0, "y": 0}, {"x": 0.5, "y": 0.5}])).mark_line(
        color="#999", strokeDash=[4, 3]).encode(x="x:Q", y="y:Q")

    groups = sorted(dec["group"].unique().to_list())
    dec_rows = []
    for d in range(1, 11):
        part = {r["group"]: r["share"] for r in dec.filter(pl.col("decile") == d).to_dicts()}
        dec_rows.append([str(d)] + [pct(part.get(g), 1, lg) for g in groups])
    shares = sorted(curves["budget_share"].unique().to_list())
    thr_rows = []
    for sh in shares:
        part = {r["group"]: r["rate"] for r in curves.filter(pl.col("budget_share") == sh)
                .to_dicts()}
        thr_rows.append([pct(sh, 1, lg)] + [pct(part.get(g), 1, lg) for g in groups])
    titles = {"selection_rate": L["t_sel"], "over_representation": L["t_over"],
              "deciles": f"{L['t_dec']} — {col_label}", "thresholds": f"{L['t_rate']} — {col_label}"}
    svgs = {"selection_rate": _svg(sel), "over_representation": _svg(over),
            "deciles": _svg(decile), "thresholds": _svg(alt.layer(diag, thr))}
    tables = {"deciles": {"header": [L["decile"], *groups], "rows": dec_rows},
              "thresholds": {"header": [L["budget_share"], *groups], "rows": thr_rows}}
    return {k: {"title": titles[k], "svg": _named(svgs[k], titles[k]), "table": tables.get(k)}
            for k in svgs}


def audit_summary(result: Any, population_label: str) -> dict[str, Any]:
    """What the audit page and the report print besides the charts."""
    d = result.as_dict()
    return {"audit": d, "population": population_label, "households": result.households,
            "selected": d["budget"]["selected"], "overall_rate":
            float(result.selections["selected"].mean()) if result.households else 0.0,
            "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")}


def render_report(result: Any, population_label: str, lang: str = "fr") -> str:
    """The self-contained HTML report: inline CSS, inline SVG charts, no script, no link out."""
    from profilage.jsonout import model_summary
    from profilage.models.export import model_to_json_dict
    from profilage.render import base_context, render

    css = (Path(__file__).parent / "web" / "static" / "profilage.css").read_text("utf-8")
    ctx = base_context(lang, static=True, root="", pages="")
    ctx.update(summary=audit_summary(result, population_label), charts=audit_charts(result, lang),
               model=model_summary(result.model), model_json=model_to_json_dict(result.model),
               inline_css=css)
    return render("report.html", ctx)


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def find_chromium() -> str | None:
    for name in (os.environ.get("PROFILAGE_CHROMIUM"), "chromium", "chromium-browser",
                 "google-chrome"):
        if name and (shutil.which(name) or Path(name).is_file()):
            return shutil.which(name) or name
    return None


def html_to_pdf(html_path: Path, pdf_path: Path) -> None:
    """Print an HTML file to PDF with headless Chromium (no network: the file is self-contained)."""
    exe = find_chromium()
    if exe is None:
        raise ProfilageError("--pdf needs Chromium (apt-get install chromium, or set "
                             "PROFILAGE_CHROMIUM to its path); the HTML report was written",
                             field="--pdf")
    tmp = pdf_path.with_name(f".{pdf_path.name}.part")
    with tempfile.TemporaryDirectory(prefix="profilage-chromium-") as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
               f"--user-data-dir={profile}", f"--print-to-pdf={tmp}", html_path.resolve().as_uri()]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            raise ProfilageError("Chromium did not finish printing within 120 s",
                                 field="--pdf") from None
    if proc.returncode != 0 or not tmp.is_file() or tmp.stat().st_size == 0:
        tmp.unlink(missing_ok=True)
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise ProfilageError(f"Chromium could not print the PDF: {last}", field="--pdf")
    os.replace(tmp, pdf_path)


def write_report(result: Any, out: str | Path, population_label: str, *, lang: str = "fr",
                 pdf: bool = False) -> list[Path]:
    """Write ``out`` (HTML) and, with ``pdf``, ``out`` with a ``.pdf`` suffix. Atomic writes."""
    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise ProfilageError("the report is HTML: give a path ending in .html", field="--out")
    text = render_report(result, population_label, lang)
    _atomic_write(out, text.encode("utf-8"))
    written = [out]
    if pdf:
        pdf_path = out.with_suffix(".pdf")
        html_to_pdf(out, pdf_path)
        written.append(pdf_path)
    return written


def escape(s: Any) -> str:
    return html.escape(str(s))

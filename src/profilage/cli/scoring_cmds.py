"""`profilage score` and `profilage explain`."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import typer
from rich.table import Table

from profilage.cli.common import (
    STATUS_FR,
    check_out_file,
    console,
    esc,
    fmt,
    print_json,
    provenance_banner,
)
from profilage.errors import ProfilageError

TABLE_SUFFIXES = (".csv", ".parquet", ".pq")


def _read_table(path: Path) -> pl.DataFrame:
    if not path.is_file():
        raise ProfilageError("file not found", source=str(path))
    try:
        if path.suffix.lower() == ".csv":
            return pl.read_csv(path, infer_schema_length=10_000, glob=False)
        return pl.read_parquet(path, glob=False)  # names are literal, never patterns
    except Exception as e:  # polars raises several types for unreadable files
        raise ProfilageError(f"cannot read table: {str(e).splitlines()[0]}", source=str(path)
                             ) from None


def _write_table(df: pl.DataFrame, out: Path) -> None:
    tmp = out.with_name(out.name + ".part")
    if out.suffix.lower() == ".csv":
        df.write_csv(tmp)
    elif out.suffix.lower() in (".parquet", ".pq"):
        df.write_parquet(tmp)
    else:
        raise ProfilageError("output must end in .csv or .parquet", field="--out")
    tmp.replace(out)  # never leave a half-written output


def score_table(path: Path, model: str, out: Path | None) -> None:
    from profilage.engine import check_feature_table, compile_model
    from profilage.models import load_model

    if out is None:
        raise ProfilageError("scoring a table needs --out OUT.csv|OUT.parquet", field="--out")
    if out.suffix.lower() not in TABLE_SUFFIXES:
        raise ProfilageError("output must end in .csv or .parquet", field="--out")
    check_out_file(out)
    from profilage.features import coerce_inputs, model_inputs, table_kind

    m = load_model(model)
    df = _read_table(path)
    if table_kind(m, df.columns, source=str(path)) == "dossiers":
        # Dossier rows (a generated population...): derive the model's inputs, keep every input
        # column as it is and add the score columns.
        feats = model_inputs(df, m).collect()
        check_feature_table(m, feats)
        scored = compile_model(m).score(feats, keep=False).collect()
        scored = df.drop([c for c in scored.columns if c in df.columns]).hstack(scored)
    else:
        df = coerce_inputs(m, df, source=str(path))
        check_feature_table(m, df)
        scored = compile_model(m).score(df).collect()
    _write_table(scored, out)
    n_det = int(scored["determined"].sum())
    console.print(provenance_banner({"id": m.id, "institution": m.institution, "sha256": m.sha256,
                                     "coefficients_status": m.coefficients_status()}))
    console.print(f"{scored.height} foyers notés / households scored → {esc(out)} "
                  f"({n_det} déterminés, {scored.height - n_det} avec bornes)")


def score(
    dossier: str = typer.Argument(..., help="Dossier JSON, nom de persona, ou table CSV/Parquet "
                                  "(dossiers ou variables du modèle) / dossier, persona, or "
                                  "table of dossier rows or model features."),
    model: str = typer.Option("cnaf-2014", "--model", "-m", help="Id ou chemin .toml / id or path."),
    json_out: bool = typer.Option(False, "--json", help="Sortie JSON / JSON output."),
    out: Path = typer.Option(None, "--out", "-o", help="Table de sortie (pour une table en "
                             "entrée) / output table."),
    ensemble: bool = typer.Option(False, "--ensemble", help="Plage du score sur l'ensemble de "
                                  "reconstructions du modèle / range over the ensemble."),
) -> None:
    """Note un foyer ou une table / score a household or a table."""
    from profilage.scoring import score_dossier

    if Path(dossier).suffix.lower() in TABLE_SUFFIXES:
        if ensemble:
            raise ProfilageError("--ensemble scores one dossier, not a table", field="--ensemble")
        score_table(Path(dossier), model, out)
        return
    res = score_dossier(dossier, model, ensemble=ensemble)
    if json_out:
        print_json(res)
        return
    _print_score(res)
    if ensemble:
        _print_ensemble(res["ensemble"])


def _print_ensemble(e: dict) -> None:
    if e["score_min"] is None:
        console.print(f"Ensemble de {e['size']} reconstructions : score indéterminé (bornes "
                      "infinies)")
        return
    console.print(f"[bold]Ensemble de {e['size']} reconstructions[/] compatibles avec les faits "
                  f"publiés : score entre {e['score_min']:.3f} et {e['score_max']:.3f} (médiane "
                  f"{e['score_median']:.3f}) / score range over the ensemble")


def _print_score(res: dict) -> None:
    name = esc(res.get("dossier") or "foyer")
    console.print(provenance_banner(res["model"]))
    if res["score"] is None:
        head = "indéterminé / undetermined (bornes infinies)"
    else:
        head = f"[bold]{res['score']:.3f}[/]"
    det = ("déterminé / determined" if res["determined"] else
           f"bornes / bounds [{fmt(res['score_low'])}, {fmt(res['score_high'])}] — moyenne de la "
           "sigmoïde entre les bornes (méthode du Monde)")
    console.print(f"Score de risque de {name} ({res['reference_month']}) : {head}   {det}")
    t = Table(title="Contributions (log-odds)", show_lines=False)
    for col in ("Critère / criterion", "Modalité / value", "bas / low", "haut / high",
                "statut / status", "critère protégé"):
        t.add_column(col)
    t.add_row("constante / intercept", "", fmt(res["intercept"]), fmt(res["intercept"]),
              STATUS_FR.get(res["intercept_status"], res["intercept_status"]), "")
    for c in res["contributions"]:
        t.add_row(esc(c["label_fr"]),
                  esc(c["modality_label_fr"]) if c["modality_label_fr"] else
                  "[italic]inconnu / unknown[/]",
                  fmt(c["low"]), fmt(c["high"]), STATUS_FR.get(c["status"], c["status"]),
                  esc(c["protected_ground"] or ""))
    console.print(t)
    if res["redacted"]:
        console.print("Critères occultés par l'institution (hors score) / redacted: "
                      + ", ".join(esc(r["label_fr"]) for r in res["redacted"]))


def explain(
    dossier: str = typer.Argument(..., help="Dossier JSON ou persona / dossier or persona."),
    model: str = typer.Option("cnaf-2014", "--model", "-m", help="Id ou chemin .toml."),
    json_out: bool = typer.Option(False, "--json", help="Sortie JSON / JSON output."),
    top: int = typer.Option(3, "--top", min=1, max=20, help="Changements listés / changes shown."),
    ensemble: bool = typer.Option(False, "--ensemble", help="Sens de l'effet de chaque critère "
                                  "dans chaque reconstruction / direction in every member."),
) -> None:
    """Explique un score : cascade des critères et ce qui le ferait bouger / explain a score."""
    from profilage.scoring import explain_dossier

    res = explain_dossier(dossier, model, top=top, ensemble=ensemble)
    if json_out:
        print_json(res)
        return
    _print_explain(res)
    if ensemble:
        _print_directions(res["ensemble"])


def _print_directions(e: dict) -> None:
    _print_ensemble(e)
    t = Table(title=f"Sens de l'effet de chaque critère pour ce foyer, dans les {e['size']} "
                    "reconstructions / direction of each criterion's effect", title_justify="left")
    for col in ("Critère", "Modalité du foyer", "Même sens partout ?", "hausse / baisse / nul",
                "contribution min – max"):
        t.add_column(col, overflow="fold")
    for d in e["directions"]:
        same = {"hausse": "oui : hausse", "baisse": "oui : baisse", "nul": "oui : nul",
                "non varié": "oui (non varié)"}.get(d["direction"], "[yellow]non[/]")
        rng = "—" if d["contribution_min"] is None else \
            f"{d['contribution_min']:+.3f} – {d['contribution_max']:+.3f}"
        t.add_row(d["label_fr"], "inconnue" if d["unknown_input"] else (d["modality"] or "valeur"),
                  same, f"{d['raises']} / {d['lowers']} / {d['none']}", rng)
    console.print(t)


def _print_explain(res: dict) -> None:
    console.print(provenance_banner(res["model"]))
    score_s = "indéterminé" if res["score"] is None else f"{res['score']:.3f}"
    console.print(f"[bold]{esc(res.get('dossier') or 'Foyer')}[/] — score {score_s} "
                  f"(bornes {fmt(res['score_low'])} – {fmt(res['score_high'])})")
    t = Table(title="Cascade / waterfall (du plus fort au plus faible effet)")
    for col in ("Critère", "Modalité", "log-odds", "", "probabilité après", "Δ probabilité"):
        t.add_column(col)
    t.add_row("constante / intercept", "", fmt(res["intercept"]), "", "", "")
    scale = max((abs(s["logit"]) for s in res["waterfall"]), default=1) or 1
    for s in res["waterfall"]:
        n = round(12 * abs(s["logit"]) / scale)
        bar = ("[red]" + "█" * n + "[/]") if s["logit"] > 0 else ("[green]" + "█" * n + "[/]")
        mod = esc(s["modality_label_fr"])
        if not s["input_known"]:
            mod = f"[italic]inconnu[/] [{fmt(s['low'])}, {fmt(s['high'])}]"
        t.add_row(esc(s["label_fr"]), mod, f"{s['logit']:+.3f}", bar, f"{s['probability_after']:.3f}",
                  f"{s['probability']:+.3f}")
    console.print(t)
    if not res["determined"] and res["score"] is not None:
        last = res["waterfall"][-1]["probability_after"] if res["waterfall"] else None
        console.print(f"[dim]Les critères inconnus entrent au milieu de leur intervalle (probabilité "
                      f"{fmt(last)}) ; le score {res['score']:.3f} est la moyenne de la sigmoïde "
                      "entre les bornes / unknown criteria enter at their midpoint; the score is "
                      "the mean of the sigmoid between the bounds.[/]")
    for key, title in (("would_lower", "Ce qui ferait baisser le score / would lower it"),
                       ("would_raise", "Ce qui ferait monter le score / would raise it")):
        if not res[key]:
            continue
        console.print(f"[bold]{title}[/]")
        for ch in res[key]:
            ground = f" [dim](critère protégé : {esc(ch['protected_ground'])})[/]" if ch[
                "protected_ground"] else ""
            console.print(f"  • {esc(ch['label_fr'])} : {esc(ch['from_fr'])} → {esc(ch['to_fr'])} : "
                          f"{res['score']:.3f} → {ch['score']:.3f} ({ch['delta']:+.3f}){ground}")

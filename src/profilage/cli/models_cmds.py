"""`profilage models ...`: list and show scoring models with their provenance."""

from __future__ import annotations

import typer
from rich.table import Table

from profilage.cli.common import STATUS_FR, console, esc, print_json, provenance_banner

app = typer.Typer(help="Modèles de score / scoring models.", no_args_is_help=True)


def model_to_json(m) -> dict:
    """The ``models show --json`` contract (same data as ``models export --format json``)."""
    from profilage.models.export import model_to_json_dict

    return model_to_json_dict(m)


@app.command("list")
def list_models(json_out: bool = typer.Option(False, "--json", help="Sortie JSON.")) -> None:
    """Liste les modèles fournis / list shipped models."""
    from profilage.models import available_models, load_model

    models = [load_model(i) for i in available_models()]
    if json_out:
        print_json([{"id": m.id, "institution": m.institution, "title": m.title,
                     "coefficients_status": m.coefficients_status()} for m in models])
        return
    t = Table(title="Modèles / models")
    for col in ("id", "institution", "titre / title", "années", "coefficients"):
        t.add_column(col)
    for m in models:
        counts = ", ".join(f"{n} {STATUS_FR[s]}" for s, n in m.coefficients_status().items() if n)
        years = f"{m.years_in_use[0] or '?'}–{m.years_in_use[1] or ''}"
        t.add_row(esc(m.id), esc(m.institution), esc(m.title), esc(years), counts)
    console.print(t)


@app.command("show")
def show(model: str = typer.Argument(..., help="Id ou chemin .toml."),
         json_out: bool = typer.Option(False, "--json", help="Sortie JSON.")) -> None:
    """Critères, modalités, coefficients et provenance / criteria with provenance."""
    from profilage.models import load_model

    m = load_model(model)
    if json_out:
        print_json(model_to_json(m))
        return
    info = {"id": m.id, "institution": m.institution, "sha256": m.sha256,
            "coefficients_status": m.coefficients_status()}
    console.print(f"[bold]{esc(m.title)}[/]\n{esc(m.title_en)}")
    console.print(provenance_banner(info))
    if m.notes:
        console.print(f"[dim]{esc(m.notes)}[/]")
    missing = m.raw.get("missing") if isinstance(m.raw, dict) else None
    if isinstance(missing, dict):
        mode = ("comme la source / as the source evaluator" if missing.get("unknown") ==
                "as-source" else "intervalle / interval (profilage)")
        console.print(f"Entrée inconnue / unknown input : {mode}. "
                      f"[dim]Source : {esc(missing.get('source', ''))}[/]")
    t = Table(title=f"{esc(m.id)} — cible / target : {esc(m.target)}", show_lines=True)
    for col in ("critère", "modalité", "coef.", "statut", "critère protégé", "source"):
        t.add_column(col, overflow="fold")
    iv = "—" if m.intercept.value is None else f"{m.intercept.value:+.4f}"
    t.add_row("constante / intercept", "", iv, STATUS_FR[m.intercept.status], "",
              esc(m.intercept.source))
    for c in m.criteria:
        for i, mod in enumerate(c.modalities):
            coef = mod.coefficient
            v = f"{coef.value:+.4f}" if coef.known else (
                f"[{coef.low:g}, {coef.high:g}]" if coef.low > float("-inf") else "?")
            t.add_row(esc(c.label_fr) if i == 0 else "", esc(f"{mod.label_fr} ({mod.describe()})"),
                      esc(v), STATUS_FR[coef.status], (c.protected_ground or "") if i == 0 else "",
                      esc(coef.source))
    for c in m.redacted:
        t.add_row(esc(c.label_fr), "—", "—", STATUS_FR["redacted"], "", esc(c.source))
    console.print(t)


def _write_atomic(out, text: str) -> None:
    """Write a file through a temporary sibling and a rename: never a half-written output."""
    from pathlib import Path

    out = Path(out)
    if out.parent and not out.parent.exists():
        from profilage.errors import ProfilageError

        raise ProfilageError(f"directory {str(out.parent)!r} does not exist", field="--out")
    if out.is_dir():
        from profilage.errors import ProfilageError

        raise ProfilageError("is a directory, expected a file path", field="--out")
    tmp = out.with_name(out.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)


EXPORT_FORMATS = ("pmml", "csv", "json")
IMPORT_FORMATS = ("pmml", "csv", "odds-ratios", "points")


def export_text(m, fmt: str) -> str:
    """A model in one of the export formats, as text."""
    import json

    if fmt == "json":
        from profilage.models.export import model_to_json_dict

        return json.dumps(model_to_json_dict(m), ensure_ascii=False, indent=2,
                          allow_nan=False) + "\n"
    if fmt == "csv":
        from profilage.models.tables import model_to_csv

        return model_to_csv(m)
    from profilage.models.pmml import model_to_pmml

    return model_to_pmml(m)


@app.command("export")
def export(model: str = typer.Argument(..., help="Id ou chemin .toml / id or path."),
           fmt: str = typer.Option(..., "--format", "-f",
                                   help="Format : " + " | ".join(EXPORT_FORMATS)),
           out: str = typer.Option(None, "--out", "-o", help="Fichier de sortie (défaut : "
                                   "sortie standard) / output file (default: stdout).")) -> None:
    """Exporte un modèle (PMML 4.4, CSV, JSON) / export a model."""
    import sys

    from profilage.errors import ProfilageError
    from profilage.models import load_model

    if fmt not in EXPORT_FORMATS:
        raise ProfilageError(f"unknown format {fmt!r} (expected one of "
                             f"{', '.join(EXPORT_FORMATS)})", field="--format")
    m = load_model(model)
    text = export_text(m, fmt)
    if out is None:
        sys.stdout.write(text)
        return
    _write_atomic(out, text)
    console.print(f"{m.id} → {out} ({fmt})")


@app.command("import")
def import_(
    path: str = typer.Argument(..., help="Fichier à importer / file to import."),
    fmt: str = typer.Option(..., "--format", "-f", help=" | ".join(IMPORT_FORMATS)),
    model_id: str = typer.Option(..., "--id", help="Id du nouveau modèle / new model id."),
    source: str = typer.Option(..., "--source", help="D'où viennent les coefficients / where "
                               "the numbers come from (kept on every coefficient)."),
    out: str = typer.Option(None, "--out", "-o", help="TOML de sortie (défaut : ID.toml)."),
    mapping: list[str] = typer.Option(None, "--map", help="CHAMP=variable (répétable) ou CSV "
                                      "field,feature / FIELD=feature or a CSV file."),
    declare_unknown: bool = typer.Option(False, "--declare-unknown", help="Garder les champs "
                                         "inconnus comme variables du modèle / keep unknown "
                                         "fields as model inputs."),
    title: str = typer.Option(None, "--title"),
    institution: str = typer.Option(None, "--institution"),
    target: str = typer.Option(None, "--target", help="Cible du modèle / what it predicts."),
    target_category: str = typer.Option(None, "--target-category", help="PMML : catégorie "
                                        "dont le score est la probabilité / PMML event category."),
    unknown: str = typer.Option("interval", "--unknown", help="PMML : entrée inconnue = "
                                "intervalle (profilage) ou 'as-source' (comme l'évaluateur PMML : "
                                "0 ou pas de score) / unknown input: interval or as-source."),
    pdo: float = typer.Option(None, "--pdo", help="Points : points pour doubler la cote."),
    base_points: float = typer.Option(None, "--base-points", help="Points : score de base."),
    base_odds: float = typer.Option(None, "--base-odds", help="Points : cote au score de base."),
    points_odds: str = typer.Option("bad", "--points-odds", help="Points : 'bad' (les points "
                                    "montent avec le risque) ou 'good' (crédit)."),
) -> None:
    """Importe une table de coefficients (PMML, CSV, rapports des cotes, points) en TOML."""
    from pathlib import Path

    from profilage.errors import ProfilageError
    from profilage.models.build import FeatureMap, write_toml

    if fmt not in IMPORT_FORMATS:
        raise ProfilageError(f"unknown format {fmt!r} (expected one of "
                             f"{', '.join(IMPORT_FORMATS)})", field="--format")
    if unknown not in ("interval", "as-source"):
        raise ProfilageError(f"{unknown!r}: expected interval or as-source", field="--unknown")
    if unknown != "interval" and fmt != "pmml":
        raise ProfilageError("as-source applies to PMML files (a table says nothing of its "
                             "source's missing values)", field="--unknown")
    fmap = FeatureMap.from_options(mapping, declare_unknown=declare_unknown)
    common = dict(model_id=model_id, source=source, fmap=fmap, title=title,
                  institution=institution, target=target)
    if fmt == "pmml":
        from profilage.models.pmml import import_pmml

        doc, m = import_pmml(path, target_category=target_category, unknown=unknown, **common)
    else:
        from profilage.models.tables import import_table

        doc, m = import_table(path, fmt=fmt, pdo=pdo, base_points=base_points,
                              base_odds=base_odds, points_odds=points_odds, **common)
    dest = write_toml(doc, out or f"{model_id}.toml")
    counts = ", ".join(f"{n} {STATUS_FR[s]}" for s, n in m.coefficients_status().items() if n)
    console.print(f"{m.id} : {len(m.criteria)} critères, {counts} → {dest}")
    console.print(f"[dim]Utiliser / use: profilage score DOSSIER --model {Path(dest)}[/]")


@app.command("diff")
def diff(a: str = typer.Argument(..., help="Modèle de départ / from (id ou .toml)."),
         b: str = typer.Argument(..., help="Modèle d'arrivée / to (id ou .toml)."),
         json_out: bool = typer.Option(False, "--json", help="Sortie JSON.")) -> None:
    """Écarts entre deux versions : critères, coefficients, critères protégés / model diff."""
    from profilage.models import load_model
    from profilage.models.diff import diff_models, render_diff

    d = diff_models(load_model(a), load_model(b))
    if json_out:
        print_json(d)
        return
    for line in render_diff(d):
        console.print(line)


@app.command("ranges")
def ranges(model: str = typer.Argument(..., help="Modèle aux coefficients inconnus."),
           table: str = typer.Argument(..., help="CSV criterion,modality,min,max."),
           out: str = typer.Option(..., "--out", "-o", help="TOML de sortie / output TOML."),
           model_id: str = typer.Option(None, "--id", help="Id du modèle produit."),
           source: str = typer.Option(None, "--source", help="D'où viennent les fourchettes.")
           ) -> None:
    """Applique des fourchettes aux coefficients inconnus (bornes de score) / apply ranges."""
    from profilage.models import load_model
    from profilage.models.build import finish, write_toml
    from profilage.models.ranges import apply_ranges

    m = load_model(model)
    doc = apply_ranges(m, table, model_id=model_id, source=source)
    finish(doc, source=table)
    dest = write_toml(doc, out)
    console.print(f"{doc['id']} → {dest} (coefficients toujours « inconnu », avec fourchettes)")
    console.print(f"[dim]Utiliser / use: profilage score DOSSIER --model {dest}[/]")


@app.command("check")
def check(model: str = typer.Argument(..., help="Id ou chemin .toml."),
          against: str = typer.Option(None, "--against", help="Faits d'une autre famille (ex. "
                                      "cnaf-2014 pour une table importée)."),
          json_out: bool = typer.Option(False, "--json", help="Sortie JSON.")) -> None:
    """Vérifie les faits publiés qu'un modèle doit respecter / check published facts.

    Code de sortie 1 si un fait ne tient pas / exit code 1 when a fact does not hold."""
    from profilage.models import load_model
    from profilage.models.facts import check_model

    m = load_model(model)
    rows = check_model(m, against)
    if json_out:
        print_json({"model": m.id, "facts": rows})
    else:
        if not rows:
            console.print(f"{m.id} : aucun fait publié déclaré / no published facts declared "
                          "(--against FAMILLE pour en vérifier)")
        t = Table(title=f"{m.id} — faits publiés / published facts")
        for col in ("fait", "énoncé", "tient ?", "détail", "source"):
            t.add_column(col, overflow="fold")
        mark = {True: "[green]oui ✓[/]", False: "[red]NON ✗[/]", None: "[yellow]indéterminé[/]"}
        for r in rows:
            t.add_row(r["fact"], r["text"], mark[r["holds"]], r["detail"], r["source"])
        if rows:
            console.print(t)
    if any(r["holds"] is False for r in rows):
        import sys

        sys.exit(1)  # a fact does not hold (SystemExit: the CLI wrapper keeps the code)


@app.command("ensemble")
def ensemble(model: str = typer.Argument(..., help="Id du modèle (ex. cnaf-2014)."),
             json_out: bool = typer.Option(False, "--json", help="Sortie JSON (manifeste)."),
             export_dir: str = typer.Option(None, "--export", help="Dossier : chaque membre en "
                                            "modèle TOML complet / write each member as a TOML.")
             ) -> None:
    """Ensemble de reconstructions compatibles avec les faits publiés / ensemble of
    reconstructions: size, method, range of each coefficient; export of every member."""
    from pathlib import Path

    import numpy as np

    from profilage.audit.ensemble import resolve_ensemble
    from profilage.errors import ProfilageError

    ens = resolve_ensemble(model)
    if export_dir is not None:
        d = Path(export_dir)
        if d.exists() and not d.is_dir():
            raise ProfilageError("expected a directory, found a file", field="--export",
                                 source=str(d))
        try:
            d.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ProfilageError(f"cannot create directory: {e.strerror}", field="--export",
                                 source=str(d)) from None
        for i, mid in enumerate(ens.member_ids):
            tmp = d / f"{mid}.toml.part"
            tmp.write_text(ens.member_toml(i), encoding="utf-8")
            tmp.replace(d / f"{mid}.toml")
    if json_out:
        print_json(ens.manifest())
        return
    base = ens.base()
    console.print(provenance_banner({"id": base.id, "institution": base.institution,
                                     "sha256": base.sha256,
                                     "coefficients_status": base.coefficients_status()}))
    console.print(f"[bold]Ensemble de reconstructions de {ens.model}[/] : {ens.size} membres, "
                  f"graine {ens.seed}, faits vérifiés : {', '.join(ens.facts)}")
    console.print(f"Méthode : {ens.method}")
    t = Table(title="Coefficients qui varient : plage sur les membres (log-odds)",
              title_justify="left")
    for col in ("Coefficient", "Modèle ponctuel", "min", "médiane", "max", "Signe"):
        t.add_column(col, overflow="fold", justify="left" if col == "Coefficient" else "right")
    for j, key in enumerate(ens.keys):
        col = ens.matrix[:, j]
        if key == "intercept":
            label, point = "constante / intercept", base.intercept.value
        else:
            cid, mid = key.split(".", 1)
            c = base.criterion(cid)
            mod = c.modality(mid)
            label, point = f"{c.label_fr} : {mod.label_fr}", mod.coefficient.value
        sign = "toujours +" if (col > 0).all() else "toujours −" if (col < 0).all() else "variable"
        t.add_row(label, "—" if point is None else f"{point:+.3f}", f"{np.min(col):+.3f}",
                  f"{np.median(col):+.3f}", f"{np.max(col):+.3f}", sign)
    console.print(t)
    console.print("[dim]Coefficients reconstruits, NON officiels ; les autres gardent la valeur du "
                  "modèle ponctuel (modalités de référence à 0).[/]")
    if export_dir is not None:
        console.print(f"→ {ens.size} modèles TOML dans {export_dir}")

"""`profilage models ...`: list and show scoring models with their provenance."""

from __future__ import annotations

import typer
from rich.table import Table

from profilage.cli.common import STATUS_FR, console, print_json, provenance_banner

app = typer.Typer(help="Modèles de score / scoring models.", no_args_is_help=True)


def model_to_json(m) -> dict:
    """The ``models show --json`` contract."""
    def coef(c):
        return {"value": c.value, "status": c.status, "source": c.source,
                "low": c.low, "high": c.high}

    crits = []
    for c in m.criteria:
        mods = []
        for mod in c.modalities:
            entry = {"id": mod.id, "label": mod.label_fr, "label_fr": mod.label_fr,
                     "label_en": mod.label_en, "kind": mod.kind,
                     "coefficient": mod.coefficient.value, "status": mod.coefficient.status,
                     "source": mod.coefficient.source}
            if mod.kind == "category":
                entry["value"] = mod.value
            elif mod.kind == "bin":
                entry["min"], entry["max"] = mod.min, mod.max
            if not mod.coefficient.known:
                entry["coefficient_min"] = mod.coefficient.low
                entry["coefficient_max"] = mod.coefficient.high
            mods.append(entry)
        crits.append({"id": c.id, "label_fr": c.label_fr, "label_en": c.label_en,
                      "feature": c.feature, "kind": c.kind, "presence": c.presence,
                      "protected_ground": c.protected_ground, "precarity": c.precarity,
                      "exponent": c.exponent if c.kind == "numeric" else None,
                      "notes": c.notes, "modalities": mods})
    return {"id": m.id, "institution": m.institution, "title": m.title, "title_en": m.title_en,
            "years_in_use": list(m.years_in_use), "target": m.target, "sha256": m.sha256,
            "notes": m.notes, "coefficients_status": m.coefficients_status(),
            "intercept": coef(m.intercept), "criteria": crits,
            "redacted": [{"id": c.id, "label_fr": c.label_fr, "label_en": c.label_en,
                          "status": "redacted", "source": c.source} for c in m.redacted]}


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
        t.add_row(m.id, m.institution, m.title, years, counts)
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
    console.print(f"[bold]{m.title}[/]\n{m.title_en}")
    console.print(provenance_banner(info))
    if m.notes:
        console.print(f"[dim]{m.notes}[/]")
    t = Table(title=f"{m.id} — cible / target : {m.target}", show_lines=True)
    for col in ("critère", "modalité", "coef.", "statut", "critère protégé", "source"):
        t.add_column(col, overflow="fold")
    iv = "—" if m.intercept.value is None else f"{m.intercept.value:+.4f}"
    t.add_row("constante / intercept", "", iv, STATUS_FR[m.intercept.status], "",
              m.intercept.source)
    for c in m.criteria:
        for i, mod in enumerate(c.modalities):
            coef = mod.coefficient
            v = f"{coef.value:+.4f}" if coef.known else (
                f"[{coef.low:g}, {coef.high:g}]" if coef.low > float("-inf") else "?")
            t.add_row(c.label_fr if i == 0 else "", f"{mod.label_fr} ({mod.describe()})", v,
                      STATUS_FR[coef.status], (c.protected_ground or "") if i == 0 else "",
                      coef.source)
    for c in m.redacted:
        t.add_row(c.label_fr, "—", "—", STATUS_FR["redacted"], "", c.source)
    console.print(t)

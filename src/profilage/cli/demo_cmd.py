"""`profilage demo`: the main job a new user runs first.

1. scores the example households (Le Monde's Nathalie, Michel, Abel...);
2. generates a synthetic population of beneficiary households (calibrated on public figures);
3. imports it into the embedded DuckDB store and scores one month there, atomically;
4. audits whom the model sends controllers to under the CNAF's control budget (scaled).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import typer
from rich.table import Table

from profilage.cli.common import console, err_console, provenance_banner

FAMILLES = {"personne_seule": "personne seule", "couple_sans_enfant": "couple sans enfant",
            "couple_avec_enfants": "couple avec enfants", "monoparentale": "famille monoparentale"}


def demo(model: str = typer.Option("cnaf-2014", "--model", "-m", help="Id ou chemin .toml."),
         households: int = typer.Option(200_000, "--households", "-n", min=1_000,
                                        help="Taille de la population synthétique."),
         seed: int = typer.Option(0, "--seed"),
         month: str = typer.Option("2024-03", "--month", help="Mois noté / month scored."),
         store: Path = typer.Option(Path("profilage.duckdb"), "--store",
                                    help="Base DuckDB embarquée / embedded store."),
         ) -> None:
    """Note les foyers d'exemple, puis une population dans la base embarquée, et l'audite /
    score the example households, then a population in the embedded store, and audit it."""
    from profilage.personas import available_personas
    from profilage.scoring import score_dossier

    results = [(n, score_dossier(n, model)) for n in available_personas()]
    results = [(n, r) for n, r in results if r["score"] is not None]
    console.print(provenance_banner(results[0][1]["model"]))
    t = Table(title=f"1. Personas — score de risque / risk score ({model})")
    for col in ("persona", "nom", "score", "bornes / bounds", "déterminé"):
        t.add_column(col)
    for n, r in sorted(results, key=lambda x: -(x[1]["score"] or 0)):
        t.add_row(n, r["dossier"] or "", f"{r['score']:.3f}",
                  f"[{r['score_low']:.3f}, {r['score_high']:.3f}]",
                  "oui" if r["determined"] else "non (moyenne bornée)")
    console.print(t)
    _population_job(model, households, seed, month, store)


def _population_job(model: str, households: int, seed: int, month: str, store: Path) -> None:
    from rich.progress import Progress

    from profilage.audit import run_audit
    from profilage.population import generate_population
    from profilage.store import add_population, open_store, run_month

    name = f"demo-{households}-s{seed}"
    with Progress(console=err_console, transient=True,
                  disable=not err_console.is_terminal) as prog:
        task = prog.add_task("Population synthétique / synthetic population", total=4)
        pop = generate_population(households, seed)
        prog.advance(task)
        con = open_store(store, create=True)
        try:
            known = {r[0] for r in con.execute("SELECT name FROM populations").fetchall()}
            with tempfile.TemporaryDirectory() as tmp:
                if name not in known:
                    f = Path(tmp) / f"{name}.parquet"
                    pop.write_parquet(f)
                    add_population(con, f, name)
            prog.advance(task)
            run = run_month(con, month, model, population=name, replace=True)
            prog.advance(task)
        finally:
            con.close()
        res = run_audit(pop, model, by=["famille_type"])
        prog.advance(task)
    console.print(f"\n2. {households:,} foyers synthétiques (graine {seed}) → base "
                  f"[bold]{store}[/] ; mois {month} noté en une transaction "
                  f"(run {run.get('run_id', '?')}, {run.get('scored', households):,} scores).")
    d = res.as_dict()
    b = d["budget"]
    t = Table(title=f"3. Qui est contrôlé ? / who is controlled? — {b['selected']:,} contrôles "
                    "ce mois (budget CNAF 2024 ramené à la population)")
    for col in ("type de famille", "foyers", "part des foyers", "part des contrôlés",
                "taux de sélection", "ratio au taux global"):
        t.add_column(col, justify="right" if col != "type de famille" else "left",
                     no_wrap=col == "type de famille")
    for g in d["groups"]:
        if g["by"] != "famille_type":
            continue
        t.add_row(FAMILLES.get(str(g["group"]), str(g["group"])), f"{g['households']:,}",
                  f"{g['population_share']:.1%}",
                  f"{g['selected_share']:.1%}", f"{g['selection_rate']:.2%}",
                  f"{g['ratio_to_overall']:.2f}")
    console.print(t)
    console.print("Suite / next: [bold]profilage audit --population …[/], "
                  "[bold]profilage history ID --store …[/], [bold]profilage serve[/] "
                  "(voir README).")

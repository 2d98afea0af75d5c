"""`profilage store ...`, `run`, `retention ...`, `history`: the embedded DuckDB store."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import typer
from rich.table import Table

from profilage.cli.common import console, err_console, esc, fmt, print_json, progress_bar
from profilage.errors import ProfilageError

DEFAULT_STORE = "profilage.duckdb"  # = profilage.store.DEFAULT_STORE (not imported: CLI start-up)
STORE_OPT = typer.Option(DEFAULT_STORE, "--store", help="Fichier DuckDB / store file.")

store_app = typer.Typer(help="Base embarquée DuckDB / embedded store.", no_args_is_help=True)
retention_app = typer.Typer(help="Durée de conservation (6 ans) / retention.", no_args_is_help=True)


@store_app.command("add-population")
def add_population(
    file: Path = typer.Argument(..., help="Population (Parquet/CSV, avec household_id)."),
    name: str = typer.Option(None, "--name", help="Nom (défaut : nom du fichier)."),
    store: Path = STORE_OPT,
) -> None:
    """Ajoute une population au store / import a population into the store."""
    from profilage.store import add_population as add
    from profilage.store import open_store

    con = open_store(store, create=True)
    try:
        with progress_bar("Import", 100, enabled=err_console.is_terminal, percent=True) as advance:
            seen = [0]

            def step(fraction: float) -> None:  # DuckDB's progress on the import (0..1)
                pct = int(100 * fraction)
                if pct > seen[0]:
                    advance(pct - seen[0])
                    seen[0] = pct

            r = add(con, file, name, on_progress=step if err_console.is_terminal else None)
    finally:
        con.close()
    console.print(f"Population [bold]{esc(r['population'])}[/] : {r['households']} foyers / "
                  f"households (sha256 {r['hash'][:12]}) → {esc(store)}")


def population_import(
    file: Path = typer.Argument(..., help="Population (Parquet/CSV, avec household_id)."),
    name: str = typer.Option(None, "--name", help="Nom (défaut : nom du fichier)."),
    store: Path = STORE_OPT,
) -> None:
    """Importe la population dans le store / import into the store (= store add-population)."""
    add_population(file, name, store)


@store_app.command("info")
def info(store: Path = STORE_OPT, json_out: bool = typer.Option(False, "--json")) -> None:
    """Populations et exécutions mensuelles / populations and monthly runs."""
    from profilage.store import open_store, store_info

    con = open_store(store)
    try:
        r = store_info(con)
    finally:
        con.close()
    if json_out:
        print_json(r)
        return
    t = Table(title=f"Populations — {store}")
    for c in ("nom", "foyers", "sha256", "source"):
        t.add_column(c)
    for p in r["populations"]:
        t.add_row(esc(p["name"]), str(p["households"]), p["hash"][:12], esc(p["source"] or ""))
    console.print(t)
    t = Table(title="Exécutions / runs")
    for c in ("run", "mois", "population", "modèle", "sha256", "statut", "foyers", "déterminés"):
        t.add_column(c)
    for x in r["runs"]:
        t.add_row(str(x["run_id"]), f"{x['month']:%Y-%m}", esc(x["population"]), esc(x["model_id"]),
                  x["model_sha256"][:12], x["status"], str(x["households"]), str(x["determined"]))
    console.print(t)
    console.print(f"{r['scores']} scores archivés / archived scores; {r['holds']} gel(s) "
                  f"contentieux / litigation holds; {r['relationships_ended']} fin(s) de relation")


def run(
    month: str = typer.Option(..., "--month", help="Mois AAAA-MM / month YYYY-MM."),
    model: str = typer.Option("cnaf-2014", "--model", help="Modèle / model id or path."),
    population: str = typer.Option(None, "--population", help="Population du store."),
    replace: bool = typer.Option(False, "--replace",
                                 help="Recalcule un mois déjà noté / redo a scored month."),
    store: Path = STORE_OPT,
    chunk: int = typer.Option(500_000, "--chunk", min=1,
                              help="Foyers par lot (mémoire) ; la transaction reste unique."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Note tous les foyers pour un mois, en une transaction / score a month atomically."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from profilage.store import open_store, run_month

    con = open_store(store)
    interactive = err_console.is_terminal
    try:
        with Progress("[progress.description]{task.description}", BarColumn(),
                      MofNCompleteColumn(), TimeElapsedColumn(), console=err_console,
                      disable=not interactive) as prog:
            task = prog.add_task(f"Mois {month}", total=None)

            def step(done: int, total: int) -> None:
                prog.update(task, completed=done, total=total)
                if not interactive:  # one plain line per chunk (logs, tests)
                    sys.stderr.write(f"lot / chunk: {done}/{total}\n")
                    sys.stderr.flush()

            r = run_month(con, month, model, population=population, replace=replace,
                          chunk=chunk, on_chunk=step)
    finally:
        con.close()
    if json_out:
        print_json(r)
        return
    extra = f" (remplace l'exécution {r['replaced_run']})" if r["replaced_run"] else ""
    console.print(f"Exécution / run {r['run_id']} : {r['month']}, {r['population']}, {r['model']} "
                  f"(sha256 {r['model_sha256'][:12]}) — {r['households']} foyers notés / scored, "
                  f"{r['determined']} déterminés{extra}")


@retention_app.command("apply")
def retention_apply(
    as_of: str = typer.Option(None, "--as-of", help="Date AAAA-MM-JJ (défaut : aujourd'hui)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Montre sans supprimer."),
    store: Path = STORE_OPT,
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Supprime les données du foyer 6 ans après la fin de la relation, sauf contentieux / apply
    retention (scores, dossier, fin de relation; the file is then compacted)."""
    from profilage.store import apply_retention, compact_store, open_store

    date = _date(as_of, "--as-of") if as_of else None
    con = open_store(store)
    try:
        r = apply_retention(con, date, dry_run=dry_run)
    finally:
        con.close()
    if not dry_run and r["households"]:
        compact_store(store)  # the deleted rows' bytes leave the file
    if json_out:
        print_json(r)
        return
    verb = "seraient supprimés / would be deleted" if dry_run else "supprimés / deleted"
    console.print(f"Au / as of {r['as_of']} : {r['scores_deleted']} scores de {r['households']} "
                  f"foyers {verb} (fin de relation il y a plus de {r['retention_years']} ans); "
                  f"{len(r['kept_under_hold'])} foyers conservés pour contentieux / kept under hold")
    if r["removed"]:
        t = Table(title="Supprimés / removed")
        for c in ("population", "foyer", "fin de relation", "scores"):
            t.add_column(c)
        for x in r["removed"][:50]:
            t.add_row(x["population"], str(x["household_id"]), x["ended_on"], str(x["scores"]))
        if len(r["removed"]) > 50:
            t.add_row("…", f"+{len(r['removed']) - 50}", "", "")
        console.print(t)


@retention_app.command("hold")
def retention_hold(
    household_id: int = typer.Argument(..., help="household_id"),
    reason: str = typer.Option("", "--reason", help="Motif / reason."),
    release: bool = typer.Option(False, "--release", help="Lève le gel / release the hold."),
    population: str = typer.Option(None, "--population"),
    store: Path = STORE_OPT,
) -> None:
    """Gel pour contentieux : les scores sont conservés / litigation hold."""
    from profilage.store import open_store, set_hold

    con = open_store(store)
    try:
        held = set_hold(con, household_id, reason, population, release=release)
    finally:
        con.close()
    console.print(f"Foyer {household_id} : " + ("gel contentieux en place / hold placed" if held
                                                else "gel levé / hold released"))


@retention_app.command("end")
def retention_end(
    household_id: int = typer.Argument(..., help="household_id"),
    date: str = typer.Argument(..., help="Fin de la relation AAAA-MM-JJ / end of relationship."),
    population: str = typer.Option(None, "--population"),
    store: Path = STORE_OPT,
) -> None:
    """Enregistre la fin de la relation avec la CAF / record the end of the relationship."""
    from profilage.store import open_store, set_relationship_end

    d = _date(date, "DATE")
    con = open_store(store)
    try:
        set_relationship_end(con, household_id, d, population)
    finally:
        con.close()
    console.print(f"Foyer {household_id} : fin de relation / relationship ended {d.isoformat()}")


def history(
    household_id: int = typer.Argument(..., help="household_id"),
    population: str = typer.Option(None, "--population"),
    store: Path = STORE_OPT,
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Scores d'un foyer au fil des mois / a household's scores over time."""
    from profilage.store import history as hist
    from profilage.store import open_store

    con = open_store(store)
    try:
        df = hist(con, household_id, population)
    finally:
        con.close()
    if json_out:
        print_json({"household_id": household_id, "scores": [
            {**r, "month": f"{r['month']:%Y-%m}"} for r in df.iter_rows(named=True)]})
        return
    if df.height == 0:
        console.print(f"Aucun score archivé pour le foyer {household_id} / no archived score")
        return
    t = Table(title=f"Foyer / household {household_id}")
    for c in ("mois", "population", "modèle", "score", "bornes / bounds", "run"):
        t.add_column(c)
    for r in df.iter_rows(named=True):
        t.add_row(f"{r['month']:%Y-%m}", r["population"], r["model_id"], fmt(r["score"]),
                  f"[{fmt(r['score_low'])}, {fmt(r['score_high'])}]", str(r["run_id"]))
    console.print(t)


def _date(s: str, field: str) -> dt.date:
    from profilage.dates import check_month

    try:
        d = dt.date.fromisoformat(s)
    except ValueError:
        raise ProfilageError(f"date must be YYYY-MM-DD, got {s!r}", field=field) from None
    return check_month(d, field)


def bench(
    households: int = typer.Option(1_000_000, "--households", min=1000, help="Foyers / households."),
    seed: int = typer.Option(0, "--seed"),
    model: str = typer.Option("cnaf-2014", "--model"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Moteur vs scikit-learn vs DuckDB SQL vs plancher numpy / engine benchmark."""
    from profilage.bench import run_bench

    r = run_bench(households, seed=seed, model=model,
                  log=None if json_out else (lambda s: err_console.print(s, markup=False)))
    if json_out:
        print_json(r)
        return
    t = Table(title=f"{r['households']} foyers / households — {r['model']} ({r['cpus']} CPU)")
    for c in ("moteur / engine", "secondes", "pic mémoire (Mo)", "écart max. au moteur"):
        t.add_column(c)
    for k, label in (("engine", "profilage (Polars)"), ("sklearn", "scikit-learn predict_proba"),
                     ("duckdb", "DuckDB SQL"), ("numpy", "numpy (tableaux bruts / raw arrays)"),
                     ("fast", "profilage, voie rapide / fast path (codes)")):
        diff = r.get(f"{k}_max_diff")
        t.add_row(label, f"{r[f'{k}_s']:.2f}", f"{r[f'{k}_peak_rss_mb']:.0f}",
                  "—" if diff is None else f"{diff:.1e}")
    t.add_row("plancher / floor (gather brut sur les codes)", f"{r['floor_s']:.2f}", "",
              f"{r['floor_max_diff']:.1e}")
    console.print(t)
    console.print(f"one-hot encoding for scikit-learn: {r['sklearn_encode_s']:.2f} s, codes for "
                  f"the fast path: {r['fast_encode_s']:.2f} s (not in their times); features "
                  f"from dossiers: {r['features_s']:.1f} s; fast path vs scikit-learn: "
                  f"{r['fast_vs_sklearn']:.1f}x")
    if "audit_s" in r:
        line = (f"population file: read {r['read_s']:.2f} s; whole `profilage audit` process "
                f"{r['audit_s']:.2f} s ({r['audit_vs_read']:.1f}x the read)")
        if "audit_ensemble_s" in r:
            line += (f"; with --ensemble ({r['ensemble_size']} members) {r['audit_ensemble_s']:.2f}"
                     f" s ({r['audit_ensemble_vs_audit']:.1f}x)")
        console.print(line)

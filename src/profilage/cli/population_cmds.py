"""``profilage population ...``: generate and check the synthetic national population."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import typer

from profilage.cli.common import console, err_console, print_json, progress_bar
from profilage.errors import ProfilageError

app = typer.Typer(help="Population synthétique nationale / synthetic national population.",
                  no_args_is_help=True)


@app.command("generate")
def generate(
    households: int = typer.Option(..., "--households", "-n", help="Nombre de foyers."),
    seed: int = typer.Option(0, "--seed", help="Graine (même graine, mêmes foyers)."),
    out: Path = typer.Option(..., "--out", "-o", help="Fichier Parquet de sortie."),
    reference_month: str = typer.Option("2024-03", "--reference-month",
                                        help="Mois de référence YYYY-MM."),
    kind: str = typer.Option("caf", "--kind", help="caf (allocataires CAF) ou c2s (foyers "
                             "C2S gratuite, modèles CNAM)."),
    json_out: bool = typer.Option(False, "--json", help="Résumé JSON / JSON summary."),
) -> None:
    """Génère une population d'allocataires / generate a population of CAF (or C2S) households."""
    from profilage.population import iter_population
    from profilage.population.generator import parse_reference_month
    from profilage.tableio import write_parquet_atomic

    if households < 1:
        raise ProfilageError(f"expected a whole number >= 1, got {households}",
                             field="--households")
    if kind not in ("caf", "c2s"):
        raise ProfilageError(f"expected 'caf' or 'c2s', got {kind!r}", field="--kind")
    if seed < 0:
        raise ProfilageError(f"expected a whole number >= 0, got {seed}", field="--seed")
    try:
        parse_reference_month(reference_month)
    except ProfilageError as e:
        raise ProfilageError(e.message, field="--reference-month") from None
    t0 = time.perf_counter()
    # Two drawing threads ahead of the writer: the 2-core target of the benchmark.
    chunks = iter_population(households, seed, reference_month=reference_month, kind=kind,
                             workers=2)
    with progress_bar("Foyers / households", households,
                      enabled=not json_out and households >= 500_000) as advance:
        rows = write_parquet_atomic(chunks, out, on_rows=advance)
    elapsed = time.perf_counter() - t0
    summary = {"households": rows, "kind": kind, "seed": seed, "reference_month": reference_month,
               "out": str(out), "seconds": round(elapsed, 2)}
    if json_out:
        print_json(summary)
    else:
        console.print(f"{rows:,} foyers / households → {out} ({elapsed:.1f} s, graine / seed "
                      f"{seed})")


def _pct(x: float | None, kind_mean: bool = False) -> str:
    if x is None:
        return "—"
    return f"{x:.3f}" if kind_mean else f"{100 * x:.1f} %"


@app.command("report")
def report(
    file: Path = typer.Argument(..., help="Population Parquet (population generate)."),
    json_out: bool = typer.Option(False, "--json", help="Sortie JSON / JSON output."),
) -> None:
    """Chiffres publiés vs générés / published vs generated marginals (exit 1 if out of band)."""
    from rich.table import Table

    from profilage.population.report import family_report, population_report

    rep = population_report(file)
    fam = family_report(file) if rep["population"] == "caf" else None
    if json_out:
        print_json({"file": str(file), **rep, "ok": rep["ok"] and (fam is None or fam["ok"]),
                    **({"familles": fam} if fam else {})})
    else:
        what = "C2S gratuite" if rep["population"] == "c2s" else "allocataires CAF"
        t = Table(title=f"Population {file} ({what}) — {rep['households']:,} foyers / households")
        for col in ("statistique", "publié", "tolérance", "± éch.", "généré", "écart", "état"):
            t.add_column(col, justify="left" if col == "statistique" else "right")
        for r in rep["rows"]:
            mean = r["id"] == "personnes_par_foyer"
            tol = f"{_pct(r['min'], mean)}–{_pct(r['max'], mean)}"
            diff = r["difference"]
            diff_s = "—" if diff is None else (f"{diff:+.3f}" if mean else f"{100 * diff:+.1f} pt")
            state = "[green]OK[/]" if r["ok"] else "[red bold]HORS / OUT[/]"
            tag = {"calage": " [dim]calé[/]", "hypothese": " [yellow]hypothèse[/]"}
            t.add_row(f"{r['libelle_fr']} ({r['year']})" + tag.get(r["usage"], ""),
                      _pct(r["published"], mean), tol, _pct(r["sampling_margin"], mean),
                      _pct(r["generated"], mean), diff_s, state)
        console.print(t)
        console.print("[dim]Sources : data/population_marges.csv (colonne source). « calé » : "
                      "marge imposée par le calage ; « hypothèse » : notre choix, non publié ; "
                      "les autres sont des contrôles.[/]")
        if fam:
            _print_families(fam)
    rows = rep["rows"] + (fam["rows"] if fam else [])
    if not all(r["ok"] for r in rows):
        bad = ", ".join(r["id"] for r in rows if not r["ok"])
        err_console.print(f"hors tolérance / out of tolerance: {bad}", markup=False)
        # sys.exit, not typer.Exit: the entry point runs click with standalone_mode=False,
        # where typer.Exit's code would be returned, not used.
        sys.exit(1)


def _print_families(fam: dict) -> None:
    """Single parents vs the other family types: published vs generated, then the profile."""
    from rich.table import Table

    t = Table(title="Familles monoparentales et autres types de famille — publié vs généré / "
                    "single parents vs other family types")
    for col in ("famille", "statistique", "publié", "tolérance", "± éch.", "généré", "écart",
                "année", "état"):
        t.add_column(col, justify="left" if col in ("famille", "statistique") else "right")
    for r in fam["rows"]:
        mean = r["kind"] in ("mean", "ratio")
        diff = r["difference"]
        diff_s = "—" if diff is None else (f"{diff:+.2f}" if mean else f"{100 * diff:+.1f} pt")
        tag = " [dim]calé[/]" if r["usage"] == "calage" else ""
        t.add_row(r["famille_fr"], r["libelle_fr"] + tag, _num(r["published"], mean),
                  f"{_num(r['min'], mean)}–{_num(r['max'], mean)}",
                  _num(r["sampling_margin"], mean), _num(r["generated"], mean), diff_s,
                  str(r["year"]), "[green]OK[/]" if r["ok"] else "[red bold]HORS / OUT[/]")
    console.print(t)
    console.print("[dim]Sources : data/population_familles.csv (colonne source, une par ligne). "
                  "Bas revenus : ressources prestations comprises par UC CAF sous 1 097 € "
                  "(CNAF 2019), comme l'audit.[/]")
    p = Table(title="Profil généré par type de famille / generated profile by family type "
                    "(sans équivalent publié pour la plupart : montré, non vérifié)")
    p.add_column("statistique")
    from profilage.population.report import FAMILY_LABELS, PROFILE_STATS

    for f in fam["profile"]:
        p.add_column(FAMILY_LABELS[f], justify="right")
    for key, label, kind in PROFILE_STATS:
        cells = []
        for v in fam["profile"].values():
            x = v[key]
            cells.append("—" if x is None else f"{100 * x:.1f} %" if kind == "share"
                         else f"{x:,.0f} €" if kind == "euros" else f"{x:.1f}")
        p.add_row(label, *cells)
    console.print(p)
    console.print("[dim]Moins de 15 mois d'activité du foyer sur l'année est pénalisé, et « une "
                  "personne seule ne peut dépasser ce seuil » (seed 003) : personnes seules et "
                  "parents isolés y sont tous.[/]")


def _num(x: float | None, mean: bool) -> str:
    if x is None:
        return "—"
    return f"{x:.2f}" if mean else f"{100 * x:.1f} %"


@app.command("openfisca")
def openfisca(
    file: Path = typer.Argument(..., help="Population Parquet (population generate)."),
    sample: int = typer.Option(500, "--sample", help="Foyers tirés pour OpenFisca."),
    seed: int = typer.Option(0, "--seed", help="Graine du tirage de l'échantillon."),
    chunk: int = typer.Option(1000, "--chunk", help="Foyers par simulation (mémoire)."),
    json_out: bool = typer.Option(False, "--json", help="Sortie JSON / JSON output."),
) -> None:
    """Accord avec OpenFisca-France / agreement with OpenFisca-France on a sample."""
    from rich.table import Table

    from profilage.population.openfisca import agreement_report

    if sample < 1:
        raise ProfilageError(f"expected a whole number >= 1, got {sample}", field="--sample")
    if chunk < 1:
        raise ProfilageError(f"expected a whole number >= 1, got {chunk}", field="--chunk")
    from profilage.population.report import _source

    pop = _source(file).collect()
    rep = agreement_report(pop, sample=sample, seed=seed, chunk=chunk)
    if json_out:
        print_json({"file": str(file), **rep})
        return
    t = Table(title=f"Générateur vs OpenFisca-France {rep['openfisca_france']} — "
                    f"{rep['sample']} foyers, {rep['reference_month']}")
    for col in ("prestation", "générateur", "OpenFisca", "accord", "moy. gén.", "moy. OF",
                "écart méd."):
        t.add_column(col, justify="left" if col == "prestation" else "right")
    for r in rep["rows"]:
        def eur(x):
            return "—" if x is None else f"{x:,.0f} €"
        t.add_row(r["benefit"], f"{100 * r['generator_share']:.1f} %",
                  f"{100 * r['openfisca_share']:.1f} %", f"{100 * r['flag_agreement']:.1f} %",
                  eur(r["generator_mean_when_paid"]), eur(r["openfisca_mean_when_paid"]),
                  eur(r["median_abs_difference_both_paid"]))
    console.print(t)
    console.print(f"C2S gratuite (éligibilité OpenFisca) : "
                  f"{100 * rep['openfisca_c2s_gratuite_share']:.1f} % — {rep['seconds']:.1f} s. "
                  "[dim]Le générateur calibre les parts sur les chiffres publiés (non-recours "
                  "compris) ; OpenFisca donne le droit théorique. Parts : foyers qui la "
                  "perçoivent ; accord : même réponse versée / non versée ; moyennes parmi les "
                  "foyers payés ; écart médian parmi ceux payés des deux côtés.[/]")

"""`profilage audit` (group table under a control budget) and its sub-commands, and
`profilage experiment FILE.toml`."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.table import Table

from profilage.cli.common import console, err_console, fmt, print_json, provenance_banner
from profilage.errors import ProfilageError

app = typer.Typer(help="Audit d'une population : qui est contrôlé, à quel taux, par quels "
                       "critères / audit a population under a control budget.",
                  invoke_without_command=True, no_args_is_help=False)


@contextmanager
def steps(total: int):
    """A Rich progress bar on stderr over the audit's named steps."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True,
                  disable=not err_console.is_terminal) as bar:
        task = bar.add_task("audit", total=total)

        def step(desc: str) -> None:
            bar.update(task, description=desc)
            bar.advance(task)

        yield step


def write_atomic(path: Path, writer) -> None:
    """Write through a temporary file renamed at the end: never a half-written output."""
    tmp = path.with_name(path.name + ".part")
    writer(tmp)
    tmp.replace(path)


def _out_dir(out: Path | None) -> Path | None:
    if out is None:
        return None
    if out.exists() and not out.is_dir():
        raise ProfilageError("expected a directory, found a file", field="--out", source=str(out))
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ProfilageError(f"cannot create directory: {e.strerror}", field="--out",
                             source=str(out)) from None
    return out


def _reference(spec: str | None) -> dict | None:
    if not spec:
        return None
    ref = {}
    for part in spec.split(";"):
        if "=" not in part:
            raise ProfilageError(f"expected GROUPING=GROUP, got {part!r}", field="--reference")
        k, v = part.split("=", 1)
        ref[k.strip()] = v.strip()
    return ref


def _pct(x: float | None, d: int = 1) -> str:
    return "—" if x is None else f"{100 * x:.{d}f} %"


def _ratio(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}"


def print_group_table(report: dict) -> None:
    by_groups: dict[str, list[dict]] = {}
    for g in report["groups"]:
        by_groups.setdefault(g["by"], []).append(g)
    from profilage.audit import BUILTIN_GROUPS

    for by, groups in by_groups.items():
        label = " × ".join(BUILTIN_GROUPS.get(c, (c, c))[0] for c in by.split(" × "))
        t = Table(title=f"{label} ({by}) — référence : {groups[0]['reference']}",
                  title_justify="left")
        for col in ("Groupe", "Foyers", "Contr.", "% pop.", "% contr.", "Taux [IC 95 %]",
                    "÷ réf.", "Score", "Top 10 %", "Hasard"):
            if col == "Groupe":
                t.add_column(col, overflow="fold", min_width=14)
            else:
                t.add_column(col, justify="right", overflow="fold")
        for g in groups:
            flag = {"haut": " ▲", "bas": " ▼"}.get(g["flag"] or "", "")
            t.add_row(g["group"], f"{g['households']:,}".replace(",", " "),
                      f"{g['selected']:,}".replace(",", " "), _pct(g["population_share"]),
                      _pct(g["selected_share"]),
                      f"{_pct(g['selection_rate'], 3)} [{_pct(g['ci_low'], 3)} ; "
                      f"{_pct(g['ci_high'], 3)}]",
                      _ratio(g["ratio_to_reference"]) + flag, fmt(g["mean_score"]),
                      _pct(g["top_decile_share"]), _pct(g["random_selection_rate"], 3))
        console.print(t)
    console.print("[dim]▲ ▼ : rapport au groupe de référence hors de [0,8 ; 1,25] (signal, pas "
                  "verdict : voir l'intervalle). Hasard : même nombre de contrôles tirés au "
                  "hasard / random baseline.[/]")


@app.callback()
def audit(
    ctx: typer.Context,
    model: str = typer.Option("cnaf-2014", "--model", "-m", help="Id ou chemin .toml."),
    population: Path = typer.Option(None, "--population", "-p",
                                    help="Population (Parquet ou CSV) / population table."),
    budget_per_month: int = typer.Option(None, "--budget-per-month",
                                         help="Contrôles par mois (défaut : 166 000/an à "
                                              "l'échelle) / controls per month."),
    share: float = typer.Option(None, "--share", help="Part des foyers contrôlés, dans (0, 1]."),
    threshold: float = typer.Option(None, "--threshold", help="Seuil de score / score threshold."),
    quota_by: str = typer.Option(None, "--quota-by", help="Quotas proportionnels (departement)."),
    by: str = typer.Option(None, "--by", help="Colonnes de groupes, séparées par des virgules "
                                              "(chacune et leur croisement)."),
    reference: str = typer.Option(None, "--reference",
                                  help="Groupe de référence : GROUPEMENT=GROUPE[;...]"),
    n_boot: int = typer.Option(200, "--bootstrap", help="Réplications du bootstrap."),
    seed: int = typer.Option(0, "--seed", help="Graine (bootstrap, tirage au hasard)."),
    json_out: bool = typer.Option(False, "--json", help="Sortie JSON."),
    out: Path = typer.Option(None, "--out", help="Dossier : selections.parquet, groupes."),
) -> None:
    """Audite une population sous un budget de contrôles / audit a population."""
    if ctx.invoked_subcommand is not None:
        return
    if population is None:
        raise ProfilageError("a population table is needed (profilage population generate ...)",
                             field="--population")
    if n_boot < 0:
        raise ProfilageError(f"expected a whole number >= 0, got {n_boot}", field="--bootstrap")
    from profilage.audit import read_population, run_audit

    out_dir = _out_dir(out)
    with steps(3) as step:
        step("Lecture / reading")
        pop = read_population(population)
        step("Notation, sélection / scoring, selecting")
        res = run_audit(pop, model, budget=budget_per_month, share=share, threshold=threshold,
                        quota_by=quota_by, by=by, reference=_reference(reference),
                        n_boot=n_boot, seed=seed)
        step("Écriture / writing")
        report = res.as_dict()
        if out_dir is not None:
            write_atomic(out_dir / "selections.parquet",
                         lambda p: res.selections_table().write_parquet(p))
            write_atomic(out_dir / "groups.parquet", lambda p: res.table.write_parquet(p))
            write_atomic(out_dir / "groups.csv", lambda p: res.table.write_csv(p))
            write_atomic(out_dir / "audit.json", lambda p: p.write_text(
                json.dumps(_strict(report), ensure_ascii=False, indent=2), encoding="utf-8"))
    if json_out:
        print_json(report)
        return
    m = report["model"]
    console.print(provenance_banner({**m, "institution": res.model.institution}))
    b = report["budget"]
    how = {"default_budget": "budget par défaut (CNAF 2024, 166 000 contrôles/an à l'échelle)",
           "budget": "budget fixé", "share": f"part {share}", "threshold": f"seuil {threshold}"}
    console.print(f"{b['households']:,} foyers, {b['selected']:,} contrôlés — {how[b['method']]}"
                  f"{' — quotas par ' + quota_by if quota_by else ''}; score minimal retenu : "
                  + ", ".join(f"{k[:7]} {fmt(v)}" for k, v in b["cutoff_score"].items()))
    print_group_table(report)
    if out_dir is not None:
        console.print(f"→ {out_dir}/selections.parquet, groups.parquet, groups.csv, audit.json")


def _strict(o):
    from profilage.cli.common import _clean

    return _clean(o)


"""`profilage audit` (group table under a control budget) and its sub-commands, and
`profilage experiment FILE.toml`."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

import typer

from profilage.cli.common import console, err_console, esc, fmt, print_json, provenance_banner
from profilage.errors import ProfilageError

app = typer.Typer(help="Audit d'une population : qui est contrôlé, à quel taux, par quels "
                       "critères / audit a population under a control budget.",
                  invoke_without_command=True, no_args_is_help=False)


@contextmanager
def steps(total: int):
    """A Rich progress bar on stderr over the audit's named steps (none, and Rich's progress
    module not even imported, when stderr is not a terminal)."""
    if not err_console.is_terminal:
        yield lambda desc: None
        return
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


def _table(**kwargs):
    """A Rich table (imported on first use: the JSON output needs none)."""
    from rich.table import Table

    return Table(**kwargs)


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
        t = _table(title=f"{label} ({by}) — référence : {groups[0]['reference']}",
                  title_justify="left")
        for col in ("Groupe", "Foyers", "Contr.", "% pop.", "% contr.", "Taux [IC 95 %]",
                    "÷ réf.", "Score", "Top 10 %", "Hasard"):
            if col == "Groupe":
                t.add_column(col, overflow="fold", min_width=14)
            else:
                t.add_column(col, justify="right", overflow="fold")
        for g in groups:
            flag = {"haut": " ▲", "bas": " ▼"}.get(g["flag"] or "", "")
            t.add_row(esc(g["group"]), f"{g['households']:,}".replace(",", " "),
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


def print_ensemble_ranges(report: dict) -> None:
    """The ranges over the ensemble's members, then the plain-French conclusions."""
    e = report["ensemble"]
    t = _table(title=f"Plages sur les {e['size']} reconstructions de {e['model']} compatibles avec "
                    "les faits publiés (min – médiane – max)", title_justify="left")
    for col in ("Groupe", "% pop.", "% contr.", "Taux de contrôle", "÷ taux global"):
        t.add_column(col, overflow="fold", justify="left" if col == "Groupe" else "right")
    for g in report["groups"]:
        t.add_row(f"{g['by']} = {g['group']}", _pct(g["population_share"]),
                  f"{_pct(g['selected_share_min'])} – {_pct(g['selected_share_median'])} – "
                  f"{_pct(g['selected_share_max'])}",
                  f"{_pct(g['selection_rate_min'], 3)} – {_pct(g['selection_rate_max'], 3)}",
                  f"{_ratio(g['ratio_to_overall_min'])} – {_ratio(g['ratio_to_overall_max'])}")
    console.print(t)
    console.print("[bold]Conclusions[/] (robuste : toute la plage du même côté de la parité)")
    for c in report["conclusions"]:
        mark = "[green]robuste[/]" if c["robust"] else "[yellow]non robuste[/]"
        console.print(f"  • [{mark}] {c['text_fr']}")


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
    ensemble: bool = typer.Option(False, "--ensemble", help="Plages sur l'ensemble de "
                                  "reconstructions du modèle et conclusions robustes / ranges "
                                  "over the model's ensemble of reconstructions."),
) -> None:
    """Audite une population sous un budget de contrôles / audit a population."""
    if ctx.invoked_subcommand is not None:
        return
    if population is None:
        raise ProfilageError("a population table is needed (profilage population generate ...)",
                             field="--population")
    if n_boot < 0:
        raise ProfilageError(f"expected a whole number >= 0, got {n_boot}", field="--bootstrap")
    from profilage.audit import run_audit, scan_population

    if ensemble:
        from profilage.audit.ensemble import resolve_ensemble

        resolve_ensemble(model)  # fail before reading the population
    out_dir = _out_dir(out)
    with steps(3) as step:
        step("Lecture / reading")
        scan_population(population)  # a missing or unreadable file fails here, in one line
        step("Notation, sélection / scoring, selecting")
        res = run_audit(population, model, budget=budget_per_month, share=share, threshold=threshold,
                        quota_by=quota_by, by=by, reference=_reference(reference),
                        n_boot=n_boot, seed=seed, ensemble=ensemble)
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
    if ensemble:
        print_ensemble_ranges(report)
    if out_dir is not None:
        console.print(f"→ {out_dir}/selections.parquet, groups.parquet, groups.csv, audit.json")


def _strict(o):
    from profilage.jsonout import finite

    return finite(o)



def _load_pop_frame(population: Path, model: str, **kw):
    from profilage.audit import prepare, read_population

    return prepare(read_population(population), model, **kw)


@app.command("thresholds")
def thresholds_cmd(
    persona: str = typer.Option(None, "--persona", help="Persona ou dossier JSON à balayer."),
    population: Path = typer.Option(None, "--population", "-p", help="Population (Parquet)."),
    model: str = typer.Option("cnaf-2014", "--model", "-m"),
    feature: str = typer.Option(None, "--feature", help="Variables, séparées par des virgules."),
    share: float = typer.Option(None, "--share", help="Part contrôlée (défaut : budget CNAF)."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Effets de seuil : chaque saut du score et du taux de contrôle / threshold effects."""
    from profilage.audit import Selection, cutoff_scores, select
    from profilage.audit.thresholds import numeric_edges, persona_thresholds, population_thresholds
    from profilage.models import load_model

    if persona is None and population is None:
        raise ProfilageError("give --persona and/or --population", field="--persona")
    m = load_model(model)
    feats = [f.strip() for f in feature.split(",")] if feature else None
    for f in feats or []:
        if f not in numeric_edges(m):
            raise ProfilageError(f"{f!r} is not a numeric input of {m.id} (numeric inputs: "
                                 f"{', '.join(numeric_edges(m))})", field="--feature")
    out: dict = {"model": m.id}
    cutoff = None
    with steps(3) as step:
        if population is not None:
            step("Notation de la population / scoring the population")
            frame = _load_pop_frame(population, m, features=True)
            sel = select(frame, Selection(share=share))
            cutoff = next(iter(cutoff_scores(sel).values()), None)
            out["cutoff"] = cutoff
            step("Balayage / sweeping")
            out["population"] = population_thresholds(frame, m, cutoff, features=feats)
        if persona is not None:
            out["persona"] = persona
            out["jumps"] = persona_thresholds(persona, m, features=feats, cutoff=cutoff)
    if json_out:
        print_json(out)
        return
    if persona is not None:
        console.print(f"[bold]Sauts du score de {esc(persona)}[/] (toutes choses égales par "
                      "ailleurs)")
        for j in out["jumps"]:
            sel_txt = ""
            if cutoff is not None:
                yn = {True: "contrôlé", False: "non contrôlé"}
                sel_txt = f" — {yn[j['selected_below']]} → {yn[j['selected_at']]}"
            console.print(f"  • {esc(j['text_fr'])} ({j['delta']:+.3f}){sel_txt}")
    if population is not None:
        console.print(f"[bold]Population[/] (score minimal retenu {fmt(cutoff)})")
        for j in out["population"]:
            if abs(j["selection_rate_at"] - j["selection_rate_below"]) > 0:
                console.print(f"  • {esc(j['text_fr'])}")


@app.command("proxies")
def proxies_cmd(
    population: Path = typer.Option(..., "--population", "-p", help="Population (Parquet)."),
    model: str = typer.Option("cnaf-2014", "--model", "-m"),
    top: int = typer.Option(15, "--top", help="Lignes affichées."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Critères qui portent un motif protégé indirectement / proxies of protected grounds."""
    from profilage.audit.proxies import proxies

    with steps(2) as step:
        step("Notation / scoring")
        frame = _load_pop_frame(population, model, contributions=True)
        step("Associations")
        res = proxies(frame, model)
    if json_out:
        print_json(res)
        return
    t = _table(title="Critères portant un motif protégé qu'ils ne déclarent pas (V de Cramér)",
              title_justify="left")
    for col in ("Critère", "Motif", "V de Cramér", "Écart de contribution", "Déclaré"):
        t.add_column(col, overflow="fold")
    for a in [x for x in res["associations"] if x["indirect"]][:top]:
        t.add_row(esc(a["label_fr"]), esc(f"{a['ground']} ({a['group_column']})"),
                  f"{a['cramers_v']:.3f}",
                  f"{a['contribution_gap']:.3f}", a["declared_ground"] or "—")
    console.print(t)
    console.print("[bold]Modalités inaccessibles à un groupe[/] (jamais observées dans le groupe)")
    for u in res["unreachable"][:top]:
        console.print(esc(f"  • {u['criterion']} = {u['modality']} : jamais pour "
                          f"{u['group_column']} = {u['group']} ({u['households_in_group']} "
                          "foyers)"))


@app.command("months")
def months_cmd(
    population: Path = typer.Option(..., "--population", "-p", help="Population (Parquet)."),
    model: str = typer.Option("cnaf-2014", "--model", "-m"),
    months: int = typer.Option(60, "--months", help="Mois simulés."),
    budget_per_month: int = typer.Option(None, "--budget-per-month"),
    cooldown: int = typer.Option(12, "--cooldown", help="Mois sans nouveau contrôle."),
    by: str = typer.Option("famille_type,sexe_allocataire,tranche_age,rsa,aah,bas_revenus",
                           "--by"),
    seed: int = typer.Option(0, "--seed"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Re-notation mensuelle sur des années / monthly re-scoring over years."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from profilage.audit import read_population
    from profilage.audit.months import simulate

    if cooldown < 0:
        raise ProfilageError(f"expected a whole number >= 0, got {cooldown}", field="--cooldown")
    pop = read_population(population)
    cols = [c.strip() for c in by.split(",") if c.strip()]
    from profilage.audit.frame import BUILTIN_GROUPS

    for c in cols:
        if c not in BUILTIN_GROUPS and c not in pop.columns:
            raise ProfilageError(f"unknown group column {c!r}", field="--by")
    with Progress(TextColumn("Mois / months"), BarColumn(), TextColumn("{task.completed}/"
                  "{task.total}"), TimeElapsedColumn(), console=err_console, transient=True,
                  disable=not err_console.is_terminal) as bar:
        task = bar.add_task("m", total=months)
        res = simulate(pop, model, months=months, budget_per_month=budget_per_month,
                       cooldown=cooldown, by=cols, seed=seed,
                       progress=lambda t: bar.update(task, completed=t + 1))
    if json_out:
        print_json(res)
        return
    hs = res["horizons"]
    console.print(f"{res['households']:,} foyers, {res['months']} mois, {res['budget_per_month']} "
                  f"contrôles/mois, pas de second contrôle avant {res['cooldown']} mois")
    t = _table(title="Probabilité d'au moins un contrôle (modèle | hasard)", title_justify="left")
    t.add_column("Groupe", overflow="fold")
    t.add_column("Foyers", justify="right")
    for h in hs:
        t.add_column(f"≤ {h} mois", justify="right")
    for g in res["groups"]:
        t.add_row(esc(f"{g['by']} = {g['group']}"), f"{g['households']:,}".replace(",", " "),
                  *[f"{_pct(g[f'within_{h}'], 2)} | {_pct(g[f'random_{h}'], 2)}" for h in hs])
    console.print(t)


def experiment(
    path: Path = typer.Argument(..., help="Fichier d'expérience TOML (experiments/*.toml)."),
    population: Path = typer.Option(None, "--population", "-p", help="Population (Parquet)."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Expérience : archétypes ou copies contrefactuelles / run an experiment file."""
    from profilage.audit.experiments import load_experiment, run_experiment

    spec = load_experiment(path)
    with steps(1) as step:
        step("Expérience / experiment")
        res = run_experiment(spec, population=population)
    if json_out:
        print_json(res)
        return
    console.print(f"[bold]{esc(res['title'] or path)}[/] — modèle {esc(res['model']['id'])} "
                  "(coefficients reconstruits, non officiels)")
    if res["kind"] == "archetype":
        grid = res["grid"]
        keys = [k for k in grid[0] if k not in ("score", "score_low", "score_high",
                                                "above_cutoff")] if grid else []
        t = _table(title=f"Archétype {esc(res['persona'])} ({res['excluded']} combinaisons impossibles "
                        "écartées)", title_justify="left")
        for k in keys + ["score", "bornes"] + (["contrôlé"] if res.get("cutoff") else []):
            t.add_column(k, overflow="fold")
        for r in grid:
            extra = ["oui" if r["above_cutoff"] else "non"] if res.get("cutoff") else []
            t.add_row(*[esc(r[k]) for k in keys], fmt(r["score"]),
                      f"[{fmt(r['score_low'])}, {fmt(r['score_high'])}]", *extra)
        console.print(t)
        return
    b = res["baseline"]
    console.print(f"{b['households']:,} foyers ; taux de contrôle d'origine {_pct(b['selection_rate'], 2)}"
                  f", score minimal retenu {fmt(res['cutoff'])}")
    t = _table(title=f"{esc(res['label_fr'])} : chaque valeur en copie contrefactuelle",
              title_justify="left")
    for col in ("Valeur", "Foyers", "Écartés", "Score moyen", "Taux", "Taux d'origine",
                "Top 10 %"):
        t.add_column(col, overflow="fold", justify="left" if col == "Valeur" else "right")
    for v in res["values"]:
        t.add_row(esc(v["value"]), f"{v['households']:,}".replace(",", " "),
                  f"{v['excluded']:,}".replace(",", " "), fmt(v["mean_score"]),
                  _pct(v["selection_rate"], 2), _pct(v["baseline_rate_same_households"], 2),
                  _pct(v["top_decile_share"]))
    console.print(t)

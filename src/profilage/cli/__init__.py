"""The ``profilage`` command line (Typer + Rich). Errors: one line on stderr, exit code 2."""

from __future__ import annotations

import os
import sys

import typer

from profilage.cli import (
    audit_cmds,
    demo_cmd,
    models_cmds,
    population_cmds,
    scoring_cmds,
    sql_cmds,
    store_cmds,
    web_cmds,
)
from profilage.cli.common import err_console, print_json

app = typer.Typer(
    help="profilage — reproduire et auditer les algorithmes de notation des allocataires "
         "(CNAF, CNAM) / reproduce and audit social-security risk scores.",
    no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False,
)
app.add_typer(models_cmds.app, name="models")
app.add_typer(population_cmds.app, name="population")
models_cmds.app.command("sql")(sql_cmds.models_sql)
app.command("score")(scoring_cmds.score)
app.add_typer(store_cmds.store_app, name="store")
app.command("run")(store_cmds.run)
app.add_typer(store_cmds.retention_app, name="retention")
app.command("history")(store_cmds.history)
app.command("bench")(store_cmds.bench)
population_cmds.app.command("import")(store_cmds.population_import)
app.command("explain")(scoring_cmds.explain)
app.command("demo")(demo_cmd.demo)
app.add_typer(audit_cmds.app, name="audit")
app.command("experiment")(audit_cmds.experiment)
app.command("serve")(web_cmds.serve)
app.command("export-site")(web_cmds.export_site)
app.command("report")(web_cmds.report)

personas_app = typer.Typer(help="Foyers d'exemple / example households.", no_args_is_help=True)
app.add_typer(personas_app, name="personas")


@personas_app.command("list")
def personas_list(json_out: bool = typer.Option(False, "--json")) -> None:
    """Liste les personas / list personas."""
    from profilage.cli.common import console, esc
    from profilage.personas import available_personas, load_persona

    rows = [(n, load_persona(n)) for n in available_personas()]
    if json_out:
        print_json([{"name": n, "nom": d.nom, "description": d.description} for n, d in rows])
        return
    for n, d in rows:
        console.print(f"[bold]{esc(n)}[/] — {esc(d.nom)}: [dim]{esc((d.description or '')[:110])}…[/]")


features_app = typer.Typer(help="Variables des modèles / model inputs.", no_args_is_help=True,
                           cls=sql_cmds.FeaturesGroup)
app.add_typer(features_app, name="features")
features_app.command("export")(sql_cmds.features_export)
app.add_typer(sql_cmds.sql_app, name="sql")


@features_app.command("list")
def features_list(json_out: bool = typer.Option(False, "--json")) -> None:
    """Variables dérivées des dossiers / features derived from dossiers."""
    from rich.table import Table

    from profilage.cli.common import console
    from profilage.features import FEATURES

    if json_out:
        print_json(FEATURES)
        return
    t = Table(title="Variables / features")
    for col in ("nom", "type", "libellé", "description"):
        t.add_column(col, overflow="fold")
    for name, s in FEATURES.items():
        kind = s["kind"] + (f" ({', '.join(s['categories'])})" if s["categories"] else "")
        t.add_row(name, kind, s["label_fr"], s["description"])
    console.print(t)


dossier_app = typer.Typer(help="Format des dossiers / dossier format.", no_args_is_help=True)
app.add_typer(dossier_app, name="dossier")


@dossier_app.command("schema")
def dossier_schema() -> None:
    """Schéma JSON d'un dossier / JSON Schema of a dossier."""
    from profilage.dossier import Dossier

    print_json(Dossier.model_json_schema())


@dossier_app.command("check")
def dossier_check(path: str = typer.Argument(..., help="Dossier JSON ou persona.")) -> None:
    """Valide un dossier / validate a dossier."""
    from profilage.cli.common import console, esc
    from profilage.personas import resolve_dossier

    d = resolve_dossier(path)
    console.print(f"OK: {esc(d.nom or path)} ({d.reference_month:%Y-%m})")


def main() -> None:
    """Entry point: user errors become one line on stderr with exit code 2, never a traceback.

    Every file the command creates (the store and its WAL, populations, scores, reports, audit
    outputs) is readable by its owner only: they hold personal data (umask 077)."""
    from profilage.errors import ProfilageError

    os.umask(os.umask(0o077) | 0o077)
    try:
        app(standalone_mode=False)
    except ProfilageError as e:
        err_console.print(f"erreur / error: {e.one_line()}", markup=False, soft_wrap=True)
        sys.exit(2)
    except typer.Abort:
        err_console.print("interrompu / aborted")
        sys.exit(130)
    except KeyboardInterrupt:
        err_console.print("interrompu / aborted")
        sys.exit(130)
    except (typer.Exit, SystemExit) as e:
        code = getattr(e, "exit_code", None)
        if code is None:
            code = getattr(e, "code", 0)
        sys.exit(code)
    except _usage_error_classes() as e:
        if type(e).__name__ == "NoArgsIsHelpError":  # the help is the message (already printed)
            text = e.format_message().strip()
            if text:
                print(text)
            sys.exit(e.exit_code)
        msg = " ".join(e.format_message().split())
        err_console.print(f"erreur / error: {msg}", markup=False, soft_wrap=True)
        sys.exit(e.exit_code)
    except Exception as e:  # anything unexpected
        if os.environ.get("PROFILAGE_DEBUG"):
            raise
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        err_console.print(f"erreur interne / internal error: {type(e).__name__}: {first} "
                          "(PROFILAGE_DEBUG=1 pour le détail)", markup=False, soft_wrap=True)
        sys.exit(1)


def _usage_error_classes() -> tuple[type[BaseException], ...]:
    """The exception classes command-line parsing raises for a usage error.

    Typer >= 0.29 bundles its own copy of click (``typer._click``) whose ``ClickException``
    derives from the public ``typer.TyperException``: the standalone ``click`` package's classes
    never match it. pyproject.toml pins ``typer>=0.29`` and tests/test_cli_usage.py checks the
    hierarchy this relies on. A standalone click's exceptions are caught too, for code that
    raises them directly."""
    classes: list[type[BaseException]] = [typer.TyperException]
    try:
        import click

        classes.append(click.ClickException)
    except ImportError:  # pragma: no cover - click is no longer a dependency of typer
        pass
    return tuple(classes)

"""`profilage models sql`, `profilage features POP --model ID --out FILE`, `profilage sql group-table`."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from typer.core import TyperGroup

from profilage.cli.common import check_out_file, console
from profilage.errors import ProfilageError


class FeaturesGroup(TyperGroup):
    """`profilage features POP ...` is short for `profilage features export POP ...`."""

    default_command = "export"

    def parse_args(self, ctx, args):  # noqa: ANN001 (click's signature)
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


def models_sql(
    model: str = typer.Argument(..., help="Id ou chemin .toml / model id or path."),
    dialect: str = typer.Option("duckdb", "--dialect", help="duckdb, postgres ou spark."),
    table: str = typer.Option("features", "--table",
                              help="Table des variables (household_id + variables du modèle)."),
    contributions: bool = typer.Option(True, "--contributions/--no-contributions",
                                       help="Une colonne par critère / one column per criterion."),
) -> None:
    """Le modèle en une requête SQL / the model as one SQL SELECT (DuckDB, PostgreSQL, Spark)."""
    from profilage.sql import score_sql

    sys.stdout.write(score_sql(model, table, dialect=dialect, contributions=contributions))


def feature_table(population, model: str):
    """household_id + the model's input features, derived from flat dossier rows."""
    from profilage.features import model_inputs
    from profilage.models import load_model

    return model_inputs(population, load_model(model), keep=["household_id"])


def features_export(
    population: Path = typer.Argument(..., help="Population (Parquet/CSV de dossiers)."),
    model: str = typer.Option("cnaf-2014", "--model", help="Modèle / model id or path."),
    out: Path = typer.Option(..., "--out", help="Fichier .parquet ou .csv."),
) -> None:
    """Table des variables d'un modèle / the model's input table (for `models sql`)."""
    from profilage.cli.scoring_cmds import _write_table

    if out.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise ProfilageError("output must end in .csv or .parquet", field="--out")
    check_out_file(out)
    from profilage.tableio import scan_population

    df = feature_table(scan_population(population), model).collect()
    _write_table(df, out)
    console.print(f"{df.height} foyers, {df.width - 1} variables → {out}")


sql_app = typer.Typer(help="Requêtes SQL pour d'autres moteurs / SQL for other engines.",
                      no_args_is_help=True)


@sql_app.command("group-table")
def group_table(
    by: str = typer.Option(..., "--by", help="Colonne de groupe / group column."),
    budget: int = typer.Option(..., "--budget", help="Nombre de contrôles / controls."),
    scores: str = typer.Option("scores", "--scores", help="Table household_id, score."),
    groups: str = typer.Option(None, "--groups", help="Table household_id + groupe (défaut : scores)."),
    dialect: str = typer.Option("duckdb", "--dialect", help="duckdb, postgres ou spark."),
) -> None:
    """Taux de sélection par groupe sous un budget / selection rate per group under a budget."""
    from profilage.sql import group_table_sql

    sys.stdout.write(group_table_sql(scores, by, budget, dialect=dialect, groups=groups))

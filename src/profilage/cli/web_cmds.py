"""`profilage serve`, `profilage report` and `profilage export-site`."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import typer

from profilage.cli.common import console, err_console
from profilage.errors import ProfilageError


def _need_web() -> None:
    try:
        import fastapi  # noqa: F401
        import jinja2  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as e:
        raise ProfilageError(f"the web extra is not installed ({e.name} missing): "
                             "pip install 'profilage[web]'") from None


#: Connections: idle keep-alive connections close after 5 s; beyond 200 open connections new
#: ones get 503 (request bodies have their own time limit, web/limits.py).
UVICORN_LIMITS = {"timeout_keep_alive": 5, "limit_concurrency": 200}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Adresse d'écoute / listen address "
                             "(boucle locale par défaut / loopback by default)."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port."),
    workers: int = typer.Option(1, "--workers", min=1, max=64,
                                help="Processus serveurs / server processes (charge élevée)."),
    allow_paths: Path = typer.Option(None, "--allow-paths", help="Dossier dont l'audit peut lire "
                                     "les fichiers nommés par un client (aucun par défaut) / "
                                     "directory whose files API clients may name (none by "
                                     "default)."),
    trusted_host: list[str] = typer.Option(None, "--trusted-host", help="Nom d'hôte accepté en "
                                           "plus de localhost et --host (répétable) / extra "
                                           "accepted Host name (repeatable)."),
) -> None:
    """Lance le simulateur web et l'API / start the web simulator and the JSON API."""
    _need_web()
    import uvicorn

    from profilage.web import create_app

    if allow_paths is not None and not allow_paths.is_dir():
        raise ProfilageError("not a directory", field="--allow-paths", source=str(allow_paths))
    root = str(allow_paths.resolve()) if allow_paths is not None else ""
    hosts = [host, *(trusted_host or [])]

    if not is_loopback(host):
        err_console.print(f"[yellow]⚠ Attention : le serveur écoute sur {host}, pas seulement sur "
                          "cette machine. Aucune authentification n'est fournie : les dossiers "
                          "saisis sont des données personnelles sensibles. / Warning: listening on "
                          f"{host}, not loopback only; no authentication is provided.[/]")
    shown = f"[{host}]" if ":" in host else host
    console.print(f"profilage — http://{shown}:{port}/  (API : /docs ; Ctrl+C pour arrêter)")
    if workers > 1:  # uvicorn needs an import string to start several processes
        import os

        os.environ["PROFILAGE_ALLOW_PATHS"] = root
        os.environ["PROFILAGE_TRUSTED_HOSTS"] = ",".join(hosts)
        uvicorn.run("profilage.web.app:create_app_from_env", factory=True, host=host, port=port,
                    workers=workers, log_level="info", **UVICORN_LIMITS)
        return
    uvicorn.run(create_app(allow_paths=root or None, hosts=hosts), host=host, port=port,
                log_level="info", **UVICORN_LIMITS)


def export_site(
    out: Path = typer.Argument(..., help="Dossier de sortie (vide ou absent) / output folder."),
    model: list[str] = typer.Option(None, "--model", "-m", help="Modèle(s) à inclure (défaut : "
                                    "tous) / model id(s) to include (default: all)."),
) -> None:
    """Exporte le simulateur en site statique (calcul dans le navigateur) / export a static
    simulator (scoring in the browser)."""
    _need_web()
    from profilage.web.site import export_site as run

    try:
        path = run(out, model or None)
    except OSError as e:  # a read-only or impossible place
        raise ProfilageError(f"cannot write the site: {e.strerror or e}", field="DIR",
                             source=str(out)) from None
    console.print(f"Site statique écrit / static site written: {path}/index.html "
                  "(aucune donnée du foyer ne quitte le navigateur / household data never "
                  "leaves the browser)")


def report(
    model: str = typer.Option("cnaf-2014", "--model", "-m", help="Id ou chemin .toml."),
    population: Path = typer.Option(..., "--population", "-p", help="Population (Parquet ou "
                                    "CSV), p. ex. de `profilage population generate`."),
    out: Path = typer.Option(..., "--out", "-o", help="Rapport HTML / HTML report (.html)."),
    pdf: bool = typer.Option(False, "--pdf", help="Aussi en PDF (Chromium sans interface) / "
                             "also print a PDF (headless Chromium)."),
    budget_per_month: int = typer.Option(None, "--budget-per-month", min=1,
                                         help="Contrôles par mois (défaut : 166 000/an à "
                                         "l'échelle) / controls per month."),
    share: float = typer.Option(None, "--share", help="Part des foyers contrôlés, dans (0, 1]."),
    by: str = typer.Option(None, "--by", help="Colonnes de groupes, séparées par des virgules."),
    bootstrap: int = typer.Option(200, "--bootstrap", min=0, max=10_000,
                                  help="Réplications du bootstrap."),
    seed: int = typer.Option(0, "--seed", help="Graine / seed."),
    lang: str = typer.Option("fr", "--lang", help="fr ou en."),
) -> None:
    """Rapport d'audit autonome (HTML, PDF) / self-contained audit report (HTML, PDF)."""
    _need_web()
    from profilage.audit import run_audit
    from profilage.report import write_report

    if lang not in ("fr", "en"):
        raise ProfilageError("expected fr or en", field="--lang")
    if out.suffix.lower() not in (".html", ".htm"):
        raise ProfilageError("the report is HTML: give a path ending in .html", field="--out")
    if out.is_dir():
        raise ProfilageError("is a directory, expected a file path", field="--out",
                             source=str(out))
    if budget_per_month is not None and share is not None:
        raise ProfilageError("give --budget-per-month or --share, not both", field="--share")
    with console.status("Audit et graphiques / audit and charts…"):
        result = run_audit(population, model, budget=budget_per_month, share=share, by=by,
                           n_boot=bootstrap, seed=seed)
        written = write_report(result, out, population.name, lang=lang, pdf=pdf)
    d = result.as_dict()
    console.print(f"{result.households} foyers, {d['budget']['selected']} contrôlés — "
                  f"{result.model.provenance_line()}")
    for p in written:
        console.print(f"Rapport écrit / report written: {p}")

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
) -> None:
    """Lance le simulateur web et l'API / start the web simulator and the JSON API."""
    _need_web()
    import uvicorn

    from profilage.web import create_app

    if not is_loopback(host):
        err_console.print(f"[yellow]⚠ Attention : le serveur écoute sur {host}, pas seulement sur "
                          "cette machine. Aucune authentification n'est fournie : les dossiers "
                          "saisis sont des données personnelles sensibles. / Warning: listening on "
                          f"{host}, not loopback only; no authentication is provided.[/]")
    shown = f"[{host}]" if ":" in host else host
    console.print(f"profilage — http://{shown}:{port}/  (API : /docs ; Ctrl+C pour arrêter)")
    uvicorn.run(create_app(), host=host, port=port, log_level="info")


def export_site(
    out: Path = typer.Argument(..., help="Dossier de sortie (vide ou absent) / output folder."),
    model: list[str] = typer.Option(None, "--model", "-m", help="Modèle(s) à inclure (défaut : "
                                    "tous) / model id(s) to include (default: all)."),
) -> None:
    """Exporte le simulateur en site statique (calcul dans le navigateur) / export a static
    simulator (scoring in the browser)."""
    _need_web()
    from profilage.web.site import export_site as run

    path = run(out, model or None)
    console.print(f"Site statique écrit / static site written: {path}/index.html "
                  "(aucune donnée du foyer ne quitte le navigateur / household data never "
                  "leaves the browser)")

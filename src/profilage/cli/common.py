"""Shared CLI helpers: console, JSON output, French/English labels."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

from profilage.jsonout import finite

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

STATUS_FR = {"published": "publié", "reconstructed": "reconstruit", "redacted": "occulté",
             "unknown": "inconnu", "mixed": "mixte"}


_clean = finite  # the shared strict-JSON cleaning (profilage.jsonout)


def print_json(obj: Any) -> None:
    """Print strict JSON (infinities become null) on stdout."""
    sys.stdout.write(json.dumps(_clean(obj), ensure_ascii=False, indent=2, default=str) + "\n")


def fmt(x: float | None, digits: int = 3) -> str:
    if x is None:
        return "—"
    return f"{x:.{digits}f}"


def provenance_banner(model_info: dict) -> str:
    counts = model_info["coefficients_status"]
    parts = [f"{n} {STATUS_FR[s]}" for s, n in counts.items() if n]
    line = (f"[bold]Modèle / model[/] {model_info['id']} — {model_info.get('institution', '')} "
            f"— sha256 {model_info['sha256'][:12]} — coefficients : " + ", ".join(parts))
    if counts.get("reconstructed"):
        line += ("\n[yellow]⚠ Coefficients NON officiels : les valeurs « reconstruit » sont les "
                 "nôtres, choisies pour respecter les faits publiés (not the institution's).[/]")
    elif counts.get("unknown"):
        line += ("\n[yellow]⚠ Coefficients NON officiels : coefficients inconnus, le score n'est "
                 "qu'un intervalle (unknown coefficients: bounds only).[/]")
    return line

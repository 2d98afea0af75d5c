"""Shared CLI helpers: console, JSON output, French/English labels."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape as _escape

from profilage.jsonout import finite

#: C0 controls but tab and newline, DEL and C1 controls: ESC/OSC sequences from a dossier, a
#: model file or a file name must never reach the terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def strip_control(text: str) -> str:
    return _CONTROL.sub("", text)


def esc(value: Any) -> str:
    """User text (a dossier's name, a model's labels, a group label, a path) made safe to print
    with Rich: control characters removed, ``[`` escaped so it is never read as markup."""
    return _escape(strip_control(str(value)))


class SafeConsole(Console):
    """A Rich console that strips control characters from every string it renders (markup,
    plain text and table cells alike)."""

    def render_str(self, text: str, *args: Any, **kwargs: Any):
        return super().render_str(strip_control(text), *args, **kwargs)


console = SafeConsole(highlight=False)
err_console = SafeConsole(stderr=True, highlight=False)

STATUS_FR = {"published": "publié", "reconstructed": "reconstruit", "redacted": "occulté",
             "unknown": "inconnu", "mixed": "mixte"}


_clean = finite  # the shared strict-JSON cleaning (profilage.jsonout)


def print_json(obj: Any) -> None:
    """Print strict JSON (infinities become null) on stdout."""
    sys.stdout.write(json.dumps(_clean(obj), ensure_ascii=False, indent=2, default=str) + "\n")


def check_out_file(out: Any, field: str = "--out") -> None:
    """An output file path the command can write: not a directory, in an existing folder."""
    from pathlib import Path

    from profilage.errors import ProfilageError

    out = Path(out)
    if out.is_dir():
        raise ProfilageError("is a directory, expected a file path", field=field, source=str(out))
    if not out.resolve().parent.is_dir():
        raise ProfilageError(f"folder {out.parent} does not exist", field=field, source=str(out))


@contextmanager
def progress_bar(label: str, total: int | None, *, enabled: bool = True, percent: bool = False
                 ) -> Iterator[Callable[[int], None]]:
    """A transient progress bar on stderr for a long step; yields ``advance(n)``. Disabled
    (``advance`` does nothing visible) when ``enabled`` is false. ``percent``: show the share
    done instead of ``done/total``."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    count = TextColumn("{task.percentage:>3.0f} %" if percent
                       else "{task.completed:,}/{task.total:,}")
    with Progress(TextColumn(label), BarColumn(), count, TimeElapsedColumn(),
                  console=err_console, transient=True, disable=not enabled) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def fmt(x: float | None, digits: int = 3) -> str:
    if x is None:
        return "—"
    return f"{x:.{digits}f}"


def provenance_banner(model_info: dict) -> str:
    counts = model_info["coefficients_status"]
    parts = [f"{n} {STATUS_FR[s]}" for s, n in counts.items() if n]
    line = (f"[bold]Modèle / model[/] {esc(model_info['id'])} — "
            f"{esc(model_info.get('institution', ''))} "
            f"— sha256 {model_info['sha256'][:12]} — coefficients : " + ", ".join(parts))
    if counts.get("reconstructed"):
        line += ("\n[yellow]⚠ Coefficients NON officiels : les valeurs « reconstruit » sont les "
                 "nôtres, choisies pour respecter les faits publiés (not the institution's).[/]")
    elif counts.get("unknown"):
        line += ("\n[yellow]⚠ Coefficients NON officiels : coefficients inconnus, le score n'est "
                 "qu'un intervalle (unknown coefficients: bounds only).[/]")
    return line

"""`profilage demo`: the main job a new user runs first."""

from __future__ import annotations

import typer
from rich.table import Table

from profilage.cli.common import console, provenance_banner


def demo(model: str = typer.Option("cnaf-2014", "--model", "-m", help="Id ou chemin .toml.")
         ) -> None:
    """Note les foyers d'exemple (Nathalie, Michel, Abel...) / score the example households."""
    from profilage.personas import available_personas
    from profilage.scoring import score_dossier

    results = [(n, score_dossier(n, model)) for n in available_personas()]
    console.print(provenance_banner(results[0][1]["model"]))
    t = Table(title="Personas — score de risque / risk score")
    for col in ("persona", "nom", "score", "bornes / bounds", "déterminé"):
        t.add_column(col)
    for n, r in sorted(results, key=lambda x: -(x[1]["score"] or 0)):
        t.add_row(n, r["dossier"] or "", f"{r['score']:.3f}",
                  f"[{r['score_low']:.3f}, {r['score_high']:.3f}]",
                  "oui" if r["determined"] else "non (moyenne bornée)")
    console.print(t)

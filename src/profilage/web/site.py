"""``profilage export-site DIR``: the simulator as static files any web host (or a double click)
can serve. Models are embedded as JSON and scored in the browser by ``profilage-engine.js``, a
port of the feature derivation and of the engine: household data never leaves the browser.

Layout: ``index.html``, ``compare.html`` and the model browser ``models.html`` +
``models/<id>.html`` (French), ``en/`` (English), ``static/`` (CSS, JS), ``models/<id>.json``
(the ``models export --format json`` objects), ``README.txt``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from profilage.errors import ProfilageError

STATIC_FILES = ("profilage.css", "profilage-engine.js", "simulator.js")


def engine_data() -> dict:
    """Tables the browser needs besides the model: the C2SG ceilings (CNAM models)."""
    from profilage.features import c2sg_ceiling_table

    ceilings, mult = c2sg_ceiling_table()
    return {"c2sg": {
        "ceilings": [{"date": d.isoformat(), "plafond": float(v)} for d, v in
                     zip(ceilings["date_effet"].to_list(),
                         ceilings["plafond_annuel_1_personne"].to_list())],
        "multipliers": {str(k): float(v) for k, v in mult.items()},
    }}


def reference_quantiles(model) -> dict:
    """What the browser needs to place a score among the reference population (the API's
    ``context``): 1,001 quantiles of its scores, the month's threshold, its description."""
    import numpy as np

    from profilage.audit.context import reference

    ref = reference(model)
    q = (np.quantile(ref.scores, np.linspace(0, 1, 1001)).round(6).tolist()
         if len(ref.scores) else [])
    return {"quantiles": q, "threshold": ref.threshold,
            "population": {"fr": ref.describe("fr"), "en": ref.describe("en")}}


def site_data(model_ids: list[str]) -> dict:
    from profilage.models import load_model
    from profilage.models.export import model_to_json_dict
    from profilage.personas import available_personas, personas_dir

    return {
        "models": {i: model_to_json_dict(load_model(i)) for i in model_ids},
        "contexts": {i: reference_quantiles(load_model(i)) for i in model_ids},
        "data": engine_data(),
        "personas": {n: json.loads((personas_dir() / f"{n}.json").read_text("utf-8"))
                     for n in available_personas()},
    }


def export_site(out: str | Path, models: list[str] | None = None) -> Path:
    """Write the static simulator to ``out`` (created; must be empty or absent). Returns it."""
    from profilage.jsonout import model_summary
    from profilage.models import available_models, load_model
    from profilage.render import base_context, presets, render

    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ProfilageError("directory exists and is not empty", field="DIR", source=str(out))
    ids = models or available_models()
    for i in ids:
        if i not in available_models():
            raise ProfilageError(f"unknown model {i!r}; available: "
                                 + ", ".join(available_models()), field="--model")
    summaries = [model_summary(load_model(i)) for i in ids]
    data = site_data(ids)
    default = "cnaf-2014" if "cnaf-2014" in ids else ids[0]
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".profilage-site-", dir=parent))
    try:
        (tmp / "static").mkdir()
        (tmp / "models").mkdir()
        (tmp / "en").mkdir()
        src = Path(__file__).parent / "static"
        for f in STATIC_FILES:
            shutil.copy2(src / f, tmp / "static" / f)
        for i, m in data["models"].items():
            (tmp / "models" / f"{i}.json").write_text(
                json.dumps(m, ensure_ascii=False, indent=1, allow_nan=False), "utf-8")
        for lang, sub, root, other in (("fr", tmp, "", "en/"), ("en", tmp / "en", "../", "../")):
            for page, template, initial, compare in (
                    ("index.html", "simulator.html", {}, False),
                    ("compare.html", "compare.html", {"a": "michel", "b": "abel"}, True)):
                ctx = base_context(lang, static=True, root=root, pages="",
                                   other_lang_url=other + page, models=summaries,
                                   model_id=default, presets=presets(lang), compare_page=compare,
                                   initial=initial, site_data=data)
                (sub / page).write_text(render(template, ctx), "utf-8")
            # the model browser: models.html and models/<id>.html
            from profilage.web.pages import model_page_context

            ctx = base_context(lang, static=True, root=root, pages="",
                               other_lang_url=other + "models.html", models=summaries,
                               model_id=None)
            (sub / "models.html").write_text(render("models.html", ctx), "utf-8")
            (sub / "models").mkdir(exist_ok=True)
            for i in ids:
                back = "../en/" if lang == "fr" else "../../"
                ctx = base_context(lang, static=True, root=root + "../", pages="../",
                                   other_lang_url=f"{back}models/{i}.html", models=summaries,
                                   model_id=i, **model_page_context(load_model(i), lang),
                                   others=[], diff=None, diff_rows=None)
                (sub / "models" / f"{i}.html").write_text(render("model.html", ctx), "utf-8")
        (tmp / "README.txt").write_text(
            "profilage — simulateur statique / static simulator\n\n"
            "Ouvrez index.html (ou servez ce dossier avec n'importe quel hébergeur statique).\n"
            "Le score est calculé dans le navigateur : aucune donnée du foyer n'est envoyée.\n"
            "Open index.html (or serve this folder from any static host). Scores are computed\n"
            "in the browser: no household data is sent anywhere.\n\n"
            "Modèles / models: " + ", ".join(s["provenance"] for s in summaries) + "\n"
            "Licence: AGPL-3.0-or-later.\n", "utf-8")
        if out.exists():
            out.rmdir()
        tmp.replace(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out

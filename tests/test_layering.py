"""Import layering: the command line is the top floor, nothing below reaches up into it.

Walks the source files (every import, including those inside functions) and asserts that no
module outside ``profilage/cli`` (but the ``python -m profilage`` entry point) and no benchmark
script imports ``profilage.cli``; and that the model layer (loading a model) does not call into
the engine (compiling or scoring it).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "profilage"


def _imports(path: Path) -> set[str]:
    """Absolute names of the profilage modules a file imports (relative imports resolved)."""
    # the package a relative import starts from (a module's or an __init__'s folder)
    here = ["profilage", *path.relative_to(SRC).parent.parts] if path.is_relative_to(SRC) else []
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                mod = ".".join([*base, *([node.module] if node.module else [])])
            else:
                mod = node.module or ""
            found.add(mod)
            found.update(f"{mod}.{a.name}" for a in node.names)
    return {m for m in found if m == "profilage" or m.startswith("profilage.")}


def _reaches(imports: set[str], package: str) -> list[str]:
    return sorted(m for m in imports if m == package or m.startswith(package + "."))


def test_nothing_below_the_cli_imports_it():
    files = [p for p in SRC.rglob("*.py")
             if "cli" not in p.relative_to(SRC).parts[:1] and p.name != "__main__.py"]
    files += sorted((ROOT / "bench").glob("*.py"))
    assert len(files) > 30  # the walk found the sources
    bad = {str(p.relative_to(ROOT)): hits for p in files
           if (hits := _reaches(_imports(p), "profilage.cli"))}
    assert bad == {}, f"modules below the CLI import from it: {bad}"


def test_models_do_not_call_into_the_engine():
    files = sorted((SRC / "models").rglob("*.py"))
    assert files
    bad = {str(p.relative_to(ROOT)): hits for p in files
           if (hits := _reaches(_imports(p), "profilage.engine")
               + _reaches(_imports(p), "profilage.fastpath"))}
    assert bad == {}, f"the model layer calls into the engine: {bad}"


def test_the_walk_sees_imports_inside_functions(tmp_path):
    f = tmp_path / "x.py"
    f.write_text("def f():\n    from profilage.cli.common import err_console\n")
    assert _reaches(_imports(f), "profilage.cli") == ["profilage.cli.common",
                                                      "profilage.cli.common.err_console"]


def test_package_names_load_on_first_use():
    """`import profilage` loads no dossier schema (the CLI's start-up for commands that score
    no dossier); every public name still resolves, to the defining module's object."""
    import subprocess
    import sys

    code = ("import sys, profilage; heavy = [m for m in ('profilage.dossier', "
            "'profilage.scoring', 'pydantic') if m in sys.modules]; print(heavy); "
            "import profilage.scoring as s; print(profilage.score_dossier is s.score_dossier, "
            "sorted(profilage.__all__) == sorted(n for n in profilage.__all__ "
            "if getattr(profilage, n) is not None))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split("\n")
    assert out[0] == "[]" and out[1] == "True True", out

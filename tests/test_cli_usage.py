"""Usage errors (unknown command or option, missing argument, value out of range): one line on
stderr in the house style, exit code 2, never "erreur interne"."""

from __future__ import annotations

import pytest
import typer
from conftest import run_cli


@pytest.mark.parametrize("args, needle", [
    (("models", "nosuch"), "No such command 'nosuch'"),
    (("score", "nathalie", "--bogus"), "No such option: --bogus"),
    (("score",), "Missing argument 'dossier'"),
    (("explain", "nathalie", "--top", "0"), "Invalid value for '--top'"),
    (("serve", "--port", "99999"), "Invalid value for '--port'"),
    (("population", "generate", "--households", "abc", "--out", "x.parquet"),
     "Invalid value for '--households'"),
    (("models", "export", "cnaf-2014"), "Missing option '--format'"),
])
def test_usage_errors_are_one_line_exit_2(args, needle):
    r = run_cli(*args)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("erreur / error: ") and needle in lines[0]
    assert "interne" not in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("args", [(), ("models",), ("population",)])
def test_a_group_without_command_prints_its_help(args):
    r = run_cli(*args)
    assert r.returncode == 2
    assert "Usage" in r.stdout and "interne" not in r.stderr and not r.stderr.strip()


def test_the_exception_classes_the_cli_relies_on():
    """Pinned in pyproject.toml (typer>=0.29): typer bundles its own click, whose exceptions
    derive from the public typer.TyperException (the standalone click's never match)."""
    from typer._click import exceptions as ce

    for cls in (ce.UsageError, ce.BadParameter, ce.MissingParameter, ce.NoSuchOption,
                ce.NoArgsIsHelpError, typer.BadParameter):
        assert issubclass(cls, typer.TyperException), cls
        assert cls.exit_code == 2
    assert hasattr(typer.TyperException, "format_message")

"""A real `profilage serve` on a free loopback port, for the tests that need one (browser pages,
the privacy of the server's log): started with this checkout's sources first on the path,
waited for until it answers, always stopped."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(*, env: dict | None = None, stdout=subprocess.DEVNULL, tries: int = 300):
    """Yield the base URL of `profilage serve` once ``GET /api/models`` answers; ``env`` adds
    variables (e.g. ``PROFILAGE_ENSEMBLES``); ``stdout`` receives stdout and stderr when it is
    a file, else stderr is kept to explain a server that exits early."""
    port = free_port()
    full_env = {**os.environ, **(env or {}), "PYTHONPATH": os.pathsep.join(
        [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    stderr = subprocess.STDOUT if stdout is not subprocess.DEVNULL else subprocess.PIPE
    proc = subprocess.Popen([sys.executable, "-m", "profilage", "serve", "--port", str(port)],
                            stdout=stdout, stderr=stderr, env=full_env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(tries):
            try:
                urllib.request.urlopen(url + "/api/models", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None:
                    why = proc.stderr.read().decode()[-2000:] if proc.stderr else ""
                    pytest.fail("server exited: " + why)
                time.sleep(0.1)
        else:
            pytest.fail("server did not start")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()

"""The JSON API: the CLI's --json objects over HTTP, 422 with field paths, never a 500."""

import json

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from profilage.personas import load_persona  # noqa: E402
from profilage.web import create_app  # noqa: E402


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(), base_url="http://127.0.0.1", raise_server_exceptions=False)


def _persona_json(name):
    from profilage.personas import personas_dir

    return json.loads((personas_dir() / f"{name}.json").read_text("utf-8"))


def test_score_nathalie_equals_cli_json(client, cli):
    r = client.post("/api/score", json={"model": "cnaf-2014", "dossier": _persona_json("nathalie")})
    assert r.status_code == 200
    body = r.json()
    assert set(body.pop("context")) >= {"percentile", "threshold", "selected_under_budget",
                                        "population"}
    assert round(body["score"], 3) == 0.240
    assert round(body["score_low"], 3) == 0.165 and round(body["score_high"], 3) == 0.327
    assert body["determined"] is False
    assert body["model"]["coefficients_status"]["reconstructed"] == 65
    out = cli("score", "nathalie", "--model", "cnaf-2014", "--json")
    assert out.returncode == 0, out.stderr
    assert body == json.loads(out.stdout)


def test_explain_equals_cli_json_and_michel_abel_gap(client, cli):
    michel = client.post("/api/explain", json={"dossier": _persona_json("michel")}).json()
    abel = client.post("/api/explain", json={"dossier": "abel"}).json()
    assert round(michel["score"], 3) == 0.664 and round(abel["score"], 3) == 0.832
    assert abel["score"] - michel["score"] > 0.15
    out = cli("explain", "abel", "--json")
    assert abel.pop("context")["percentile"] > 50
    assert abel == json.loads(out.stdout)
    assert abel["would_lower"][0]["criterion"] == "revenus_stables"
    steps = {s["criterion"]: s["logit"] for s in abel["waterfall"]}
    assert steps["aah_en_activite"] == pytest.approx(0.693, abs=1e-3)
    assert {s["criterion"]: s["logit"] for s in michel["waterfall"]}["aah_en_activite"] == 0


def test_explain_top_bounds(client):
    r = client.post("/api/explain?top=1", json={"dossier": "nathalie"})
    assert len(r.json()["would_raise"]) == 1
    r = client.post("/api/explain?top=99", json={"dossier": "nathalie"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "query.top"


@pytest.mark.parametrize("dossier, field, needle", [
    ({"reference_month": "2023-12", "allocataire": {"age": -3}}, "dossier.allocataire.age",
     "greater than or equal to 0"),
    ({"reference_month": "2023-12", "enfants": [{"age": "x"}]}, "dossier.enfants[0].age",
     "valid integer"),
    ({"reference_month": "2023-12", "situation_familiale": "marie", "conjoint": None},
     "dossier.conjoint", "needs a conjoint"),
    ({"reference_month": "2023-12", "allocataire": {"agee": 3}}, "dossier.allocataire.agee",
     "unknown field"),
    ({"allocataire": {}}, "dossier.reference_month", "required field is missing"),
    ({"reference_month": "2023-13"}, "dossier.reference_month", "YYYY-MM"),
    ("quelqu-un", "dossier", "unknown persona"),
    ("../../etc/passwd", "dossier", "unknown persona"),
])
def test_invalid_dossier_422_with_field_path(client, dossier, field, needle):
    r = client.post("/api/score", json={"model": "cnaf-2014", "dossier": dossier})
    assert r.status_code == 422
    d = r.json()["detail"][0]
    assert d["field"] == field and needle in d["msg"]
    assert d["loc"][:2] == ["body", "dossier"]
    assert "Traceback" not in r.text


@pytest.mark.parametrize("body, status, field", [
    ({"model": "nope", "dossier": "abel"}, 422, "model"),
    ({"model": "/etc/passwd.toml", "dossier": "abel"}, 422, "model"),
    ({"dossier": "abel", "extra": 1}, 422, "extra"),
    ({"model": "cnaf-2014"}, 422, "dossier"),
    ([1, 2], 422, "(body)"),
    ({"dossier": 3}, 422, "dossier"),
])
def test_bad_bodies(client, body, status, field):
    r = client.post("/api/score", json=body)
    assert r.status_code == status, r.text
    assert any(d["field"] == field for d in r.json()["detail"]), r.json()


def test_invalid_json_and_huge_body(client):
    r = client.post("/api/score", content=b"{bad", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "invalid JSON" in r.json()["detail"][0]["msg"]
    r = client.post("/api/score", content=b"x" * 2_000_000,
                    headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_models_endpoints(client, cli):
    r = client.get("/api/models")
    assert r.status_code == 200
    m = next(x for x in r.json() if x["id"] == "cnaf-2014")
    assert m["official"] is False and "NOT official" in m["provenance"]
    r = client.get("/api/models/cnaf-2014")
    assert r.status_code == 200
    assert r.json() == json.loads(cli("models", "show", "cnaf-2014", "--json").stdout)
    r = client.get("/api/models/nope")
    assert r.status_code == 404 and "unknown model 'nope'" in r.json()["detail"][0]["msg"]


def test_personas_endpoints(client):
    names = [p["name"] for p in client.get("/api/personas").json()]
    assert {"nathalie", "michel", "abel"} <= set(names)
    assert client.get("/api/personas/abel").json()["allocataire"]["aah"] is True
    assert client.get("/api/personas/nobody").status_code == 404
    assert load_persona("abel").nom == "Abel"


def test_openapi_docs_and_no_cors(client):
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert {"/api/score", "/api/explain", "/api/models"} <= set(spec["paths"])
    r = client.options("/api/score", headers={"Origin": "https://evil.example",
                                              "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in {k.lower() for k in r.headers}
    r = client.post("/api/score", json={"dossier": "abel"}, headers={"Origin": "https://x.example"})
    assert "access-control-allow-origin" not in {k.lower() for k in r.headers}


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_on_loopback_answers_api():
    import subprocess
    import sys
    import time
    import urllib.request

    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "profilage", "serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        body = json.dumps({"model": "cnaf-2014", "dossier": "michel"}).encode()
        for _ in range(100):
            try:
                req = urllib.request.Request(f"http://127.0.0.1:{port}/api/score", data=body,
                                             headers={"content-type": "application/json"})
                with urllib.request.urlopen(req, timeout=5) as r:
                    assert round(json.load(r)["score"], 3) == 0.664
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("server did not start")
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    assert f"http://127.0.0.1:{port}/" in out
    assert "Attention" not in err


def test_serve_warns_when_not_loopback(monkeypatch):
    import uvicorn
    from typer.testing import CliRunner

    from profilage.cli import app
    from profilage.cli.web_cmds import is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw)
                        or calls.append(app.state.allow_paths))
    res = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--port", "8123"])
    assert res.exit_code == 0, res.output
    assert calls == [{"host": "0.0.0.0", "port": 8123, "log_level": "info",
                      "timeout_keep_alive": 5, "limit_concurrency": 200}, None]
    assert "not loopback only" in res.output.replace("\n", " ")


def test_concurrent_score_requests_are_exact():
    """Concurrent requests (scored one by one on the event loop, profilage.scalar): each answer
    is the CLI's object, plus the context."""
    import asyncio

    import httpx

    from profilage.personas import available_personas
    from profilage.scoring import score_dossier
    from profilage.web import create_app

    names = available_personas() * 3

    async def go():
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            return await asyncio.gather(*(c.post("/api/score", json={"dossier": n})
                                          for n in names))

    got = asyncio.run(go())
    want = {n: score_dossier(n, "cnaf-2014", engine="polars") for n in set(names)}
    for n, r in zip(names, got):
        assert r.status_code == 200
        body = r.json()
        assert set(body) == set(want[n]) | {"context"}
        assert body["score"] == pytest.approx(want[n]["score"], abs=1e-12)
        assert [c["modality"] for c in body["contributions"]] == [
            c["modality"] for c in want[n]["contributions"]]


@pytest.mark.parametrize("depth,status", [(3, 422), (40, 422), (1000, 422), (100_000, 413)])
def test_deeply_nested_bodies_are_refused_with_the_field(depth, status):
    """Nesting limit (32 levels) -> 422 naming the body; huge bodies -> 413 before parsing."""
    from fastapi.testclient import TestClient

    from profilage.web import create_app

    c = TestClient(create_app(), base_url="http://127.0.0.1", raise_server_exceptions=False)
    body = '{"model":"cnaf-2014","dossier":{"nom":' + '[' * depth + ']' * depth + '}}'
    r = c.post("/api/score", content=body * (20 if depth == 100_000 else 1),
               headers={"content-type": "application/json"})
    assert r.status_code == status
    d = r.json()["detail"][0]
    if depth == 3:
        assert d["field"].startswith("dossier.")  # ordinary validation, not the depth limit
    elif depth < 100_000:
        assert d == {"loc": ["body"], "field": "(body)", "msg": "JSON nested deeper than 32 levels",
                     "type": "too_deep"}
    else:
        assert "too large" in d["msg"]


def test_nesting_check_ignores_brackets_inside_strings():
    from profilage.web.limits import json_too_deep

    assert not json_too_deep(b'{"nom": "' + b"[" * 500 + b'"}')
    assert json_too_deep(b"[" * 33 + b"]" * 33)
    assert not json_too_deep(b"[" * 32 + b"]" * 32)


def test_load_client_closed_loop_against_a_real_server():
    """Smoke run of bench/load_api.py's closed loop (2 clients x 20 requests): every request
    answered 200, the server's CPU per request reported."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, str(root / "bench" / "load_api.py"), "--serve",
                           "--clients", "2", "--requests", "20", "--json"],
                          capture_output=True, text=True, cwd=root, timeout=300)
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert res["mode"] == "closed" and res["requests"] == 40, res
    assert res["ok"] == 40 and res["errors"] == 0, res
    assert res["server_cpu_ms_per_request"] > 0

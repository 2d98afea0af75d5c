"""The server against the browser of the person running it (issue 16, points 1-2 and 13):
every hostile input below is what a web page that person opens could send to 127.0.0.1."""

from __future__ import annotations

import logging

import polars as pl
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from profilage.web import create_app  # noqa: E402
from profilage.web.security import host_name  # noqa: E402

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(), base_url="http://127.0.0.1", raise_server_exceptions=False)


def test_reflected_error_is_escaped_in_report_and_audit_page(client):
    """Point 1: the model id and the path were echoed unescaped into HTML."""
    for url in (f"/audit/report?model={XSS}", f"/audit/report?households=3&model={XSS}",
                f"/audit?run=1&model={XSS}&households=3", f"/audit?path={XSS}&run=1"):
        r = client.get(url)
        assert "<img" not in r.text, url
        assert r.headers["content-type"].startswith("text/html")
    r = client.get(f"/audit/report?model={XSS}")
    assert r.status_code == 422 and 'id="audit-error"' in r.text
    assert "modèle inconnu" in r.text  # the message (which no longer echoes the input)


def test_templates_autoescape_everywhere():
    from profilage.render import environment

    env = environment()
    assert env.autoescape is True
    assert env.from_string("{{ x }}").render(x=XSS) == "&lt;img src=x onerror=alert(1)&gt;"


@pytest.mark.parametrize("path", ["/", "/compare", "/models", "/models/cnaf-2014", "/audit",
                                  "/docs", "/api/models", "/openapi.json",
                                  "/static/profilage.css", "/nope", "/audit/report?model=x"])
def test_security_headers_on_every_response(client, path):
    r = client.get(path)
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"


def test_pages_have_no_inline_script_or_style(client):
    """What the CSP forbids must not be what the pages need (executable inline scripts,
    style attributes); JSON data blocks are not executed and stay."""
    import re

    for path in ("/", "/compare", "/models", "/models/cnaf-2014", "/docs",
                 "/audit?run=1&households=500&bootstrap=0"):
        html = client.get(path).text
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, (path, tag)
        for body in re.findall(r"<script\b[^>]*\bsrc=[^>]*>(.*?)</script>", html, re.S):
            assert not body.strip(), path
        assert " style=" not in html and "<style" not in html, path
        assert not re.search(r"\son[a-z]+\s*=", html), path


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:8000", "127.0.0.1.nip.io",
                                  "evil", ""])
def test_untrusted_host_is_refused(client, host):
    """Point 2: DNS rebinding — a page on attacker.example resolving to 127.0.0.1."""
    for method, path, kw in (("GET", "/api/models", {}), ("GET", "/", {}),
                             ("POST", "/api/audit", {"json": {"population": {"households": 10}}})):
        r = client.request(method, path, headers={"host": host}, **kw)
        assert r.status_code == 400, (host, path)
        d = r.json()["detail"][0]
        assert d["field"] == "header.host" and "untrusted Host" in d["msg"]
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:8000", "localhost:8000", "[::1]:8000",
                                  "LOCALHOST"])
def test_loopback_hosts_are_trusted(client, host):
    assert client.get("/api/models", headers={"host": host}).status_code == 200


def test_configured_hosts_are_trusted():
    c = TestClient(create_app(hosts=["stats.lan", "0.0.0.0"]), base_url="http://stats.lan:8000")
    assert c.get("/api/models").status_code == 200
    assert c.get("/api/models", headers={"host": "0.0.0.0"}).status_code == 400
    assert host_name("[::1]:80") == "::1" and host_name("Stats.LAN:80") == "stats.lan"


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded",
                                   "multipart/form-data; boundary=x", "", "application/jsonx"])
def test_api_accepts_only_json(client, ctype):
    """A cross-site form or a no-preflight fetch (text/plain) cannot reach the API."""
    body = b'{"model": "cnaf-2014", "dossier": "abel"}'
    for path in ("/api/score", "/api/explain", "/api/audit"):
        headers = {"content-type": ctype} if ctype else {}
        r = client.post(path, content=body, headers=headers)
        assert r.status_code == 415, (path, ctype)
        assert r.json()["detail"][0]["field"] == "header.content-type"
    r = client.post("/api/score", content=body,
                    headers={"content-type": "application/json; charset=utf-8"})
    from profilage.scoring import score_dossier

    assert r.status_code == 200 and r.json()["score"] == score_dossier("abel")["score"]


def test_audit_groups_only_declared_columns(tmp_path):
    """Point 2: a file with names and bank details; `by` must not turn them into labels."""
    pop = pl.read_parquet(_population(tmp_path))
    pop = pop.with_columns(name=pl.format("Personne {}", pl.col("household_id")),
                           iban=pl.format("FR76 3000 {}", pl.col("household_id")))
    pop.write_parquet(tmp_path / "secrets.parquet")
    c = TestClient(create_app(allow_paths=tmp_path), base_url="http://127.0.0.1")
    r = c.post("/api/audit", json={"population": {"path": "secrets.parquet"},
                                   "by": ["name", "iban"], "bootstrap": 0})
    assert r.status_code == 422
    d = r.json()["detail"][0]
    assert d["field"] == "by" and "not a declared group column" in d["msg"]
    assert "Personne" not in r.text and "FR76" not in r.text
    r = c.post("/api/audit", json={"population": {"households": 100}, "by": ["household_id"]})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "by"
    r = c.post("/api/audit", json={"population": {"path": "secrets.parquet"}, "bootstrap": 0,
                                   "by": ["famille_type", "rsa"]})
    assert r.status_code == 200
    assert "Personne" not in r.text and "FR76" not in r.text


def _population(tmp_path):
    from profilage.population import generate_population

    path = tmp_path / "pop.parquet"
    if not path.exists():
        generate_population(300, seed=1).write_parquet(path)
    return path


def test_head_is_answered_where_get_is(client):
    for path in ("/", "/api/models", "/static/profilage.css", "/docs"):
        get, head = client.get(path), client.head(path)
        assert head.status_code == 200 == get.status_code, path
        assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"]
        assert "frame-ancestors" in head.headers["content-security-policy"]


def test_internal_error_is_one_log_line_and_a_json_500(caplog):
    app = create_app()

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail of a dossier")

    c = TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False)
    with caplog.at_level(logging.DEBUG):
        r = c.get("/boom")
    assert r.status_code == 500
    assert r.json()["detail"][0]["msg"] == "erreur interne / internal error"
    assert "secret" not in r.text and "Traceback" not in r.text
    errors = [rec for rec in caplog.records if rec.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is None
    assert errors[0].getMessage() == "internal error on GET /boom: RuntimeError"


def _escaped_quotes_body(size: int) -> bytes:
    """The issue's payload: 33 brackets, a quote, then ``x\\"`` repeated (every quote escaped,
    so the string never ends): the old scan restarted from every quote."""
    head = b"[" * 33 + b'"'
    return head + b'x\\"' * ((size - len(head)) // 3)


def test_nesting_scan_is_linear_on_escaped_quotes(client):
    """Point 3: 60 kB took 17.7 s on the event loop, 1 MB about 80 minutes."""
    import time

    from profilage.web.limits import json_too_deep

    body = _escaped_quotes_body(990_000)
    t0 = time.perf_counter()
    assert json_too_deep(body)  # 33 levels, then a string that never closes
    assert not json_too_deep(b"[" * 32 + b'"' + b'x\\"' * 300_000)
    assert time.perf_counter() - t0 < 5.0  # quadratic would be hours; linear is milliseconds
    r = client.post("/api/score", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "(body)"
    assert "nested deeper than 32" in r.json()["detail"][0]["msg"]
    for tricky, deep in ((b'["\\\\"' + b"[" * 40, True), (b'["\\\\\\""' + b"]" * 40, False),
                         (b'{"a": "[[[[", "b": ' + b"[" * 33 + b"]" * 33 + b"}", True)):
        assert json_too_deep(tricky) is deep, tricky


def test_text_plain_body_is_not_even_scanned(client):
    """Any page can send text/plain without a preflight: refused before the body is read."""
    r = client.post("/api/score", content=_escaped_quotes_body(500_000),
                    headers={"content-type": "text/plain"})
    assert r.status_code == 415


def test_slow_or_partial_body_times_out():
    """Point 3/13: a client that sends half a body and waits holds nothing for ever."""
    import asyncio

    from profilage.web.limits import BodyLimit

    reached = []

    async def app(scope, receive, send):  # pragma: no cover - must not be reached
        reached.append(scope)

    async def run():
        sent: list[dict] = []
        first = True

        async def receive():
            nonlocal first
            if first:
                first = False
                return {"type": "http.request", "body": b'{"dossier": ', "more_body": True}
            await asyncio.sleep(3600)

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "method": "POST", "path": "/api/score",
                 "headers": [(b"content-type", b"application/json")]}
        await asyncio.wait_for(BodyLimit(app, timeout=0.2)(scope, receive, send), 5)
        return sent

    sent = asyncio.run(run())
    assert sent[0]["status"] == 408 and not reached
    assert b"not received within 0.2 s" in sent[1]["body"]


def test_one_bad_dossier_in_a_batch_fails_alone(client, monkeypatch):
    """Point 5: a dossier that breaks scoring (the issue's: reference month 0001-01 and a child
    given by age, built here without validation as a validation gap would let it through) was
    batched with other clients' dossiers and failed them all. Each request is now scored by
    itself (no batching): sent among concurrent requests of other clients, it gets its own 500
    (one line, no traceback) and every other request its exact score."""
    import asyncio
    import datetime as dt

    import httpx

    from profilage.dossier import Dossier, Enfant
    from profilage.personas import available_personas
    from profilage.scoring import score_dossier
    from profilage.web import api

    bad = Dossier.model_construct(reference_month=dt.date(1, 1, 1), enfants=[Enfant(age=30)])
    with pytest.raises(ValueError):
        score_dossier(bad, "cnaf-2014")
    real = api.resolve_dossier
    monkeypatch.setattr(api, "resolve_dossier",
                        lambda d, loc: bad if d == "__bad__" else real(d, loc))
    names = available_personas() * 4

    async def go():
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            reqs = [c.post("/api/score", json={"dossier": n}) for n in names]
            reqs.insert(5, c.post("/api/score", json={"dossier": "__bad__"}))
            return await asyncio.gather(*reqs)

    got = asyncio.run(go())
    failed = got.pop(5)
    assert failed.status_code == 500
    assert failed.json()["detail"][0]["type"] == "internal_error"
    want = {n: score_dossier(n, "cnaf-2014")["score"] for n in set(names)}
    assert [r.status_code for r in got] == [200] * len(names)
    assert [r.json()["score"] for r in got] == [want[n] for n in names]


def test_hostile_dossier_is_a_422_and_concurrent_requests_are_scored(client):
    """The same dossier through the API, among concurrent innocent requests: its own 422 naming
    the field, 200 for all the others."""
    import asyncio

    import httpx

    hostile = {"reference_month": "0001-01", "enfants": [{"age": 30}]}

    async def go():
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            reqs = [c.post("/api/score", json={"dossier": "abel"}) for _ in range(30)]
            for i in range(0, 30, 6):
                reqs.insert(i, c.post("/api/score", json={"dossier": hostile}))
            return await asyncio.gather(*reqs)

    res = asyncio.run(go())
    bad = [r for r in res if r.status_code != 200]
    assert len(bad) == 5 and all(r.status_code == 422 for r in bad)
    assert {r.json()["detail"][0]["field"] for r in bad} == {"dossier.reference_month"}
    assert "outside 1990-01..2100-12" in bad[0].json()["detail"][0]["msg"]
    from profilage.scoring import score_dossier

    abel = score_dossier("abel")["score"]
    assert [r.json()["score"] for r in res if r.status_code == 200] == [abel] * 30


def test_audit_budget_of_groups_and_bootstrap_draws(client):
    """Point 4: 200,000 households, 2,000 draws and the ten built-in groups asked for 52,068
    groups x 2,000 draws (5.5 GB); now a 422 that says the limit, before any draw."""
    from profilage.audit import BUILTIN_GROUPS

    body = {"population": {"households": 20_000}, "bootstrap": 2000, "by": list(BUILTIN_GROUPS)}
    r = client.post("/api/audit", json=body)
    assert r.status_code == 422
    d = r.json()["detail"][0]
    assert d["field"] == "by" and "over the limit of 1000" in d["msg"], d
    body = {"population": {"households": 20_000}, "bootstrap": 2000,
            "by": ["famille_type", "tranche_age", "decile_revenu_uc", "sexe_allocataire"]}
    r = client.post("/api/audit", json=body)
    assert r.status_code == 422
    d = r.json()["detail"][0]
    assert d["field"] == "bootstrap" and "over the limit of 500000" in d["msg"], d
    body["bootstrap"] = 100
    assert client.post("/api/audit", json=body).status_code == 200
    r = client.post("/api/audit", json={"population": {"households": 200_001}})
    assert r.status_code == 422 and "200000" in r.json()["detail"][0]["msg"]


def test_cli_audit_budget_says_the_limit(cli, tmp_path):
    from profilage.population import generate_population

    pop = tmp_path / "p.parquet"
    generate_population(20_000, seed=2).write_parquet(pop)
    r = cli("audit", "--population", str(pop), "--bootstrap", "10000", "--by",
            "famille_type,tranche_age,decile_revenu_uc,sexe_allocataire,rsa")
    assert r.returncode == 2, r.stderr
    assert "--bootstrap" in r.stderr and "over the limit of 5000000" in r.stderr


def test_partial_bodies_on_real_connections_are_closed():
    """Point 13: 1,100 connections with partial bodies stayed open for ever. A real uvicorn
    server (body time limit 1 s): each half-sent body gets 408 and its connection is closed,
    while other requests are answered."""
    import socket
    import threading
    import time
    import urllib.request

    import uvicorn

    from profilage.cli.web_cmds import UVICORN_LIMITS

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(body_timeout=1.0), host="127.0.0.1",
                                           port=port, log_level="warning", **UVICORN_LIMITS))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        socks = []
        for _ in range(50):
            c = socket.create_connection(("127.0.0.1", port), timeout=10)
            c.sendall(b"POST /api/score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                      b"application/json\r\nContent-Length: 1000\r\n\r\n{\"dossier\": ")
            socks.append(c)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/models", timeout=10) as r:
            assert r.status == 200  # the server still answers meanwhile
        t0 = time.monotonic()
        for c in socks:
            data = b""
            while True:
                chunk = c.recv(4096)
                if not chunk:
                    break  # closed by the server
                data += chunk
            assert data.startswith(b"HTTP/1.1 408"), data[:80]
            assert b"not received within 1 s" in data
            c.close()
        assert time.monotonic() - t0 < 10
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_cross_site_requests_are_refused_but_links_to_pages_work(client):
    """A page elsewhere can embed <img src="http://127.0.0.1:8000/audit?run=1&households=200000">
    (the browser sends it, with Sec-Fetch-Site: cross-site): it must not start an audit."""
    img = {"sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors", "sec-fetch-dest": "image"}
    nav = {"sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate",
           "sec-fetch-dest": "document"}
    for path, headers in (("/audit?run=1&households=200000", img),
                          ("/audit?run=1&households=200000", nav),
                          ("/audit/report?households=200000", nav),
                          ("/api/models", {**img, "sec-fetch-mode": "cors",
                                           "sec-fetch-dest": "empty"}),
                          ("/", {**nav, "sec-fetch-dest": "iframe"}),
                          ("/", {**nav, "sec-fetch-site": "same-site", "sec-fetch-mode": "cors"})):
        r = client.get(path, headers=headers)
        assert r.status_code == 403, (path, headers)
        assert r.json()["detail"][0]["field"] == "header.sec-fetch-site"
    r = client.post("/api/score", json={"dossier": "abel"},
                    headers={"sec-fetch-site": "cross-site", "sec-fetch-mode": "cors"})
    assert r.status_code == 403
    for path in ("/", "/models", "/audit", "/audit?run=0"):  # a link from elsewhere
        assert client.get(path, headers=nav).status_code == 200, path
    same = {"sec-fetch-site": "same-origin", "sec-fetch-mode": "cors", "sec-fetch-dest": "empty"}
    assert client.post("/api/score", json={"dossier": "abel"}, headers=same).status_code == 200

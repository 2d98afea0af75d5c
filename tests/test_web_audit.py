"""Audit over HTTP (POST /api/audit, the audit page) and the self-contained report."""

import json
import os
import re

import polars as pl
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from profilage.audit import audit_population  # noqa: E402
from profilage.population import generate_population  # noqa: E402
from profilage.web import create_app  # noqa: E402


@pytest.fixture(scope="module")
def population_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("pop") / "pop.parquet"
    generate_population(3000, seed=7).write_parquet(path)
    return path


@pytest.fixture(scope="module")
def client(population_file):
    """A server started with ``--allow-paths`` the population's directory."""
    return TestClient(create_app(allow_paths=population_file.parent), base_url="http://127.0.0.1",
                      raise_server_exceptions=False)


def test_api_audit_generated_equals_python(client):
    body = {"model": "cnaf-2014", "population": {"households": 3000, "seed": 7},
            "share": 0.05, "bootstrap": 30, "seed": 1}
    r = client.post("/api/audit", json=body)
    assert r.status_code == 200, r.text
    got = r.json()
    want = audit_population(generate_population(3000, seed=7), "cnaf-2014", share=0.05,
                            n_boot=30, seed=1)
    assert got["budget"]["selected"] == 150 == want["budget"]["selected"]
    want_groups = json.loads(json.dumps(want["groups"]))
    assert [(g["by"], g["group"], g["selected"]) for g in got["groups"]] == \
        [(g["by"], g["group"], g["selected"]) for g in want_groups]
    for a, b in zip(got["groups"], want_groups):  # parallel means may differ in the last bit
        for k, v in a.items():
            if isinstance(v, float):
                assert v == pytest.approx(b[k], rel=1e-12, abs=1e-15), k
            else:
                assert v == b[k], k
    assert "NOT official" in got["model"]["provenance"]
    mono = next(g for g in got["groups"] if g["group"] == "monoparentale")
    assert mono["ci_low"] <= mono["selection_rate"] <= mono["ci_high"]


def test_api_audit_cnam_model_gets_a_c2s_population(client):
    from profilage.population import generate_c2s_population

    r = client.post("/api/audit", json={"model": "cnam-c2sg-2018", "share": 0.05, "bootstrap": 0,
                                        "population": {"households": 2000, "seed": 3}})
    assert r.status_code == 200, r.text
    got = r.json()
    assert "foyers C2S fictifs" in got["population"]
    want = audit_population(generate_c2s_population(2000, seed=3), "cnam-c2sg-2018",
                            share=0.05, n_boot=0)
    assert [g["selected"] for g in got["groups"]] == [g["selected"] for g in want["groups"]]


def test_api_audit_path_and_errors(client, population_file):
    r = client.post("/api/audit", json={"population": {"path": str(population_file)},
                                        "budget_per_month": 100, "bootstrap": 0})
    assert r.status_code == 200 and r.json()["budget"]["selected"] == 100
    cases = [
        ({"population": {"path": "nope.parquet"}}, "population.path", "file not found"),
        ({"population": {"path": "/etc/passwd"}}, "population.path", "only files inside"),
        ({"population": {"path": "../../x.csv"}}, "population.path", "only files inside"),
        ({"population": {"households": 5}}, "population.households", "greater than or equal"),
        ({"population": {"households": 100, "path": "x"}}, "population", "either"),
        ({"population": {"households": 100}, "share": 2}, "share", "less than or equal"),
        ({"population": {"households": 100}, "share": 0.1, "budget_per_month": 3}, "(body)",
         "not both"),
        ({"population": {"households": 100}, "by": ["nope"]}, "by", "not a declared group column"),
        ({"population": {"households": 100}, "by": ["rsa", "rsa"]}, "by", "given once"),
        ({"population": {"households": 100}, "model": "nope"}, "model", "unknown model"),
    ]
    for body, field, needle in cases:
        r = client.post("/api/audit", json=body)
        assert r.status_code == 422, (body, r.text)
        d = r.json()["detail"][0]
        assert d["field"] == field and needle in d["msg"], (body, d)


def test_api_audit_reads_no_path_by_default(population_file):
    """Hostile: a page makes the browser post a local file's path; off unless --allow-paths."""
    c = TestClient(create_app(), base_url="http://127.0.0.1")
    r = c.post("/api/audit", json={"population": {"path": str(population_file)}})
    assert r.status_code == 422 and "reads no file named by a client" in r.json()["detail"][0]["msg"]
    assert r.json()["detail"][0]["field"] == "population.path"
    assert 'name="path"' not in c.get("/audit").text


def test_audit_page_table_charts_and_report_link(client):
    r = client.get("/audit?run=1&households=3000&seed=7&share_pct=5&bootstrap=20")
    assert r.status_code == 200
    html = r.text
    assert "Coefficients NON officiels" in html
    assert 'data-group="monoparentale"' in html and "<svg" in html
    assert html.count('class="chart"') == 4
    assert '<strong id="selected-count">150</strong>' in html
    link = re.search(r'id="download-report" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    rep = client.get(link)
    assert rep.status_code == 200 and "attachment" in rep.headers["content-disposition"]
    assert "<script" not in rep.text and "Rapport d&#39;audit" in rep.text
    r = client.get("/audit?run=1&households=3&lang=en")
    assert r.status_code == 422 and "Number of fictitious households to make" in r.text
    assert "must be at least 10" in r.text and "population.households" not in r.text


def test_models_pages(client):
    html = client.get("/models").text
    assert "cnaf-2014" in html and "65&nbsp;reconstruits" in html
    html = client.get("/models/cnaf-2014").text
    assert "Situation familiale" in html and "situation de famille" in html
    assert "reconstruit" in html and "Notre reconstruction (ajustement sous contraintes" in html
    assert "profilage.reconstruct" not in html and "sources.md" not in html  # readable sources
    html = client.get("/models/cnaf-2014?diff=cnaf-2010&lang=en").text
    diff = html[html.index('id="diff"'):html.index('class="criteria-box"')]
    assert diff.count('class="diff-removed"') == 6 and "Holder&#39;s nationality" in diff
    assert client.get("/models/nope").status_code == 404


def _assert_self_contained(text: str) -> None:
    assert "<script" not in text
    for ref in re.findall(r'(?:src|href)\s*=\s*"([^"]+)"', text):
        assert not ref.startswith(("http:", "https:", "//")), ref
    assert "<link" not in text and "@import" not in text


def test_report_cli_html_self_contained(cli, tmp_path, population_file):
    out = tmp_path / "rapport.html"
    r = cli("report", "--model", "cnaf-2014", "--population", str(population_file), "--out",
            str(out), "--share", "0.05", "--bootstrap", "20")
    assert r.returncode == 0, r.stderr
    text = out.read_text("utf-8")
    _assert_self_contained(text)
    assert "Coefficients NON officiels" in text and "Méthode" in text
    assert text.count("<svg") >= 4
    want = audit_population(pl.read_parquet(population_file), "cnaf-2014", share=0.05,
                            n_boot=20)
    mono = next(g for g in want["groups"] if g["group"] == "monoparentale")
    row = re.search(r'data-group="monoparentale">(.*?)</tr>', text, re.S).group(1)
    assert f"{100 * mono['selection_rate']:.1f}\u00a0%".replace(".", ",") in row  # French
    assert "famille monoparentale" in row and "Type de famille" in row  # labels, not ids
    assert not list(tmp_path.glob(".*"))  # no temporary file left


def test_report_cli_errors(cli, tmp_path, population_file):
    r = cli("report", "--population", str(population_file), "--out", str(tmp_path / "r.txt"))
    assert r.returncode == 2 and "--out" in r.stderr and ".html" in r.stderr
    r = cli("report", "--population", str(tmp_path / "none.parquet"), "--out",
            str(tmp_path / "r.html"))
    assert r.returncode == 2 and "file not found" in r.stderr
    assert not (tmp_path / "r.html").exists()


def test_report_pdf_or_clear_error(tmp_path, population_file):
    import subprocess
    import sys

    from profilage.report import find_chromium

    out = tmp_path / "r.html"
    args = [sys.executable, "-m", "profilage", "report", "--population", str(population_file),
            "--out", str(out), "--bootstrap", "0", "--pdf"]
    if find_chromium():
        r = subprocess.run(args, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        assert out.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"
    env = {**os.environ, "PATH": str(tmp_path), "PROFILAGE_CHROMIUM": ""}
    out.unlink(missing_ok=True)
    r = subprocess.run(args, capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 2 and "--pdf needs Chromium" in r.stderr
    assert out.is_file()  # the HTML is kept


def _no_network_prefix() -> list[str] | None:
    """``unshare -n``: a new network namespace with no interface but loopback (needs root)."""
    import shutil
    import subprocess

    exe = shutil.which("unshare")
    if not exe:
        return None
    ok = subprocess.run([exe, "-n", "true"], capture_output=True).returncode == 0
    return [exe, "-n"] if ok else None


def test_report_and_site_work_without_any_network(tmp_path, population_file):
    """Charts are rendered by vl-convert in-process (Rust/Deno, not Python sockets): run the
    commands in a network namespace with no network at all, not just a Python guard."""
    import subprocess
    import sys

    prefix = _no_network_prefix()
    if prefix is None:
        pytest.skip("unshare -n is not available (needs root and util-linux)")
    env = {**os.environ}
    r = subprocess.run([*prefix, sys.executable, "-m", "profilage", "report", "--population",
                        str(population_file), "--out", str(tmp_path / "r.html"), "--bootstrap",
                        "0"], capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "r.html").read_text("utf-8").count("<svg") >= 4
    r = subprocess.run([*prefix, sys.executable, "-m", "profilage", "export-site",
                        str(tmp_path / "site")], capture_output=True, text=True, timeout=300,
                       env=env)
    assert r.returncode == 0, r.stderr and (tmp_path / "site" / "index.html").is_file()


def test_threshold_curves_and_deciles_agree_with_the_audit(population_file):
    """The charts' data, checked against a second computation: the audit's own top-k."""
    from profilage.audit import run_audit
    from profilage.report import decile_composition, threshold_curves

    pop = pl.read_parquet(population_file)
    result = run_audit(pop, "cnaf-2014", share=0.05, n_boot=0)
    curves = threshold_curves(result.selections, "famille_type")
    at5 = {r["group"]: r["rate"] for r in curves.filter(pl.col("budget_share") == 0.05).to_dicts()}
    for g in result.table.filter(pl.col("by") == "famille_type").to_dicts():
        assert at5.get(g["group"], 0.0) == pytest.approx(g["selection_rate"], abs=0.01), g["group"]
    # the curves rise with the budget, and reach the whole group at 100 %
    for _, grp in curves.group_by("group"):
        rates = grp.sort("budget_share")["rate"].to_list()
        assert rates == sorted(rates)
    dec = decile_composition(result.selections, "famille_type")
    sums = dec.group_by("decile").agg(pl.col("share").sum())["share"].to_list()
    assert sorted(dec["decile"].unique().to_list()) == list(range(1, 11))
    assert all(s == pytest.approx(1.0) for s in sums)
    assert dec["len"].sum() == pop.height

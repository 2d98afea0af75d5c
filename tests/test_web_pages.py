"""HTML pages (French first, English switch) and the static site export, without a browser."""

import json
import re

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from profilage.web import create_app  # noqa: E402


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(), base_url="http://127.0.0.1", raise_server_exceptions=False)


def _no_external_resources(html: str) -> None:
    for ref in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not ref.startswith(("http:", "https:", "//")), ref


def test_simulator_page_french_with_provenance(client):
    r = client.get("/")
    assert r.status_code == 200
    html = r.text
    assert '<html lang="fr">' in html and "<h1>Simulateur</h1>" in html
    assert "Coefficients NON officiels" in html and "65&nbsp;reconstruits" in html
    assert 'data-path="allocataire.age"' in html and 'data-special="enfants"' in html
    assert 'data-persona="nathalie"' in html
    _no_external_resources(html)


def test_pages_in_english(client):
    html = client.get("/?lang=en").text
    assert '<html lang="en">' in html and "<h1>Simulator</h1>" in html
    assert "NOT the official coefficients" in html
    assert 'href="/?lang=fr"' in html
    html = client.get("/compare?lang=en").text
    assert "Compare two households" in html
    cfg = json.loads(re.search(r'id="page-config">(.*?)</script>', html).group(1))
    assert cfg["initial"] == {"a": "michel", "b": "abel"} and cfg["compare"] is True


def test_unknown_query_values_fall_back(client):
    html = client.get("/?lang=xx&model=nope&persona=../../etc").text
    cfg = json.loads(re.search(r'id="page-config">(.*?)</script>', html).group(1))
    assert cfg["lang"] == "fr" and cfg["model"] == "cnaf-2014" and cfg["initial"] == {}


def test_api_docs_are_served_locally(client):
    html = client.get("/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    _no_external_resources(html)
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200


def test_static_assets_served(client):
    for f in ("simulator.js", "profilage-engine.js", "profilage.css"):
        assert client.get(f"/static/{f}").status_code == 200


def test_export_site(cli, tmp_path):
    out = tmp_path / "site"
    r = cli("export-site", str(out))
    assert r.returncode == 0, r.stderr
    for f in ("index.html", "compare.html", "en/index.html", "en/compare.html",
              "static/profilage-engine.js", "static/simulator.js", "models/cnaf-2014.json",
              "models.html", "models/cnaf-2014.html", "en/models.html",
              "en/models/cnam-c2sg-2021.html"):
        assert (out / f).is_file(), f
    html = (out / "index.html").read_text("utf-8")
    _no_external_resources(html)
    assert "/api/" not in html.replace('"api": "api/"', "")
    data = json.loads(re.search(r'id="site-data">(.*?)</script>', html, re.S).group(1))
    assert data["models"]["cnaf-2014"]["coefficients_status"]["reconstructed"] == 65
    assert "nathalie" in data["personas"]
    assert "aucune donnée du foyer ne le quitte" in html
    model = json.loads((out / "models" / "cnaf-2014.json").read_text("utf-8"))
    assert model == json.loads(cli("models", "export", "cnaf-2014", "--format", "json").stdout)
    # persona buttons in the page's language (a first name stays as it is)
    en = (out / "en" / "index.html").read_text("utf-8")
    assert ">Claire and Marc<" in en and ">Claire et Marc<" not in en and ">Nathalie<" in en
    assert ">Claire et Marc<" in html and ">Nathalie, trois ans plus tard<" in html


def test_persona_buttons_speak_the_page_language(client):
    for path, want, not_want in (
            ("/?lang=en", (">Claire and Marc<", ">Nathalie, three years later<", ">Abel<"),
             ("Claire et Marc", "trois ans plus tard")),
            ("/compare?lang=en", (">Claire and Marc<",), ("Claire et Marc",)),
            ("/", (">Claire et Marc<", ">Nathalie, trois ans plus tard<"),
             ("Claire and Marc", "three years later"))):
        html = client.get(path).text
        for w in want:
            assert w in html, (path, w)
        for w in not_want:
            assert w not in html, (path, w)


def test_export_site_refuses_non_empty_dir(cli, tmp_path):
    (tmp_path / "x.txt").write_text("keep me")
    r = cli("export-site", str(tmp_path))
    assert r.returncode == 2 and "not empty" in r.stderr
    assert (tmp_path / "x.txt").read_text() == "keep me"
    r = cli("export-site", str(tmp_path / "s"), "--model", "nope")
    assert r.returncode == 2 and "unknown model" in r.stderr
    assert not (tmp_path / "s").exists()


def test_model_page_counts_agree_in_number(tmp_path):
    """One criterion with two rows: « 1 critère, 2 lignes » / "1 criterion, 2 rows", and
    cnaf-2014's 23 criteria in the plural."""
    from test_models import GOOD

    from profilage.models import load_model, load_model_file
    from profilage.render import base_context, render
    from profilage.web.pages import model_page_context

    p = tmp_path / "toy.toml"
    p.write_text(GOOD)
    toy = load_model_file(p)
    for m, fr, en in ((toy, "(1 critère, 2 lignes)", "(1 criterion, 2 rows)"),
                      (load_model("cnaf-2014"), "(23 critères, ", "(23 criteria, ")):
        for lang, want in (("fr", fr), ("en", en)):
            html = render("model.html", base_context(lang, models=[], model_id=m.id, others=[],
                                                     diff=None, diff_rows=None,
                                                     **model_page_context(m, lang)))
            assert want in html, (m.id, lang)

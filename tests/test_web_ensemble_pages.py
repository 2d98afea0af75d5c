"""The ensemble of reconstructions on the pages (a fixture ensemble, as in
test_ensemble_consumers.py): the simulator says the score's range beside the score, the audit
page and its report give the conclusions that hold in every reconstruction and each group's
range — the same figures as the API."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import test_web_browser as wb  # noqa: E402
from ensemble_fixture import write_fixture  # noqa: E402
from serverproc import running_server  # noqa: E402
from test_web_browser import ARTIFACTS, _api, fr  # noqa: E402

browser = wb.browser  # Debian's Chromium, as in the other browser tests


@pytest.fixture(scope="module")
def ens_server(tmp_path_factory):
    d = tmp_path_factory.mktemp("ensembles")
    write_fixture(d, "cnaf-2014", size=7, seed=3)
    with running_server(env={"PROFILAGE_ENSEMBLES": str(d)}) as url:
        yield url


def test_simulator_shows_the_ensemble_range(ens_server, browser):
    ctx = browser.new_context(viewport={"width": 390, "height": 844})
    pg = ctx.new_page()
    pg.goto(ens_server + "/?persona=nathalie")
    pg.wait_for_selector("#sim[data-state=done]", state="attached", timeout=30_000)
    api = _api(ens_server, "/api/score", {"dossier": "nathalie", "ensemble": True})["ensemble"]
    box = pg.locator("#sim-result .ensemble-range")
    assert box.is_visible()
    text = box.inner_text()
    assert f"Sur les {api['size']} reconstructions de l'ensemble" in text
    assert f"entre {fr(api['score_min'])} et {fr(api['score_max'])}" in text
    assert f"médiane {fr(api['score_median'])}" in text
    (ARTIFACTS / "pages").mkdir(parents=True, exist_ok=True)
    pg.locator("#sim-result .headline").screenshot(
        path=str(ARTIFACTS / "pages" / "ensemble-simulator-fr-390.png"))
    ctx.close()


def test_audit_page_shows_conclusions_and_ranges(ens_server, browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    q = "/audit?run=1&households=3000&seed=2&bootstrap=0&ensemble=1"
    pg.goto(ens_server + q)
    pg.wait_for_selector("#conclusions", timeout=60_000)
    api = _api(ens_server, "/api/audit", {"population": {"households": 3000, "seed": 2},
                                          "bootstrap": 0, "seed": 2, "ensemble": True})
    items = pg.locator("#conclusions li").all_inner_texts()
    assert items == [c["text_fr"] for c in api["conclusions"]]
    mono = next(g for g in api["groups"] if g["group"] == "monoparentale")
    cell = pg.inner_text("tr[data-group=monoparentale] td.ens")
    lo = f"{100 * mono['selected_share_min']:.1f}".replace(".", ",")
    hi = f"{100 * mono['selected_share_max']:.1f}".replace(".", ",")
    assert f"{lo}\u00a0% – {hi}\u00a0%" in cell
    assert json.dumps(api["ensemble"]["size"]) in pg.inner_text("#conclusions")
    pg.screenshot(path=str(ARTIFACTS / "pages" / "ensemble-audit-fr-1280.png"), full_page=True)
    pg.locator("#conclusions").screenshot(
        path=str(ARTIFACTS / "pages" / "ensemble-audit-conclusions-fr-1280.png"))
    ctx.close()

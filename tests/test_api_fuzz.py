"""The HTTP API fuzzed from its own OpenAPI spec (schemathesis): no 5xx, no stack traces.

Every operation the app documents gets generated valid and invalid requests (positive and
negative modes); whatever arrives, the answer is a 2xx or a 4xx with a JSON body that does not
leak internals. ``PROFILAGE_FUZZ`` scales the number of examples (default 25 per operation).
"""

from __future__ import annotations

import os

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is in the test extra")
pytest.importorskip("fastapi", reason="the web extra (fastapi) is not installed")

from hypothesis import HealthCheck, settings  # noqa: E402

from profilage.web import create_app  # noqa: E402

_SEEN: list = []
EXAMPLES = int(25 * float(os.environ.get("PROFILAGE_FUZZ", "1")))

# the ASGI test client sends "Host: testserver": trusted here as `serve --trusted-host` would
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(hosts=["testserver"]))


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
          derandomize="PROFILAGE_FUZZ" not in os.environ)  # CI reproducible; FUZZ explores
def test_api_never_answers_5xx(case):
    response = case.call()
    _SEEN.append((case.method, case.path, response.status_code))
    assert response.status_code < 500, (case.method, case.path, response.status_code,
                                        response.text[:300])
    text = response.text
    assert "Traceback" not in text and 'File "' not in text, text[:300]
    if response.status_code in (413, 422):
        detail = response.json()["detail"]
        assert detail and all("field" in d and "msg" in d for d in detail), detail


def test_fuzz_reached_errors_and_successes():
    """The fuzzing above really sent both valid and invalid requests (runs after it)."""
    if not _SEEN:
        pytest.skip("run together with test_api_never_answers_5xx")
    codes = {c for _, _, c in _SEEN}
    assert any(c == 200 for c in codes) and any(400 <= c < 500 for c in codes), sorted(codes)

"""The browsable API documentation: the gateway serves /api-docs/ (Swagger UI vendored in
web/vendor/swagger-ui) under its strict Content-Security-Policy, and it shows each service's
operations from its /openapi.json, with query parameters and documented responses."""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from ekinerja_common.events import SERVICES

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def test_every_service_documents_query_parameters_and_responses(stack):
    http = requests.Session()
    http.trust_env = False
    for service in SERVICES:
        spec = http.get(stack.url(f"/api/{service}/openapi.json"), timeout=10).json()
        ops = [op for path in spec["paths"].values() for op in path.values()]
        assert all({"503"} <= set(op["responses"]) for op in ops), service
        assert any(p["in"] == "query" for op in ops for p in op.get("parameters", [])), service
    queue = http.get(stack.url("/api/approval/openapi.json"), timeout=10).json()["paths"]["/queue"]["get"]
    assert {p["name"] for p in queue["parameters"]} >= {"month", "from", "to"}
    assert {"200", "304", "401", "403"} <= set(queue["responses"])


def test_the_docs_page_renders_in_a_browser_under_the_gateway_csp(stack):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing (deploy/local/bootstrap.sh test installs it)")
    # In its own thread: a session-wide Playwright of the browser tests (tests/browser) may be
    # running in this one, and the sync API refuses to start inside a running event loop.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(_render_docs_page, stack.url("/api-docs/?layanan=approval")).result()


def _render_docs_page(url: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            problems = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(url)
            page.wait_for_selector(".opblock-summary-path", timeout=30_000)
            paths = page.locator(".opblock-summary-path").all_inner_texts()
            assert any("/queue" in t for t in paths), paths
            assert page.locator(".docs-head h1").inner_text() == "Dokumentasi API E-Kinerja"
            page.screenshot(path=os.environ.get("EKINERJA_DOCS_PNG", "/dev/null") if os.environ.get("EKINERJA_DOCS_PNG") else None)
            assert not [m for m in problems if "Content Security Policy" in m or "Refused" in m], problems
        finally:
            browser.close()

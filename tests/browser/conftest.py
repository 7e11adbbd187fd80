"""One real stack for every browser test (starting it costs about a minute): five services (web,
relay, consumer each) on PostgreSQL, RabbitMQ, the nginx gateway serving web/, the demo dinas
seeded through the gateway. Each person of a story has their own browser context (own cookies and
storage), and every page error or Content-Security-Policy report fails the test.

Screenshots go to a temporary directory (printed), or to $EKINERJA_SCREENSHOTS (the committed set
in docs/screenshots/ is made with EKINERJA_SCREENSHOTS=docs/screenshots).
"""
from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from ekinerja_common.events import SERVICES
from ekinerja_common.testing import delete_prefixed_topology, fresh_database, queue_prefix

from deploy.local.seed import seed_stack
from deploy.local.stack import Ports, Stack

WIB = timezone(timedelta(hours=7))
CHROMIUM = "/usr/bin/chromium"
# --lang: the browser's own widgets (the date picker) in Indonesian, as on the users' phones.
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync", "--lang=id-ID"]
EVENT_WAIT = 45.0  # seconds for an event to reach another service's read model
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    prefix = queue_prefix()
    run_dir = tmp_path_factory.mktemp("stack")
    with fresh_database("web_identity") as u1, fresh_database("web_organization") as u2, \
            fresh_database("web_activity") as u3, fresh_database("web_approval") as u4, \
            fresh_database("web_payroll") as u5:
        urls = dict(zip(SERVICES, (u1, u2, u3, u4, u5)))
        s = Stack(run_dir, ports=Ports.free(), database_urls=urls, queue_prefix=prefix,
                  env={"GUNICORN_WORKERS": "1", "RELAY_POLL_SECONDS": "0.05"}, login_rate="600r/m", login_burst=100)
        try:
            with s:
                yield s
        finally:
            delete_prefixed_topology(prefix, SERVICES)


@pytest.fixture(scope="session")
def logins(stack):
    return {login.username: login for login in seed_stack(stack)}


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` (deploy/local/bootstrap.sh test)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory):
    wanted = os.environ.get("EKINERJA_SCREENSHOTS")
    path = Path(wanted) if wanted else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {path}")
    return path


def today_wib():
    return datetime.now(WIB).date()


class Person:
    """One person in their own browser context (own cookies, storage), watching for page errors
    and Content-Security-Policy violations."""

    def __init__(self, browser, stack: Stack, shots: Path, who: str, viewport: dict | None = None):
        self.browser = browser
        self.viewport = viewport or DESKTOP
        self.context = browser.new_context(viewport=self.viewport, locale="id-ID", timezone_id="Asia/Jakarta")
        self.page = self.context.new_page()
        self.page.set_default_timeout(20_000)
        self.stack = stack
        self.shots = shots
        self.who = who
        self.password: str | None = None
        self.problems: list[str] = []
        self.requests: list[str] = []
        self.watch(self.page)

    def watch(self, page) -> None:
        page.on("pageerror", lambda e: self.problems.append(f"pageerror: {e}"))
        page.on("console", self._console)
        page.on("request", lambda r: self.requests.append(f"{r.method} {r.url}"))

    def _console(self, msg) -> None:
        text = msg.text
        # A failed fetch (a 4xx the test provokes, the aborted answer, the network dropped) is
        # logged as an error by Chromium; that is fine. Anything else at error level, and every
        # CSP report, is a defect of the page.
        if "Content Security Policy" in text or "Refused to" in text:
            self.problems.append(f"csp: {text}")
        elif msg.type == "error" and not (text.startswith("Failed to load resource") or "net::ERR_" in text):
            self.problems.append(f"console: {text}")

    def login(self, username: str, password: str, *, keyboard: bool = False) -> None:
        page = self.page
        page.goto(self.stack.url("/"))
        page.get_by_role("heading", name="Masuk").wait_for()
        if keyboard:
            # The user-name field has the focus, Tab moves to the password, Enter submits.
            page.keyboard.type(username)
            page.keyboard.press("Tab")
            page.keyboard.type(password)
            page.keyboard.press("Enter")
        else:
            page.get_by_label("NIP / nama pengguna").fill(username)
            page.get_by_label("Kata sandi").fill(password)
            page.get_by_role("button", name="Masuk").click()
        page.locator("#who-name").wait_for()
        self.password = password
        page.locator(".view").first.wait_for()

    def open(self, route: str, ready: str | None = None) -> None:
        """Go to a view by its menu link (as a person would), or by address for deeper routes."""
        page = self.page
        if "/" in route:
            # The same address again redraws the view (as the menu item of the open page does).
            page.evaluate("""(r) => {
              if (location.hash === r) window.dispatchEvent(new HashChangeEvent("hashchange"));
              else location.hash = r;
            }""", f"#/{route}")
        else:
            link = page.locator(f"#nav a[href='#/{route}']")
            if not link.is_visible():
                page.locator("#menu-button").click()
            link.click()
        page.locator(f"#view-{route.split('/')[0]}").wait_for()
        page.locator("main > .loading").wait_for(state="detached")
        if ready:
            page.locator(ready).first.wait_for()

    def nav_labels(self) -> list[str]:
        return [t.strip() for t in self.page.locator("#nav a").all_text_contents()]

    def shot(self, name: str, max_height: int = 2600) -> Path:
        """The page from the top, as long as it is (up to ``max_height`` px: a month-end queue is
        tens of thousands of pixels long, and its first screens are what matters)."""
        path = self.shots / f"{name}.png"
        page = self.page
        height = page.evaluate("() => document.documentElement.scrollHeight")
        width = page.viewport_size["width"]
        page.screenshot(path=str(path), full_page=True, clip={"x": 0, "y": 0, "width": width, "height": min(height, max_height)})
        return path

    def redraw(self) -> None:
        """Draw the open view again (after a change of window size, as a rotated phone would)."""
        page = self.page
        page.evaluate("() => window.dispatchEvent(new HashChangeEvent('hashchange'))")
        page.locator("main > .loading").wait_for(state="detached")
        page.wait_for_function("() => !document.querySelector('main [aria-busy=true]')")
        page.wait_for_timeout(200)

    def storage(self) -> tuple[dict, dict]:
        return (self.page.evaluate("() => Object.fromEntries(Object.entries(localStorage))"),
                self.page.evaluate("() => Object.fromEntries(Object.entries(sessionStorage))"))

    def toast(self, text: str) -> None:
        self.page.locator("#toast:not([hidden])").filter(has_text=text).wait_for()

    def then_toast(self, action, text: str) -> None:
        """Do ``action`` and wait for the status message it brings (an older one is put away
        first, so it cannot pass for the new one)."""
        self.page.evaluate("() => { const t = document.getElementById('toast'); t.hidden = true; t.textContent = ''; }")
        action()
        self.toast(text)

    def close(self) -> None:
        self.context.close()


def poll(what: str, attempt, timeout: float = EVENT_WAIT, interval: float = 1.0):
    """Repeat ``attempt`` (which does something and returns a truthy value once the expected state
    is there) until it succeeds."""
    deadline = time.monotonic() + timeout
    while True:
        value = attempt()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


class Api:
    """A person's direct calls to the gateway (for what the story checks behind the page)."""

    def __init__(self, stack: Stack, username: str, password: str):
        self.stack = stack
        self.http = requests.Session()
        self.http.trust_env = False
        r = self.http.post(stack.url("/api/identity/auth/login"), json={"username": username, "password": password}, timeout=30)
        assert r.status_code == 200, r.text
        self.account = r.json()["account"]
        self.http.headers["Authorization"] = "Bearer " + r.json()["access_token"]

    def get(self, path: str, **kw):
        return self.http.get(self.stack.url(path), timeout=60, **kw)

    def post(self, path: str, body=None, **kw):
        return self.http.post(self.stack.url(path), json=body if body is not None else {}, timeout=60, **kw)

    def put(self, path: str, body=None, **kw):
        return self.http.put(self.stack.url(path), json=body if body is not None else {}, timeout=60, **kw)


def layout_problems(page) -> list[str]:
    """What breaks the phone rules on the current page: a horizontal page scroll, visible tap
    targets smaller than 44 px."""
    return page.evaluate("""() => {
      const out = [];
      const doc = document.documentElement;
      if (doc.scrollWidth > doc.clientWidth + 1) out.push(`horizontal scroll: ${doc.scrollWidth} > ${doc.clientWidth}`);
      for (const el of document.querySelectorAll('button, a[href], input:not([type=hidden]):not(.file-input), select, textarea, summary, [role=button]')) {
        const r = el.getBoundingClientRect();
        if (!r.width || !r.height || getComputedStyle(el).visibility === 'hidden') continue;
        if (el.closest('.sr-only, .skip-link')) continue;
        // A checkbox or radio counts with its label, which is the tap target.
        const target = (el.type === 'checkbox' || el.type === 'radio') && el.closest('label') ? el.closest('label').getBoundingClientRect() : r;
        // Links inside running text are exempt (WCAG 2.5.8: inline targets).
        if (el.tagName === 'A' && !el.classList.contains('btn') && getComputedStyle(el).display === 'inline') continue;
        if (target.height < 43.5 || target.width < 43.5) out.push(`${el.tagName.toLowerCase()} "${(el.textContent || el.getAttribute('aria-label') || el.name || '').trim().slice(0, 40)}" ${Math.round(target.width)}x${Math.round(target.height)}`);
      }
      return out;
    }""")


@pytest.fixture(scope="session")
def kit():
    """The helpers above for the test modules (pytest's importlib mode does not put this folder on
    sys.path, so they come as a fixture)."""
    from types import SimpleNamespace

    return SimpleNamespace(Person=Person, Api=Api, poll=poll, layout_problems=layout_problems, today=today_wib,
                           DESKTOP=DESKTOP, PHONE=PHONE, EVENT_WAIT=EVENT_WAIT)

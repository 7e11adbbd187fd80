"""The web client in a real browser against the real stack: five services (web, relay, consumer
each) on PostgreSQL, RabbitMQ, the nginx gateway serving web/. Nothing is mocked: every click goes
through the gateway to the services, and data crosses services only as events.

Story: a staff member logs in, picks a duty, sees the credited minutes, submits an entry and sees
it as "diajukan"; their supervisor sees it in Validasi, cannot return it without a reason, and
approves it; the staff member sees "disetujui"; BPKAD computes the month and sees the staff
member's line, and the staff member sees their own line with its explanation.

Screenshots of every view go to a temporary directory (printed), or to $EKINERJA_SCREENSHOTS.
"""
from __future__ import annotations

import os
import re
import secrets
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from ekinerja_common.events import SERVICES
from ekinerja_common.testing import delete_prefixed_topology, fresh_database, queue_prefix

from deploy.local.seed import seed_stack
from deploy.local.stack import Ports, Stack

pytestmark = pytest.mark.browser

WIB = timezone(timedelta(hours=7))
STAFF_NIP = "198802172011032001"       # Dewi Lestari, Pranata Komputer Ahli Muda
STAFF_NAME = "Dewi Lestari, S.Kom."
SUPERVISOR_NIP = "198007222005012003"  # Rina Wulandari, Kepala Bidang Aplikasi Informatika (her atasan)
DUTY_TEXT = "Menyusun dokumentasi teknis sistem informasi"  # 120 minutes per Dokumen
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
RUPIAH = re.compile(r"^Rp \d{1,3}(\.\d{3})*$")
EVENT_WAIT = 45.0  # seconds for an event to reach another service's read model


@pytest.fixture(scope="module")
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


@pytest.fixture(scope="module")
def logins(stack):
    return {login.username: login for login in seed_stack(stack)}


@pytest.fixture(scope="module")
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


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    wanted = os.environ.get("EKINERJA_SCREENSHOTS")
    path = Path(wanted) if wanted else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {path}")
    return path


class Person:
    """One person in their own browser context (own sessionStorage), watching for page errors
    and Content-Security-Policy violations."""

    def __init__(self, browser, stack: Stack, shots: Path, who: str):
        self.context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="id-ID",
                                           timezone_id="Asia/Jakarta")
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.stack = stack
        self.shots = shots
        self.who = who
        self.problems: list[str] = []
        self.requests: list[str] = []
        self.page.on("pageerror", lambda e: self.problems.append(f"pageerror: {e}"))
        self.page.on("console", self._console)
        self.page.on("request", lambda r: self.requests.append(f"{r.method} {r.url}"))

    def _console(self, msg) -> None:
        text = msg.text
        # A failed fetch (4xx the test provokes) is logged as an error by Chromium; that is fine.
        # Anything else at error level, and every CSP report, is a defect of the page.
        if "Content Security Policy" in text or "Refused to" in text:
            self.problems.append(f"csp: {text}")
        elif msg.type == "error" and not text.startswith("Failed to load resource"):
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
        self.replace_one_time_password(password)

    def replace_one_time_password(self, password: str) -> None:
        """An account still on the one-time password the admin gave it sees only the password
        change (its token is refused everywhere else); replace it as a person would."""
        page = self.page
        page.locator("#view-akun, #view-kegiatan, #view-validasi, #view-tpp").first.wait_for()
        if not page.locator("#pw-required").count():
            return
        assert self.nav_labels() == ["Akun"], self.nav_labels()
        self.shot(f"00-{self.who}-ganti-kata-sandi")
        new = "Baru-" + secrets.token_urlsafe(12)
        page.get_by_label("Kata sandi sekarang").fill(password)
        page.get_by_label("Kata sandi baru", exact=True).fill(new)
        page.get_by_label("Ulangi kata sandi baru").fill(new)
        page.get_by_role("button", name="Ganti kata sandi").click()
        page.locator("#pw-required").wait_for(state="detached")
        page.locator("#view-akun").wait_for(state="detached")  # logged in again, on the first view
        self.password = new

    def nav_labels(self) -> list[str]:
        return [t.strip() for t in self.page.locator("#nav a").all_inner_texts()]

    def shot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def storage(self) -> tuple[dict, dict]:
        return (self.page.evaluate("() => Object.fromEntries(Object.entries(localStorage))"),
                self.page.evaluate("() => Object.fromEntries(Object.entries(sessionStorage))"))

    def close(self) -> None:
        self.context.close()


def poll(what: str, attempt, timeout: float = EVENT_WAIT, interval: float = 1.0):
    """Repeat ``attempt`` (which does something in the page and returns a truthy value once the
    expected state is there) until it succeeds."""
    deadline = time.monotonic() + timeout
    while True:
        value = attempt()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


def test_staff_supervisor_bpkad_in_the_browser(stack, logins, browser, shots):
    today = datetime.now(WIB).date()
    people: list[Person] = []
    try:
        # ---- the staff member records a day's work -----------------------------------------
        staff = Person(browser, stack, shots, "staff")
        people.append(staff)
        page = staff.page
        page.goto(stack.url("/"))
        staff.shot("01-masuk")
        # A wrong password shows the service's Indonesian message and keeps the form.
        page.get_by_label("NIP / nama pengguna").fill(STAFF_NIP)
        page.get_by_label("Kata sandi").fill("bukan-kata-sandinya")
        page.get_by_role("button", name="Masuk").click()
        page.locator(".login-form .alert").wait_for()
        assert page.locator(".login-form .alert").inner_text().strip()

        staff.login(STAFF_NIP, logins[STAFF_NIP].password)
        assert staff.nav_labels() == ["Kegiatan Harian", "Validasi", "TPP", "Akun"]
        page.get_by_role("heading", name="Kegiatan Harian", exact=True).wait_for()
        assert page.get_by_label("Tanggal").input_value() == today.isoformat()

        # The duties reach activity as events; a reload also proves the session survives it
        # (the access token lives in memory only: the page resumes with the refresh token).
        duty_option = page.locator("#view-kegiatan select option", has_text=DUTY_TEXT)

        def duties_loaded():
            if duty_option.count():
                return True
            page.reload()
            page.get_by_role("heading", name="Kegiatan Harian", exact=True).wait_for()
            page.wait_for_timeout(300)
            return duty_option.count() > 0

        poll("the staff member's duties in activity", duties_loaded)
        # Each reload spends the refresh token for a new one (rotation) and stays logged in.
        before = staff.storage()[1].get("ekinerja.refresh_token")
        page.reload()
        page.get_by_role("heading", name="Kegiatan Harian", exact=True).wait_for()
        duty_option.wait_for(state="attached")
        local, session = staff.storage()
        assert session.get("ekinerja.refresh_token") not in (None, before), "the refresh token must rotate"
        assert local == {}, f"nothing may be kept in localStorage: {local}"
        assert list(session) == ["ekinerja.refresh_token"], session
        assert not any(v.startswith("eyJ") or v.count(".") == 2 for v in session.values()), \
            "the access token (a JWT) must stay in memory"

        page.get_by_label("Uraian tugas").select_option(duty_option.get_attribute("value"))
        # A field error from the service appears next to its input.
        page.get_by_label("Jam mulai").fill("10:00")
        page.get_by_label("Jam selesai").fill("08:00")
        page.get_by_label("Keterangan kegiatan").fill("Dokumentasi teknis integrasi aplikasi SPBE")
        page.get_by_role("button", name="Ajukan").click()
        end_error = page.locator("[data-field='end_time'] .field-error")
        end_error.wait_for()
        assert end_error.inner_text().strip()
        assert page.get_by_label("Jam selesai").get_attribute("aria-invalid") == "true"

        # Credited minutes before submitting: min(volume × 120, end − start).
        credited = page.locator("#credited-minutes")
        page.get_by_label("Jam mulai").fill("08:00")
        page.get_by_label("Jam selesai").fill("11:00")
        page.get_by_label("Volume (jumlah keluaran)").fill("2")
        page.wait_for_function("() => document.querySelector('#credited-minutes')?.dataset.minutes === '180'")
        page.get_by_label("Volume (jumlah keluaran)").fill("1")
        page.wait_for_function("() => document.querySelector('#credited-minutes')?.dataset.minutes === '120'")
        page.get_by_text("Diperiksa oleh server.").wait_for()  # the service's preview confirmed it
        assert credited.inner_text().strip() == "120 menit"
        staff.shot("02-kegiatan-isi")

        page.get_by_role("button", name="Ajukan").click()
        row = page.locator("#view-kegiatan tbody tr").filter(has_text=DUTY_TEXT)
        row.wait_for()
        assert row.locator(".badge").inner_text().strip() == "diajukan"
        assert "08:00–11:00" in row.inner_text()
        assert page.locator("#sum-pending .stat-value").inner_text().strip() == "120 menit"
        assert page.locator("[data-field='end_time'] .field-error").is_hidden()
        staff.shot("03-kegiatan-diajukan")

        # ---- the supervisor validates -----------------------------------------------------
        boss = Person(browser, stack, shots, "supervisor")
        people.append(boss)
        bpage = boss.page
        boss.login(SUPERVISOR_NIP, logins[SUPERVISOR_NIP].password)
        bpage.get_by_role("link", name="Validasi").click()
        bpage.get_by_role("heading", name="Validasi", exact=True).wait_for()
        item = bpage.locator(".queue-item").filter(has_text=DUTY_TEXT)

        def in_queue():
            if item.count():
                return True
            bpage.get_by_role("button", name="Muat ulang").click()
            bpage.wait_for_timeout(500)
            return item.count() > 0

        poll("the entry in the supervisor's queue", in_queue)
        person = bpage.locator("section.person").filter(has=item)
        assert STAFF_NAME in person.locator("h2").inner_text()
        assert "19880217 201103 2 001" in person.inner_text()
        assert "120 menit" in item.inner_text()
        boss.shot("04-validasi")

        # Returning without a reason is refused in the dialog; nothing is sent.
        sent_before = len(boss.requests)
        item.get_by_role("button", name=re.compile("^Kembalikan")).click()
        dialog = bpage.locator("dialog[open]")
        dialog.wait_for()
        dialog.get_by_role("button", name="Kembalikan").click()
        message = dialog.locator(".field-error")
        message.wait_for()
        assert message.inner_text().strip() == "Alasan wajib diisi."
        assert dialog.is_visible()
        assert dialog.get_by_label("Alasan").get_attribute("aria-invalid") == "true"
        boss.shot("05-validasi-alasan-kosong")
        assert not [r for r in boss.requests[sent_before:] if "/return" in r], "an empty reason must not be sent"
        bpage.keyboard.press("Escape")  # the dialog is keyboard usable
        bpage.wait_for_selector("dialog[open]", state="detached")
        assert item.count() == 1

        approve = item.get_by_role("button", name=re.compile("^Setujui"))
        approve.focus()
        bpage.keyboard.press("Enter")  # keyboard, like the rest of the queue
        item.wait_for(state="detached")
        bpage.locator("#toast").filter(has_text="disetujui").wait_for()
        boss.shot("06-validasi-disetujui")

        # ---- the staff member sees the decision ------------------------------------------
        badge = row.locator(".badge")

        def approved():
            page.get_by_label("Bulan").dispatch_event("change")  # reload the month's list
            page.wait_for_timeout(500)
            return row.count() and badge.inner_text().strip() == "disetujui"

        poll("the approval in the staff member's list", approved)
        assert page.locator("#sum-approved .stat-value").inner_text().strip() == "120 menit"
        assert page.locator("#sum-pending .stat-value").inner_text().strip() == "0 menit"
        staff.shot("07-kegiatan-disetujui")

        # ---- BPKAD computes the month ------------------------------------------------------
        bpkad = Person(browser, stack, shots, "bpkad")
        people.append(bpkad)
        kpage = bpkad.page
        bpkad.login("bpkad", logins["bpkad"].password, keyboard=True)
        assert bpkad.nav_labels() == ["TPP", "Bulan TPP", "Kebijakan", "Gaji & Sanksi", "Akun"]  # no employee record: no daily activity, no queue
        kpage.get_by_role("heading", name="TPP", exact=True).wait_for()
        assert kpage.get_by_label("Tahun").input_value() == str(today.year)
        assert kpage.get_by_label("Bulan").input_value() == str(today.month)
        line = kpage.locator("#tpp-lines tbody tr").filter(has_text=STAFF_NAME)

        def computed_with_approval():
            kpage.locator("#tpp-compute").click()
            kpage.wait_for_function("() => !document.querySelector('#tpp-compute').disabled")
            kpage.locator("#tpp-lines").wait_for()
            if not line.count():
                return False
            line.get_by_role("button", name=re.compile("^Rincian")).click()
            detail = kpage.locator("tr.line-detail:visible")
            text = detail.inner_text()
            return "120 menit" in text  # the approved minutes reached payroll

        poll("the approved minutes in BPKAD's computation", computed_with_approval)
        cells = [c.strip() for c in line.locator("td").all_inner_texts()]
        name, nip, kelas, productivity, discipline, gross, pph, bpjs, net = cells[:9]
        assert nip == "19880217 201103 2 001" and kelas == "9"
        assert productivity.endswith("%") and discipline.endswith("%")
        for amount in (gross, pph, bpjs, net):
            assert RUPIAH.match(amount), amount
        rupiah = lambda s: int(s.removeprefix("Rp ").replace(".", ""))  # noqa: E731
        assert rupiah(gross) > 0 and rupiah(net) == rupiah(gross) - rupiah(pph) - rupiah(bpjs)
        totals = [c.strip() for c in kpage.locator("#tpp-lines tfoot td").all_inner_texts()]
        assert all(RUPIAH.match(t) for t in totals[:4]), totals
        bpkad.shot("08-tpp-bpkad")

        # ---- the staff member sees their own line, explained ------------------------------
        page.get_by_role("link", name="TPP").click()
        page.get_by_role("heading", name="TPP Saya").wait_for()
        page.locator("#my-net").wait_for()
        assert page.locator("#my-net .stat-value").inner_text().strip() == net
        assert page.get_by_role("button", name="Hitung").count() == 0  # computing is BPKAD's
        explanation = page.locator("#tpp-saya table.explain").inner_text()
        assert "120 menit" in explanation and "Produktivitas" in explanation
        staff.shot("09-tpp-saya")

        # ---- logging out ends the session, on the server too -------------------------------
        spent = staff.storage()[1]["ekinerja.refresh_token"]
        page.get_by_role("button", name="Keluar").click()
        page.get_by_role("heading", name="Masuk").wait_for()
        assert staff.storage()[1] == {}
        page.reload()
        page.get_by_role("heading", name="Masuk").wait_for()
        http = requests.Session()
        http.trust_env = False
        r = http.post(stack.url("/api/identity/auth/refresh"), json={"refresh_token": spent}, timeout=10)
        assert r.status_code == 401, r.text

        for p in people:
            assert p.problems == [], f"{p.who}: {p.problems}"
    finally:
        for p in people:
            p.close()
        if os.environ.get("EKINERJA_SCREENSHOTS") is None:
            print(f"screenshots kept in {shots}")


def test_the_page_is_served_with_a_strict_csp(stack):
    """The gateway sends the policy the page is written for; the page carries it too."""
    http = requests.Session()
    http.trust_env = False
    r = http.get(stack.url("/"), timeout=10)
    assert r.status_code == 200
    header = r.headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in header and "script-src 'self'" in header
    assert 'http-equiv="Content-Security-Policy"' in r.text
    markup = re.sub(r"<!--.*?-->", "", r.text, flags=re.S)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", markup), "no inline script"
    assert not re.search(r"\son[a-z]+\s*=", markup), "no inline event handler"
    assert not re.search(r"\sstyle\s*=", markup), "no inline style"
    for asset in ("/app.js", "/api.js", "/dom.js", "/format.js", "/views/kegiatan.js", "/views/validasi.js",
                  "/views/tpp.js", "/views/akun.js", "/style.css"):
        a = http.get(stack.url(asset), timeout=10)
        assert a.status_code == 200, asset
        if asset.endswith(".js"):
            assert "javascript" in a.headers["Content-Type"], asset
            # Server data goes in as text nodes only, code never comes from strings, no token in localStorage.
            code = re.sub(r"^\s*//.*$", "", a.text, flags=re.M)
            assert not re.search(r"\.(inner|outer)HTML\b|insertAdjacentHTML|document\.write|\beval\(|new Function",
                                 code), asset
            assert "localStorage" not in code, asset

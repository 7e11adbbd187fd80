"""The web client in a real browser against the real stack (tests/browser/conftest.py): nothing is
mocked, every click goes through the gateway to the services, and data crosses services only as
events.

Story: a staff member logs in, picks a duty, sees the credited minutes, submits an entry and sees
it as "diajukan"; their supervisor sees it in Validasi, cannot return it without a reason, and
approves it; the staff member sees "disetujui"; BPKAD computes the month and sees the staff
member's line, and the staff member sees their own line with its explanation and the slip.
The login lives in an HttpOnly refresh cookie: a reload and a second tab keep it, no script can
read it, and logging out ends it on the server.
"""
from __future__ import annotations

import re

import pytest
import requests

pytestmark = pytest.mark.browser

STAFF_NIP = "198802172011032001"       # Dewi Lestari, Pranata Komputer Ahli Muda
STAFF_NAME = "Dewi Lestari, S.Kom."
SUPERVISOR_NIP = "198007222005012003"  # Rina Wulandari, Kepala Bidang Aplikasi Informatika (her atasan)
DUTY_TEXT = "Menyusun dokumentasi teknis sistem informasi"  # 120 minutes per Dokumen
RUPIAH = re.compile(r"^Rp \d{1,3}(\.\d{3})*$")
MONTHS = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
          "November", "Desember"]


def test_staff_supervisor_bpkad_in_the_browser(stack, logins, browser, shots, kit):
    Person, poll = kit.Person, kit.poll
    today = kit.today()
    people = []
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
        assert staff.nav_labels() == ["Bulan Saya", "Kegiatan", "Keberatan", "Validasi", "Tim Saya", "TPP", "Akun"]
        page.get_by_role("heading", name="Bulan Saya", exact=True).wait_for()
        staff.open("kegiatan")
        page.get_by_role("heading", name="Kegiatan Harian", exact=True).wait_for()
        assert page.get_by_label("Tanggal").input_value() == today.strftime("%d/%m/%Y")  # the Indonesian way
        assert page.locator(".date-spelled").inner_text().endswith(f"{today.day} {MONTHS[today.month - 1]} {today.year}")

        # The duties reach activity as events; a reload also proves the session survives it
        # (the access token lives in memory only: the page resumes with the refresh cookie).
        duty_option = page.locator("#view-kegiatan select option", has_text=DUTY_TEXT)

        def duties_loaded():
            if duty_option.count():
                return True
            page.reload()
            page.get_by_role("heading", name="Kegiatan Harian", exact=True).wait_for()
            page.wait_for_timeout(300)
            return duty_option.count() > 0

        poll("the staff member's duties in activity", duties_loaded)
        # Each reload spends the refresh cookie for a new one (rotation) and stays logged in.
        def refresh_cookie():
            (c,) = [c for c in staff.context.cookies() if c["name"] == "ekinerja_refresh"]
            return c

        before = refresh_cookie()
        assert before["httpOnly"] and before["secure"] and before["sameSite"] == "Strict"
        assert before["path"] == "/api/identity/auth/refresh"
        page.reload()
        page.get_by_role("heading", name="Kegiatan Harian", exact=True).wait_for()
        duty_option.wait_for(state="attached")
        assert refresh_cookie()["value"] != before["value"], "the refresh token must rotate"
        assert page.evaluate("() => document.cookie") == "", "no script may read the refresh cookie"
        local, session = staff.storage()
        assert session == {}, session
        tokens = [v for v in local.values() if "eyJ" in v or refresh_cookie()["value"] in v]
        assert not tokens and all(k.startswith(("ekinerja.form.", "ekinerja.outbox.", "ekinerja.duties.", "ekinerja.appeal."))
                                  for k in local), local
        # Only the refresh endpoint ever receives the cookie.
        sent = []
        page.on("request", lambda r: sent.append((r.url, r.headers.get("cookie", ""))))

        # A second tab (a link opened from a chat app) is logged in too.
        tab = staff.context.new_page()
        staff.watch(tab)
        tab.goto(stack.url("/#/kegiatan"))
        tab.get_by_role("heading", name="Kegiatan Harian", exact=True).wait_for()
        assert tab.locator("#who-name").inner_text().startswith("Dewi Lestari")
        tab.close()

        page.get_by_label("Uraian tugas").select_option(duty_option.get_attribute("value"))
        # A field error from the service appears next to its input.
        page.get_by_label("Jam mulai").fill("10:00")
        page.get_by_label("Jam selesai").fill("08:00")
        page.get_by_label("Keterangan kegiatan").fill("Dokumentasi teknis integrasi aplikasi SPBE")
        page.get_by_role("button", name="Ajukan", exact=True).click()
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

        page.get_by_role("button", name="Ajukan", exact=True).click()
        row = page.locator("#view-kegiatan .entry-card").filter(has_text=DUTY_TEXT)
        row.wait_for()
        assert row.locator(".badge").inner_text().strip() == "diajukan"
        assert "08:00–11:00" in row.inner_text()
        assert not [u for u, c in sent if "ekinerja_refresh" in c and not u.endswith("/api/identity/auth/refresh")]
        assert page.locator("#sum-pending .stat-value").inner_text().strip() == "120 menit"
        assert page.locator("[data-field='end_time'] .field-error").is_hidden()
        staff.shot("03-kegiatan-diajukan")

        # Changing it with two mistakes at once, one of the schema (a volume past its bound) and
        # one of the rules (the end before the start): one answer names both, each by its field.
        row.get_by_role("button", name=re.compile("^Ubah kegiatan")).click()
        page.get_by_label("Jam selesai").fill("07:00")
        page.get_by_label("Volume (jumlah keluaran)").fill("2000000")
        page.get_by_role("button", name="Simpan perubahan", exact=True).click()
        for field in ("end_time", "volume"):
            page.locator(f"[data-field='{field}'] .field-error").wait_for()
            assert page.locator(f"[data-field='{field}'] .field-error").inner_text().strip()
        staff.shot("03b-kegiatan-ubah-dua-kesalahan")
        page.get_by_role("button", name="Batal mengubah", exact=True).click()
        assert "08:00–11:00" in row.inner_text()  # nothing was changed

        # ---- the supervisor validates -----------------------------------------------------
        boss = Person(browser, stack, shots, "supervisor")
        people.append(boss)
        bpage = boss.page
        boss.login(SUPERVISOR_NIP, logins[SUPERVISOR_NIP].password)
        boss.open("validasi")
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
            page.locator("#view-kegiatan .card-head select").dispatch_event("change")  # reload the month's list
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
        assert bpkad.nav_labels() == ["TPP", "Bulan TPP", "Kebijakan", "Gaji & Sanksi", "Persetujuan Peran", "Akun"]  # no employee record: no daily activity, no queue
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
        staff.open("tpp")
        page.get_by_role("heading", name="TPP Saya").wait_for()
        page.locator("#my-net").wait_for()
        assert page.locator("#my-net .stat-value").inner_text().strip() == net
        assert page.get_by_role("button", name="Hitung").count() == 0  # computing is BPKAD's
        explanation = page.locator("#tpp-saya table.explain").inner_text()
        assert "120 menit" in explanation and "Produktivitas" in explanation
        with page.expect_download() as download:
            page.get_by_role("button", name="Unduh slip TPP (PDF)").click()
        slip = download.value
        assert slip.suggested_filename == f"slip-tpp-{today.year}-{today.month:02d}.pdf"
        assert open(slip.path(), "rb").read(5) == b"%PDF-"
        staff.shot("09-tpp-saya")

        # ---- logging out ends the session, on the server too -------------------------------
        spent = refresh_cookie()["value"]
        page.get_by_role("button", name="Keluar").click()
        page.get_by_role("heading", name="Masuk").wait_for()
        assert not [c for c in staff.context.cookies() if c["name"] == "ekinerja_refresh"]
        page.reload()
        page.get_by_role("heading", name="Masuk").wait_for()
        http = requests.Session()
        http.trust_env = False
        r = http.post(stack.url("/api/identity/auth/refresh"), json={}, headers={"Cookie": f"ekinerja_refresh={spent}"},
                      timeout=10)
        assert r.status_code == 401, r.text

        for p in people:
            assert p.problems == [], f"{p.who}: {p.problems}"
    finally:
        for p in people:
            p.close()


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
    for asset in ("/app.js", "/api.js", "/dom.js", "/format.js", "/nav.js", "/drafts.js", "/views/bulan.js",
                  "/views/kegiatan.js", "/views/keberatan.js", "/views/validasi.js", "/views/tim.js", "/views/majelis.js",
                  "/views/tpp.js", "/views/akun.js", "/style.css"):
        a = http.get(stack.url(asset), timeout=10)
        assert a.status_code == 200, asset
        if asset.endswith(".js"):
            assert "javascript" in a.headers["Content-Type"], asset
            # Server data goes in as text nodes only, code never comes from strings, no token in any storage.
            code = re.sub(r"^\s*//.*$", "", a.text, flags=re.M)
            assert not re.search(r"\.(inner|outer)HTML\b|insertAdjacentHTML|document\.write|\beval\(|new Function",
                                 code), asset
            assert "sessionStorage" not in code and not re.search(r"setItem\([^)]*[Tt]oken", code), asset
            assert "localStorage" not in code or asset == "/drafts.js", asset

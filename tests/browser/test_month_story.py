"""A month of the front office in a real browser against the real stack, asserting what each
person sees:

1. Siti (Humas staff) enters a week of work on a phone (390×844): a day's list in one go (the
   batch API), a day with the network dropped (the entry waits on the phone and goes when the
   network returns; what she was typing survives moving between pages; the duty list comes from
   the phone), a day copied from the one before, a draft submitted later, an entry withdrawn
   after a confirmation, evidence from the camera. (The answer lost after the server stored the
   entry is test_bad_network.py.)
2. Agus, her head of bidang, has 3,000 more entries waiting from 47 other people (seeded through
   the services' databases): the queue opens a page at a time, he filters Siti, rejects two
   entries with reasons, approves her months in one go each, and approves 1,128 entries of a date
   range in two calls of the bulk API with a progress bar — one of them decided elsewhere in the
   meantime, shown as refused while the rest go through.
3. Siti's month shows the rejections; she appeals one with reasons and evidence. Agus adds his
   comment; the Kepala Dinas (first level) upholds; Siti takes it to the board; a board member
   who sat on the first level sees the case without a decide button (and the API refuses him);
   Rina, seated on the board, overturns it. Siti's month, the entry and the TPP estimate change.

The main pages are photographed at 1366×768 and 390×844 (no horizontal scroll at 390 px, tap
targets of at least 44 px).
"""
from __future__ import annotations

import base64
import re
from datetime import timedelta

import pytest

from deploy.local import month_end

pytestmark = pytest.mark.browser

STAFF = "199306122019032004"        # Siti Nurhaliza, Pranata Humas Ahli Pertama
SUPERVISOR = "197811052003121001"   # Agus Prasetyo, Kepala Bidang IKP (her atasan)
HEAD = "197103141996031002"         # Drs. Bambang Suryanto, Kepala Dinas (first level of Agus's rejections)
BOARD = "198007222005012003"        # Rina Wulandari, Kabid Aptika, appointed to the board
PRESS = "Menyusun siaran pers kegiatan pemerintah kabupaten"      # 90 min / Naskah
SOCIAL = "Mengelola konten media sosial resmi pemerintah kabupaten"  # 30 min / Unggahan
COVER = "Meliput dan mendokumentasikan kegiatan pimpinan daerah"    # 120 min / Kegiatan
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
RUPIAH = re.compile(r"Rp ([\d.]+)")


def rupiah(text: str) -> int:
    m = RUPIAH.search(text)
    assert m, text
    return int(m.group(1).replace(".", ""))


def check_layout(kit, person, name: str) -> None:
    """Photograph the page at both sizes; at 390 px nothing may scroll sideways and every tap
    target is at least 44 px."""
    page = person.page
    for size, tag in ((kit.DESKTOP, "desktop"), (kit.PHONE, "ponsel")):
        page.set_viewport_size(size)
        person.redraw()
        person.shot(f"{name}-{tag}")
        if tag == "ponsel":
            assert kit.layout_problems(page) == [], (name, kit.layout_problems(page))
    page.set_viewport_size(person.viewport)
    person.redraw()


def grant_board(admin, second_admin, nip: str) -> None:
    """Appoint ``nip`` to the appeals board as BKD does: one administrator asks for the majelis
    role, a second one approves it (two people, identity ``grants.py``), then the board member is
    registered in approval."""
    accounts = admin.get(f"/api/identity/accounts?q={nip}").json()["items"]
    account = next(a for a in accounts if a["username"] == nip)
    r = admin.put(f"/api/identity/accounts/{account['id']}/roles", {"roles": ["pegawai", "majelis"]})
    assert r.status_code in (200, 202), r.text
    for grant in r.json()["pending_grants"]:
        d = second_admin.post(f"/api/identity/role-grants/{grant['id']}/approve", {})
        assert d.status_code == 200, d.text
    r = admin.post("/api/approval/board/members", {"employee_id": account["employee_id"], "from_date": "2026-01-01"})
    assert r.status_code in (201, 409), r.text


def working_days(api, first, last) -> list:
    """The working days in [first, last] by activity's calendar (holidays left out)."""
    off = set()
    for year in {first.year, last.year}:
        cal = api.get(f"/api/activity/calendar/{year}").json()
        off |= {d["date"] for d in cal["holidays"]} | {d["date"] for d in cal["collective_leave"]}
    days, d = [], first
    while d <= last:
        if d.weekday() < 5 and d.isoformat() not in off:
            days.append(d)
        d += timedelta(days=1)
    return days


class Staff:
    """Siti at the entry form on her phone."""

    def __init__(self, person):
        self.p = person
        self.page = person.page

    def fill(self, day, duty, start, end, volume, text):
        page = self.page
        page.get_by_label("Tanggal").fill(day.strftime("%d/%m/%Y"))
        option = page.locator("#view-kegiatan select[name=duty_id] option", has_text=duty)
        option.wait_for(state="attached")
        page.get_by_label("Uraian tugas").select_option(option.get_attribute("value"))
        page.get_by_label("Jam mulai").fill(start)
        page.get_by_label("Jam selesai").fill(end)
        page.get_by_label("Volume (jumlah keluaran)").fill(str(volume))
        page.get_by_label("Keterangan kegiatan").fill(text)

    def card(self, day, start):
        return self.page.locator("#view-kegiatan .entry-card").filter(
            has=self.page.locator(".ec-when", has_text=f"{start}–")).filter(
            has=self.page.locator(".ec-when", has_text=f"{day.day:02d}/{day.month:02d}"))

    def show_month(self, day):
        """The month's list of the day, loaded afresh."""
        select = self.page.locator("#view-kegiatan .card-head select")
        if select.input_value() != day.strftime("%Y-%m"):
            select.select_option(day.strftime("%Y-%m"))
        else:
            select.dispatch_event("change")
        self.page.locator("#view-kegiatan .entries:not([aria-busy])").wait_for()

    def badge(self, day, start) -> str:
        self.show_month(day)
        card = self.card(day, start)
        card.wait_for()
        return card.locator(".badge").inner_text().strip()


def test_a_month_of_the_front_office(stack, logins, browser, shots, kit):
    Person, Api, poll = kit.Person, kit.Api, kit.poll
    DESKTOP, PHONE = kit.DESKTOP, kit.PHONE
    today = kit.today()
    admin = Api(stack, "admin", logins["admin"].password)
    people = []
    try:
        # ---- the month-end queue and the board --------------------------------------------------
        load = month_end.load(stack.url(), stack.database_urls, ("admin", logins["admin"].password),
                              ("organisasi", logins["organisasi"].password))
        assert load.supervisor_nip == SUPERVISOR and len(load.entry_ids) >= 3000
        second_admin = Api(stack, "admin2", logins["admin2"].password)  # the seed's second BKD administrator
        for nip in (BOARD, HEAD):
            grant_board(admin, second_admin, nip)

        days = working_days(admin, today - timedelta(days=5), today)[-4:]
        assert len(days) >= 4, days
        day_a, day_b, day_c, day_d = days

        # ---- 1. a week of work on the phone ------------------------------------------------------
        siti = Person(browser, stack, shots, "siti", PHONE)
        people.append(siti)
        siti.login(STAFF, logins[STAFF].password)
        page = siti.page
        assert siti.nav_labels() == ["Bulan Saya", "Kegiatan", "Keberatan", "Validasi", "Tim Saya", "TPP", "Akun"]
        page.locator("#view-bulan #my-approved").wait_for()  # home: my month
        header = page.locator("header.topbar").bounding_box()
        assert header["height"] < PHONE["height"] / 4, header  # the header does not eat the screen
        siti.open("kegiatan", "#credit")
        staff = Staff(siti)

        # Day A: a day's list sent in one go (POST /entries/batch).
        staff.fill(day_a, PRESS, "08:00", "09:30", 1, "Siaran pers rapat koordinasi pelayanan publik")
        page.wait_for_function("() => document.querySelector('#credited-minutes')?.dataset.checked === 'server'")
        assert page.locator("#credited-minutes").inner_text().strip() == "90 menit"
        page.get_by_role("button", name="Tambah ke daftar").click()
        staff.fill(day_a, SOCIAL, "10:00", "12:00", 4, "Unggahan konten layanan Dukcapil keliling")
        assert page.locator("#day-total-minutes").get_attribute("data-minutes") == "210"  # 90 listed + 120 typed
        siti.shot("10-kegiatan-daftar-ponsel")
        batch_posts = len([r for r in siti.requests if r.startswith("POST") and r.endswith("/entries/batch")])
        siti.then_toast(lambda: page.get_by_role("button", name=re.compile(r"^Ajukan semua \(2\)")).click(), "2 kegiatan diajukan")
        assert len([r for r in siti.requests if r.startswith("POST") and r.endswith("/entries/batch")]) == batch_posts + 1
        assert staff.badge(day_a, "08:00") == "diajukan" and staff.badge(day_a, "10:00") == "diajukan"

        # Day B: the network drops. The entry waits on the phone, what is typed survives a move
        # to another page, and everything goes when the network is back.
        siti.context.set_offline(True)
        staff.fill(day_b, COVER, "08:00", "10:00", 1, "Liputan kunjungan kerja Bupati ke kecamatan")
        page.wait_for_function("() => document.querySelector('#credit-source')?.textContent.includes('belum diperiksa server')")
        page.locator("#view-kegiatan input[type=file][capture]").set_input_files(
            {"name": "foto-liputan.png", "mimeType": "image/png", "buffer": PNG})
        page.get_by_role("button", name="Ajukan", exact=True).click()
        outbox = page.locator("#outbox li[data-state='waiting']")
        outbox.wait_for()
        assert "menunggu koneksi" in outbox.inner_text()
        page.locator("#netbar.netbar-offline").wait_for()
        # Half-typed next entry, then away and back (still offline).
        page.get_by_label("Keterangan kegiatan").fill("Dokumentasi foto belum selesai")
        siti.open("bulan")
        siti.open("kegiatan")
        page.locator("#restored-note").wait_for()
        assert page.get_by_label("Keterangan kegiatan").input_value() == "Dokumentasi foto belum selesai"
        assert page.locator("#outbox li").count() == 1
        siti.shot("11-kegiatan-luring-ponsel")
        local, session = siti.storage()
        assert all("eyJ" not in v and "refresh" not in k for k, v in {**local, **session}.items()), (local, session)
        siti.context.set_offline(False)
        page.locator("#outbox").wait_for(state="hidden", timeout=30_000)
        assert poll("day B in the list", lambda: staff.badge(day_b, "08:00") == "diajukan", timeout=20)
        page.get_by_label("Keterangan kegiatan").fill("")
        page.get_by_label("Jam mulai").fill("")
        page.get_by_label("Jam selesai").fill("")

        # Day C: two entries, one after the other (the day D copies).
        staff.fill(day_c, SOCIAL, "08:00", "09:00", 2, "Balas pertanyaan warga di kanal resmi")
        siti.then_toast(lambda: page.get_by_role("button", name="Ajukan", exact=True).click(), "1 kegiatan diajukan")
        staff.fill(day_c, PRESS, "09:00", "10:30", 1, "Siaran pers peluncuran aplikasi pengaduan")
        siti.then_toast(lambda: page.get_by_role("button", name="Ajukan", exact=True).click(), "1 kegiatan diajukan")
        assert staff.badge(day_c, "09:00") == "diajukan"

        # Day D: the day before copied, sent in one go; a draft, submitted later; one withdrawn.
        page.get_by_label("Tanggal").fill(day_d.strftime("%d/%m/%Y"))
        page.locator("#view-kegiatan select[name=duty_id] option", has_text=PRESS).wait_for(state="attached")
        page.get_by_role("button", name="Salin kegiatan hari sebelumnya").click()
        page.locator("#day-list .queued-item").nth(1).wait_for()
        assert page.locator("#day-list .queued-item").count() == 2
        siti.then_toast(lambda: page.get_by_role("button", name=re.compile(r"^Ajukan semua \(2\)")).click(), "2 kegiatan diajukan")
        staff.fill(day_d, SOCIAL, "13:00", "14:00", 2, "Jadwal unggahan minggu depan")
        siti.then_toast(lambda: page.get_by_role("button", name="Simpan draf").click(), "disimpan sebagai draf")
        assert staff.badge(day_d, "13:00") == "draf"
        staff.card(day_d, "13:00").get_by_role("button", name=re.compile("^Ubah kegiatan")).click()
        siti.then_toast(lambda: page.get_by_role("button", name="Simpan dan ajukan").click(), "diajukan")
        assert staff.badge(day_d, "13:00") == "diajukan"
        staff.card(day_d, "13:00").get_by_role("button", name=re.compile("^Tarik")).click()
        dialog = page.locator("dialog[open]")
        dialog.wait_for()
        assert "Tarik kegiatan ini?" in dialog.inner_text()
        dialog.get_by_role("button", name="Tarik").click()
        assert poll("the withdrawal", lambda: staff.badge(day_d, "13:00") == "ditarik", timeout=20)
        check_layout(kit, siti, "12-kegiatan")

        # Evidence from the camera went up with day B's entry once it existed.
        staff.show_month(day_b)
        staff.card(day_b, "08:00").get_by_role("button", name=re.compile("^Bukti")).click()
        staff.card(day_b, "08:00").locator(".evidence-link", has_text="foto-liputan.png").wait_for()

        # ---- 2. the supervisor's month-end queue ---------------------------------------------------
        agus = Person(browser, stack, shots, "agus", DESKTOP)
        people.append(agus)
        agus.login(SUPERVISOR, logins[SUPERVISOR].password)
        apage = agus.page
        agus.open("validasi", "#queue-list .queue-item")
        siti_entries = 7  # A 2, B 1, C 2, D 2 (the withdrawn one is not pending)

        def queue_total():
            return int(apage.locator("#queue-count").get_attribute("data-entries") or 0)

        def all_in_queue():
            apage.get_by_role("button", name="Muat ulang").click()
            apage.wait_for_timeout(700)
            return queue_total() == len(load.entry_ids) + siti_entries

        poll("Siti's entries in the queue", all_in_queue)
        assert apage.locator("#queue-list .queue-item").count() == 50  # one page, not 3,000 rows
        assert "3.1" in apage.locator("#queue-count").inner_text()  # "3.109 kegiatan menunggu validasi"
        check_layout(kit, agus, "20-validasi")

        # Siti's entries: two of day D rejected with reasons, one row at a time.
        siti_option = apage.locator("#filter-person option", has_text="Siti Nurhaliza")
        apage.locator("#filter-person").select_option(siti_option.get_attribute("value"))
        apage.locator("#queue-list section.person h2", has_text="Siti Nurhaliza").wait_for()
        apage.wait_for_function("n => document.querySelectorAll('#queue-list .queue-item').length === n", arg=siti_entries)
        day_d_items = apage.locator(f"#queue-list .day[data-date='{day_d.isoformat()}'] .queue-item")
        assert day_d_items.count() == 2
        rows_before = apage.locator("#queue-list .queue-item").count()
        # First the 08:00 reply to citizens, then the 09:00 press release (copied from day C).
        for n, reason in enumerate(["Balasan warga tidak disertai tangkapan layar", "Siaran pers sudah dilaporkan kemarin"]):
            item = day_d_items.first
            item.get_by_role("button", name=re.compile("^Tolak")).click()
            dialog = apage.locator("dialog[open]")
            dialog.get_by_label("Alasan").fill(reason)
            dialog.get_by_role("button", name="Tolak").click()
            apage.wait_for_function("n => document.querySelectorAll('#queue-list .queue-item').length === n",
                                    arg=rows_before - n - 1)
        agus.toast("ditolak")  # the last decision's message
        # Siti's months, approved in one go each from the per-person list.
        apage.locator("#people summary").click()
        siti_row = apage.locator("#people .person-row").filter(has_text="Siti Nurhaliza")
        siti_row.locator("button[data-month]").first.wait_for()
        months = [b.get_attribute("data-month") for b in siti_row.locator("button[data-month]").all()]
        assert months  # the months she still has entries waiting in
        for month in months:
            siti_row.locator(f"button[data-month='{month}']").click()
            apage.locator("dialog[open]").get_by_role("button", name="Setujui semua").click()
            # The list is reloaded after the bulk: the month's button is gone.
            siti_row.locator(f"button[data-month='{month}']").wait_for(state="detached", timeout=30_000)
            assert apage.locator("#bulk").get_attribute("data-failed") == "0"
        apage.wait_for_function("() => !document.querySelector('#queue-list .queue-item')")
        assert queue_total() == 0

        # A date range of the other 47 people: 1,128 entries, two bulk calls; one of them is
        # decided elsewhere (another tab) while the first call is on its way.
        api_agus = Api(stack, SUPERVISOR, logins[SUPERVISOR].password)
        raced = {}

        def decide_one_first(route):
            if not raced:
                ids = route.request.post_data_json["entry_ids"]
                raced["id"] = ids[5]
                r = api_agus.post(f"/api/approval/entries/{ids[5]}/approve")
                assert r.status_code == 200, r.text
            route.continue_()

        apage.locator("#filter-person").select_option("")
        apage.locator("#filter-month").select_option("")
        apage.locator("#filter-from").fill(load.dates[0].strftime("%d/%m/%Y"))
        apage.locator("#filter-to").fill(load.dates[7].strftime("%d/%m/%Y"))
        apage.get_by_role("button", name="Saring", exact=True).click()
        apage.wait_for_function("() => document.querySelector('#queue-count').dataset.entries === '1128'")
        apage.route("**/api/approval/decisions", decide_one_first)
        posts = len([r for r in agus.requests if r.startswith("POST") and r.endswith("/api/approval/decisions")])
        apage.get_by_role("button", name=re.compile(r"^Setujui semua yang tersaring \(1\.128\)")).click()
        apage.locator("dialog[open]").get_by_role("button", name="Setujui semua").click()
        bulk = apage.locator("#bulk")
        bulk.filter(has_text="tidak dapat disetujui").wait_for(timeout=60_000)
        apage.unroute("**/api/approval/decisions")
        assert bulk.get_attribute("data-done") == "1127" and bulk.get_attribute("data-failed") == "1"
        assert bulk.locator(f".bulk-failures li[data-entry-id='{raced['id']}']").inner_text().endswith("sudah diputus (mungkin di tab atau perangkat lain)")
        assert "1.127 dari 1.128 disetujui" in bulk.locator(".progress-text").inner_text()
        # 1,000 refused as a whole, resent without the decided one, then the remaining 128.
        assert len([r for r in agus.requests if r.startswith("POST") and r.endswith("/api/approval/decisions")]) == posts + 3
        agus.shot("21-validasi-massal-desktop")
        apage.wait_for_function("() => document.querySelector('#queue-count').dataset.entries === '0'")
        apage.locator("#filter-from").fill("")
        apage.locator("#filter-to").fill("")
        apage.get_by_role("button", name="Saring", exact=True).click()
        apage.wait_for_function("n => document.querySelector('#queue-count').dataset.entries === String(n)",
                                arg=len(load.entry_ids) - 1128)

        # My team's month.
        agus.open("tim", "#team-list")
        team = apage.locator("#team-list .team-card")
        assert team.count() == 50
        assert "Siti Nurhaliza" in apage.locator("#team-list").inner_text()
        check_layout(kit, agus, "22-tim")

        # ---- 3. the appeal ---------------------------------------------------------------------------
        month_d = day_d.strftime("%Y-%m")

        def month_minutes():
            """Siti's month of day D as her home page shows it (reloaded): approved minutes."""
            siti.open("bulan", "#my-approved")
            pick = page.locator("#month-pick")
            if pick.input_value() != month_d:
                pick.select_option(month_d)
            page.locator("#view-bulan .month-body:not([aria-busy]) #my-approved").wait_for()
            return int(page.locator("#my-approved .stat-value").inner_text().split()[0].replace(".", ""))

        def decided():
            month_minutes()
            return page.locator("#my-rejected .stat-value").inner_text().startswith("2")

        poll("the decisions in Siti's month", decided)
        approved_before = month_minutes()
        page.locator("#estimate-net").wait_for()
        estimate_before = rupiah(page.locator("#estimate-net").inner_text())
        assert page.locator("#todo-rejected").count() == 1
        check_layout(kit, siti, "30-bulan-saya")

        siti.open("kegiatan", "#credit")
        staff.show_month(day_d)
        rejected = staff.card(day_d, "09:00")  # the press release copied from day C
        assert poll("the rejection in Siti's list", lambda: staff.badge(day_d, "09:00") == "ditolak", timeout=20)
        assert "Siaran pers sudah dilaporkan kemarin" in rejected.inner_text()
        rejected.get_by_role("link", name="Ajukan keberatan").click()
        page.locator("#file-appeal").wait_for()
        page.get_by_label("Alasan keberatan").fill("Siaran pers ini berbeda dari kemarin: peluncuran aplikasi, bukan rapat.")
        page.get_by_role("button", name="Ajukan keberatan").click()
        page.locator("#appeal-status").wait_for()
        assert page.locator("#appeal-status").inner_text().strip() == "diperiksa tingkat pertama"
        page.locator("#appeal-actions input[type=file]").set_input_files(
            {"name": "naskah-siaran-pers.png", "mimeType": "image/png", "buffer": PNG})
        page.locator(".evidence-link", has_text="naskah-siaran-pers.png").wait_for()
        appeal_url = page.evaluate("() => location.hash")
        appeal_id = appeal_url.rsplit("/", 1)[1]
        check_layout(kit, siti, "31-keberatan")

        # Agus, whose rejection it is, writes his side.
        agus.open("keberatan", "#appeals-waiting")
        apage.locator(f"#appeals-waiting [data-appeal-id='{appeal_id}'] a").click()
        apage.get_by_label("Tanggapan", exact=True).fill("Isinya sama dengan siaran pers hari sebelumnya.")
        apage.get_by_role("button", name="Kirim tanggapan").click()
        apage.locator("#appeal-comments blockquote").wait_for()
        assert apage.locator("#appeal-actions").count() == 0  # nothing more for him to do

        # The Kepala Dinas (first level) reads both sides and upholds.
        bambang = Person(browser, stack, shots, "bambang", DESKTOP)
        people.append(bambang)
        bambang.login(HEAD, logins[HEAD].password)
        bpage = bambang.page
        bambang.open("keberatan", "#appeals-waiting")
        bpage.locator(f"#appeals-waiting [data-appeal-id='{appeal_id}'] a").click()
        bpage.locator("#decide-form").wait_for()
        assert "peluncuran aplikasi" in bpage.locator("#appeal-reasons").inner_text()
        assert "Isinya sama" in bpage.locator("#appeal-comments").inner_text()
        assert "Siaran pers sudah dilaporkan kemarin" in bpage.locator("#appeal-entries").inner_text()
        bpage.locator("#decide-form").get_by_label("Kuatkan penolakan").check()
        bpage.locator("#decide-form").get_by_label("Pertimbangan (wajib)").fill("Isi siaran pers tumpang tindih dengan laporan sebelumnya.")
        bpage.get_by_role("button", name="Putuskan").click()
        bpage.locator("#appeal-status", has_text="penolakan dikuatkan").wait_for()

        # Siti sees it upheld and takes it to the board.
        siti.open(appeal_url.removeprefix("#/"))
        page.locator("#appeal-status", has_text="penolakan dikuatkan").wait_for()
        assert "Isi siaran pers tumpang tindih" in page.locator("#appeal-decisions").inner_text()
        page.get_by_role("button", name="Teruskan ke majelis banding").click()
        page.locator("dialog[open]").get_by_role("button", name="Teruskan").click()
        page.locator("#appeal-status", has_text="diperiksa majelis banding").wait_for()

        # A board member who sat on the first level: no case in his list, no decide button, and the API refuses.
        bpage.reload()  # the session resumes from the cookie with a new token: the majelis role now
        bpage.locator("#who-name").wait_for()
        assert "Majelis" in bambang.nav_labels()
        bambang.open("majelis", "#board-open")
        assert bpage.locator(f"#board-open [data-appeal-id='{appeal_id}']").count() == 0
        bambang.open(f"keberatan/{appeal_id}")
        bpage.locator("#appeal-status", has_text="diperiksa majelis banding").wait_for()
        assert bpage.locator("#decide-appeal").count() == 0
        refused = Api(stack, HEAD, logins[HEAD].password).post(f"/api/approval/appeals/{appeal_id}/decide",
                                                             {"outcome": "overturned", "reasoning": "Tidak boleh"})
        assert refused.status_code == 403, refused.text

        # Rina, seated on the board, overturns it.
        rina = Person(browser, stack, shots, "rina", DESKTOP)
        people.append(rina)
        rina.login(BOARD, logins[BOARD].password)
        rpage = rina.page
        rina.open("majelis", "#board-open")
        rpage.locator(f"#board-open [data-appeal-id='{appeal_id}'] a").click()
        rpage.locator("#decide-form").wait_for()
        trail = rpage.locator("#appeal-trail").inner_text()
        for step in ("Keberatan diajukan", "Tanggapan atasan penolak", "Bukti ditambahkan", "Diputus", "Diteruskan ke majelis banding"):
            assert step in trail, (step, trail)
        assert rpage.locator(".evidence-link", has_text="naskah-siaran-pers.png").count() == 1
        assert "Isinya sama" in rpage.locator("#appeal-comments").inner_text()
        check_layout(kit, rina, "40-majelis")
        rpage.locator("#decide-form").get_by_label(re.compile("Kabulkan")).check()
        rpage.locator("#decide-form").get_by_label("Pertimbangan (wajib)").fill(
            "Naskah peluncuran aplikasi berbeda dari siaran pers rapat; menit kegiatan sah.")
        rpage.get_by_role("button", name="Putuskan").click()
        rpage.locator("#appeal-status", has_text="dikabulkan").wait_for()

        # ---- 4. Siti's month after the board --------------------------------------------------------
        assert poll("the overturned minutes in Siti's month", lambda: month_minutes() == approved_before + 90, timeout=60)
        page.locator("#estimate-net").wait_for()
        def estimate_grew():
            month_minutes()
            page.locator("#estimate-net").wait_for()
            return rupiah(page.locator("#estimate-net").inner_text()) > estimate_before

        assert poll("the TPP estimate after the board", estimate_grew, timeout=60)
        siti.open("kegiatan", "#credit")
        assert poll("the entry's new state", lambda: staff.badge(day_d, "09:00") == "disetujui setelah banding", timeout=30)
        check_layout(kit, siti, "50-kegiatan-setelah-banding")
        siti.open("tpp", "#tpp-saya")
        check_layout(kit, siti, "51-tpp")

        for p in people:
            assert p.problems == [], f"{p.who}: {p.problems}"
    except BaseException:
        for p in people:
            p.shot(f"zz-failed-{p.who}")
        raise
    finally:
        for p in people:
            p.close()

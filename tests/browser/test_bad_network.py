"""The seed's "kendala jaringan" on a phone: the answer to a submission is lost after the server
stored the entry (the connection drops on the way back). The phone keeps the entry in its
outbox and sends it again by itself with the same Idempotency-Key; the activity service, which
records the key, answers with the entry it already stored — so the employee sees it once, as
"diajukan", and never an "overlaps another entry" error about itself. The same for a day's list
sent in one go (POST /entries/batch).

The server side (ekinerja_common.idempotency) is asked directly first, so that a failure says
which side broke: the service's keys, or the phone's outbox.
"""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

STAFF = "199209092017121002"  # Yusuf Hidayat, Pengelola Sistem dan Jaringan (not on the month story's team)
DUTY = "Memantau kinerja jaringan intranet dan koneksi internet perangkat daerah"  # 45 min / Laporan


def assert_server_keeps_idempotency_keys(kit, stack, logins, today) -> None:
    """The activity service's side of the contract (TEAM.md, "Idempotency"): the same key twice
    gives the stored entry, not a second one. Asked once, directly, with an entry of its own
    (16:00–16:45), before the browser is tried."""
    api = kit.Api(stack, STAFF, logins[STAFF].password)
    duties = api.get(f"/api/activity/duties?date={today.isoformat()}").json()["duties"]
    duty = next(d["id"] for d in duties if d["description"] == DUTY)
    body = {"date": today.isoformat(), "start_time": "16:00", "end_time": "16:45", "duty_id": duty, "volume": 1,
            "description": "Pantau trafik sore"}
    key = {"Idempotency-Key": "7f4c1a52-2b5e-4c8e-9d61-0b7a1e3c9f00"}
    first = api.post("/api/activity/entries", body, headers=key)
    assert first.status_code == 201, first.text
    again = api.post("/api/activity/entries", body, headers=key)
    assert again.status_code == 201, again.text  # not 422 "overlaps another entry" (itself)
    assert again.json()["id"] == first.json()["id"]


def test_a_lost_answer_is_entered_once(stack, logins, browser, shots, kit):
    today = kit.today()
    kit.poll("Yusuf's duties in activity", lambda: kit.Api(stack, STAFF, logins[STAFF].password)
             .get(f"/api/activity/duties?date={today.isoformat()}").json()["duties"])
    assert_server_keeps_idempotency_keys(kit, stack, logins, today)
    yusuf = kit.Person(browser, stack, shots, "yusuf", kit.PHONE)
    try:
        yusuf.login(STAFF, logins[STAFF].password)
        page = yusuf.page
        yusuf.open("kegiatan", "#credit")
        seen: list[tuple[str, str | None, str]] = []

        def lose_first_answer(route):
            if route.request.method != "POST":
                route.continue_()
                return
            key = route.request.headers.get("idempotency-key")
            first = not [s for s in seen if s[0] == route.request.url]
            seen.append((route.request.url, key, "lost" if first else "answered"))
            if first:
                route.fetch()  # the server stores it and answers ...
                route.abort("connectionreset")  # ... but the answer never reaches the phone
            else:
                route.continue_()

        page.route("**/api/activity/entries", lose_first_answer)
        page.route("**/api/activity/entries/batch", lose_first_answer)

        def fill(start, end, volume, text):
            option = page.locator("#view-kegiatan select[name=duty_id] option", has_text=DUTY)
            option.wait_for(state="attached")
            page.get_by_label("Uraian tugas").select_option(option.get_attribute("value"))
            page.get_by_label("Jam mulai").fill(start)
            page.get_by_label("Jam selesai").fill(end)
            page.get_by_label("Volume (jumlah keluaran)").fill(str(volume))
            page.get_by_label("Keterangan kegiatan").fill(text)

        def sent_again():
            # Waiting inside Playwright: the route handler runs only while the page is waited on.
            page.wait_for_timeout(500)
            return len(seen) >= 2 and seen[-1][2] == "answered"

        # One entry.
        page.get_by_label("Tanggal").fill(today.strftime("%d/%m/%Y"))
        fill("07:30", "08:15", 1, "Pantau trafik pagi")
        page.get_by_role("button", name="Ajukan", exact=True).click()
        page.locator("#outbox li[data-state]").wait_for()
        yusuf.shot("14-kegiatan-jawaban-hilang-ponsel")
        kit.poll("the entry sent again", sent_again, timeout=40)
        page.locator("#outbox").wait_for(state="hidden", timeout=20_000)
        (url, key, _), (url2, key2, _) = seen
        assert url == url2 and key and key == key2, seen  # the same request, the same key

        # A day's list in one go.
        seen.clear()
        fill("08:30", "09:15", 1, "Pantau koneksi kantor kecamatan")
        page.get_by_role("button", name="Tambah ke daftar").click()
        fill("09:30", "10:15", 1, "Pantau trafik siang")
        page.get_by_role("button", name="Ajukan semua (2)").click()
        kit.poll("the list sent again", sent_again, timeout=40)
        page.locator("#outbox").wait_for(state="hidden", timeout=20_000)
        assert seen[0][1] == seen[1][1] and seen[0][0].endswith("/batch"), seen
        page.unroute("**/api/activity/entries")
        page.unroute("**/api/activity/entries/batch")

        # Exactly once each, submitted; nothing refused, nothing waiting.
        page.locator("#view-kegiatan .card-head select").dispatch_event("change")
        cards = page.locator("#view-kegiatan .entry-card")
        kit.poll("the list", lambda: page.wait_for_timeout(300) or cards.count() == 4, timeout=20)
        assert [c.locator(".badge").inner_text().strip() for c in cards.all()] == ["diajukan"] * 4
        assert page.locator("#view-kegiatan .alert:not([hidden])").count() == 0
        api = kit.Api(stack, STAFF, logins[STAFF].password)
        mine = api.get(f"/api/activity/entries?month={today.strftime('%Y-%m')}").json()["entries"]
        assert sorted(e["start_time"] for e in mine) == ["07:30", "08:30", "09:30", "16:00"]
        assert yusuf.problems == [], yusuf.problems
    finally:
        yusuf.close()

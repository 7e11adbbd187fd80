"""Benchmark: the supervisor's month-end queue and the employee's month, in a real browser with the
CPU slowed down 4× (a cheap phone), against the real stack.

    .venv/bin/python bench/browser_queue.py [--repeat 7]

It starts the whole stack (five services on fresh PostgreSQL databases, RabbitMQ, nginx), seeds the
demo dinas, and gives the Kabid IKP 50 more people with 22 working days × 3 entries each waiting
(3,300 entries; deploy/local/month_end.py). Then, in headless Chromium (Playwright driving
/usr/bin/chromium) with ``Emulation.setCPUThrottlingRate`` 4 through CDP:

* ``queue_first_render``: from opening Validasi (hash change) to the first page of the queue on
  screen (the frame after its first row exists) — the request, the JSON, 50 rows of DOM;
  baseline ``view_first_render``: the same for the Akun page, which draws without asking a service.
* ``queue_decision``: from the click on "Setujui" of a row to the frame after that row is gone
  (it goes at once and comes back should the decision fail), and ``queue_decision_confirmed``: to
  the frame showing the service's confirmation (the POST answered, the row removed for good);
  baseline ``approve_request``: the bare POST of the same decision from the same page, no DOM.
* ``my_month``: from opening Bulan Saya (this month) to its TPP estimate on screen, as one of the 50
  (five requests to three services, the chart); ``my_month_with_entries``: choosing the month with
  their 66 entries in the month picker, to the new page on screen; baseline as the queue's.

Each measurement alternates with its baseline so that the machine's changing load affects both.
Medians, every run, the ratios, the load average before and after go to stdout and to
bench/results/browser_queue.json. Targets (issue 10): first render ≤ 1 s, a decision ≤ 100 ms.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from ekinerja_common.events import SERVICES  # noqa: E402
from ekinerja_common.testing import delete_prefixed_topology, fresh_database, queue_prefix  # noqa: E402

from deploy.local import month_end  # noqa: E402
from deploy.local.seed import seed_stack  # noqa: E402
from deploy.local.stack import Ports, Stack  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
THROTTLE = 4

# In the page: open a route and resolve with the milliseconds until the frame after ``ready``
# matches something (the content is on screen).
OPEN_AND_TIME = """async ([route, ready]) => {
  const t0 = performance.now();
  location.hash = route;
  await new Promise((resolve) => {
    const check = () => (document.querySelector(ready) ? requestAnimationFrame(() => resolve()) : requestAnimationFrame(check));
    check();
  });
  return performance.now() - t0;
}"""

CLICK_AND_TIME = """async () => {
  const row = document.querySelector('#queue-list .queue-item:not([hidden])');
  const button = row.querySelector("button[data-action='approve']");
  const toast = document.getElementById('toast');
  toast.hidden = true;
  toast.textContent = '';
  const t0 = performance.now();
  button.click();
  const frame = (test) => new Promise((resolve) => {
    const check = () => (test() ? requestAnimationFrame(() => resolve(performance.now() - t0)) : requestAnimationFrame(check));
    check();
  });
  const gone = await frame(() => !row.isConnected || row.hidden);
  const confirmed = await frame(() => !toast.hidden && toast.textContent.includes('disetujui'));
  return [gone, confirmed];
}"""


PICK_MONTH_AND_TIME = """async (month) => {
  const before = document.querySelector('#tpp-estimate');
  const pick = document.querySelector('#month-pick');
  const t0 = performance.now();
  pick.value = month;
  pick.dispatchEvent(new Event('change'));
  await new Promise((resolve) => {
    const check = () => {
      const now = document.querySelector('#tpp-estimate');
      return now && now !== before ? requestAnimationFrame(() => resolve()) : requestAnimationFrame(check);
    };
    check();
  });
  return performance.now() - t0;
}"""


def median(xs):
    return round(statistics.median(xs), 1)


def login(page, url, username, password):
    page.goto(url)
    page.get_by_label("NIP / nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(password)
    page.get_by_role("button", name="Masuk").click()
    page.locator("#who-name").wait_for()
    page.locator(".view").first.wait_for()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--out", default=str(HERE / "results" / "browser_queue.json"))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    load_before = os.getloadavg()
    prefix = queue_prefix()
    run_dir = Path(tempfile.mkdtemp(prefix="bench-browser-"))
    results: dict[str, list[float]] = {k: [] for k in ("queue_first_render", "view_first_render", "queue_decision",
                                                       "queue_decision_confirmed",
                                                       "approve_request", "my_month", "my_month_with_entries",
                                                       "my_month_baseline")}
    with fresh_database("bb_identity") as u1, fresh_database("bb_organization") as u2, \
            fresh_database("bb_activity") as u3, fresh_database("bb_approval") as u4, fresh_database("bb_payroll") as u5:
        urls = dict(zip(SERVICES, (u1, u2, u3, u4, u5)))
        stack = Stack(run_dir, ports=Ports.free(), database_urls=urls, queue_prefix=prefix,
                      env={"GUNICORN_WORKERS": "1", "RELAY_POLL_SECONDS": "0.05"}, login_rate="600r/m", login_burst=100)
        try:
            with stack:
                logins = {x.username: x.password for x in seed_stack(stack)}
                t = time.monotonic()
                load = month_end.load(stack.url(), urls, ("admin", logins["admin"]), ("organisasi", logins["organisasi"]),
                                      people=50, days=22, per_day=3)
                seed_seconds = time.monotonic() - t
                employee = next(iter(load.employee_ids))
                with sync_playwright() as p:
                    browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless=new", "--no-sandbox", "--disable-gpu"])
                    boss = browser.new_context(viewport={"width": 390, "height": 844}, locale="id-ID", timezone_id="Asia/Jakarta")
                    page = boss.new_page()
                    page.set_default_timeout(60_000)
                    login(page, stack.url("/"), load.supervisor_nip, logins[load.supervisor_nip])
                    cdp = boss.new_cdp_session(page)
                    cdp.send("Emulation.setCPUThrottlingRate", {"rate": THROTTLE})
                    total = None
                    for _ in range(args.repeat):
                        results["view_first_render"].append(page.evaluate(OPEN_AND_TIME, ["#/akun", "#view-akun form"]))
                        results["queue_first_render"].append(page.evaluate(OPEN_AND_TIME, ["#/validasi", "#queue-list .queue-item"]))
                        total = page.locator("#queue-count").get_attribute("data-entries")
                        gone, confirmed = page.evaluate(CLICK_AND_TIME)
                        results["queue_decision"].append(gone)
                        results["queue_decision_confirmed"].append(confirmed)
                        # The bare request: the next row's approval sent from the page, no DOM.
                        entry_id = page.locator("#queue-list .queue-item").last.get_attribute("data-entry-id")
                        results["approve_request"].append(page.evaluate("""async (id) => {
                          const api = await import('/api.js');
                          const t0 = performance.now();
                          await api.post(`/api/approval/entries/${encodeURIComponent(id)}/approve`, {});
                          return performance.now() - t0;
                        }""", entry_id))
                    boss.close()

                    # The employee's month: one of the 50, with 66 entries in the month(s).
                    staff_nip = month_end.nip_of(1)
                    staff = browser.new_context(viewport={"width": 390, "height": 844}, locale="id-ID", timezone_id="Asia/Jakarta")
                    spage = staff.new_page()
                    spage.set_default_timeout(60_000)
                    password = _account_for(stack, logins, staff_nip, employee)
                    login(spage, stack.url("/"), staff_nip, password)
                    scdp = staff.new_cdp_session(spage)
                    scdp.send("Emulation.setCPUThrottlingRate", {"rate": THROTTLE})
                    month = load.dates[-1].strftime("%Y-%m")
                    for _ in range(args.repeat):
                        results["my_month_baseline"].append(spage.evaluate(OPEN_AND_TIME, ["#/akun", "#view-akun form"]))
                        results["my_month"].append(spage.evaluate(OPEN_AND_TIME, ["#/bulan", "#view-bulan #tpp-estimate"]))
                        # The month with this person's 66 entries, chosen in the month picker.
                        results["my_month_with_entries"].append(spage.evaluate(PICK_MONTH_AND_TIME, month))
                    browser.close()
        finally:
            delete_prefixed_topology(prefix, SERVICES)
    load_after = os.getloadavg()
    out = {
        "benchmark": "browser_queue",
        "measured_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "environment": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
                        "chromium": CHROMIUM, "cpu_throttling_rate": THROTTLE, "viewport": "390x844",
                        "loadavg_before": [round(x, 2) for x in load_before], "loadavg_after": [round(x, 2) for x in load_after],
                        "how": "real stack (gunicorn, PostgreSQL, RabbitMQ, nginx), headless Chromium via Playwright, "
                               "times taken in the page (performance.now, to the frame after the change)"},
        "data": {"queue_entries": int(total or 0), "team": 53, "seed_seconds": round(seed_seconds, 1), "repeat": args.repeat},
        "targets_ms": {"queue_first_render": 1000, "queue_decision": 100},
    }
    for key, runs in results.items():
        out[key] = {"median_ms": median(runs), "runs_ms": [round(x, 1) for x in runs]}
    out["ratios"] = {
        "queue_first_render / view_first_render": round(out["queue_first_render"]["median_ms"] / out["view_first_render"]["median_ms"], 2),
        "queue_decision / approve_request": round(out["queue_decision"]["median_ms"] / out["approve_request"]["median_ms"], 2),
        "queue_decision_confirmed / approve_request": round(
            out["queue_decision_confirmed"]["median_ms"] / out["approve_request"]["median_ms"], 2),
        "my_month / my_month_baseline": round(out["my_month"]["median_ms"] / out["my_month_baseline"]["median_ms"], 2),
        "my_month_with_entries / my_month_baseline": round(
            out["my_month_with_entries"]["median_ms"] / out["my_month_baseline"]["median_ms"], 2),
    }
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    for key in results:
        print(f"{key:22s} median {out[key]['median_ms']:8.1f} ms   runs {out[key]['runs_ms']}")
    print("ratios", out["ratios"])
    print("load average before", out["environment"]["loadavg_before"], "after", out["environment"]["loadavg_after"])
    print(f"written to {args.out}")


def _account_for(stack, logins, nip: str, employee_id: str) -> str:
    """A pegawai account for one of the month-end people (the import made the employee only), with
    its first password change done, as the seed does for the demo staff."""
    from deploy.local.seed import Api, generate_password

    api = Api(stack.url())
    admin = api.login("admin", logins["admin"])
    _, made = api.call("POST", "/api/identity/accounts", admin, {"username": nip, "roles": ["pegawai"], "employee_id": employee_id})
    direct = Api(stack.service_url("identity", "").rstrip("/"))
    _, session = direct.call("POST", "/auth/login", None, {"username": nip, "password": made["one_time_password"]})
    password = generate_password(nip)
    direct.call("POST", "/auth/password", session["access_token"],
                {"current_password": made["one_time_password"], "new_password": password}, ok=(204,))
    return password


if __name__ == "__main__":
    main()

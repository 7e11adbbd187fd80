"""Back up and restore for real (deploy/backup/backup.sh, restore.sh, as the compose `backup`
container runs them): a month with an approved entry, its evidence file and a computed TPP run is
dumped from the running stack; the restore goes to empty databases and an empty data folder (a
wiped or new server); a stack started on the restored data answers with the same month's figures,
the same evidence bytes and the same rows in every table, and computing the month again there
changes nothing. A backup whose checksum does not match is refused."""
from __future__ import annotations

import os
import shutil
import subprocess
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone

import pytest
import requests
from sqlalchemy import create_engine, inspect, text

from ekinerja_common.events import SERVICES
from ekinerja_common.testing import fresh_database, queue_prefix, wait_until

from deploy.local.stack import ROOT, Ports, Stack

pytestmark = pytest.mark.e2e

WIB = timezone(timedelta(hours=7))
STAFF_NIP = "198712032009011003"       # Eko Saputra, under the head of IKP
SUPERVISOR_NIP = "197811052003121001"  # Agus Prasetyo, Kepala Bidang IKP
SCRIPTS = ROOT / "deploy" / "backup"
# The smallest valid PNG (1x1), so the evidence is judged by content as a real upload is.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def env_for(urls: dict[str, str], data_dir) -> dict[str, str]:
    return {**os.environ, **{f"{s.upper()}_PG_URI": libpq(u) for s, u in urls.items()},
            "EVIDENCE_DIRS": f"activity={data_dir / 'evidence'} approval={data_dir / 'approval-evidence'}"}


def table_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar() for t in inspect(conn).get_table_names()}
    finally:
        engine.dispose()


def month_figures(client_get, year: int, month: int) -> list[tuple]:
    run = client_get(f"/api/payroll/runs/{year}/{month}").json()
    return sorted((l["employee_id"], l["gross"], l["pph"], l["bpjs"], l["net"], l["inputs"]["approved_minutes"])
                  for l in run["lines"])


def test_backup_wipe_restore_keeps_the_month(stack, person, logins, tmp_path):
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.fail("pg_dump/pg_restore missing (Debian's postgresql-client; bootstrap test installs PostgreSQL)")
    staff, boss, bpkad = person(STAFF_NIP), person(SUPERVISOR_NIP), person("bpkad")
    today = datetime.now(WIB).date()
    duties = wait_until(lambda: staff.get(f"/api/activity/duties?date={today}").json().get("duties"), timeout=30, what="duties")
    r = staff.post("/api/activity/entries", {"date": str(today), "start_time": "13:00", "end_time": "14:30",
                                             "duty_id": duties[0]["id"], "volume": 1, "description": "Arsip untuk uji cadangan"})
    assert r.status_code == 201, r.text
    entry = r.json()
    up = staff.http.post(stack.url(f"/api/activity/entries/{entry['id']}/evidence"),
                         files={"file": ("bukti.png", PNG, "image/png")}, timeout=10)
    assert up.status_code == 201, up.text
    evidence_url = up.json()["url"]
    wait_until(lambda: any(i["entry_id"] == entry["id"] for i in boss.get("/api/approval/queue").json()["items"]),
               timeout=30, what="the entry in the queue")
    assert boss.post(f"/api/approval/entries/{entry['id']}/approve").status_code == 200
    staff_id = staff.account["employee_id"]

    def computed():
        assert bpkad.post(f"/api/payroll/runs/{today.year}/{today.month}/compute").status_code == 200
        lines = month_figures(bpkad.get, today.year, today.month)
        return lines if any(l[0] == staff_id and l[5] > 0 for l in lines) else None

    before = wait_until(computed, timeout=30, interval=0.5, what="the approved minutes in payroll")
    evidence_bytes = staff.get(f"/api/activity{evidence_url}").content
    assert evidence_bytes == PNG

    urls = stack.database_urls_for_test
    backup = tmp_path / "backup"
    done = subprocess.run(["bash", str(SCRIPTS / "backup.sh"), str(backup)], env=env_for(urls, stack.run_dir),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    counts = {s: table_counts(u) for s, u in urls.items()}
    manifest = (backup / "MANIFEST").read_text()
    assert all(f"database {s}: revision 0" in manifest for s in SERVICES), manifest

    # A damaged backup is refused before anything is touched.
    broken = tmp_path / "broken"
    shutil.copytree(backup, broken)
    with open(broken / "payroll.dump", "ab") as f:
        f.write(b"x")
    done = subprocess.run(["bash", str(SCRIPTS / "restore.sh"), str(broken)], env=env_for(urls, stack.run_dir),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 3 and "checksums" in done.stderr

    # The wiped server: empty databases, an empty data folder.
    with ExitStack() as stack_of:
        restored = {s: stack_of.enter_context(fresh_database(f"restored_{s}")) for s in SERVICES}
        data = tmp_path / "restored-data"
        done = subprocess.run(["bash", str(SCRIPTS / "restore.sh"), str(backup)], env=env_for(restored, data),
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert {s: table_counts(u) for s, u in restored.items()} == counts

        # The key passphrase is a secret kept apart from the backup (README, Back up): the restored
        # server gets it from the secret store, as here from the first server's run directory.
        (data / "secrets").mkdir(mode=0o700, exist_ok=True)
        shutil.copy2(stack.run_dir / "secrets" / "identity-key-passphrase", data / "secrets" / "identity-key-passphrase")
        copy = Stack(data, services=("identity", "activity", "payroll"), ports=Ports.free(), database_urls=restored,
                     queue_prefix=queue_prefix(), amqp_url=stack.amqp_url, env={"GUNICORN_WORKERS": "1"},
                     login_rate="600r/m", login_burst=100)
        with copy:
            http = requests.Session()
            http.trust_env = False

            def login(username: str) -> dict:
                r = http.post(copy.url("/api/identity/auth/login"), timeout=10,
                              json={"username": username, "password": logins[username].password})
                assert r.status_code == 200, r.text
                return {"Authorization": "Bearer " + r.json()["access_token"]}

            as_bpkad, as_staff = login("bpkad"), login(STAFF_NIP)
            get = lambda path: http.get(copy.url(path), headers=as_bpkad, timeout=10)  # noqa: E731
            assert month_figures(get, today.year, today.month) == before
            r = http.post(copy.url(f"/api/payroll/runs/{today.year}/{today.month}/compute"), headers=as_bpkad, timeout=30)
            assert r.status_code == 200, r.text
            assert month_figures(get, today.year, today.month) == before
            assert http.get(copy.url(f"/api/activity{evidence_url}"), headers=as_staff, timeout=10).content == PNG

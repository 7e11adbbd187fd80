"""The single-machine runner keeps payroll in SQLite: the same migrations and the same lock,
correction and export code must work there too (period rows by INSERT OR IGNORE, claims by
UPDATE ... RETURNING, bulk inserts without COPY)."""
import csv
import io

from ekinerja_common.config import Settings
from ekinerja_common.consumer import Consumer
from ekinerja_common.testing import queue_prefix

from payroll.app import create_app
from payroll.inbox import HANDLERS

from ..conftest import Events


def test_lock_and_corrections_on_sqlite(tmp_path, keys):
    app = create_app(Settings(service="payroll", database_url=f"sqlite:///{tmp_path / 'payroll.db'}",
                              queue_prefix=queue_prefix()), keys.verifier)
    rt = app.extensions["runtime"]
    rt.migrate()
    try:
        client, h = app.test_client(), keys.headers(None, "bpkad", account_id="bpkad-operator")
        events = Events(Consumer(rt.settings, rt.session_factory, rt.metadata, HANDLERS))
        events.position("p9", kelas=9)
        events.employee("e1", golongan="III/b", nip="198609262015051001", name="Ani", bank_account="1234567890")
        events.placement("pl-1", "e1", "p9", "2020-01-01")
        events.decision("approved", "a", "e1", "2026-06-02", 5_670)
        events.attendance("e1", "2026-06-03", "3", ["TK"])
        r = client.post("/salaries/2026/6/import", data=b"nip,gaji_pokok\n198609262015051001,4000000\n",
                        content_type="text/csv", headers=h)
        assert r.status_code == 200, r.get_json()
        june = client.post("/runs/2026/6/compute", headers=h).get_json()
        # DOMAIN.md's example: 90 % and 97 % -> 4,640,000 / 232,000 / 46,400 / 4,361,600.
        line = june["lines"][0]
        assert (line["gross"], line["pph"], line["bpjs"], line["net"]) == (4_640_000, 232_000, 46_400, 4_361_600)
        assert client.post("/runs/2026/6/lock", headers=h, json={"acknowledged_warnings": [
            w["code"] for w in client.get("/runs/2026/6", headers=h).get_json()["warnings"]]}).status_code == 200
        events.decision("approved", "b", "e1", "2026-06-04", 630)
        july = client.post("/runs/2026/7/compute", headers=h).get_json()
        [c] = july["corrections"]
        # 100 %: 5,000,000 x (0.6 + 0.4 x 0.97) = 4,940,000: +300,000, PPh +15,000, BPJS +3,000.
        assert (c["gross"], c["pph"], c["bpjs"], c["net"]) == (300_000, 15_000, 3_000, 282_000)
        assert len(client.post("/runs/2026/7/compute", headers=h).get_json()["corrections"]) == 1
        rows = list(csv.reader(io.StringIO(client.get("/runs/2026/7/disbursement.csv", headers=h).get_data().decode("utf-8-sig"))))
        assert int(rows[-1][3]) == july["payable"]["net"] == july["totals"]["net"] + 282_000
        assert client.post("/runs/2026/7/lock", headers=h, json={"acknowledged_warnings": [
            w["code"] for w in client.get("/runs/2026/7", headers=h).get_json()["warnings"]]}).status_code == 200
        assert client.post("/runs/2026/8/compute", headers=h).get_json()["corrections"] == []
    finally:
        rt.engine.dispose()

"""The single-machine run keeps SQLite files: the set-wise attendance writes (executemany instead
of COPY), the summaries, leave, closing, batches and evidence work there too."""
import io
import uuid

from sqlalchemy import select

from ekinerja_common.config import Settings
from ekinerja_common.consumer import Consumer
from ekinerja_common.envelope import Envelope

from ekinerja_common import clock
from activity.app import create_app
from activity.inbox import HANDLERS
from activity.orm import AttendanceDay, MonthSummary


def test_attendance_and_month_on_sqlite(tmp_path, keys):
    app = create_app(Settings(service="activity", database_url=f"sqlite:///{tmp_path}/activity.db",
                              extra={"ACTIVITY_EVIDENCE_DIR": str(tmp_path / "evidence")}), keys.verifier)
    rt = app.extensions["runtime"]
    rt.migrate()
    try:
        consumer = Consumer(rt.settings, rt.session_factory, rt.metadata, HANDLERS)
        emp, pos, duty = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
        nip = "198609262015051001"
        consumer.apply(Envelope("employee.registered", "identity", {
            "employee_id": emp, "nip": nip, "name": "Budi", "employee_kind": "PNS", "status": "PNS",
            "golongan": "III/a", "active": True, "version": 1}))
        consumer.apply(Envelope("employee.placed", "identity", {
            "placement_id": str(uuid.uuid4()), "employee_id": emp, "position_id": pos,
            "start_date": "2026-01-01", "end_date": None, "kind": "definitive", "version": 1}))
        consumer.apply(Envelope("duty.published", "organization", {
            "duty_id": duty, "position_id": pos, "description": "Mengarsip surat", "output_unit": "berkas",
            "norma_waktu": 15, "version": 1}))
        client, bkd = app.test_client(), keys.headers("bkd-1", "admin_bkd")
        text = f"nip,date,check_in,check_out\n{nip},2026-10-05,08:10,16:00\n{nip},2026-10-06,07:30,15:00\n"
        upload = lambda: client.post("/attendance/import", data={"file": (io.BytesIO(text.encode()), "a.csv")},
                                     headers=bkd, content_type="multipart/form-data")
        first = upload()
        assert first.status_code == 200 and (first.get_json()["changed"], first.get_json()["events"]) == (2, 2)
        assert upload().get_json()["changed"] == 0
        changed = text.replace("08:10", "07:45")
        r = client.post("/attendance/import", data=changed.encode(), headers=bkd, content_type="text/csv")
        assert r.get_json()["changed"] == 1
        leave = client.post("/attendance/leave", json={"nip": nip, "code": "DL", "start_date": "2026-10-07"}, headers=bkd)
        assert leave.status_code == 201
        assert client.post("/attendance/close-day", json={"date": "2026-10-08"}, headers=bkd).get_json()["changed"] == 1
        h = keys.headers(emp, "pegawai")
        m = client.get("/me/month?month=2026-10", headers=h).get_json()
        # 07:45 -> TL1 0.5; left 15:00 -> PSW2 1; DL excused; 8 Oct TK 3
        assert m["attendance"]["deduction_pct"] == "4.50" and m["discipline_pct"] == "95.50"
        today = clock.today().isoformat()
        batch = client.post("/entries/batch", json={"entries": [
            {"date": today, "start_time": "08:00", "end_time": "09:00", "duty_id": duty, "volume": 2, "description": "a"},
            {"date": today, "start_time": "09:00", "end_time": "10:00", "duty_id": duty, "volume": 4, "description": "b"}]},
            headers=h)
        assert batch.status_code == 201
        entry = batch.get_json()["entries"][0]
        ev = client.post(f"/entries/{entry['id']}/evidence", data={"file": (io.BytesIO(b"%PDF-1.4 x"), "a.pdf")},
                         headers=h, content_type="multipart/form-data")
        assert ev.status_code == 201
        assert client.get(f"/evidence/{ev.get_json()['id']}", headers=h).data == b"%PDF-1.4 x"
        assert client.get("/me/month", headers=h).get_json()["minutes"]["pending"] == 90
        with rt.session_factory() as s:
            assert len(s.scalars(select(AttendanceDay)).all()) == 4
            summary = s.get(MonthSummary, (emp, 2026, 10))
            assert summary.attendance_days == 4 and summary.absent_days == 1
    finally:
        rt.engine.dispose()

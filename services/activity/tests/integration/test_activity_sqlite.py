"""The single-machine run uses SQLite files: the same migrations and the per-employee lock work there."""
import uuid
from datetime import timedelta

from ekinerja_common.config import Settings
from ekinerja_common.consumer import Consumer
from ekinerja_common.envelope import Envelope

from ekinerja_common import clock
from activity.app import create_app
from activity.inbox import HANDLERS


def test_submit_and_withdraw_on_sqlite(tmp_path, keys):
    app = create_app(Settings(service="activity", database_url=f"sqlite:///{tmp_path}/activity.db"), keys.verifier)
    rt = app.extensions["runtime"]
    rt.migrate()
    try:
        consumer = Consumer(rt.settings, rt.session_factory, rt.metadata, HANDLERS)
        today = clock.today()
        emp, pos, duty = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
        consumer.apply(Envelope("employee.placed", "identity", {
            "placement_id": str(uuid.uuid4()), "employee_id": emp, "position_id": pos,
            "start_date": (today - timedelta(days=30)).isoformat(), "end_date": None, "kind": "definitive", "version": 1}))
        consumer.apply(Envelope("duty.published", "organization", {
            "duty_id": duty, "position_id": pos, "description": "Mengarsip surat", "output_unit": "berkas",
            "norma_waktu": 15, "version": 1}))
        client, h = app.test_client(), keys.headers(emp, "pegawai")
        body = {"date": today.isoformat(), "start_time": "08:00", "end_time": "09:00", "duty_id": duty, "volume": 2,
                "description": "Arsip"}
        first = client.post("/entries", json=body, headers=h)
        assert first.status_code == 201 and first.get_json()["credited_minutes"] == 30
        assert client.post("/entries", json=body, headers=h).status_code == 422  # overlap; lock row reused
        withdrawn = client.post(f"/entries/{first.get_json()['id']}/withdraw", headers=h)
        assert withdrawn.status_code == 200
        # The slot is free once approval confirms the withdrawal (the claim table works on SQLite too).
        assert client.post("/entries", json=body, headers=h).status_code == 422
        consumer.apply(Envelope("activity.change_accepted", "approval", {
            "entry_id": first.get_json()["id"], "employee_id": emp, "version": withdrawn.get_json()["version"],
            "status": "withdrawn"}))
        assert client.post("/entries", json=body, headers=h).status_code == 201
        assert client.get("/readyz").status_code == 200
    finally:
        rt.engine.dispose()

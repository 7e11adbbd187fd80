"""Helpers of the integration tests, hung off the ``org`` fixture so tests import nothing from
each other whatever pytest's import mode."""
import json
import uuid

import pytest
from sqlalchemy import func, select

from ekinerja_common.consumer import Consumer
from ekinerja_common.envelope import Envelope
from ekinerja_common.outbox import OUTBOX

from organization.inbox import HANDLERS
from organization.orm import AuditRecord


class Org:
    def __init__(self, client, runtime, keys):
        self.client = client
        self.runtime = runtime
        self.keys = keys
        self.account = str(uuid.uuid4())
        self.h = keys.headers(None, "organisasi", account_id=self.account)

    def ok(self, response, status=201):
        assert response.status_code == status, response.get_json()
        return response.get_json()

    def unit(self, code, kind="opd", parent=None, name=None):
        body = {"code": code, "name": name or code.title(), "kind": kind, "parent_id": parent}
        return self.ok(self.client.post("/units", json=body, headers=self.h))

    def position(self, code, unit_id, kind="pelaksana", kelas=7, parent=None, eselon=None, **extra):
        body = {"code": code, "name": extra.pop("name", code.title()), "kind": kind, "kelas_jabatan": kelas,
                "unit_id": unit_id, "parent_id": parent, "eselon": eselon, **extra}
        return self.ok(self.client.post("/positions", json=body, headers=self.h))

    def duty(self, position_id, description, norma, volume=None, output_unit="laporan"):
        body = {"description": description, "output_unit": output_unit, "norma_waktu": norma, "yearly_volume": volume}
        return self.ok(self.client.post(f"/positions/{position_id}/duties", json=body, headers=self.h))

    def outbox(self) -> list[tuple[str, dict]]:
        table = self.runtime.metadata.tables[OUTBOX]
        with self.runtime.engine.connect() as conn:
            rows = conn.execute(select(table.c.type, table.c.body).order_by(table.c.seq)).all()
        return [(r.type, json.loads(r.body)["data"]) for r in rows]

    def audits(self, action: str | None = None) -> list[AuditRecord]:
        with self.runtime.session_factory() as s:
            q = select(AuditRecord).order_by(AuditRecord.at)
            if action:
                q = q.where(AuditRecord.action == action)
            return list(s.scalars(q))

    def count(self, model, *where) -> int:
        with self.runtime.session_factory() as s:
            return s.scalar(select(func.count()).select_from(model).where(*where))

    def placed(self, position_id, start, end=None, kind="definitive", employee_id=None, placement_id=None,
               version=1, envelope_id=None) -> tuple[str, str]:
        """Deliver identity's employee.placed through the real consumer path (minus the broker);
        returns (outcome, placement id)."""
        placement_id = placement_id or str(uuid.uuid4())
        env = Envelope(type="employee.placed", source="identity", data={
            "placement_id": placement_id, "employee_id": employee_id or str(uuid.uuid4()), "position_id": position_id,
            "start_date": start, "end_date": end, "kind": kind, "version": version},
            **({"id": envelope_id} if envelope_id else {}))
        outcome = Consumer(self.runtime.settings, self.runtime.session_factory, self.runtime.metadata, HANDLERS).apply(env)
        return outcome, placement_id


@pytest.fixture
def org(client, runtime, keys):
    return Org(client, runtime, keys)


@pytest.fixture
def tree(org):
    """OPD → bidang → subbidang with a head, a bidang head, a subbidang head and a staff post."""
    opd = org.unit("DISKOMINFO", name="Dinas Kominfo")
    bidang = org.unit("APTIKA", "bidang", opd["id"], name="Bidang Aptika")
    sub = org.unit("APTIKA-INFRA", "subbidang", bidang["id"], name="Subbidang Infrastruktur")
    kadis = org.position("KADIS", opd["id"], "jpt", 14, eselon="II.b")
    kabid = org.position("KABID", bidang["id"], "administrator", 11, kadis["id"], "III.b")
    kasubid = org.position("KASUBID", sub["id"], "pengawas", 9, kabid["id"], "IV.a")
    staff = org.position("PRANATA", sub["id"], "pelaksana", 7, kasubid["id"])
    return {"opd": opd, "bidang": bidang, "sub": sub, "kadis": kadis, "kabid": kabid, "kasubid": kasubid, "staff": staff}

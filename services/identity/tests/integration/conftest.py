"""Fixtures of the integration tests. Helpers hang off the ``api`` fixture rather than a helper
module, so the tests import nothing from each other whatever pytest's import mode."""
import json

import pytest
from sqlalchemy import func, select, update

from ekinerja_common.consumer import Consumer
from ekinerja_common.envelope import Envelope
from ekinerja_common.outbox import OUTBOX

from identity import commands
from identity.inbox import HANDLERS
from identity.orm import Account, AuditRecord


def bearer(login_body: dict) -> dict:
    return {"Authorization": f"Bearer {login_body['access_token']}"}


class Api:
    ADMIN = "admin.bkd"
    ADMIN_PASSWORD = "Rahasia-Admin-2026"
    VALID_NIP = "198609262015051001"

    def __init__(self, client, runtime):
        self.client = client
        self.runtime = runtime

    bearer = staticmethod(bearer)

    def login(self, username: str = ADMIN, password: str = ADMIN_PASSWORD, address: str | None = None):
        """``address``: the caller's address as the gateway reports it (X-Real-IP)."""
        headers = {"X-Real-IP": address} if address else {}
        return self.client.post("/auth/login", json={"username": username, "password": password}, headers=headers)

    def refresh(self, token: str):
        return self.client.post("/auth/refresh", json={"refresh_token": token})

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

    def count(self, model) -> int:
        with self.runtime.session_factory() as s:
            return s.scalar(select(func.count()).select_from(model))

    def deliver_position(self, position_id: str, version: int = 1, event: str = "position.created",
                         name: str = "Pranata Komputer", parent_id: str | None = None, code: str | None = None,
                         envelope_id: str | None = None, **extra) -> str:
        """Apply an organization event through the real consumer path (minus the broker)."""
        env = Envelope(type=event, source="organization", data={
            "position_id": position_id, "code": code or f"P-{position_id[:6]}", "name": name, "kind": "pelaksana",
            "kelas_jabatan": 7, "parent_id": parent_id, "unit_id": "u1", "factor": "1", "version": version, **extra},
            **({"id": envelope_id} if envelope_id else {}))
        return Consumer(self.runtime.settings, self.runtime.session_factory, self.runtime.metadata, HANDLERS).apply(env)

    def grant(self, username: str, role: str) -> None:
        """``python -m identity grant-role USERNAME ROLE`` (the operator's command)."""
        commands.grant_role(self.runtime, [username, role])

    def register(self, headers: dict, nip: str = VALID_NIP, **overrides) -> dict:
        body = {"nip": nip, "name": "Budi Santoso", "employee_kind": "PNS", "status": "PNS", "golongan": "III/a",
                **overrides}
        r = self.client.post("/employees", json=body, headers=headers)
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    def make_user(self, admin_headers: dict, username: str, nip: str = VALID_NIP, password: str = "Sandi-Pegawai-01",
                  roles: list[str] | None = None, settled: bool = True, **employee) -> tuple[dict, dict]:
        """An employee with an account; returns (employee, login answer). ``settled``: the user
        has already replaced the one-time password (so the token is a full one); done in the
        database to keep ``password`` valid for the test."""
        employee = self.register(admin_headers, nip=nip, **employee)
        r = self.client.post("/accounts", json={"username": username, "password": password,
                                                "employee_id": employee["id"], "roles": roles or []}, headers=admin_headers)
        assert r.status_code == 201, r.get_json()
        # Roles beyond pegawai wait for a second person; the tests give them the operator's way.
        for g in r.get_json()["pending_grants"]:
            self.grant(username, g["role"])
        if settled:
            with self.runtime.session_factory() as s, s.begin():
                s.execute(update(Account).where(Account.id == r.get_json()["id"]).values(must_change_password=False))
        login = self.login(username, password)
        assert login.status_code == 200, login.get_json()
        return employee, login.get_json()


@pytest.fixture
def api(client, runtime):
    return Api(client, runtime)


@pytest.fixture
def api_for():
    """Api over another app (a test that builds its own, e.g. on SQLite)."""
    return lambda app: Api(app.test_client(), app.extensions["runtime"])


@pytest.fixture
def admin(api, runtime, monkeypatch):
    """An admin_bkd account made by the real CLI command; returns its login answer."""
    monkeypatch.setenv(commands.PASSWORD_VAR, Api.ADMIN_PASSWORD)
    commands.create_admin(runtime, [Api.ADMIN])
    r = api.login()
    assert r.status_code == 200, r.get_json()
    return r.get_json()


@pytest.fixture
def admin_h(admin):
    return bearer(admin)

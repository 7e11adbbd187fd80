"""The single-machine run uses a SQLite file with the same code and migrations: one whole flow
there, because SQLite locks differently (every transaction holds the write lock)."""
import uuid

from ekinerja_common.config import Settings

from identity import commands
from identity.app import create_app


def test_a_whole_flow_on_sqlite(tmp_path, monkeypatch, api_for):
    app = create_app(Settings(service="identity", database_url=f"sqlite:///{tmp_path}/identity.db"))
    rt = app.extensions["runtime"]
    rt.migrate()
    try:
        api = api_for(app)
        monkeypatch.setenv(commands.PASSWORD_VAR, api.ADMIN_PASSWORD)
        commands.create_admin(rt, [api.ADMIN])
        for _ in range(2):
            assert api.login(password="salah-salah-salah").status_code == 401
        session = api.login().get_json()
        h = api.bearer(session)
        assert api.client.get("/me", headers=h).status_code == 200
        employee = api.register(h)
        pid = str(uuid.uuid4())
        assert api.deliver_position(pid) == "handled"
        r = api.client.post(f"/employees/{employee['id']}/placements",
                            json={"position_id": pid, "start_date": "2025-01-01", "kind": "definitive"}, headers=h)
        assert r.status_code == 201, r.get_json()
        commands.rotate_keys(rt, [])
        renewed = api.refresh(session["refresh_token"])
        assert renewed.status_code == 200, renewed.get_json()
        assert api.refresh(session["refresh_token"]).get_json()["error"]["code"] == "refresh_token_reused"
        assert api.client.get("/me", headers=h).status_code == 200  # signed by the rotated-out key
        assert [t for t, _ in api.outbox()] == ["employee.registered", "employee.placed"]
    finally:
        rt.engine.dispose()

"""Revision 0002 on a database that already holds positions: each gets its current version into
the history, on PostgreSQL and on the SQLite file of the single-machine run."""
import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from ekinerja_common.config import Settings
from ekinerja_common.testing import fresh_database

from organization.runtime import build_runtime


def upgraded(url: str):
    rt = build_runtime(Settings(service="organization", database_url=url))
    rt.migrate("0001")
    with rt.engine.begin() as conn:
        conn.execute(text("INSERT INTO units (id, code, name, kind, created_at) VALUES ('u1', 'OPD', 'Dinas', 'opd', :t)"),
                     {"t": datetime(2026, 3, 4, 1, tzinfo=timezone.utc)})
        conn.execute(text("INSERT INTO positions (id, code, name, kind, eselon, kelas_jabatan, factor, unit_id, version, "
                          "updated_at) VALUES ('p1', 'KADIS', 'Kepala Dinas', 'jpt', 'II.b', 14, 1, 'u1', 3, :t)"),
                     {"t": datetime(2026, 3, 4, 1, tzinfo=timezone.utc)})
    rt.migrate()
    rt.check_ready()
    with rt.engine.connect() as conn:
        history = conn.execute(text("SELECT position_id, version, valid_from, code, kelas_jabatan, active FROM position_history")).all()
        position = conn.execute(text("SELECT valid_from, active FROM positions")).one()
        unit = conn.execute(text("SELECT active FROM units")).one()
    rt.engine.dispose()
    return history, position, unit


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_existing_positions_get_their_history(backend, tmp_path):
    if backend == "sqlite":
        history, position, unit = upgraded(f"sqlite:///{tmp_path}/organization.db")
    else:
        with fresh_database("orgmig") as url:
            history, position, unit = upgraded(url)
    [(pid, version, valid_from, code, kelas, active)] = history
    assert (pid, version, str(valid_from), code, kelas, bool(active)) == ("p1", 3, "2026-03-04", "KADIS", 14, True)
    assert str(position[0]) == "2026-03-04" and bool(position[1]) and bool(unit[0])


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_existing_units_get_a_version_and_are_announced(backend, tmp_path):
    def run(url):
        rt = build_runtime(Settings(service="organization", database_url=url))
        rt.migrate("0002")
        with rt.engine.begin() as conn:
            conn.execute(text("INSERT INTO units (id, code, name, kind, created_at, active) "
                              "VALUES ('u1', 'OPD', 'Dinas', 'opd', :t, true)"), {"t": datetime(2026, 3, 4, 1, tzinfo=timezone.utc)})
        rt.migrate()
        rt.check_ready()
        with rt.engine.connect() as conn:
            version = conn.execute(text("SELECT version FROM units")).scalar_one()
            events = conn.execute(text("SELECT type, body FROM outbox")).all()
        rt.engine.dispose()
        return version, events

    if backend == "sqlite":
        version, events = run(f"sqlite:///{tmp_path}/organization.db")
    else:
        with fresh_database("orgmig3") as url:
            version, events = run(url)
    assert version == 1
    [(kind, body)] = events
    assert kind == "unit.created" and json.loads(body)["data"] == {
        "unit_id": "u1", "code": "OPD", "name": "Dinas", "kind": "opd", "parent_id": None, "active": True, "version": 1}

"""Revision 0002 on a database that already holds position read-model rows (PostgreSQL and the
SQLite file of the single-machine run): they stay, active, waiting for their parent link."""
import pytest
from sqlalchemy import text

from ekinerja_common.config import Settings
from ekinerja_common.testing import fresh_database

from identity.runtime import build_runtime


def upgraded(url: str):
    rt = build_runtime(Settings(service="identity", database_url=url))
    rt.migrate("0001")
    with rt.engine.begin() as conn:
        conn.execute(text("INSERT INTO position_refs (position_id, code, name, version) VALUES ('p1', 'KADIS', 'Kepala', 4)"))
    rt.migrate()
    rt.check_ready()
    with rt.engine.connect() as conn:
        row = conn.execute(text("SELECT code, parent_id, active, version FROM position_refs")).one()
    rt.engine.dispose()
    return row


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_existing_position_refs_survive_the_upgrade(backend, tmp_path):
    if backend == "sqlite":
        row = upgraded(f"sqlite:///{tmp_path}/identity.db")
    else:
        with fresh_database("idmig") as url:
            row = upgraded(url)
    assert (row[0], row[1], bool(row[2]), row[3]) == ("KADIS", None, True, 4)

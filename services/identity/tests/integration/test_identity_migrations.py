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


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_revision_0004_keeps_accounts_and_makes_the_audit_append_only(backend, tmp_path):
    """Accounts made before the limits and token versions keep working (version 0); the audit
    table refuses UPDATE and DELETE on both databases; the downgrade gives the old shape back."""
    from contextlib import nullcontext

    with (nullcontext(f"sqlite:///{tmp_path}/identity.db") if backend == "sqlite" else fresh_database("idmig3")) as url:
        rt = build_runtime(Settings(service="identity", database_url=url))
        rt.migrate("0003")
        with rt.engine.begin() as conn:
            conn.execute(text("INSERT INTO accounts (id, username, password_hash, must_change_password, failed_logins,"
                              " active, created_at) VALUES ('a1', 'budi', 'h', false, 3, true, CURRENT_TIMESTAMP)"))
            conn.execute(text("INSERT INTO audit_records (id, at, action, object_type, object_id, details) VALUES "
                              "('r1', CURRENT_TIMESTAMP, 'account.created', 'account', 'a1', '{}')"))
        rt.migrate()
        rt.check_ready()
        with rt.engine.connect() as conn:
            assert conn.execute(text("SELECT username, token_version FROM accounts")).one() == ("budi", 0)
        for sql in ("UPDATE audit_records SET action = 'x'", "DELETE FROM audit_records"):
            with rt.engine.connect() as conn, pytest.raises(Exception, match="append-only"):
                conn.execute(text(sql))
        from alembic import command

        command.downgrade(rt._alembic_config(), "0003")
        with rt.engine.begin() as conn:
            assert conn.execute(text("SELECT failed_logins FROM accounts")).scalar() == 0
            conn.execute(text("DELETE FROM audit_records"))  # no trigger any more
        rt.engine.dispose()

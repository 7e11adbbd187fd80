"""The operational mechanisms of libs, on real databases (SQLite files and PostgreSQL):
readiness during a rolling upgrade (expand/contract), offline SQL, pruning with retention, the
schedule table, the entrypoint's secret files and process environment."""
from __future__ import annotations

import os
import stat
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from croniter import croniter
from sqlalchemy import MetaData, insert, select

from ekinerja_common.config import Settings
from ekinerja_common.envelope import utcnow
from ekinerja_common.events import SERVICES
from ekinerja_common.outbox import add_messaging_tables
from ekinerja_common.retention import prune
from ekinerja_common.runtime import Runtime
from ekinerja_common.schedule import JOBS
from ekinerja_common.testing import fresh_database

ROOT = Path(__file__).resolve().parents[3]

ENV_PY = "from alembic import context\nfrom ekinerja_common.runtime import run_alembic_env\nrun_alembic_env(context)\n"
REVISION = '''from alembic import op
import sqlalchemy as sa
revision = {rev!r}
down_revision = {down!r}
branch_labels = None
depends_on = None
{compat}

def upgrade() -> None:
    op.create_table("t{rev}", sa.Column("id", sa.String(10), primary_key=True))


def downgrade() -> None:
    op.drop_table("t{rev}")
'''


def migrations(folder: Path, revisions: list[tuple[str, str | None]]) -> str:
    """A migrations folder with revisions (rev, compatible_with_code_from or None)."""
    (folder / "versions").mkdir(parents=True, exist_ok=True)
    (folder / "env.py").write_text(ENV_PY)
    down = None
    for rev, compat in revisions:
        text = REVISION.format(rev=rev, down=down, compat=f"compatible_with_code_from = {compat!r}" if compat else "")
        (folder / "versions" / f"{rev}_x.py").write_text(text)
        down = rev
    return str(folder)


def runtime(url: str, folder: str) -> Runtime:
    metadata = MetaData()
    add_messaging_tables(metadata)
    return Runtime("svc", metadata, folder, Settings(service="svc", database_url=url))


def test_readyz_accepts_a_database_ahead_by_expand_migrations_only(tmp_path):
    url = f"sqlite:///{tmp_path / 'svc.db'}"
    old_code = migrations(tmp_path / "old", [("0001", None), ("0002", None)])
    expand = migrations(tmp_path / "new", [("0001", None), ("0002", None), ("0003", "0002")])
    contract = migrations(tmp_path / "newer", [("0001", None), ("0002", None), ("0003", "0002"), ("0004", None)])

    runtime(url, old_code).migrate()
    runtime(url, old_code).check_ready()
    # The new version's migration ran first (expand): the old pods keep serving.
    runtime(url, expand).migrate()
    runtime(url, old_code).check_ready()
    runtime(url, expand).check_ready()
    # A contract step: the old code may no longer serve, the newer may.
    runtime(url, contract).migrate()
    with pytest.raises(RuntimeError, match="schema needs code from 0004"):
        runtime(url, old_code).check_ready()
    with pytest.raises(RuntimeError, match="database at 0004, code expects 0003"):
        runtime(url, expand).check_ready()
    runtime(url, contract).check_ready()
    # A database behind the code is never ready (the migration has not run yet).
    behind = f"sqlite:///{tmp_path / 'behind.db'}"
    runtime(behind, old_code).migrate()
    with pytest.raises(RuntimeError, match="database at 0002, code expects 0003"):
        runtime(behind, expand).check_ready()


def test_offline_sql_for_dbas_needs_no_database(tmp_path, capsys):
    folder = migrations(tmp_path / "m", [("0001", None), ("0002", "0001")])
    rt = runtime("postgresql+psycopg://nobody@nowhere.invalid/db", folder)
    rt.offline_sql("0001:0002")
    out = capsys.readouterr().out
    assert "CREATE TABLE t0002" in out and "UPDATE svc_alembic_version SET version_num='0002'" in out
    assert "CREATE TABLE t0001" not in out


def test_concurrent_migrations_on_postgresql_wait_for_each_other(tmp_path):
    folder = migrations(tmp_path / "m", [("0001", None), ("0002", None)])
    with fresh_database("ops_lock") as url:
        code = ("import sys; from ekinerja_common.runtime import Runtime; from ekinerja_common.config import Settings;"
                "from sqlalchemy import MetaData; from ekinerja_common.outbox import add_messaging_tables;"
                "m = MetaData(); add_messaging_tables(m);"
                f"Runtime('svc', m, {folder!r}, Settings(service='svc', database_url={url!r})).migrate()")
        procs = [subprocess.Popen([os.sys.executable, "-c", code], stderr=subprocess.PIPE) for _ in range(3)]
        results = [(p.wait(timeout=120), p.stderr.read().decode()) for p in procs]
        assert all(rc == 0 for rc, _ in results), results
        runtime(url, folder).check_ready()


def test_prune_deletes_only_what_is_past_retention(tmp_path):
    rt = runtime(f"sqlite:///{tmp_path / 'p.db'}", migrations(tmp_path / "m", [("0001", None)]))
    rt.metadata.create_all(rt.engine)
    outbox, processed = rt.metadata.tables["outbox"], rt.metadata.tables["processed_messages"]
    now = utcnow()
    with rt.engine.begin() as conn:
        for i, (created, published) in enumerate([(40, 39), (40, None), (5, 4), (1, None)]):
            conn.execute(insert(outbox).values(id=f"o{i}", type="x.y", body="{}", created_at=now - timedelta(days=created),
                                               published_at=None if published is None else now - timedelta(days=published)))
        for i, days in enumerate([60, 31, 29, 0]):
            conn.execute(insert(processed).values(id=f"p{i}", type="x.y", processed_at=now - timedelta(days=days)))
    assert prune(rt.engine, rt.metadata, outbox_days=30, processed_days=30) == {"outbox": 1, "processed_messages": 2}
    with rt.engine.connect() as conn:
        assert sorted(conn.execute(select(outbox.c.id)).scalars()) == ["o1", "o2", "o3"]  # never an unpublished one
        assert sorted(conn.execute(select(processed.c.id)).scalars()) == ["p2", "p3"]
    assert prune(rt.engine, rt.metadata, outbox_days=30, processed_days=30) == {"outbox": 0, "processed_messages": 0}
    with pytest.raises(ValueError):
        prune(rt.engine, rt.metadata, outbox_days=0, processed_days=30)


def test_every_scheduled_job_is_a_command_of_its_service():
    for job in JOBS:
        assert job.service in SERVICES
        assert croniter.is_valid(job.cron), job
        done = subprocess.run([os.sys.executable, "-m", job.service, job.argv[0], "--help"], capture_output=True, text=True,
                              env={**os.environ, f"{job.service.upper()}_DATABASE_URL": "sqlite://"}, timeout=60)
        assert "invalid choice" not in done.stderr, (job, done.stderr)
    assert {j.service for j in JOBS if j.name == "prune"} == set(SERVICES)


@pytest.fixture
def fake_python(tmp_path):
    """A `python` and `gunicorn` that print the environment they were given and their arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("python", "gunicorn"):
        p = bin_dir / name
        p.write_text("#!/bin/sh\necho \"ARGS $0 $*\"\nenv\n")
        p.chmod(p.stat().st_mode | stat.S_IEXEC)
    return bin_dir


def run_entrypoint(fake_python, *args, **env):
    base = {"PATH": f"{fake_python}:/usr/bin:/bin", "PROMETHEUS_MULTIPROC_DIR": str(fake_python.parent / "prom"), **env}
    done = subprocess.run(["sh", str(ROOT / "deploy" / "docker-entrypoint.sh"), *args], env=base, capture_output=True,
                          text=True)
    return done.returncode, done.stdout, done.stderr


def test_entrypoint_reads_secret_files_and_keeps_multiprocess_metrics_to_web(fake_python, tmp_path):
    secret = tmp_path / "passphrase"
    secret.write_text("s3cret-phrase")
    rc, out, _ = run_entrypoint(fake_python, "identity", "relay", IDENTITY_KEY_PASSPHRASE_FILE=str(secret))
    assert rc == 0 and "IDENTITY_KEY_PASSPHRASE=s3cret-phrase" in out.splitlines()
    assert "IDENTITY_KEY_PASSPHRASE_FILE" not in out and "PROMETHEUS_MULTIPROC_DIR" not in out
    assert "ARGS" in out and "-m identity relay" in out
    rc, out, _ = run_entrypoint(fake_python, "payroll", "web")
    assert rc == 0 and f"PROMETHEUS_MULTIPROC_DIR={tmp_path / 'prom'}" in out and (tmp_path / "prom").is_dir()
    rc, out, _ = run_entrypoint(fake_python, "activity", "schedule")
    assert rc == 0 and "-m ekinerja_common.schedule activity" in out
    rc, _, err = run_entrypoint(fake_python, "identity", "web", IDENTITY_KEY_PASSPHRASE_FILE=str(tmp_path / "missing"))
    assert rc == 78 and "not readable" in err

"""Month-end surge (issue 13): the whole stack under the load of an office entering and validating at
once, measured through the gateway beside bare baselines on the same gunicorn + nginx settings.

    .venv/bin/python bench/surge.py                      # 1,000 employees, a few minutes
    .venv/bin/python bench/surge.py --employees 10000    # or 50000 (seeding takes longer)

Everything runs on components of its own, never the machine's shared servers: a PostgreSQL
cluster made with ``initdb`` in a temporary directory (Debian's binaries under
/usr/lib/postgresql/*/bin, run as the postgres user), a RabbitMQ node of its own
(ekinerja_common.testing.DedicatedBroker), the five services as deploy/local/stack.py starts them
(project defaults: 2 gunicorn gthread workers × 4 threads each) and the nginx gateway; beside them
bench/baseline_app.py on the same gunicorn config behind a second nginx from the same template.

Seeding is fast by design: positions through organization's API, employees with their placements
by one identity import (events carry them to every service), accounts and prefilled entries by
bulk SQL (one argon2 hash shared by every bench account; the entries written into activity's and
approval's databases as deploy/local/month_end.py does).

Figures (all in bench/results/surge.json; README "Month-end surge" quotes them):

- max throughput (closed loop, ``--concurrency`` in flight) of (a) bare JSON, (b) bare INSERT, a
  submission (POST /entries), a supervisor's queue page (GET /queue?limit=50) and /me/month, in
  ``--rounds`` interleaved rounds (medians reported), then each at 70 % of its own max open loop:
  requests scheduled at a constant rate, latency from the *intended* send time (no coordinated
  omission);
- event lag submit → approval's queue (approval's item row time minus the event's occurred_at)
  during the 70 % submission run, and the outbox backlog before and after it;
- relay catch-up: activity's relay stopped, 10,000 activity.submitted rows put in its outbox,
  relay started — events/s from the first to the last published_at — beside a bare
  publish-and-wait-for-confirm loop on the same broker; then approval's consumer, stopped
  meanwhile, catching up on those 10,000 (items/s between the first and last item written);
- login max and p99 at 70 % beside bare argon2 verifies with the same hash (one process per core);
- the largest resident memory of every process (gunicorn workers separately) during the run;
- the payroll month (bench/payroll_month.py at this size) beside its bare SQL aggregate.

Timings are figures, not assertions; the machine may be shared, so read the ratios and the load
average recorded beside them.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import pwd
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date, datetime, time as dtime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "libs"))
for _svc in ("identity", "activity", "approval"):
    sys.path.insert(0, str(ROOT / "services" / _svc))

import requests  # noqa: E402
from sqlalchemy import create_engine, insert, text  # noqa: E402

from bench import loadgen  # noqa: E402
from deploy.local import gateway  # noqa: E402
from deploy.local.seed import PLACED_FROM, seed_stack  # noqa: E402
from deploy.local.stack import Ports, Stack, http_ok  # noqa: E402
from ekinerja_common.events import SERVICES  # noqa: E402
from ekinerja_common.testing import DedicatedBroker  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "surge.json"
BENCH_PASSWORD = "Surge-Bench-" + uuid.uuid4().hex[:12]
UNIT_PARENT = "KOMINFO-KABID-IKP"  # the seeded Kabid: bench supervisors sit under this post
DUTY = ("Menyusun laporan harian kegiatan layanan", "Laporan", 15)
WIB = timezone(timedelta(hours=7))


def log(msg: str) -> None:
    print(f"[surge {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- PostgreSQL of our own ----------------------------------------------------------------------

class PgCluster:
    """A throw-away PostgreSQL cluster: initdb into a temporary directory, started on a free port
    (TCP on 127.0.0.1, socket in the directory), trust authentication, removed at stop."""

    def __init__(self, max_connections: int = 400):
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
        if not versions:
            raise SystemExit("no PostgreSQL binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql)")
        self.bin = versions[-1].parent
        self.dir = Path(tempfile.mkdtemp(prefix="ekinerja-surge-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.max_connections = max_connections
        self.proc: subprocess.Popen | None = None

    def _as_postgres(self) -> dict:
        if os.geteuid() != 0:
            return {}
        user = pwd.getpwnam("postgres")
        return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}

    def start(self) -> "PgCluster":
        kw = self._as_postgres()
        if kw:
            os.chown(self.dir, kw["user"], kw["group"])
        subprocess.run([str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                        "--encoding=UTF8", "--locale=C.UTF-8"], check=True, capture_output=True, **kw)
        opts = [f"port={self.port}", "listen_addresses='127.0.0.1'", f"unix_socket_directories='{self.dir}'",
                f"max_connections={self.max_connections}", "shared_buffers=512MB", "work_mem=16MB",
                "maintenance_work_mem=256MB", "max_wal_size=4GB", "checkpoint_timeout=15min"]
        with open(self.data / "postgresql.auto.conf", "a") as fh:
            fh.write("\n".join(opts) + "\n")
        self.proc = subprocess.Popen([str(self.bin / "postgres"), "-D", str(self.data)], stdout=subprocess.DEVNULL,
                                     stderr=open(self.dir / "postgres.log", "ab"), start_new_session=True, **kw)
        deadline = time.monotonic() + 60
        while True:
            try:
                with create_engine(self.url("postgres")).connect() as c:
                    c.execute(text("SELECT 1"))
                break
            except Exception:  # noqa: BLE001 - starting
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise SystemExit(f"PostgreSQL did not start; see {self.dir / 'postgres.log'}")
                time.sleep(0.3)
        return self

    def url(self, db: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{db}"

    def create(self, db: str) -> str:
        e = create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        with e.connect() as c:
            c.execute(text(f'CREATE DATABASE "{db}"'))
        e.dispose()
        return self.url(db)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)  # fast shutdown
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


# -- the baselines: bare Flask on the same gunicorn + nginx -------------------------------------

class Baseline:
    def __init__(self, run_dir: Path, python: str, database_url: str):
        self.run_dir = run_dir
        self.python = python
        self.database_url = database_url
        self.port = free_port()
        self.gateway_port = free_port()
        self.status_port = free_port()
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self) -> "Baseline":
        e = create_engine(self.database_url)
        with e.begin() as c:
            from bench.baseline_app import DDL
            c.execute(text(DDL))
        e.dispose()
        logs = self.run_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if k not in ("PROMETHEUS_MULTIPROC_DIR",)}
        env.update({"GUNICORN_BIND": f"127.0.0.1:{self.port}", "BASELINE_DATABASE_URL": self.database_url,
                    "PYTHONPATH": str(ROOT)})
        self.procs["baseline.web"] = subprocess.Popen(
            [self.python, "-m", "gunicorn", "-c", "python:ekinerja_common.gunicorn_conf", "--no-control-socket",
             "bench.baseline_app:create_app()"], cwd=ROOT, env=env, stdout=open(logs / "baseline.web.log", "ab"),
            stderr=subprocess.STDOUT, start_new_session=True)
        nginx_dir = self.run_dir / "nginx"
        values = gateway.local_values(run_dir=nginx_dir, logs_dir=logs, web_root=ROOT / "web", host="127.0.0.1",
                                      gateway_port=self.gateway_port, status_port=self.status_port,
                                      service_ports={s: self.port for s in SERVICES}, login_rate="1000r/s", login_burst=1000)
        gateway.write_config(nginx_dir, values)
        self.procs["baseline.gateway"] = subprocess.Popen(
            gateway.nginx_argv(nginx_dir), stdout=open(logs / "baseline.gateway.log", "ab"), stderr=subprocess.STDOUT,
            start_new_session=True)
        deadline = time.monotonic() + 60
        while not http_ok(f"http://127.0.0.1:{self.gateway_port}/api/organization/readyz"):
            if time.monotonic() > deadline:
                raise SystemExit(f"baseline did not start; see {logs}")
            time.sleep(0.2)
        return self

    def pids(self) -> dict[str, int]:
        return {n: p.pid for n, p in self.procs.items()}

    def stop(self) -> None:
        for p in self.procs.values():
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in self.procs.values():
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


# -- memory of every process ---------------------------------------------------------------------

class MemorySampler(threading.Thread):
    """The largest VmRSS seen of each named process and of each of its descendants (gunicorn
    workers are reported as ``<name>/worker``), sampled once a second."""

    def __init__(self, roots: callable):
        super().__init__(daemon=True)
        self.roots = roots
        self.peak: dict[str, float] = {}
        self.stopping = threading.Event()

    @staticmethod
    def _table() -> dict[int, tuple[int, float]]:
        out = {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/status") as fh:
                    fields = dict(line.split(":", 1) for line in fh if ":" in line)
                rss = int(fields.get("VmRSS", "0 kB").split()[0]) / 1024
                out[int(d)] = (int(fields["PPid"]), rss)
            except (OSError, KeyError, ValueError):
                continue
        return out

    def sample(self) -> None:
        table = self._table()
        children: dict[int, list[int]] = {}
        for pid, (ppid, _) in table.items():
            children.setdefault(ppid, []).append(pid)
        for name, pid in self.roots().items():
            if pid not in table:
                continue
            self.peak[name] = max(self.peak.get(name, 0), table[pid][1])
            todo = list(children.get(pid, []))
            while todo:
                c = todo.pop()
                kind = "worker" if name.endswith(".web") else "child"
                key = f"{name}/{kind}"
                self.peak[key] = max(self.peak.get(key, 0), table[c][1])
                todo += children.get(c, [])

    def run(self) -> None:
        while not self.stopping.wait(1.0):
            try:
                self.sample()
            except Exception:  # noqa: BLE001 - a process may vanish between reads
                pass


_TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(roots: list[int]) -> float:
    """CPU time (user + system) of the processes ``roots`` and all their descendants, now alive.

    Beside throughput, every run reports the CPU the server side spent per request (stack,
    baselines and PostgreSQL; not the load generator): on a machine shared with other work the
    requests per second swing with what the neighbours do, the CPU per request much less, and
    its ratio to a baseline's is the throughput ratio a dedicated machine would show for work
    that is CPU-bound."""
    table: dict[int, tuple[int, float]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # after the command: state ppid ... utime (14th field of the line) stime (15th)
        table[int(d)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK)
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, todo, seen = 0.0, [r for r in roots if r in table], set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += table[pid][1]
        todo += children.get(pid, [])
    return total


# -- the people and their entries ---------------------------------------------------------------

def weekdays(first: date, last: date) -> list[date]:
    out, d = [], first
    while d <= last:
        if d.weekday() < 5:
            out.append(d)
        d += timedelta(days=1)
    return out


def nip(n: int) -> str:
    """Valid, distinct NIPs apart from the demo's: born in 1985 on a day that changes every 999
    people, appointed January 2010, female, sequence 001–999."""
    k, seq = divmod(n - 1, 999)
    return f"1985{1 + k // 28 % 12:02d}{1 + k % 28:02d}2010012{seq + 1:03d}"


class Office:
    """The bench's organisation: groups of 12–48 people, each under a supervisor post."""

    def __init__(self, employees: int, seed: int):
        rng = random.Random(seed)
        self.groups: list[tuple[int, list[int]]] = []  # (supervisor number, member numbers)
        n = 1
        while n <= employees:
            size = min(rng.randint(12, 48), employees - n)  # members besides the supervisor
            if size < 1:
                break
            self.groups.append((n, list(range(n + 1, n + 1 + size))))
            n += 1 + size
        self.total = n - 1


def seed_office(stack: Stack, urls: dict[str, str], office: Office, admin: tuple[str, str], org: tuple[str, str],
                entries_per_member: int, prefill_days: list[date]) -> dict:
    """Positions (API), employees + placements (one identity import per 5,000), accounts and
    prefilled entries (SQL). Returns employee and duty ids by NIP."""
    from deploy.local.seed import Api
    from identity import passwords

    api = Api(stack.url())
    admin_token, org_token = api.login(*admin), api.login(*org)
    _, listed = api.call("GET", "/api/organization/positions", org_token)
    positions = {p["code"]: p for p in listed["positions"]}
    parent = positions[UNIT_PARENT]
    t = time.monotonic()
    codes: dict[int, str] = {}
    duties: dict[str, str] = {}
    for g, (sup, members) in enumerate(office.groups):
        sup_code, mem_code = f"SURGE-{g:05d}-KASUBBID", f"SURGE-{g:05d}-PELAKSANA"
        if sup_code not in positions:
            _, positions[sup_code] = api.call("POST", "/api/organization/positions", org_token, {
                "code": sup_code, "name": f"Kepala Subbidang Surge {g}", "kind": "pengawas", "eselon": "IV.a",
                "kelas_jabatan": 9, "unit_id": parent["unit_id"], "parent_id": parent["id"]})
        if mem_code not in positions:
            _, positions[mem_code] = api.call("POST", "/api/organization/positions", org_token, {
                "code": mem_code, "name": f"Pelaksana Surge {g}", "kind": "pelaksana", "kelas_jabatan": 6,
                "unit_id": parent["unit_id"], "parent_id": positions[sup_code]["id"]})
        _, made = api.call("POST", f"/api/organization/positions/{positions[mem_code]['id']}/duties", org_token,
                           {"description": DUTY[0], "output_unit": DUTY[1], "norma_waktu": DUTY[2]})
        duties[mem_code] = made["id"]
        codes[sup] = sup_code
        for m in members:
            codes[m] = mem_code
    log(f"{2 * len(office.groups)} positions with duties in {time.monotonic() - t:.1f} s")

    t = time.monotonic()
    numbers = sorted(codes)
    header = "nip,name,employee_kind,status,golongan,position_code,placement_kind,start_date\n"
    for i in range(0, len(numbers), 5000):
        chunk = numbers[i:i + 5000]
        csv = header + "".join(f"{nip(n)},Pegawai Surge {n},PNS,PNS,II/c,{codes[n]},definitive,{PLACED_FROM}\n" for n in chunk)
        deadline = time.monotonic() + 120
        while True:
            # identity knows the positions once organization's position.created events arrived
            resp = api.http.post(api.base + "/api/identity/employees/import", data=csv.encode(), timeout=600,
                                 headers={"Authorization": f"Bearer {admin_token}", "Content-Type": "text/csv"})
            if resp.status_code == 201:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"employee import failed: {resp.status_code} {resp.text[:500]}")
            time.sleep(1)
    log(f"{len(numbers)} employees imported in {time.monotonic() - t:.1f} s")

    ident = create_engine(urls["identity"])
    with ident.connect() as c:
        ids = dict(c.execute(text("SELECT nip, id FROM employees WHERE nip = ANY(:nips)"),
                             {"nips": [nip(n) for n in numbers]}).all())
    pw_hash = passwords.hash_password(BENCH_PASSWORD)  # one hash for every bench account
    now = datetime.now(timezone.utc)
    accounts = [{"id": str(uuid.uuid4()), "username": nip(n), "password_hash": pw_hash, "employee_id": ids[nip(n)],
                 "must_change_password": False, "active": True, "token_version": 0, "created_at": now} for n in numbers]
    with ident.begin() as c:
        c.execute(text("INSERT INTO accounts (id, username, password_hash, employee_id, must_change_password, active, "
                       "token_version, created_at) VALUES (:id, :username, :password_hash, :employee_id, "
                       ":must_change_password, :active, :token_version, :created_at)"), accounts)
        c.execute(text("INSERT INTO account_roles (account_id, role) VALUES (:id, 'pegawai')"), accounts)
    ident.dispose()
    log(f"{len(accounts)} accounts by SQL")

    # Approval resolves supervisors from placements; activity needs placements for duties.
    t = time.monotonic()
    wanted = set(ids.values())
    checks = {"approval": "SELECT count(DISTINCT employee_id) FROM placements WHERE employee_id = ANY(:ids)",
              "activity": "SELECT count(DISTINCT employee_id) FROM placements WHERE employee_id = ANY(:ids)"}
    for svc, sql in checks.items():
        e = create_engine(urls[svc])
        deadline = time.monotonic() + 120 + len(wanted) / 5
        while True:
            with e.connect() as c:
                have = c.execute(text(sql), {"ids": list(wanted)}).scalar()
            if have >= len(wanted):
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"{svc} knows {have} of {len(wanted)} placements")
            time.sleep(0.5)
        e.dispose()
    log(f"read models caught up in {time.monotonic() - t:.1f} s")

    t = time.monotonic()
    from activity.orm import Entry, MonthSummary
    from approval.orm import ValidationItem
    slots = [(dtime(8 + k // 2, 30 * (k % 2)), dtime(8 + k // 2, 30 * (k % 2) + 15)) for k in range(8)]
    per_day = max(1, -(-entries_per_member // len(prefill_days)))
    entries, items, pending = [], [], {}
    for sup, members in office.groups:
        for m in members:
            emp, duty = ids[nip(m)], duties[codes[m]]
            k = 0
            for day in prefill_days:
                for start, end in slots[:per_day]:
                    if k >= entries_per_member:
                        break
                    k += 1
                    eid = str(uuid.uuid4())
                    text_ = f"Laporan layanan {day:%d/%m} {start:%H.%M}"
                    entries.append({"id": eid, "employee_id": emp, "date": day, "start_time": start, "end_time": end,
                                    "duty_id": duty, "duty_description": DUTY[0], "output_unit": DUTY[1],
                                    "norma_waktu": DUTY[2], "volume": 1, "description": text_, "credited_minutes": 15,
                                    "status": "submitted", "reason": None, "decision_version": 0, "decided_by": None,
                                    "decided_at": None, "version": 1, "submitted_version": 1, "appeal_id": None,
                                    "appeal_version": 0, "created_at": now, "updated_at": now})
                    items.append({"entry_id": eid, "employee_id": emp, "date": day, "start_time": start, "end_time": end,
                                  "duty_id": duty, "duty_description": DUTY[0], "volume": 1, "output_unit": DUTY[1],
                                  "credited_minutes": 15, "description": text_, "status": "pending", "version": 1,
                                  "submitted_at": now, "updated_at": now})
                    key = (emp, day.year, day.month)
                    pending[key] = pending.get(key, 0) + 15
    summaries = [{"employee_id": e, "year": y, "month": mo, "draft_minutes": 0, "pending_minutes": v,
                  "approved_minutes": 0, "returned_minutes": 0, "rejected_minutes": 0, "attendance_days": 0,
                  "deduction_pct": 0, "late_days": 0, "early_days": 0, "absent_days": 0, "excused_days": 0}
                 for (e, y, mo), v in pending.items()]
    act, appr = create_engine(urls["activity"]), create_engine(urls["approval"])
    for i in range(0, len(entries), 20000):
        with act.begin() as c:
            c.execute(insert(Entry.__table__), entries[i:i + 20000])
        with appr.begin() as c:
            c.execute(insert(ValidationItem.__table__), items[i:i + 20000])
    with act.begin() as c:
        c.execute(insert(MonthSummary.__table__), summaries)
    from sqlalchemy.orm import Session
    from approval import queue_model
    with Session(appr) as session, session.begin():
        queue_model.derive_all(session)  # the queue's read model, as approval's consumer keeps it
    for e in (act, appr):
        with e.connect() as c:
            c.execute(text("ANALYZE"))
            c.commit()
        e.dispose()
    log(f"{len(entries)} prefilled entries by SQL in {time.monotonic() - t:.1f} s")
    return {"ids": ids, "codes": codes, "duties": duties}


# -- logging in ---------------------------------------------------------------------------------

def login_all(stack: Stack, usernames: list[str]) -> dict[str, str]:
    """Tokens for ``usernames``, logged in through the gateway (two at a time: one per core)."""
    host, port = "127.0.0.1", stack.ports.gateway
    body = lambda u: json.dumps({"username": u, "password": BENCH_PASSWORD}).encode()  # noqa: E731
    make = lambda i: ("POST", "/api/identity/auth/login", {"Content-Type": "application/json"}, body(usernames[i]))  # noqa: E731
    tokens: dict[str, str] = {}
    import asyncio

    async def run():
        queue = list(range(len(usernames)))

        async def worker():
            conn = loadgen.Connection(host, port)
            while queue:
                i = queue.pop()
                status, payload = await conn.request(make(i))
                if status != 200:
                    raise SystemExit(f"login of {usernames[i]} failed: {status} {payload[:300]!r}")
                tokens[usernames[i]] = json.loads(payload)["access_token"]
            conn.close()

        await asyncio.gather(*(worker() for _ in range(4)))

    asyncio.run(run())
    return tokens


def _verify_for(args) -> int:
    pw_hash, seconds = args
    from identity import passwords
    n, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        passwords.verify_password(pw_hash, BENCH_PASSWORD)
        n += 1
    return n


def bare_argon2(seconds: float = 5.0) -> float:
    """Verifies per second of the bench hash, one process per core (what identity's workers do)."""
    from identity import passwords
    pw_hash = passwords.hash_password(BENCH_PASSWORD)
    cores = os.cpu_count() or 1
    with multiprocessing.get_context("spawn").Pool(cores) as pool:
        counts = pool.map(_verify_for, [(pw_hash, seconds)] * cores)
    return sum(counts) / seconds


# -- relay and consumer catch-up ----------------------------------------------------------------

def bare_publish_confirm(amqp_url: str, n: int, body: str) -> float:
    """A loop publishing persistent messages one at a time, each waiting for its confirm (what the
    relay used to do), to a queue of its own."""
    import pika
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    ch = conn.channel()
    q = f"surge-bare-{uuid.uuid4().hex[:6]}"
    ch.queue_declare(q, durable=True)
    ch.confirm_delivery()
    props = pika.BasicProperties(delivery_mode=2, content_type="application/json")
    t = time.perf_counter()
    for _ in range(n):
        ch.basic_publish("", q, body, props, mandatory=True)
    rate = n / (time.perf_counter() - t)
    ch.queue_delete(q)
    conn.close()
    return rate


def relay_and_consumer(stack: Stack, urls: dict[str, str], backlog: int) -> dict:
    act, appr = create_engine(urls["activity"]), create_engine(urls["approval"])
    with act.connect() as c:
        template = c.execute(text("SELECT type, body, correlation_id FROM outbox WHERE type = 'activity.submitted' "
                                  "ORDER BY seq DESC LIMIT 1")).one()
    stack.kill("approval.consumer", signal.SIGTERM)
    stack.kill("activity.relay", signal.SIGTERM)
    env = json.loads(template.body)
    now = datetime.now(timezone.utc)
    rows, entry_ids = [], []
    for _ in range(backlog):
        env["id"] = str(uuid.uuid4())
        env["data"]["entry_id"] = entry_ids.append(str(uuid.uuid4())) or entry_ids[-1]
        rows.append({"id": env["id"], "type": template.type, "body": json.dumps(env, separators=(",", ":"), sort_keys=True),
                     "correlation_id": template.correlation_id, "created_at": now, "attempts": 0})
    with act.begin() as c:
        c.execute(text("INSERT INTO outbox (id, type, body, correlation_id, created_at, attempts) "
                       "VALUES (:id, :type, :body, :correlation_id, :created_at, :attempts)"), rows)
    ids = [r["id"] for r in rows]
    log(f"relay: {backlog} rows in activity's outbox; starting the relay")
    stack.restart("activity.relay")
    deadline = time.monotonic() + 120
    while True:
        with act.connect() as c:
            left, first, last = c.execute(text(
                "SELECT count(*) FILTER (WHERE published_at IS NULL), min(published_at), max(published_at) "
                "FROM outbox WHERE id = ANY(:ids)"), {"ids": ids}).one()
        if left == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    relay_rate = (backlog - left) / max((last - first).total_seconds(), 1e-3) if last else None
    log(f"relay: {relay_rate and round(relay_rate)} events/s ({left} left)")
    stack.restart("approval.consumer")
    # A rate, not a completion: on a starved machine the whole backlog could take many minutes.
    deadline = time.monotonic() + 90
    while True:
        with appr.connect() as c:
            have, first, last = c.execute(text("SELECT count(*), min(updated_at), max(updated_at) FROM validation_items "
                                               "WHERE entry_id = ANY(:ids)"), {"ids": entry_ids}).one()
        if have >= backlog or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    consumer_rate = have / max((last - first).total_seconds(), 1e-3) if have else None
    log(f"approval consumer: {consumer_rate and round(consumer_rate)} items/s ({have} of {backlog})")
    bare = bare_publish_confirm(stack.amqp_url, backlog, rows[0]["body"])
    log(f"bare publish+confirm loop: {bare:.0f}/s")
    act.dispose()
    appr.dispose()
    return {"backlog": backlog, "relay_events_per_s": relay_rate, "relay_left": left,
            "bare_publish_confirm_per_s": bare, "approval_consumer_items_per_s": consumer_rate,
            "approval_consumer_done": have}


# -- the run ------------------------------------------------------------------------------------

def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


# What --only can choose.
PARTS = ("submission", "queue_page", "me_month", "login", "relay", "payroll")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--employees", type=int, default=1000, help="1000 (default, a few minutes), 10000, 50000")
    ap.add_argument("--entries-per-member", type=int, default=20, help="prefilled pending entries per employee")
    ap.add_argument("--seconds", type=float, default=8.0, help="length of each measurement")
    ap.add_argument("--rounds", type=int, default=2, help="interleaved rounds of the max-throughput runs")
    ap.add_argument("--concurrency", type=int, default=16, help="requests in flight in the max-throughput runs")
    ap.add_argument("--backlog", type=int, default=10_000, help="outbox rows for the relay catch-up")
    ap.add_argument("--submitters", type=int, default=100, help="employees logged in to submit")
    ap.add_argument("--no-payroll", action="store_true", help="skip bench/payroll_month.py")
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument("--keep", action="store_true", help="keep the run directory (logs) for a look afterwards")
    ap.add_argument("--only", default="", help="a comma list of " + ",".join(PARTS) + ": measure only these "
                    "(the baselines always run); for trying one change quickly, not for the README's figures")
    args = ap.parse_args(argv)
    args.only = set(filter(None, args.only.split(","))) or set(PARTS)
    if args.only - set(PARTS):
        ap.error(f"--only: unknown {', '.join(sorted(args.only - set(PARTS)))}")
    if "relay" in args.only:
        args.only.add("submission")  # the relay's backlog copies an event the submissions wrote
    if "payroll" not in args.only:
        args.no_payroll = True

    started = datetime.now(timezone.utc)
    out: dict = {"date": started.isoformat(timespec="seconds"), "machine": {
        "cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)},
        "load_average_start": loadavg(), "employees": args.employees,
        "settings": {**vars(args), "only": sorted(args.only)}}
    run_dir = Path(tempfile.mkdtemp(prefix="ekinerja-surge-"))
    pg = PgCluster()
    try:
        pg.start()
        log(f"PostgreSQL {pg.bin.parent.name} on port {pg.port}")
        measure_stack(args, out, pg, run_dir)
        if not args.no_payroll:
            out["payroll"] = payroll_month(args.employees, pg, run_dir)
    finally:
        pg.stop()
        # Also after a failure or Ctrl-C: what was measured until then is kept.
        out["ratios"] = ratios(out)
        out["load_average_end"] = loadavg()
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out["ratios"], indent=2))
    if args.keep:
        log(f"logs kept in {run_dir}")
    else:
        shutil.rmtree(run_dir, ignore_errors=True)
    return 0


def payroll_month(employees: int, pg: PgCluster, run_dir: Path) -> dict:
    """bench/payroll_month.py at this size (200 approved records per employee) on our cluster."""
    records = employees * 200
    res_file = run_dir / "payroll_month.json"
    env = {**os.environ, "EKINERJA_TEST_PG": pg.url("postgres")}
    log(f"payroll month: {employees} employees, {records} records")
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "payroll_month.py"), "--employees", str(employees),
                           "--records", str(records), "--late-changes", str(max(10, employees // 10)),
                           "--reps", "3", "--out", str(res_file)], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": done.stderr[-2000:]}
    result = json.loads(res_file.read_text())
    log(f"payroll: run {result.get('compute_run_median_s')} s, aggregate {result.get('bare_sql_aggregate_median_s')} s")
    return result


def measure_stack(args, out: dict, pg: PgCluster, run_dir: Path) -> None:
    broker = DedicatedBroker(free_port()).start()
    log(f"RabbitMQ on port {broker.port}")
    stack = baseline = None
    sampler = None
    try:
        urls = {s: pg.create(s) for s in SERVICES}
        python = str(ROOT / ".venv" / "bin" / "python")
        stack = Stack(run_dir / "stack", ports=Ports.free(), database_urls=urls, amqp_url=broker.url,
                      login_rate="10000r/s", login_burst=10000, start_timeout=180)
        stack.start()
        baseline = Baseline(run_dir / "baseline", python, pg.create("baseline")).start()
        log("stack and baseline up")
        sampler = MemorySampler(lambda: {**stack.pids(), **baseline.pids()})
        sampler.start()

        logins = {x.username: x.password for x in seed_stack(stack)}
        office = Office(args.employees, seed=13)
        today = datetime.now(WIB).date()
        prefill = [d for d in weekdays(today.replace(day=1) - timedelta(days=40), today - timedelta(days=8))][-10:]
        seeded = seed_office(stack, urls, office, ("admin", logins["admin"]), ("organisasi", logins["organisasi"]),
                             args.entries_per_member, prefill)
        ids, codes, duties = seeded["ids"], seeded["codes"], seeded["duties"]
        month = prefill[-1].strftime("%Y-%m")

        members = [m for _, ms in office.groups for m in ms]
        rng = random.Random(7)
        submitters = rng.sample(members, min(args.submitters, len(members)))
        supervisors = [s for s, _ in office.groups]
        t = time.monotonic()
        tokens = login_all(stack, [nip(n) for n in submitters + supervisors])
        log(f"{len(tokens)} logins in {time.monotonic() - t:.1f} s")

        # Submissions: each employee's own free 15-minute slots on the days still in the window.
        window = [d for d in weekdays(today - timedelta(days=5), today)]
        slot_starts = [dtime(7 + (30 + 15 * k) // 60, (30 + 15 * k) % 60) for k in range(28)]
        free = [(n, d, s) for s_i, s in enumerate(slot_starts) for d in window for n in submitters]
        sub_counter = iter(range(10**9))
        submitted: list[tuple[str, float]] = []

        def make_submission(_i):
            k = next(sub_counter)
            n, d, s = free[k % len(free)]
            end = (datetime.combine(d, s) + timedelta(minutes=15)).time()
            body = json.dumps({"date": d.isoformat(), "start_time": s.strftime("%H:%M"), "end_time": end.strftime("%H:%M"),
                               "duty_id": duties[codes[n]], "volume": 1, "description": f"Laporan surge {k}"}).encode()
            return ("POST", "/api/activity/entries", {"Authorization": f"Bearer {tokens[nip(n)]}",
                                                      "Content-Type": "application/json"}, body)

        def make_queue(i):
            n = supervisors[i % len(supervisors)]
            return ("GET", "/api/approval/queue?limit=50", {"Authorization": f"Bearer {tokens[nip(n)]}"}, None)

        def make_me(i):
            n = submitters[i % len(submitters)]
            return ("GET", f"/api/activity/me/month?month={month}", {"Authorization": f"Bearer {tokens[nip(n)]}"}, None)

        bare_json = lambda i: ("GET", "/api/organization/bare/json", {}, None)  # noqa: E731
        bare_insert = lambda i: ("POST", "/api/organization/bare/insert", {"Content-Type": "application/json"},  # noqa: E731
                                 b'{"description":"bare insert","volume":1}')
        targets = {
            "baseline_a_json": (baseline.gateway_port, bare_json),
            "baseline_b_insert": (baseline.gateway_port, bare_insert),
            "submission": (stack.ports.gateway, make_submission),
            "queue_page": (stack.ports.gateway, make_queue),
            "me_month": (stack.ports.gateway, make_me),
        }
        targets = {k: v for k, v in targets.items() if k.startswith("baseline") or k in args.only}
        # Warm up every path (pools, imports, caches) before measuring.
        for name, (port, make) in targets.items():
            loadgen.saturate("127.0.0.1", port, make, concurrency=4, seconds=1.5)
        maxima: dict[str, list[dict]] = {k: [] for k in targets}
        server_side = lambda: [*stack.pids().values(), *baseline.pids().values(), pg.proc.pid]  # noqa: E731
        for r in range(args.rounds):
            for name, (port, make) in targets.items():
                cpu_before = tree_cpu_seconds(server_side())
                res = loadgen.saturate("127.0.0.1", port, make, concurrency=args.concurrency, seconds=args.seconds)
                cpu = tree_cpu_seconds(server_side()) - cpu_before
                summary = res.summary()
                summary["server_cpu_ms_per_request"] = round(1000 * cpu / max(1, res.completed), 3)
                maxima[name].append(summary)
                log(f"round {r + 1} {name}: {res.throughput:.0f}/s, {summary['server_cpu_ms_per_request']} ms "
                    f"of server CPU each, errors {res.errors} {res.statuses}")
        out["max"] = {k: {"throughput_median": median([x["throughput"] for x in v]),
                          "server_cpu_ms_per_request_median": median([x["server_cpu_ms_per_request"] for x in v]),
                          "runs": v} for k, v in maxima.items()}
        out["load_average_after_max"] = loadavg()

        at70: dict[str, dict] = {}
        out["at_70pct"] = at70
        outbox_sql = text("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        act_engine = create_engine(urls["activity"])
        for name, (port, make) in targets.items():
            rate = 0.7 * out["max"][name]["throughput_median"]
            if name == "submission":
                with act_engine.connect() as c:
                    backlog_before = c.execute(outbox_sql).scalar()
                since = datetime.now(timezone.utc)
            res = loadgen.open_loop("127.0.0.1", port, make, rate=rate, seconds=args.seconds + 2,
                                    max_connections=64, keep_bodies=(name == "submission"))
            at70[name] = res.summary()
            log(f"70 % {name}: {rate:.0f}/s offered, p99 {at70[name]['p99_ms']} ms, errors {res.errors}")
            if name == "submission":
                with act_engine.connect() as c:
                    at70[name]["outbox_unpublished_before"] = backlog_before
                    at70[name]["outbox_unpublished_after"] = c.execute(outbox_sql).scalar()
                made = [json.loads(b)["id"] for b in res.bodies if b.startswith(b"{") and b'"id"' in b]
                time.sleep(3)  # let the last events arrive
                appr = create_engine(urls["approval"])
                with appr.connect() as c:
                    lags = [float(x) for x in c.execute(text(
                        "SELECT extract(epoch FROM updated_at - submitted_at) FROM validation_items "
                        "WHERE entry_id = ANY(:ids)"), {"ids": made}).scalars()]
                appr.dispose()
                lags.sort()
                at70[name]["event_lag"] = {
                    "entries": len(made), "arrived": len(lags),
                    "p50_ms": round(lags[len(lags) // 2] * 1000, 1) if lags else None,
                    "p99_ms": round(lags[min(len(lags) - 1, int(0.99 * len(lags)))] * 1000, 1) if lags else None}
                log(f"event lag p99 {at70[name]['event_lag']['p99_ms']} ms; outbox {backlog_before} -> "
                    f"{at70[name]['outbox_unpublished_after']}")
        act_engine.dispose()
        out["at_70pct"] = at70

        # Login: max, 70 %, and bare argon2 verifies of the same hash.
        if "login" in args.only:
            users = [nip(n) for n in members]
            login_body = lambda i: ("POST", "/api/identity/auth/login", {"Content-Type": "application/json"},  # noqa: E731
                                    json.dumps({"username": users[i % len(users)], "password": BENCH_PASSWORD}).encode())
            cpu_before = tree_cpu_seconds(server_side())
            lmax = loadgen.saturate("127.0.0.1", stack.ports.gateway, login_body, concurrency=8, seconds=args.seconds)
            login_cpu_ms = round(1000 * (tree_cpu_seconds(server_side()) - cpu_before) / max(1, lmax.completed), 3)
            l70 = loadgen.open_loop("127.0.0.1", stack.ports.gateway, login_body, rate=0.7 * lmax.throughput,
                                    seconds=args.seconds)
            bare = bare_argon2(min(5.0, args.seconds))
            out["login"] = {"max": {**lmax.summary(), "server_cpu_ms_per_request": login_cpu_ms}, "at_70pct": l70.summary(),
                            "bare_argon2_verify_per_s": round(bare, 1),
                            # What one verify costs a core, for the login's CPU per request beside it.
                            "bare_argon2_cpu_ms_per_verify": round(1000 * (os.cpu_count() or 1) / bare, 3) if bare else None}
            log(f"login {lmax.throughput:.1f}/s (p99 at 70 % {l70.summary()['p99_ms']} ms), bare argon2 {bare:.1f}/s")

        if "relay" in args.only:
            out["relay"] = relay_and_consumer(stack, urls, args.backlog)
        finish(out, sampler)
    finally:
        if sampler:
            sampler.stopping.set()
            out["rss_mib_peak"] = {k: round(v, 1) for k, v in sorted(sampler.peak.items())}
        if baseline:
            baseline.stop()
        if stack:
            stack.stop()
        broker.stop()


def finish(out: dict, sampler) -> None:
    sampler.sample()
    out["rss_mib_peak"] = {k: round(v, 1) for k, v in sorted(sampler.peak.items())}
    out["load_average_end"] = loadavg()


def ratios(out: dict) -> dict:
    """The issue's table as figures: measured, baseline, ratio, target."""
    m = lambda k: out.get("max", {}).get(k, {}).get("throughput_median")  # noqa: E731
    cpu = lambda k: out.get("max", {}).get(k, {}).get("server_cpu_ms_per_request_median")  # noqa: E731
    p99 = lambda k: out.get("at_70pct", {}).get(k, {}).get("p99_ms")  # noqa: E731
    div = lambda a, b: round(a / b, 3) if a and b else None  # noqa: E731
    relay = out.get("relay", {})
    login = out.get("login", {})
    payroll = out.get("payroll", {})
    workers = {k: v for k, v in out.get("rss_mib_peak", {}).items() if k.endswith("/worker")}
    return {
        "submission_max": {"measured": m("submission"), "baseline_b": m("baseline_b_insert"),
                           "ratio": div(m("submission"), m("baseline_b_insert")), "target": ">= 0.8 x (b)",
                           "cpu_ms": cpu("submission"), "baseline_cpu_ms": cpu("baseline_b_insert"),
                           "cpu_ratio": div(cpu("baseline_b_insert"), cpu("submission"))},
        "submission_p99_at_70pct_ms": {"measured": p99("submission"), "baseline_b": p99("baseline_b_insert"),
                                       "target": "<= 50"},
        "queue_page_max": {"measured": m("queue_page"), "baseline_a": m("baseline_a_json"),
                           "ratio": div(m("queue_page"), m("baseline_a_json")), "target": ">= 0.5 x (a), p99 <= 30 ms",
                           "p99_at_70pct_ms": p99("queue_page"), "cpu_ms": cpu("queue_page"),
                           "baseline_cpu_ms": cpu("baseline_a_json"), "cpu_ratio": div(cpu("baseline_a_json"), cpu("queue_page"))},
        "me_month_max": {"measured": m("me_month"), "baseline_a": m("baseline_a_json"),
                         "ratio": div(m("me_month"), m("baseline_a_json")), "target": ">= 0.5 x (a), p99 <= 30 ms",
                         "p99_at_70pct_ms": p99("me_month"), "cpu_ms": cpu("me_month"),
                         "baseline_cpu_ms": cpu("baseline_a_json"), "cpu_ratio": div(cpu("baseline_a_json"), cpu("me_month"))},
        "event_lag_p99_ms": {"measured": out.get("at_70pct", {}).get("submission", {}).get("event_lag", {}).get("p99_ms"),
                             "target": "<= 1000, outbox not growing"},
        "relay_catch_up": {"measured": relay.get("relay_events_per_s"), "baseline": relay.get("bare_publish_confirm_per_s"),
                           "ratio": div(relay.get("relay_events_per_s"), relay.get("bare_publish_confirm_per_s")),
                           "target": ">= 5000 events/s"},
        "approval_consumer_catch_up": {"measured": relay.get("approval_consumer_items_per_s"), "target": ">= 2000 items/s"},
        "login": {"measured": login.get("max", {}).get("throughput"), "baseline": login.get("bare_argon2_verify_per_s"),
                  "ratio": div(login.get("max", {}).get("throughput"), login.get("bare_argon2_verify_per_s")),
                  "p99_at_70pct_ms": login.get("at_70pct", {}).get("p99_ms"), "target": ">= 50/s",
                  "cpu_ms": login.get("max", {}).get("server_cpu_ms_per_request"),
                  "bare_verify_cpu_ms": login.get("bare_argon2_cpu_ms_per_verify")},
        "largest_worker_rss_mib": {"measured": max(workers.values()) if workers else None,
                                   "which": max(workers, key=workers.get) if workers else None,
                                   "baseline": workers.get("baseline.web/worker"), "target": "<= 150 MB"},
        "payroll_month": {"measured_s": payroll.get("compute_run_median_s"),
                          "baseline_s": payroll.get("bare_sql_aggregate_median_s"),
                          "ratio": payroll.get("ratio_run_to_aggregate"), "target": "<= 3 x"},
    }


if __name__ == "__main__":
    sys.exit(main())

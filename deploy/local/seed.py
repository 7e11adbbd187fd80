"""Demo data for a running stack, entered the way people enter it: through the gateway's HTTP API
(docs/api.md), so every row also travels as events to the services that need it.

What it creates: an admin_bkd account (``python -m identity create-admin``), the organisasi and
bpkad accounts, the Dinas Komunikasi dan Informatika of a regency with two bidang, nine positions
with their duties (uraian tugas, norma waktu), nine employees placed in them from 2026-01-01 and
a pegawai account for each (username = NIP).

Passwords are random per stack (``secrets``) unless EKINERJA_DEMO_PASSWORD is set (and
EKINERJA_ADMIN_PASSWORD for the admin); none is ever written in the repository. They are kept in
``<run dir>/demo-logins.txt`` (mode 0600) so that a restart prints the same logins. Running the
seed again changes nothing: every object is looked up (by code, NIP, username) before it is made.

    python -m deploy.local.seed [--run-dir var] [--url http://127.0.0.1:8080]
"""
from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import requests

ADMIN_USERNAME = "admin"
LOGINS_FILE = "demo-logins.txt"
PLACED_FROM = "2026-01-01"


@dataclass(frozen=True)
class Login:
    role: str
    username: str
    password: str
    name: str


class SeedError(RuntimeError):
    pass


# -- the demo organisation ------------------------------------------------------------------------

UNITS = [
    # code, name, kind, parent code
    ("DISKOMINFO", "Dinas Komunikasi dan Informatika", "opd", None),
    ("DISKOMINFO-APTIKA", "Bidang Aplikasi Informatika", "bidang", "DISKOMINFO"),
    ("DISKOMINFO-IKP", "Bidang Informasi dan Komunikasi Publik", "bidang", "DISKOMINFO"),
]

# code, name, kind, eselon, kelas jabatan, unit code, parent position code, duties
# (description, output unit, norma waktu in minutes per unit)
POSITIONS = [
    ("KOMINFO-KADIS", "Kepala Dinas Komunikasi dan Informatika", "jpt", "II.b", 14, "DISKOMINFO", None, [
        ("Merumuskan kebijakan teknis di bidang komunikasi, informatika, statistik dan persandian", "Dokumen", 300),
        ("Memimpin rapat koordinasi dan evaluasi kinerja pejabat administrator", "Kegiatan", 120),
        ("Menelaah dan menandatangani naskah dinas", "Naskah", 15),
    ]),
    ("KOMINFO-KABID-APTIKA", "Kepala Bidang Aplikasi Informatika", "administrator", "III.b", 11,
     "DISKOMINFO-APTIKA", "KOMINFO-KADIS", [
        ("Menyusun rencana kerja dan anggaran Bidang Aplikasi Informatika", "Dokumen", 240),
        ("Mengoordinasikan pengembangan dan integrasi aplikasi layanan publik (SPBE)", "Laporan", 180),
        ("Memeriksa dan memvalidasi hasil kerja bawahan", "Berkas", 30),
    ]),
    ("KOMINFO-KABID-IKP", "Kepala Bidang Informasi dan Komunikasi Publik", "administrator", "III.b", 11,
     "DISKOMINFO-IKP", "KOMINFO-KADIS", [
        ("Menyusun rencana kerja dan anggaran Bidang Informasi dan Komunikasi Publik", "Dokumen", 240),
        ("Mengoordinasikan layanan Pejabat Pengelola Informasi dan Dokumentasi (PPID)", "Laporan", 120),
        ("Memeriksa dan memvalidasi hasil kerja bawahan", "Berkas", 30),
    ]),
    ("KOMINFO-APTIKA-PK-MUDA", "Pranata Komputer Ahli Muda", "fungsional", None, 9,
     "DISKOMINFO-APTIKA", "KOMINFO-KABID-APTIKA", [
        ("Merancang basis data aplikasi layanan perangkat daerah", "Rancangan", 240),
        ("Melakukan uji integrasi aplikasi dengan sistem informasi lain", "Laporan", 180),
        ("Menyusun dokumentasi teknis sistem informasi", "Dokumen", 120),
    ]),
    ("KOMINFO-APTIKA-PK-PERTAMA", "Pranata Komputer Ahli Pertama", "fungsional", None, 8,
     "DISKOMINFO-APTIKA", "KOMINFO-KABID-APTIKA", [
        ("Memasang dan mengonfigurasi perangkat lunak aplikasi", "Instalasi", 90),
        ("Melakukan pencadangan dan pemulihan data server", "Kegiatan", 60),
        ("Menangani permintaan dukungan teknis pengguna aplikasi", "Tiket", 30),
    ]),
    ("KOMINFO-APTIKA-JARINGAN", "Pengelola Sistem dan Jaringan", "pelaksana", None, 7,
     "DISKOMINFO-APTIKA", "KOMINFO-KABID-APTIKA", [
        ("Memantau kinerja jaringan intranet dan koneksi internet perangkat daerah", "Laporan", 45),
        ("Memperbaiki gangguan perangkat jaringan", "Kegiatan", 90),
    ]),
    ("KOMINFO-IKP-HUMAS", "Pranata Hubungan Masyarakat Ahli Pertama", "fungsional", None, 8,
     "DISKOMINFO-IKP", "KOMINFO-KABID-IKP", [
        ("Menyusun siaran pers kegiatan pemerintah kabupaten", "Naskah", 90),
        ("Mengelola konten media sosial resmi pemerintah kabupaten", "Unggahan", 30),
        ("Meliput dan mendokumentasikan kegiatan pimpinan daerah", "Kegiatan", 120),
    ]),
    ("KOMINFO-IKP-LAYANAN", "Penata Layanan Operasional", "pelaksana", None, 7,
     "DISKOMINFO-IKP", "KOMINFO-KABID-IKP", [
        ("Melayani permohonan informasi publik melalui PPID", "Permohonan", 30),
        ("Memutakhirkan daftar informasi publik di laman resmi", "Dokumen", 60),
    ]),
    ("KOMINFO-IKP-ADMIN", "Pengadministrasi Perkantoran", "pelaksana", None, 6,
     "DISKOMINFO-IKP", "KOMINFO-KABID-IKP", [
        ("Mengagendakan surat masuk dan surat keluar", "Surat", 10),
        ("Mengarsipkan naskah dinas bidang", "Berkas", 15),
        ("Menyiapkan bahan rapat dan menyusun notula", "Kegiatan", 60),
    ]),
]

# NIP = birth date + TMT CPNS (YYYYMM) + gender (1 male, 2 female) + sequence; name, status,
# golongan, bank account, position code.
EMPLOYEES = [
    ("197103141996031002", "Drs. Bambang Suryanto, M.Si.", "PNS", "IV/b", "0012003456", "KOMINFO-KADIS"),
    ("198007222005012003", "Rina Wulandari, S.Kom., M.T.", "PNS", "III/d", "0012004178", "KOMINFO-KABID-APTIKA"),
    ("197811052003121001", "Agus Prasetyo, S.Sos., M.I.Kom.", "PNS", "III/d", "0012005290", "KOMINFO-KABID-IKP"),
    ("198802172011032001", "Dewi Lestari, S.Kom.", "PNS", "III/c", "0012006381", "KOMINFO-APTIKA-PK-MUDA"),
    ("199501302025061001", "Muhammad Rizky Ramadhan, S.T.", "CPNS", "III/a", "0012007402", "KOMINFO-APTIKA-PK-PERTAMA"),
    ("199209092017121002", "Yusuf Hidayat, A.Md.", "PNS", "II/d", "0012008513", "KOMINFO-APTIKA-JARINGAN"),
    ("199306122019032004", "Siti Nurhaliza, S.I.Kom.", "PNS", "III/b", "0012009624", "KOMINFO-IKP-HUMAS"),
    ("199004252014032002", "Fitri Handayani, S.E.", "PNS", "III/c", "0012010735", "KOMINFO-IKP-LAYANAN"),
    ("198712032009011003", "Eko Saputra", "PNS", "II/c", "0012011846", "KOMINFO-IKP-ADMIN"),
]

SERVICE_ACCOUNTS = [
    # username, role, shown name. A second BKD administrator, so that a role asked for in the
    # browser (majelis, another admin) can be approved by a second person there too.
    ("admin2", "admin_bkd", "Administrator BKD kedua (demo)"),
    ("organisasi", "organisasi", "Bagian Organisasi (demo)"),
    ("bpkad", "bpkad", "BPKAD (demo)"),
]


# -- passwords ------------------------------------------------------------------------------------

_ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # nothing to misread (0/O, 1/l/I)


def generate_password(username: str) -> str:
    """Three groups of four, about 70 bits; never containing the username (identity refuses that)."""
    while True:
        pw = "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(3))
        if username.lower() not in pw.lower():
            return pw


def read_logins(path: Path) -> list[Login]:
    if not path.exists():
        return []
    logins = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        role, username, password, name = line.split("\t", 3)
        logins.append(Login(role, username, password, name))
    return logins


def write_logins(path: Path, logins: list[Login]) -> None:
    """Tab-separated, owner-only: the file holds live passwords."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("# role\tusername\tpassword\tname  (demo passwords of E-Kinerja; keep private)\n")
        for login in logins:
            fh.write(f"{login.role}\t{login.username}\t{login.password}\t{login.name}\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


# -- HTTP -----------------------------------------------------------------------------------------

class Api:
    """A thin client of the gateway that fails loudly with the service's own error body."""

    def __init__(self, base_url: str):
        self.base = base_url.rstrip("/")
        self.http = requests.Session()
        self.http.trust_env = False  # the gateway is local; no proxy from the environment
        self.run_id = uuid.uuid4().hex[:8]
        self.counter = 0

    def call(self, method: str, path: str, token: str | None = None, json: Any = None,
             ok: tuple[int, ...] = (200, 201)) -> tuple[int, Any]:
        self.counter += 1
        headers = {"X-Request-ID": f"seed-{self.run_id}-{self.counter}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        resp = self.http.request(method, self.base + path, json=json, headers=headers, timeout=30)
        try:
            body = resp.json()
        except ValueError:
            body = resp.text
        if resp.status_code not in ok:
            raise SeedError(f"{method} {path} -> {resp.status_code}: {body}")
        return resp.status_code, body

    def login(self, username: str, password: str) -> str | None:
        """An access token, or None if the credentials are refused."""
        status, body = self.call("POST", "/api/identity/auth/login", json={"username": username, "password": password},
                                 ok=(200, 401))
        return body["access_token"] if status == 200 else None


# -- seeding --------------------------------------------------------------------------------------

def seed(base_url: str, create_admin: Callable[[str, str], None], logins_file: Path,
         placement_wait: float = 30.0, identity_url: str | None = None,
         grant_role: Callable[[str, str], None] | None = None) -> list[Login]:
    """Seed the stack behind ``base_url``; ``create_admin(username, password)`` runs identity's
    create-admin command against the stack's identity database, ``grant_role(username, role)``
    its grant-role command (a role other than pegawai asked for through the API waits for a
    second person; the operator's command line is how a new regency's first BPKAD and Bagian
    Organisasi accounts get theirs). Returns every demo login.

    ``identity_url`` (identity's own address, not the gateway's) is used only for each demo
    account's first password change: a dozen logins in a row would trip the gateway's per-IP
    login limit, which exists for people, not for the operator's bootstrap on the same machine."""
    api = Api(base_url)
    first_login = Api(identity_url) if identity_url else None
    stored = {login.username: login for login in read_logins(logins_file)}
    logins: list[Login] = []

    def remember(role: str, username: str, name: str, password: str | None = None) -> Login:
        if password is None:
            known = stored.get(username)
            password = known.password if known else (os.environ.get("EKINERJA_DEMO_PASSWORD") or generate_password(username))
        login = Login(role, username, password, name)
        logins.append(login)
        # Saved before the account is made: a seed interrupted in between must not leave an
        # account whose password nobody knows.
        write_logins(logins_file, logins + [v for k, v in stored.items() if k not in {x.username for x in logins}])
        return login

    admin_pw = (os.environ.get("EKINERJA_ADMIN_PASSWORD")
                or (stored[ADMIN_USERNAME].password if ADMIN_USERNAME in stored else None)
                or os.environ.get("EKINERJA_DEMO_PASSWORD") or generate_password(ADMIN_USERNAME))
    admin = remember("admin_bkd", ADMIN_USERNAME, "Administrator BKD", admin_pw)
    create_admin(admin.username, admin.password)  # idempotent: an existing admin is left as it is
    admin_token = api.login(admin.username, admin.password)
    if admin_token is None:
        raise SeedError(f"the {ADMIN_USERNAME!r} account exists with another password than the one in {logins_file}; "
                        "set EKINERJA_ADMIN_PASSWORD to it, or start from an empty run directory")

    def ensure_account(role: str, username: str, name: str, roles: list[str], employee_id: str | None = None) -> Login:
        login = remember(role, username, name)
        # identity gives an admin-made account a one-time password that must be changed before
        # the account can do anything; the seed makes that first change itself, so that the
        # printed demo logins work at once.
        body = {"username": username, "roles": roles}
        if employee_id:
            body["employee_id"] = employee_id
        status, resp = api.call("POST", "/api/identity/accounts", admin_token, body, ok=(201, 409))
        if status == 409:
            if username not in stored:
                raise SeedError(f"account {username!r} already exists but its password is not in {logins_file}: {resp}")
            return login
        for pending in resp.get("pending_grants", []):
            if grant_role is None:
                raise SeedError(f"account {username!r} waits for role {pending['role']!r}: no grant_role command given")
            grant_role(username, pending["role"])
        once = resp["one_time_password"]
        direct, prefix = (first_login, "") if first_login else (api, "/api/identity")
        _, session = direct.call("POST", f"{prefix}/auth/login", None, {"username": username, "password": once}, ok=(200,))
        direct.call("POST", f"{prefix}/auth/password", session["access_token"],
                    {"current_password": once, "new_password": login.password}, ok=(204,))
        return login

    for username, role, name in SERVICE_ACCOUNTS:
        ensure_account(role, username, name, [role])

    org_login = next(x for x in logins if x.username == "organisasi")
    org_token = api.login(org_login.username, org_login.password)
    if org_token is None:
        raise SeedError(f"cannot log in as organisasi with the password in {logins_file}")
    positions = _seed_structure(api, org_token)

    for nip, name, status, golongan, bank_account, position_code in EMPLOYEES:
        # The list is paged: ask for the one NIP rather than read every page.
        _, listed = api.call("GET", f"/api/identity/employees?nip={nip}&limit=1", admin_token)
        employee = next((e for e in listed["items"] if e["nip"] == nip), None)
        if employee is None:
            _, employee = api.call("POST", "/api/identity/employees", admin_token, {
                "nip": nip, "name": name, "employee_kind": "PNS", "status": status, "golongan": golongan,
                "bank_account": bank_account,
            })
        _place(api, admin_token, employee["id"], positions[position_code], placement_wait)
        ensure_account("pegawai", nip, name, ["pegawai"], employee["id"])
    return logins


def _seed_structure(api: Api, token: str) -> dict[str, str]:
    """Units, positions and duties (role organisasi); returns position code -> id."""
    _, listed = api.call("GET", "/api/organization/units", token)
    units = {u["code"]: u["id"] for u in listed["units"]}
    for code, name, kind, parent in UNITS:
        if code not in units:
            body = {"code": code, "name": name, "kind": kind}
            if parent:
                body["parent_id"] = units[parent]
            _, made = api.call("POST", "/api/organization/units", token, body)
            units[code] = made["id"]

    _, listed = api.call("GET", "/api/organization/positions", token)
    positions = {p["code"]: p["id"] for p in listed["positions"]}
    for code, name, kind, eselon, kelas, unit, parent, duties in POSITIONS:
        if code not in positions:
            body = {"code": code, "name": name, "kind": kind, "kelas_jabatan": kelas, "unit_id": units[unit]}
            if eselon:
                body["eselon"] = eselon
            if parent:
                body["parent_id"] = positions[parent]
            _, made = api.call("POST", "/api/organization/positions", token, body)
            positions[code] = made["id"]
        _, have = api.call("GET", f"/api/organization/positions/{positions[code]}/duties?status=all", token)
        known = {d["description"] for d in have["duties"]}
        for description, output_unit, norma_waktu in duties:
            if description not in known:
                api.call("POST", f"/api/organization/positions/{positions[code]}/duties", token,
                         {"description": description, "output_unit": output_unit, "norma_waktu": norma_waktu})
    return positions


def _place(api: Api, token: str, employee_id: str, position_id: str, wait: float) -> None:
    _, employee = api.call("GET", f"/api/identity/employees/{employee_id}", token)
    if any(p["position_id"] == position_id and p["start_date"] == PLACED_FROM and p["kind"] == "definitive"
           for p in employee.get("placements", [])):
        return
    body = {"position_id": position_id, "start_date": PLACED_FROM, "kind": "definitive"}
    deadline = time.monotonic() + wait
    while True:
        status, resp = api.call("POST", f"/api/identity/employees/{employee_id}/placements", token, body, ok=(201, 422))
        if status == 201:
            return
        # identity knows a position only once organization's position.created event arrived.
        if resp.get("error", {}).get("code") != "unknown_position" or time.monotonic() > deadline:
            raise SeedError(f"placing employee {employee_id} in {position_id} failed: {resp}")
        time.sleep(0.5)


def seed_stack(stack, logins_file: Path | None = None, placement_wait: float = 30.0,
               base_url: str | None = None) -> list[Login]:
    """Seed a :class:`deploy.local.stack.Stack` (started here, or running elsewhere with the same
    settings); the logins are kept in its run directory."""

    def create_admin(username: str, password: str) -> None:
        done = stack.run_cli("identity", "create-admin", username, env={"EKINERJA_ADMIN_PASSWORD": password})
        if done.returncode != 0:
            raise SeedError(f"python -m identity create-admin failed (exit {done.returncode}): "
                            f"{(done.stderr or done.stdout).strip()[-2000:]}")

    def grant_role(username: str, role: str) -> None:
        done = stack.run_cli("identity", "grant-role", username, role)
        if done.returncode != 0:
            raise SeedError(f"python -m identity grant-role failed (exit {done.returncode}): "
                            f"{(done.stderr or done.stdout).strip()[-2000:]}")

    return seed(base_url or stack.url(), create_admin, logins_file or stack.run_dir / LOGINS_FILE, placement_wait,
                identity_url=stack.service_url("identity", "").rstrip("/"), grant_role=grant_role)


def format_logins(logins: list[Login]) -> str:
    rows = [("role", "username", "password", "name")] + [(x.role, x.username, x.password, x.name) for x in logins]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}" for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * 4)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from .stack import ROOT, Stack

    parser = argparse.ArgumentParser(prog="python -m deploy.local.seed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-dir", default=str(ROOT / "var"), help="run directory of the running local stack")
    parser.add_argument("--url", help="gateway address (default http://127.0.0.1:8080/)")
    args = parser.parse_args(argv)
    stack = Stack(args.run_dir)  # not started: only its settings (database URLs, ports) are used
    try:
        logins = seed_stack(stack, base_url=args.url)
    except (SeedError, requests.ConnectionError) as exc:
        print(f"seed failed: {exc}", file=sys.stderr)
        return 1
    print(format_logins(logins))
    return 0


if __name__ == "__main__":
    sys.exit(main())

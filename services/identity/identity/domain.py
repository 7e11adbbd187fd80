"""Rules of personnel records and accounts, free of any framework (DOMAIN.md "People and
positions"). Functions take ``today``/``now`` as arguments so the rules stay testable."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from ekinerja_common.auth import ROLES
from ekinerja_common.errors import Conflict, FieldErrors, Text, ValidationFailed
from ekinerja_common.supervision import KINDS as PLACEMENT_KINDS

EMPLOYEE_KINDS = ("PNS", "PPPK")
# A CPNS is a PNS candidate: same kind of appointment, not yet confirmed.
STATUSES_BY_KIND = {"PNS": ("CPNS", "PNS"), "PPPK": ("PPPK",)}

PNS_GOLONGAN = tuple(f"{g}/{r}" for g, ranks in (("I", "abcd"), ("II", "abcd"), ("III", "abcd"), ("IV", "abcde"))
                     for r in ranks)
PPPK_GOLONGAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X",
                 "XI", "XII", "XIII", "XIV", "XV", "XVI", "XVII")

PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 200
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,49}$")


# -- NIP ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Nip:
    digits: str
    birth_date: date
    # TMT CPNS as (year, month); None for PPPK, whose digits 9–14 are not a year-month.
    appointed: tuple[int, int] | None
    gender: int
    sequence: int

    @property
    def formatted(self) -> str:
        return format_nip(self.digits)


def normalize_nip(raw: str) -> str:
    """NIPs are often typed as printed ("19860926 201505 1 001"); the spaces carry nothing."""
    return "".join(raw.split())


def format_nip(nip: str) -> str:
    """``198609262015051001`` -> ``19860926 201505 1 001``, the way SK documents print it."""
    if len(nip) != 18:
        return nip
    return f"{nip[:8]} {nip[8:14]} {nip[14]} {nip[15:]}"


def nip_problems(raw: str, employee_kind: str, today: date) -> dict[str, Text]:
    """Every wrong part of a NIP, keyed ``nip`` (its shape) or ``nip.<part>``; empty if valid."""
    nip = normalize_nip(raw)
    errors = FieldErrors()
    if not nip.isascii() or not nip.isdigit():
        errors.add("nip", "NIP hanya boleh berisi angka", "The NIP may contain digits only")
        return errors.errors
    if len(nip) != 18:
        errors.add("nip", f"NIP harus 18 angka (tertulis {len(nip)})", f"The NIP must be 18 digits (got {len(nip)})")
        return errors.errors
    birth = _birth_date(nip)
    if birth is None:
        errors.add("nip.birth_date", "Angka ke-1–8 NIP (tanggal lahir YYYYMMDD) bukan tanggal yang valid",
                   "Digits 1–8 of the NIP (birth date YYYYMMDD) are not a valid date")
    elif birth > today:
        errors.add("nip.birth_date", "Tanggal lahir pada NIP (angka ke-1–8) tidak boleh di masa depan",
                   "The birth date in the NIP (digits 1–8) cannot be in the future")
        birth = None  # already wrong; comparing the appointment with it would only repeat that
    if employee_kind == "PNS":
        _check_appointment(nip, birth, today, errors)
    if nip[14] not in "12":
        errors.add("nip.gender", "Angka ke-15 NIP (jenis kelamin) harus 1 (pria) atau 2 (wanita)",
                   "Digit 15 of the NIP (gender) must be 1 (male) or 2 (female)")
    if int(nip[15:]) < 1:
        errors.add("nip.sequence", "Angka ke-16–18 NIP (nomor urut) paling kecil 001",
                   "Digits 16–18 of the NIP (sequence number) must be 001 or higher")
    return errors.errors


def _birth_date(nip: str) -> date | None:
    try:
        born = date(int(nip[:4]), int(nip[4:6]), int(nip[6:8]))
    except ValueError:
        return None
    # Year 0005 is a calendar date but nobody's birthday on a personnel record.
    return born if born.year >= 1900 else None


def _check_appointment(nip: str, birth: date | None, today: date, errors: FieldErrors) -> None:
    year, month = int(nip[8:12]), int(nip[12:14])
    if not 1 <= month <= 12:
        errors.add("nip.tmt_cpns", "Angka ke-13–14 NIP (bulan TMT CPNS) harus 01–12",
                   "Digits 13–14 of the NIP (TMT CPNS month) must be 01–12")
    elif birth is not None and (year, month) <= (birth.year, birth.month):
        errors.add("nip.tmt_cpns", "TMT CPNS pada NIP (angka ke-9–14) harus sesudah bulan lahir",
                   "The TMT CPNS in the NIP (digits 9–14) must be after the birth month")
    elif (year, month) > (today.year, today.month):
        errors.add("nip.tmt_cpns", "TMT CPNS pada NIP (angka ke-9–14) tidak boleh di masa depan",
                   "The TMT CPNS in the NIP (digits 9–14) cannot be in the future")


def parse_nip(raw: str, employee_kind: str, today: date) -> Nip:
    problems = nip_problems(raw, employee_kind, today)
    if problems:
        raise ValidationFailed(problems, "invalid_nip")
    nip = normalize_nip(raw)
    appointed = (int(nip[8:12]), int(nip[12:14])) if employee_kind == "PNS" else None
    birth = _birth_date(nip)
    assert birth is not None  # nip_problems checked it
    return Nip(nip, birth, appointed, int(nip[14]), int(nip[15:]))


# -- the rest of a personnel record ---------------------------------------------------------------

def normalize_golongan(raw: str) -> str:
    """``iii/A`` -> ``III/a``: the room number is Roman upper case, the grade a lower-case letter."""
    head, slash, rank = raw.strip().partition("/")
    return f"{head.strip().upper()}{slash}{rank.strip().lower()}"


@dataclass(frozen=True)
class Personnel:
    """The validated, normalized fields of an employee record."""

    nip: str
    name: str
    employee_kind: str
    status: str
    golongan: str
    bank_account: str | None
    npwp: str | None


def check_personnel(*, nip: str, name: str, employee_kind: str, status: str, golongan: str,
                    bank_account: str | None, npwp: str | None, today: date) -> Personnel:
    """Validate a whole record at once so the user sees every problem in one answer."""
    errors = FieldErrors(dict(nip_problems(nip, employee_kind, today)))
    if not name.strip():
        errors.add("name", "Nama wajib diisi", "Name is required")
    gol = normalize_golongan(golongan)
    if employee_kind not in EMPLOYEE_KINDS:
        errors.add("employee_kind", "Jenis pegawai harus PNS atau PPPK", "Employee kind must be PNS or PPPK")
    else:
        allowed = STATUSES_BY_KIND[employee_kind]
        if status not in allowed:
            errors.add("status", f"Status untuk pegawai {employee_kind} harus {' atau '.join(allowed)}",
                       f"Status of a {employee_kind} employee must be {' or '.join(allowed)}")
        if employee_kind == "PNS" and gol not in PNS_GOLONGAN:
            errors.add("golongan", "Golongan PNS/CPNS harus I/a–I/d, II/a–II/d, III/a–III/d atau IV/a–IV/e",
                       "Golongan of a PNS/CPNS must be I/a–I/d, II/a–II/d, III/a–III/d or IV/a–IV/e")
        if employee_kind == "PPPK" and gol not in PPPK_GOLONGAN:
            errors.add("golongan", "Golongan PPPK harus I sampai XVII", "Golongan of a PPPK must be I to XVII")
    account = _digits(bank_account, "bank_account", range(6, 21), errors,
                      Text("Nomor rekening harus 6–20 angka", "Bank account number must be 6–20 digits"))
    tax_id = _digits(npwp, "npwp", range(15, 17), errors,
                     Text("NPWP harus 15 atau 16 angka", "NPWP must be 15 or 16 digits"))
    errors.raise_if_any()
    return Personnel(normalize_nip(nip), " ".join(name.split()), employee_kind, status, gol, account, tax_id)


def _digits(raw: str | None, field: str, lengths: range, errors: FieldErrors, text: Text) -> str | None:
    """Account and tax numbers arrive with dots, dashes and spaces as printed; store the digits."""
    if raw is None or not raw.strip():
        return None
    digits = re.sub(r"[\s.\-]", "", raw)
    if not (digits.isascii() and digits.isdigit() and len(digits) in lengths):
        errors.add(field, text.id, text.en)
    return digits


# -- placements -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Span:
    """One placement as the rules see it; ``end`` is inclusive, None while open."""

    id: str
    position_id: str
    kind: str
    start: date
    end: date | None

    def overlaps(self, start: date, end: date | None) -> bool:
        return self.start <= (end or date.max) and start <= (self.end or date.max)


def plan_placement(history: list[Span], position_id: str, kind: str, start: date, end: date | None) -> dict[str, date]:
    """Check a new placement against the employee's history and return the placements it ends
    (id -> new end date). A new definitive placement is a transfer: it ends the open definitive
    one the day before it starts. Any other overlap of two definitive placements, or of two Plt
    placements in the same position, is refused: the supervisor on a date must be unambiguous."""
    errors = FieldErrors()
    if kind not in PLACEMENT_KINDS:
        errors.add("kind", "Jenis penempatan harus definitive atau plt", "Placement kind must be definitive or plt")
    if end is not None and end < start:
        errors.add("end_date", "Tanggal selesai tidak boleh sebelum tanggal mulai", "End date cannot be before the start date")
    errors.raise_if_any()
    ends: dict[str, date] = {}
    if kind == "definitive":
        for s in history:
            if s.kind == "definitive" and s.end is None and s.start < start:
                ends[s.id] = start - timedelta(days=1)
    for s in history:
        if s.kind != kind or (kind == "plt" and s.position_id != position_id):
            continue
        span = Span(s.id, s.position_id, s.kind, s.start, ends.get(s.id, s.end))
        if span.overlaps(start, end):
            raise Conflict("overlapping_placement",
                           Text(f"Penempatan bertumpang tindih dengan penempatan mulai {s.start.isoformat()}",
                                f"The placement overlaps the one starting {s.start.isoformat()}"),
                           {"start_date": Text("Bertumpang tindih dengan penempatan lain", "Overlaps another placement")})
    return ends


def plan_end(history: list[Span], placement_id: str, new_end: date | None) -> None:
    """Check a new end date (None = open again) for one placement of an employee. Ending or
    shortening is the usual case; extending is allowed too (a Plt is typically extended by three
    months at a time), as long as the placement does not then overlap another one by the rules
    of ``plan_placement``."""
    this = next(s for s in history if s.id == placement_id)
    if new_end is not None and new_end < this.start:
        raise ValidationFailed({"end_date": Text("Tanggal selesai tidak boleh sebelum tanggal mulai",
                                                 "End date cannot be before the start date")})
    for s in history:
        if s.id == this.id or s.kind != this.kind or (this.kind == "plt" and s.position_id != this.position_id):
            continue
        if s.overlaps(this.start, new_end):
            raise Conflict("overlapping_placement",
                           Text(f"Penempatan bertumpang tindih dengan penempatan mulai {s.start.isoformat()}",
                                f"The placement overlaps the one starting {s.start.isoformat()}"),
                           {"end_date": Text("Bertumpang tindih dengan penempatan lain", "Overlaps another placement")})


# -- accounts -------------------------------------------------------------------------------------

def normalize_username(raw: str) -> str:
    return raw.strip().lower()


def username_problem(username: str) -> Text | None:
    if _USERNAME.match(username):
        return None
    return Text("Nama pengguna 3–50 karakter: huruf kecil, angka, titik, garis bawah atau tanda hubung",
                "Username must be 3–50 characters: lower-case letters, digits, dot, underscore or hyphen")


def password_problem(password: str, username: str) -> Text | None:
    if len(password) < PASSWORD_MIN_LENGTH:
        return Text(f"Kata sandi paling sedikit {PASSWORD_MIN_LENGTH} karakter",
                    f"Password must be at least {PASSWORD_MIN_LENGTH} characters")
    if len(password) > PASSWORD_MAX_LENGTH:
        return Text(f"Kata sandi paling banyak {PASSWORD_MAX_LENGTH} karakter",
                    f"Password must be at most {PASSWORD_MAX_LENGTH} characters")
    if username and username.lower() in password.lower():
        return Text("Kata sandi tidak boleh memuat nama pengguna", "Password must not contain the username")
    return None


def roles_problem(roles: list[str], has_employee: bool) -> tuple[list[str], Text | None]:
    """The account's roles, deduplicated in catalogue order, or what is wrong with them. Every
    employee is ``pegawai``, so that role is implied by a linked employee and meaningless
    without one."""
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        return [], Text(f"Peran tidak dikenal: {', '.join(unknown)}", f"Unknown roles: {', '.join(unknown)}")
    wanted = set(roles)
    if has_employee:
        wanted.add("pegawai")
    elif "pegawai" in wanted:
        return [], Text("Peran pegawai hanya untuk akun yang terhubung ke data pegawai",
                        "The pegawai role needs an account linked to an employee")
    if not wanted:
        return [], Text("Paling sedikit satu peran", "At least one role is required")
    return [r for r in ROLES if r in wanted], None


def check_roles(roles: list[str], has_employee: bool) -> list[str]:
    checked, problem = roles_problem(roles, has_employee)
    if problem:
        raise ValidationFailed({"roles": problem})
    return checked


def check_new_account(username: str, password: str, roles: list[str], has_employee: bool) -> list[str]:
    """Validate a new account, every field at once; returns its normalized roles."""
    checked, roles_text = roles_problem(roles, has_employee)
    problems = {"username": username_problem(username), "password": password_problem(password, username),
                "roles": roles_text}
    errors = {name: text for name, text in problems.items() if text is not None}
    if errors:
        raise ValidationFailed(errors)
    return checked


def check_new_password(new: str, current: str, username: str) -> None:
    problem = password_problem(new, username)
    if problem is None and new == current:
        problem = Text("Kata sandi baru harus berbeda dari yang lama", "The new password must differ from the current one")
    if problem:
        raise ValidationFailed({"new_password": problem})

"""Reading a month's salary file (gaji pokok and the BPJS the salary slip already deducted), free
of any framework: bytes in, rows and every problem with its line number out.

The file is what a salary system exports or an operator saves from a spreadsheet:

- UTF-8 (a byte-order mark is fine), comma, semicolon or tab separated (guessed from the header);
- a header naming the columns, in any order, any case: ``nip``; ``gaji_pokok`` (or ``salary``,
  ``gaji``); optionally ``bpjs_dipotong`` (or ``bpjs_already``, ``bpjs``). Other columns (a name,
  a unit) are ignored;
- NIP as 18 digits, spaces allowed (``19860926 201505 1 001``);
- amounts in whole rupiah: ``4000000``, ``4.000.000``, ``4,000,000`` or with ``Rp``; cents are
  refused rather than rounded, since a salary is whole rupiah;
- an empty ``bpjs_dipotong`` means "not given": payroll then takes 1 % of min(salary, cap).

Line numbers are the file's own (the header is line 1), so an operator finds the row in an editor.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from ekinerja_common.errors import Text

from . import money

MAX_AMOUNT = money.MAX_SALARY
COLUMNS = {
    "nip": ("nip",),
    "salary": ("gaji_pokok", "salary", "gaji", "gapok"),
    "bpjs_already": ("bpjs_dipotong", "bpjs_already", "bpjs", "iuran_bpjs"),
}
_AMOUNT = re.compile(r"^(?:rp\.?\s*)?(\d{1,3}(?:\.\d{3})+|\d{1,3}(?:,\d{3})+|\d+)$", re.IGNORECASE)


@dataclass(frozen=True)
class SalaryRow:
    line: int
    nip: str
    salary: int
    bpjs_already: int | None


@dataclass
class Parsed:
    rows: list[SalaryRow] = field(default_factory=list)
    # line -> field -> why; line 0 is the file as a whole
    errors: dict[int, dict[str, Text]] = field(default_factory=dict)

    def add(self, line: int, name: str, text: Text) -> None:
        self.errors.setdefault(line, {}).setdefault(name, text)

    def error_fields(self) -> dict[str, Text]:
        """The problems in the ``fields`` form of an error response: ``rows.<line>.<field>``."""
        return {("file" if line == 0 else f"rows.{line}.{name}"): text
                for line, fields in sorted(self.errors.items()) for name, text in fields.items()}


def parse_amount(raw: str) -> int | None:
    text = raw.strip().replace(" ", "")
    m = _AMOUNT.match(text)
    if not m:
        return None
    return int(re.sub(r"[.,]", "", m.group(1)))


def normalize_nip(raw: str) -> str | None:
    digits = re.sub(r"\s", "", raw)
    return digits if len(digits) == 18 and digits.isascii() and digits.isdigit() else None


def _delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (";", "\t", ",")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def parse(content: bytes) -> Parsed:
    out = Parsed()
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        out.add(0, "file", Text("Berkas harus berkode UTF-8", "The file must be UTF-8 encoded"))
        return out
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    try:
        header = next(reader)
    except StopIteration:
        header = []
    names = [h.strip().lower().replace(" ", "_") for h in header]
    index: dict[str, int] = {}
    for key, aliases in COLUMNS.items():
        found = [n for n, name in enumerate(names) if name in aliases]
        if found:
            index[key] = found[0]
    missing = [key for key in ("nip", "salary") if key not in index]
    if missing:
        wanted = ", ".join(COLUMNS[k][0] for k in missing)
        out.add(0, "file", Text(f"Baris judul harus memuat kolom {wanted}", f"The header must name the column(s) {wanted}"))
        return out
    first_seen: dict[str, int] = {}
    try:
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue  # blank lines (often at the end of a spreadsheet export)
            cell = lambda key: record[index[key]] if key in index and index[key] < len(record) else ""  # noqa: E731
            nip = normalize_nip(cell("nip"))
            if nip is None:
                out.add(line, "nip", Text("NIP harus 18 angka", "The NIP must be 18 digits"))
            elif nip in first_seen:
                out.add(line, "nip", Text(f"NIP ini sudah ada di baris {first_seen[nip]}",
                                          f"This NIP is already on line {first_seen[nip]}"))
            else:
                first_seen[nip] = line
            salary = parse_amount(cell("salary"))
            if salary is None:
                out.add(line, "salary", Text("Gaji pokok harus rupiah bulat (mis. 4000000 atau 4.000.000)",
                                             "The salary must be whole rupiah (e.g. 4000000 or 4.000.000)"))
            elif salary > MAX_AMOUNT:
                out.add(line, "salary", Text(f"Gaji pokok paling banyak {money.rupiah(MAX_AMOUNT)}",
                                             f"The salary is at most {money.rupiah(MAX_AMOUNT)}"))
            already_raw = cell("bpjs_already").strip()
            already = parse_amount(already_raw) if already_raw else None
            if already is not None and already > MAX_AMOUNT:
                out.add(line, "bpjs_already", Text(f"Potongan BPJS paling banyak {money.rupiah(MAX_AMOUNT)}",
                                                   f"The BPJS deducted is at most {money.rupiah(MAX_AMOUNT)}"))
            if already_raw and already is None:
                out.add(line, "bpjs_already", Text("Potongan BPJS harus rupiah bulat atau kosong",
                                                   "The BPJS deducted must be whole rupiah or empty"))
            if line not in out.errors:
                out.rows.append(SalaryRow(line, nip, salary, already))
    except csv.Error as exc:
        out.add(reader.line_num, "file", Text(f"Format CSV rusak: {exc}", f"Malformed CSV: {exc}"))
    if not out.rows and not out.errors:
        out.add(0, "file", Text("Berkas tidak berisi satu baris data pun", "The file holds no data rows"))
    return out

"""Reading an uploaded table (CSV or XLSX) into rows with their line numbers, and the error that
lists every bad row of it. Plain Python plus openpyxl: no Flask, no database.

What people actually upload: Excel's "CSV" (comma or semicolon separated, UTF-8 with a BOM or
the Windows code page), or the .xlsx itself. Line numbers are what the user sees: the line of the
CSV file (the header is line 1) or the row number of the worksheet.
"""
from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Iterable, Iterator

from ekinerja_common.errors import DomainError, Text

# A regency has a few thousand employees; 50,000 rows is far beyond any real file and keeps one
# request's memory bounded.
MAX_ROWS = 50_000
# Lines read at most, blank ones included: a sheet whose rows run far past its data (a 10 KB XLSX
# can claim a million rows) is refused after this many instead of tying a worker up reading them.
MAX_LINES_SCANNED = MAX_ROWS + 10_000
XLSX_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    text: Text

    def as_json(self) -> dict:
        return {"line": self.line, "field": self.field, **self.text.as_json()}


class ImportRejected(DomainError):
    """The file, or some of its rows, cannot be imported. Lists every problem at once: the
    ``rows`` list (line, field, both languages) and, for clients that only show ``fields``, the
    same problems keyed ``"<line>:<field>"``."""

    def __init__(self, errors: list[RowError], code: str = "import_invalid", text: Text | None = None):
        text = text or Text(f"Berkas tidak diimpor: {len(errors)} kesalahan pada {len({e.line for e in errors})} baris",
                            f"File not imported: {len(errors)} errors on {len({e.line for e in errors})} lines")
        super().__init__(code, text, {f"{e.line}:{e.field}": e.text for e in errors})
        self.errors = errors

    def as_json(self) -> dict:
        body = super().as_json()
        body["error"]["rows"] = [e.as_json() for e in self.errors]
        return body


@dataclass
class RowProblems:
    """Collects the problems of one row (one per field, the first wins)."""

    line: int
    errors: dict[str, Text] = field(default_factory=dict)

    def add(self, name: str, id_text: str, en_text: str) -> None:
        self.errors.setdefault(name, Text(id_text, en_text))

    def extend(self, fields: dict[str, Text]) -> None:
        for name, text in fields.items():
            self.errors.setdefault(name, text)

    def as_list(self) -> list[RowError]:
        return [RowError(self.line, name, text) for name, text in self.errors.items()]


@dataclass(frozen=True)
class Table:
    format: str  # "csv" | "xlsx"
    columns: tuple[str, ...]
    rows: list[tuple[int, dict[str, Any]]]  # (line, column -> value; None when empty)


def file_error(id_text: str, en_text: str, line: int = 1, name: str = "file") -> ImportRejected:
    return ImportRejected([RowError(line, name, Text(id_text, en_text))], "import_invalid", Text(id_text, en_text))


def read_table(data: bytes, required: Iterable[str], optional: Iterable[str]) -> Table:
    """Parse the upload and check its header: every required column present, nothing unknown,
    nothing twice. Raises ImportRejected listing every header problem."""
    if not data.strip():
        raise file_error("Berkas kosong", "The file is empty")
    if data.startswith(XLSX_MAGIC):
        fmt, records = "xlsx", _xlsx_records(data)
    else:
        fmt, records = "csv", _csv_records(data)
    try:
        header_line, header = next(records)
    except StopIteration:
        raise file_error("Berkas kosong", "The file is empty") from None
    columns = tuple(_column_name(c) for c in header)
    required, optional = tuple(required), tuple(optional)
    problems = RowProblems(header_line)
    for name in required:
        if name not in columns:
            problems.add(name, f"Kolom wajib '{name}' tidak ada di baris judul", f"Required column '{name}' is missing from the header")
    seen: set[str] = set()
    for name in columns:
        if not name:
            continue
        if name in seen:
            problems.add(name, f"Kolom '{name}' muncul dua kali", f"Column '{name}' appears twice")
        elif name not in required and name not in optional:
            problems.add(name, f"Kolom '{name}' tidak dikenal (kolom yang dikenal: {', '.join(required + optional)})",
                         f"Unknown column '{name}' (known columns: {', '.join(required + optional)})")
        seen.add(name)
    if problems.errors:
        raise ImportRejected(problems.as_list(), "import_header_invalid",
                             Text("Baris judul berkas tidak sesuai format", "The file's header does not match the format"))
    rows: list[tuple[int, dict[str, Any]]] = []
    for line, cells in records:
        if line > MAX_LINES_SCANNED:
            raise file_error(f"Berkas memuat lebih dari {MAX_LINES_SCANNED:,} baris (baris kosong ikut dihitung); "
                             "hapus baris kosong di bawah data atau bagi berkas",
                             f"The file runs past {MAX_LINES_SCANNED:,} lines (blank ones count); delete the empty "
                             "rows below the data or split the file", line)
        values = {name: _clean(cells[i]) if i < len(cells) else None for i, name in enumerate(columns) if name}
        if all(v is None for v in values.values()):
            continue  # blank lines: spreadsheets leave them at the end
        if len(rows) >= MAX_ROWS:
            raise file_error(f"Berkas melebihi {MAX_ROWS:,} baris data; bagi menjadi beberapa berkas",
                             f"The file has more than {MAX_ROWS:,} data rows; split it", line)
        rows.append((line, values))
    if not rows:
        raise file_error("Berkas tidak berisi baris data", "The file has no data rows", header_line + 1)
    return Table(fmt, columns, rows)


def _column_name(raw: Any) -> str:
    return "_".join(str(raw or "").strip().lower().split())


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _csv_records(data: bytes) -> Iterator[tuple[int, list[str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            # Excel's "CSV (Comma delimited)" on Windows writes the ANSI code page.
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise file_error("Berkas CSV harus berenkode UTF-8", "The CSV file must be UTF-8 encoded") from None
    first = text.split("\n", 1)[0]
    # Excel in an Indonesian locale separates with ';' (the comma is the decimal mark there).
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 1
    try:
        for record in reader:
            yield line, record
            line = reader.line_num + 1  # a quoted field may span lines: count physical lines
    except csv.Error as exc:
        raise file_error(f"Baris CSV rusak: {exc}", f"Malformed CSV line: {exc}", line) from None


def _xlsx_records(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise file_error("Berkas XLSX tidak dapat dibaca", f"The XLSX file cannot be read ({exc.__class__.__name__})") from None
    try:
        sheet = book.worksheets[0]
        # The rows actually in the sheet, not the range its <dimension> claims: that claim alone
        # (A1:Z1048576) would otherwise produce a million empty rows to read.
        sheet.reset_dimensions()
        for line, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield line, list(cells)
    finally:
        book.close()


# -- cell values ------------------------------------------------------------------------------------

def text_cell(value: Any, name: str, problems: RowProblems, numbers: str = "allow") -> str | None:
    """A cell meant as text. ``numbers`` says what a numeric XLSX cell means here: ``allow``
    (plain text columns: 7 is "7") or ``refuse`` (NIP, account and tax numbers). A spreadsheet
    number is a double: an 18-digit NIP has already lost its last digits (15 significant ones
    survive) and an account number its leading zeros, so such cells are reported with the fix
    instead of being stored silently wrong."""
    if value is None or type(value) is str:  # every CSV cell: the fast path
        return value
    if isinstance(value, bool) or isinstance(value, (date, datetime)):
        problems.add(name, "Harus berupa teks", "Must be text")
        return None
    if isinstance(value, float) and numbers == "allow" and value.is_integer():
        value = int(value)
    if isinstance(value, int) and numbers == "allow":
        return str(value)
    if isinstance(value, (int, float)):
        problems.add(name, "Sel berisi angka; format kolom ini sebagai Teks agar semua digit (dan nol di depan) tersimpan",
                     "The cell holds a number; format this column as Text so every digit (and leading zero) is kept")
        return None
    return str(value)


def date_cell(value: Any, name: str, problems: RowProblems) -> date | None:
    """YYYY-MM-DD or DD/MM/YYYY (how Indonesian spreadsheets print dates), or an XLSX date."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = str(value).strip()
    try:
        if len(raw) == 10 and raw[4] == "-":
            return date.fromisoformat(raw)
        if len(raw) == 10 and raw[2] == "/" and raw[5] == "/":
            return date(int(raw[6:]), int(raw[3:5]), int(raw[:2]))
    except ValueError:
        pass
    problems.add(name, "Tanggal harus YYYY-MM-DD atau DD/MM/YYYY", "Date must be YYYY-MM-DD or DD/MM/YYYY")
    return None


def int_cell(value: Any, name: str, problems: RowProblems) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        problems.add(name, "Harus berupa bilangan bulat", "Must be a whole number")
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        problems.add(name, "Harus berupa bilangan bulat", "Must be a whole number")
        return None
    raw = str(value).strip()
    # Digits only: "1.200" is 1200 in Indonesian and 1.2 in English, so neither is guessed.
    if raw.isascii() and raw.isdigit():
        return int(raw)
    problems.add(name, "Harus berupa bilangan bulat tanpa pemisah ribuan", "Must be a whole number without thousands separators")
    return None

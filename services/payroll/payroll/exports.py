"""Files for people outside the system: the unit recap and the bank disbursement list as CSV, XLSX
and PDF, and an employee's TPP slip as PDF.

Spreadsheet safety: every text cell of a CSV or XLSX goes through ``reports.neutralise`` (a name
or account starting with ``=`` is shown, never run as a formula); amounts are written as numbers
(in XLSX as numeric cells), so a negative correction stays a number.

PDFs use the built-in Helvetica font, so a PDF looks the same on every machine without shipping a
font file; it covers Latin-1, and the rare character outside it prints as ``?``.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .domain import Figures
from .reports import Disbursement, Recap, format_nip, neutralise, rupiah

MONTHS_ID = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
             "November", "Desember")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def period_name(year: int, month: int) -> str:
    return f"{MONTHS_ID[month - 1]} {year}"


@dataclass(frozen=True)
class Column:
    header: str
    kind: str  # "text" or "amount" (whole rupiah) or "count"
    width: float  # mm in the PDF


@dataclass(frozen=True)
class Sheet:
    """A titled table with a total row: the one shape the recap and the disbursement share."""

    title: str
    notes: list[str]
    columns: list[Column]
    rows: list[list[Any]]
    total: list[Any]


def recap_sheet(year: int, month: int, status: str, r: Recap) -> Sheet:
    cols = [Column("unit", "text", 62), Column("pegawai", "count", 16),
            Column("bruto", "amount", 28), Column("pph21", "amount", 24), Column("bpjs", "amount", 22),
            Column("neto", "amount", 28), Column("rapel_bruto", "amount", 24), Column("rapel_neto", "amount", 24),
            Column("dibayar", "amount", 28)]

    def row(unit_id: str, employees: int, lines: Figures, corrections: Figures, payable: int) -> list[Any]:
        return [unit_id, employees, lines.gross, lines.pph, lines.bpjs, lines.net, corrections.gross, corrections.net,
                payable]

    t = r.total
    return Sheet(
        title=f"Rekapitulasi TPP per unit - {period_name(year, month)}",
        notes=[f"Status: {'TERKUNCI' if status == 'locked' else 'BELUM DIKUNCI (draf)'}",
               "Rapel = koreksi bulan terkunci sebelumnya; dibayar = neto + rapel neto."],
        columns=cols,
        rows=[row(u.label, u.employees, u.lines, u.corrections, u.payable) for u in r.units],
        total=row("JUMLAH", t.employees, t.lines, t.corrections, t.payable),
    )


def disbursement_sheet(year: int, month: int, status: str, d: Disbursement) -> Sheet:
    cols = [Column("nip", "text", 42), Column("nama", "text", 80), Column("rekening", "text", 45),
            Column("jumlah", "amount", 35), Column("keterangan", "text", 45)]
    notes = {"transfer": "transfer", "nil": "nihil", "recover": "dikembalikan (kurang bayar)"}
    rows = [[t.nip, t.name, t.bank_account or "", t.amount,
             notes[t.status] + ("" if t.bank_account or t.status != "transfer" else "; rekening belum ada")]
            for t in d.rows]
    return Sheet(
        title=f"Daftar pembayaran TPP - {period_name(year, month)}",
        notes=[f"Status: {'TERKUNCI' if status == 'locked' else 'BELUM DIKUNCI (draf)'}",
               f"Ditransfer: {rupiah(d.transfer_total)}; dikembalikan: {rupiah(d.recover_total)}; "
               f"jumlah bersih: {rupiah(d.total)}; rekening belum ada: {d.missing_accounts}"],
        columns=cols,
        rows=rows,
        total=["JUMLAH", f"{len(d.rows)} pegawai", "", d.total, ""],
    )


# --- CSV ---------------------------------------------------------------------------------------

def _csv_cell(value: Any, kind: str) -> Any:
    if kind in ("amount", "count") and isinstance(value, int):
        return value  # a number, written as digits (a minus sign stays a minus)
    return neutralise("" if value is None else str(value))


def to_csv(sheet: Sheet) -> bytes:
    """UTF-8 with a byte-order mark (so Excel reads names right), comma separated, a header row,
    the data rows and the total row; the title and notes are left out to keep it machine-readable."""
    out = io.StringIO(newline="")
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([neutralise(c.header) for c in sheet.columns])
    for row in [*sheet.rows, sheet.total]:
        w.writerow([_csv_cell(v, c.kind) for v, c in zip(row, sheet.columns)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --- XLSX --------------------------------------------------------------------------------------

def to_xlsx(sheet: Sheet) -> bytes:
    """One worksheet: title, notes, header, rows, total; amounts numeric with thousands grouping.
    Written in openpyxl's streaming mode: a disbursement list has thousands of rows."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("TPP")
    for n, c in enumerate(sheet.columns, start=1):
        ws.column_dimensions[get_column_letter(n)].width = max(10, c.width / 2.2)
    bold = Font(bold=True)

    def cell(value: Any, kind: str, strong: bool = False) -> WriteOnlyCell:
        out = WriteOnlyCell(ws, value=_csv_cell(value, kind))
        if kind == "amount":
            out.number_format = "#,##0;-#,##0"
        if strong:
            out.font = bold
        return out

    ws.append([cell(sheet.title, "text", True)])
    for note in sheet.notes:
        ws.append([cell(note, "text")])
    ws.append([])
    ws.append([cell(c.header, "text", True) for c in sheet.columns])
    for row in sheet.rows:
        ws.append([cell(v, c.kind) for v, c in zip(row, sheet.columns)])
    ws.append([cell(v, c.kind, True) for v, c in zip(sheet.total, sheet.columns)])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- PDF ---------------------------------------------------------------------------------------

def _latin1(text: Any) -> str:
    return str(text).encode("latin-1", "replace").decode("latin-1")


class _Pdf(FPDF):
    def __init__(self, orientation: str, footer_text: str):
        super().__init__(orientation=orientation, unit="mm", format="A4")
        self.footer_text = footer_text
        self.set_auto_page_break(True, margin=15)
        self.set_creation_date(datetime(2000, 1, 1))  # byte-identical output for identical data

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=7)
        self.cell(0, 5, _latin1(f"{self.footer_text} - halaman {self.page_no()}/{{nb}}"), align="C")


def _pdf_text(value: Any, kind: str) -> str:
    if kind == "amount":
        return rupiah(value) if isinstance(value, int) else _latin1(value)
    if kind == "count":
        return str(value)
    return _latin1(format_nip(value) if isinstance(value, str) and len(value) == 18 and value.isdigit() else value or "")


def _width(pdf: FPDF, text: str) -> float:
    """``text``'s width (mm) in the current font, from the core font's own character widths:
    fpdf2's per-call measuring is what made a 10,000-row list slow."""
    widths, scale = pdf.current_font.cw, pdf.font_size / 1000
    return sum(widths.get(ch, 500) for ch in text) * scale


def _wrap(pdf: FPDF, text: str, width: float) -> list[str]:
    """``text`` in lines no wider than ``width``, broken between words — a unit's name is printed
    whole ("Dinas Komunikasi dan Informatika" on two lines, never "Dinas Komunikasi dan Informat");
    only a single word longer than the column is broken inside itself."""
    if _width(pdf, text) <= width:
        return [text]
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if _width(pdf, candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while _width(pdf, word) > width:  # one word wider than the column: break it
            cut = len(word)
            while cut > 1 and _width(pdf, word[:cut]) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    return lines


ROW_H, LINE_H, PAD = 5.5, 3.6, 1.0


def to_pdf(sheet: Sheet) -> bytes:
    """A4 landscape table with ruled rows; the header row is repeated on every page. Cells are
    drawn with ``text`` rather than ``cell``, an order of magnitude faster for long lists. A text
    too long for its column wraps onto more lines (the row grows), so nothing is cut off."""
    pdf = _Pdf("L", sheet.title)
    pdf.alias_nb_pages()
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 7, _latin1(sheet.title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", size=8)
    for note in sheet.notes:
        pdf.cell(0, 5, _latin1(note), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    left = pdf.l_margin
    edges = [left]
    for c in sheet.columns:
        edges.append(edges[-1] + c.width)
    bottom = pdf.h - 15
    y = top = pdf.get_y()

    def rule(at: float) -> None:
        pdf.line(left, at, edges[-1], at)

    def close_page(end: float) -> None:
        for x in edges:
            pdf.line(x, top, x, end)

    def layout(values: list[str], style: str) -> tuple[list[list[str]], float]:
        pdf.set_font("Helvetica", style, 8)
        cells = [_wrap(pdf, text, sheet.columns[n].width - 2 * PAD) for n, text in enumerate(values)]
        return cells, ROW_H + LINE_H * (max(len(c) for c in cells) - 1)

    def draw(cells: list[list[str]], height: float, kinds: list[str], style: str) -> None:
        nonlocal y
        pdf.set_font("Helvetica", style, 8)
        for n, (lines, kind) in enumerate(zip(cells, kinds)):
            for k, line in enumerate(lines):
                x = edges[n + 1] - PAD - _width(pdf, line) if kind != "text" else edges[n] + PAD
                pdf.text(x, y + ROW_H - 1.6 + k * LINE_H, line)
        y += height
        rule(y)

    head_kinds = ["text"] * len(sheet.columns)

    def header() -> None:
        rule(y)
        draw(*layout([_latin1(c.header) for c in sheet.columns], "B"), head_kinds, "B")

    header()
    body = [*sheet.rows, sheet.total]
    kinds = [c.kind for c in sheet.columns]
    for n, row in enumerate(body):
        style = "B" if n == len(body) - 1 else ""
        cells, height = layout([_pdf_text(v, k) for v, k in zip(row, kinds)], style)
        if y + height > bottom:
            close_page(y)
            pdf.add_page()
            y = top = pdf.t_margin
            header()
        draw(cells, height, kinds, style)
    close_page(y)
    return bytes(pdf.output())


@dataclass(frozen=True)
class SlipCorrection:
    for_year: int
    for_month: int
    figures: Figures
    cause: str  # in words (domain.cause_text)


def slip_pdf(*, year: int, month: int, status: str, nip: str, name: str, unit: str, position: str | None,
             inputs: dict | None, line: Figures | None, corrections: list[SlipCorrection]) -> bytes:
    """One employee's TPP slip: how the month's figure came about, the corrections paid with it
    and what is transferred. ``unit`` and ``position`` are the names people know them by."""
    pdf = _Pdf("P", f"Slip TPP {period_name(year, month)} - {format_nip(nip)}")
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 8, _latin1(f"SLIP TAMBAHAN PENGHASILAN PEGAWAI (TPP) - {period_name(year, month).upper()}"),
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", size=9)
    pdf.cell(0, 5, "Status: " + ("TERKUNCI (final)" if status == "locked" else "BELUM DIKUNCI - draf, dapat berubah"),
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)

    def pair(label: str, value: Any, bold: bool = False) -> None:
        pdf.set_font("Helvetica", "B" if bold else "", 9)
        pdf.cell(70, 5.5, _latin1(label))
        pdf.cell(0, 5.5, _latin1(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pair("NIP", format_nip(nip))
    pair("Nama", name)
    pair("Unit kerja", unit)
    if inputs is not None and line is not None:
        i = inputs
        pair("Jabatan", position or "(nama jabatan belum tercatat di BPKAD)")
        pair("Kelas jabatan / golongan / status", f"{i['kelas_jabatan']} / {i['golongan']} / {i['status']}")
        pair("Besaran TPP kelas", f"Rp {rupiah(i['base'])}  x faktor {i['factor']}")
        pair("Menit disetujui / target",
             f"{i['approved_minutes']:,} / {i['target_minutes']:,} ({i['working_days']} hari kerja x "
             f"{i['minutes_per_day']} menit)".replace(",", "."))
        if i.get("calendar_source") == "bkd":
            pair("Hari kerja menurut", f"kalender kerja BKD versi {i['calendar_version']}")
        elif i.get("calendar_source") == "default":
            pair("Hari kerja menurut", "kalender bawaan: Senin-Jumat tanpa libur nasional tetap (kalender BKD belum ada)")
        else:
            pair("Hari kerja menurut", "kebijakan TPP (kalender kerja BKD belum diterima)")
        pair("Produktivitas (dibayar)", f"{i['productivity_pct']} % ({i.get('productivity_paid_pct', i['productivity_pct'])} %, "
                                        f"aturan {i.get('productivity_rule', 'linear')})")
        pair("Potongan disiplin / disiplin", f"{i['deductions_pct']} % / {i['discipline_pct']} %")
        pair("Bobot kinerja / disiplin", f"{i['weights_pct']['performance']} % / {i['weights_pct']['discipline']} %")
        pair("Faktor status / potongan hukuman disiplin", f"{i['status_factor_pct']} % / {i['sanction_cut_pct']} %")
        pdf.ln(2)
        pair("TPP bruto", f"Rp {rupiah(line.gross)}", True)
        pair(f"PPh 21 ({i['pph_rate_pct']} %)", f"Rp {rupiah(line.pph)}")
        pair(f"Iuran BPJS Kesehatan ({i['bpjs_rate_pct']} %)", f"Rp {rupiah(line.bpjs)}")
        pair("TPP neto", f"Rp {rupiah(line.net)}", True)
    else:
        pair("TPP bulan ini", "tidak ada (hanya rapel)")
    total = (line.net if line else 0) + sum(c.figures.net for c in corrections)
    if corrections:
        pdf.ln(2)
        pdf.set_font("Helvetica", "B", 9)
        pdf.cell(0, 6, "Rapel (koreksi bulan yang sudah dikunci)", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("Helvetica", size=9)
        for c in corrections:
            pair(f"  untuk {period_name(c.for_year, c.for_month)} ({c.cause})",
                 f"bruto Rp {rupiah(c.figures.gross)}; PPh Rp {rupiah(c.figures.pph)}; "
                 f"BPJS Rp {rupiah(c.figures.bpjs)}; neto Rp {rupiah(c.figures.net)}")
    pdf.ln(3)
    pair("JUMLAH DITERIMA", f"Rp {rupiah(total)}", True)
    return bytes(pdf.output())

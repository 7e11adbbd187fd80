"""Recap, disbursement list and their files: totals reconcile exactly, and no spreadsheet cell
can run a formula."""
import csv
import io
import re
import zlib

from hypothesis import given, settings, strategies as st
from openpyxl import load_workbook

from payroll import exports, reports
from payroll.domain import Figures


def pdf_text(data: bytes) -> str:
    """The text drawn in a PDF made by fpdf2 (its page streams are deflated)."""
    out = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            out.append(zlib.decompress(stream).decode("latin-1"))
        except zlib.error:
            out.append(stream.decode("latin-1"))
    return "".join(out)


def pay(emp, unit, kind, gross, pph, bpjs, *, account="1234567890", nip=None, name=None, for_month=None):
    return reports.Payment(emp, nip or f"1986092620150510{emp[-2:]}", name or f"Pegawai {emp}", unit, account, kind,
                           Figures(gross, pph, bpjs, gross - pph - bpjs), 2026 if for_month else None, for_month)


SAMPLE = [
    pay("e01", "unit-b", "line", 8_662_500, 1_299_375, 0),
    pay("e02", "unit-a", "line", 2_419_200, 120_960, 24_192),
    pay("e02", "unit-a", "correction", 168_000, 8_400, 1_680, for_month=7),
    pay("e03", "unit-a", "line", 1_391_250, 0, 13_913, account=None),
    pay("e04", "unit-c", "correction", -300_000, -15_000, 0, for_month=6),  # left, overpaid earlier
]


def test_neutralise_only_text_that_a_spreadsheet_would_run():
    for bad in ("=HYPERLINK(\"x\")", "+62 811", "-1+1", "@SUM(A1)", "\tTAB", "\rCR"):
        assert reports.neutralise(bad) == "'" + bad
    for fine in ("Ani", "19860926", "Rp 1.000", "a=b", "'quoted", ""):
        assert reports.neutralise(fine) == fine


def test_recap_and_disbursement_of_a_sample():
    r = reports.recap(SAMPLE)
    assert [u.unit_id for u in r.units] == ["unit-a", "unit-b", "unit-c"]
    a = r.units[0]
    assert (a.employees, a.lines, a.corrections) == (2, Figures(3_810_450, 120_960, 38_105, 3_651_385),
                                                     Figures(168_000, 8_400, 1_680, 157_920))
    assert a.payable == 3_651_385 + 157_920
    assert r.total.employees == 4 and r.total.payable == 7_363_125 + 3_651_385 + 157_920 - 285_000
    d = reports.disbursement(SAMPLE)
    assert [t.employee_id for t in d.rows] == ["e01", "e02", "e03", "e04"]
    assert [t.amount for t in d.rows] == [7_363_125, 2_274_048 + 157_920, 1_377_337, -285_000]
    assert [t.status for t in d.rows] == ["transfer", "transfer", "transfer", "recover"]
    assert d.total == r.total.payable and d.transfer_total - d.recover_total == d.total
    assert d.missing_accounts == 1


def test_csv_files_reconcile_and_neutralise():
    evil = pay("e05", "=cmd|' /C calc'!A0", "line", 1_000, 0, 0, name="=HYPERLINK(\"http://x\")", account="+6281")
    payments = [*SAMPLE, evil]
    r, d = reports.recap(payments), reports.disbursement(payments)
    recap_rows = list(csv.reader(io.StringIO(exports.to_csv(exports.recap_sheet(2026, 8, "open", r)).decode("utf-8-sig"))))
    assert recap_rows[0] == ["unit", "pegawai", "bruto", "pph21", "bpjs", "neto", "rapel_bruto", "rapel_neto", "dibayar"]
    body, total = recap_rows[1:-1], recap_rows[-1]
    assert total[0] == "JUMLAH" and int(total[-1]) == sum(int(row[-1]) for row in body) == r.total.payable
    assert "'=cmd|' /C calc'!A0" in [row[0] for row in body]
    rows = list(csv.reader(io.StringIO(exports.to_csv(exports.disbursement_sheet(2026, 8, "open", d)).decode("utf-8-sig"))))
    assert rows[0] == ["nip", "nama", "rekening", "jumlah", "keterangan"]
    assert int(rows[-1][3]) == sum(int(row[3]) for row in rows[1:-1]) == r.total.payable
    evil_row = next(row for row in rows if row[0] == evil.nip)
    assert evil_row[1] == "'=HYPERLINK(\"http://x\")" and evil_row[2] == "'+6281"
    # A negative amount is a number, written as such; text never starts with a formula character.
    assert next(row for row in rows if row[3].startswith("-"))[3] == "-285000"
    for row in rows[1:]:
        for n, cell in enumerate(row):
            if n != 3:
                assert not cell.startswith(reports.FORMULA_PREFIXES)


def test_recap_labels_units_by_code_and_name_where_known():
    r = reports.recap(SAMPLE, {"unit-b": ("SETDA", "Sekretariat Daerah"), "unit-c": ("=X", "Nama")})
    assert {u.unit_id: u.label for u in r.units} == {"unit-a": "unit-a", "unit-b": "SETDA - Sekretariat Daerah",
                                                     "unit-c": "=X - Nama"}
    assert r.total.payable == reports.recap(SAMPLE).total.payable
    rows = list(csv.reader(io.StringIO(exports.to_csv(exports.recap_sheet(2026, 8, "open", r)).decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:-1]] == ["'=X - Nama", "SETDA - Sekretariat Daerah", "unit-a"]
    assert "SETDA - Sekretariat Daerah" in pdf_text(exports.to_pdf(exports.recap_sheet(2026, 8, "open", r)))


def test_xlsx_has_numbers_for_amounts_and_no_formulas():
    evil = pay("e05", "unit-x", "line", 1_000, 0, 0, name="@SUM(1+1)*cmd", account="=1+1")
    d = reports.disbursement([*SAMPLE, evil])
    wb = load_workbook(io.BytesIO(exports.to_xlsx(exports.disbursement_sheet(2026, 8, "locked", d))))
    ws = wb.active
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert not any(c.data_type == "f" for c in cells)
    header = next(row for row in ws.iter_rows(values_only=True) if row[0] == "nip")
    assert header == ("nip", "nama", "rekening", "jumlah", "keterangan")
    data = [row for row in ws.iter_rows(values_only=True) if row[0] and str(row[0]).isdigit()]
    assert all(isinstance(row[3], int) for row in data)
    assert sum(row[3] for row in data) == d.total
    total = [row for row in ws.iter_rows(values_only=True) if row[0] == "JUMLAH"][0]
    assert total[3] == d.total
    assert ("'@SUM(1+1)*cmd", "'=1+1") in [(row[1], row[2]) for row in data]


def test_pdfs_show_the_figures_and_are_reproducible():
    r = reports.recap(SAMPLE)
    sheet = exports.recap_sheet(2026, 8, "locked", r)
    data = exports.to_pdf(sheet)
    assert data.startswith(b"%PDF") and data == exports.to_pdf(sheet)
    text = pdf_text(data)
    assert "Rekapitulasi TPP per unit - Agustus 2026" in text and "TERKUNCI" in text
    assert reports.rupiah(r.total.payable) in text
    slip = exports.slip_pdf(year=2026, month=8, status="open", nip="198609262015051001", name="Ani Ñandú ☃",
                            unit="Dinas Komunikasi dan Informatika", position=None, inputs=None, line=None,
                            corrections=[exports.SlipCorrection(2026, 7, Figures(168_000, 8_400, 1_680, 157_920),
                                                                "activity.approved")])
    text = pdf_text(slip)
    assert "19860926 201505 1 001" in text and "Juli 2026" in text and "157.920" in text
    assert "Dinas Komunikasi dan Informatika" in text
    assert "Ani \xd1and\xfa ?" in text  # outside Latin-1 prints as ?


def test_formatting():
    assert reports.format_nip("198609262015051001") == "19860926 201505 1 001"
    assert reports.format_nip("12345") == "12345"
    assert reports.rupiah(4_640_000) == "4.640.000" and reports.rupiah(-25_000) == "-25.000" and reports.rupiah(0) == "0"


amount = st.integers(min_value=-5_000_000, max_value=50_000_000)
text = st.text(alphabet=st.sampled_from("=+-@\t\rAbc 1'\""), max_size=8)


@st.composite
def payment_lists(draw):
    out = []
    for n in range(draw(st.integers(min_value=0, max_value=25))):
        emp = f"e{n:02d}"
        unit = draw(st.sampled_from(["u1", "u2", "u3", "=u4"]))
        kinds = (["line"] if draw(st.booleans()) else []) + ["correction"] * draw(st.integers(0, 3))
        for kind in kinds or ["line"]:
            gross, pph, bpjs = draw(amount), draw(amount), draw(amount)
            out.append(pay(emp, unit, kind, gross, pph, bpjs, name=draw(text), account=draw(st.none() | text),
                           for_month=None if kind == "line" else draw(st.integers(1, 12))))
    return out


@settings(database=None, max_examples=100, deadline=None)
@given(payment_lists())
def test_totals_reconcile_for_any_payments(payments):
    r, d = reports.recap(payments), reports.disbursement(payments)
    lines_net = sum(p.figures.net for p in payments if p.kind == "line")
    corrections_net = sum(p.figures.net for p in payments if p.kind == "correction")
    assert r.total.payable == sum(u.payable for u in r.units) == lines_net + corrections_net == d.total
    assert d.transfer_total - d.recover_total == d.total
    assert r.total.lines.gross == sum(p.figures.gross for p in payments if p.kind == "line")
    assert r.total.employees == len(d.rows) == len({p.employee_id for p in payments})
    for sheet in (exports.recap_sheet(2026, 1, "open", r), exports.disbursement_sheet(2026, 1, "open", d)):
        rows = list(csv.reader(io.StringIO(exports.to_csv(sheet).decode("utf-8-sig"))))
        amount_cols = [n for n, c in enumerate(sheet.columns) if c.kind != "text"]
        for row in rows[1:]:
            for n, cell in enumerate(row):
                if n in amount_cols and re.fullmatch(r"-?\d+", cell):
                    continue
                assert not cell.startswith(reports.FORMULA_PREFIXES), (n, cell)
        payable_col = [n for n, c in enumerate(sheet.columns) if c.header in ("dibayar", "jumlah")][0]
        assert int(rows[-1][payable_col]) == sum(int(row[payable_col]) for row in rows[1:-1]) == d.total

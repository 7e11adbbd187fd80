"""Reading uploaded CSV and XLSX tables: rules without a database."""
import io
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from ekinerja_common.tabular import MAX_LINES_SCANNED, ImportRejected, RowProblems, date_cell, int_cell, read_table, text_cell


def xlsx(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_csv_with_bom_semicolons_blank_lines_and_quoted_newlines():
    data = ('\ufeffNIP;Name ;Golongan\r\n198609262015051001;"Budi\nSantoso";III/a\r\n;;\r\n'
            '199001012015032002;Siti;\r\n').encode("utf-8")
    table = read_table(data, ("nip", "name"), ("golongan",))
    assert table.format == "csv" and table.columns == ("nip", "name", "golongan")
    # Line numbers are physical lines: the quoted newline makes the second record start on line 4.
    assert table.rows == [(2, {"nip": "198609262015051001", "name": "Budi\nSantoso", "golongan": "III/a"}),
                          (5, {"nip": "199001012015032002", "name": "Siti", "golongan": None})]


def test_windows_code_page_csv_is_read():
    table = read_table("nip,name\n1,Andr\xe9\n".encode("cp1252"), ("nip", "name"), ())
    assert table.rows[0][1]["name"] == "André"


def test_every_header_problem_is_listed():
    with pytest.raises(ImportRejected) as exc:
        read_table(b"nip,nip,warna\n1,2,3\n", ("nip", "name"), ("golongan",))
    err = exc.value
    assert err.code == "import_header_invalid"
    assert {(e.line, e.field) for e in err.errors} == {(1, "name"), (1, "nip"), (1, "warna")}
    body = err.as_json()["error"]
    assert set(body["fields"]) == {"1:name", "1:nip", "1:warna"} and len(body["rows"]) == 3
    assert all(r["message"] and r["message_en"] for r in body["rows"])


@pytest.mark.parametrize("data", [b"", b"  \n", b"nip,name\n", b"nip,name\n,\n"])
def test_empty_files_are_refused(data):
    with pytest.raises(ImportRejected):
        read_table(data, ("nip", "name"), ())


def test_broken_xlsx_is_refused():
    with pytest.raises(ImportRejected) as exc:
        read_table(b"PK\x03\x04 not really a zip", ("nip",), ())
    assert exc.value.errors[0].field == "file"


def test_xlsx_rows_keep_their_sheet_row_numbers_and_types():
    data = xlsx([["nip", "start_date", "volume"], ["198609262015051001", datetime(2026, 1, 2), 12],
                 [None, None, None], ["199001012015032002", "02/01/2026", "7"]])
    table = read_table(data, ("nip",), ("start_date", "volume"))
    assert table.format == "xlsx"
    assert table.rows == [(2, {"nip": "198609262015051001", "start_date": datetime(2026, 1, 2), "volume": 12}),
                          (4, {"nip": "199001012015032002", "start_date": "02/01/2026", "volume": "7"})]


def test_cells():
    p = RowProblems(3)
    assert text_cell("198609262015051001", "nip", p, "refuse") == "198609262015051001"
    assert text_cell(7, "golongan", p) == "7" and text_cell(7.0, "golongan", p) == "7"
    assert text_cell(1.9860926201505101e17, "nip", p, "refuse") is None              # digits already lost
    assert text_cell(12003456, "bank_account", p, "refuse") is None                   # leading zeros lost
    assert text_cell(datetime(2026, 1, 1), "name", p) is None
    assert set(p.errors) == {"nip", "bank_account", "name"}
    q = RowProblems(4)
    assert date_cell("2026-01-31", "a", q) == date(2026, 1, 31)
    assert date_cell("31/01/2026", "b", q) == date(2026, 1, 31)
    assert date_cell(datetime(2026, 1, 31, 0, 0), "c", q) == date(2026, 1, 31)
    assert date_cell("31-01-2026", "d", q) is None and date_cell("2026-02-30", "e", q) is None
    assert int_cell("12", "f", q) == 12 and int_cell(12.0, "g", q) == 12
    assert int_cell("1.200", "h", q) is None and int_cell(1.5, "i", q) is None
    assert set(q.errors) == {"d", "e", "h", "i"}
    assert [e.line for e in q.as_list()] == [4] * 4


def huge_sparse_xlsx(last_row: int = 1_048_576, claim_only: bool = False) -> bytes:
    """A few KB of XLSX whose sheet runs to ``last_row``: one header, one data row, and then either
    only a <dimension> claiming the rows (``claim_only``) or a cell far below."""
    import re
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(xlsx([["nip", "name"], ["1", "Budi"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                text = re.sub(r'<dimension ref="[^"]*" ?/>', f'<dimension ref="A1:B{last_row}"/>', text)
                if not claim_only:
                    text = text.replace("</sheetData>", f'<row r="{last_row}"><c r="A{last_row}" t="inlineStr">'
                                                        f'<is><t>x</t></is></c></row></sheetData>')
                data = text.encode()
            dst.writestr(item, data)
    return out.getvalue()


def test_an_xlsx_running_to_a_million_rows_is_refused_after_a_bounded_scan():
    data = huge_sparse_xlsx()
    assert len(data) < 10_000
    with pytest.raises(ImportRejected) as exc:
        read_table(data, ("nip", "name"), ())
    err = exc.value
    assert err.status == 422 and err.code == "import_invalid"
    assert "baris kosong" in err.text.id and err.errors[0].line == MAX_LINES_SCANNED + 1


def test_an_xlsx_that_only_claims_a_million_rows_reads_its_real_rows():
    table = read_table(huge_sparse_xlsx(claim_only=True), ("nip", "name"), ())
    assert table.rows == [(2, {"nip": "1", "name": "Budi"})]

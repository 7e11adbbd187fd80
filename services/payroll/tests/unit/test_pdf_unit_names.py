"""The recap PDF prints a unit's name whole: a name wider than its column wraps onto a second line
(the row grows) instead of being cut ("Dinas Komunikasi dan Informat...")."""
import re
import zlib

from payroll.exports import Column, Sheet, to_pdf

LONG = "DISKOMINFO - Dinas Komunikasi dan Informatika Kabupaten Contoh"


def texts(pdf: bytes) -> list[str]:
    out = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            body = zlib.decompress(stream)
        except zlib.error:
            body = stream
        out += [t.decode("latin-1") for t in re.findall(rb"\((.*?)\) Tj", body)]
    return out


def test_a_long_unit_name_wraps_and_is_printed_whole():
    sheet = Sheet(title="Rekap", notes=[], columns=[Column("unit", "text", 62), Column("neto", "amount", 28)],
                  rows=[[LONG, 1_000_000], ["Bagian Umum", 5]], total=["JUMLAH", 1_000_005])
    shown = texts(to_pdf(sheet))
    unit_lines = [t for t in shown if t and t not in ("unit", "neto", "JUMLAH", "Bagian Umum") and not t[0].isdigit()
                  and "halaman" not in t and t != "Rekap"]
    assert " ".join(unit_lines) == LONG and len(unit_lines) >= 2
    assert "Bagian Umum" in shown


def test_a_single_word_wider_than_its_column_is_still_all_there():
    word = "X" * 80
    sheet = Sheet(title="T", notes=[], columns=[Column("unit", "text", 30)], rows=[[word]], total=["J"])
    shown = [t for t in texts(to_pdf(sheet)) if set(t) == {"X"}]
    assert "".join(shown) == word and len(shown) > 1

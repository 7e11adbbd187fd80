"""The salary file: every bad row with its line number, all at once."""
from payroll import salary_csv

NIP_A = "198609262015051001"
NIP_B = "199001012019032002"


def fields(parsed):
    return {k: v.en for k, v in parsed.error_fields().items()}


def test_a_clean_file_with_aliases_bom_semicolons_and_grouped_amounts():
    content = ("\ufeffNama;NIP;Gaji Pokok;BPJS_dipotong\r\n"
               f"Ani;19860926 201505 1 001;4.000.000;40.000\r\n"
               f"Budi;{NIP_B};Rp 3,100,000;\r\n"
               "\r\n").encode("utf-8")
    parsed = salary_csv.parse(content)
    assert parsed.errors == {}
    assert parsed.rows == [salary_csv.SalaryRow(2, NIP_A, 4_000_000, 40_000), salary_csv.SalaryRow(3, NIP_B, 3_100_000, None)]


def test_every_bad_row_is_reported_with_its_line():
    content = (
        "nip,salary,bpjs_already\n"
        f"{NIP_A},4000000,\n"           # 2: fine
        "12345,4000000,\n"              # 3: NIP too short
        f"{NIP_B},4000000.50,abc\n"     # 4: cents; bpjs not a number
        f"{NIP_A},3000000,\n"           # 5: NIP again
        "198001012005011003,-5,\n"      # 6: negative
        "\n"                            # 7: blank, skipped
        '"198001012005011004",\n'      # 8: salary missing
    ).encode()
    parsed = salary_csv.parse(content)
    assert fields(parsed) == {
        "rows.3.nip": "The NIP must be 18 digits",
        "rows.4.salary": "The salary must be whole rupiah (e.g. 4000000 or 4.000.000)",
        "rows.4.bpjs_already": "The BPJS deducted must be whole rupiah or empty",
        "rows.5.nip": "This NIP is already on line 2",
        "rows.6.salary": "The salary must be whole rupiah (e.g. 4000000 or 4.000.000)",
        "rows.8.salary": "The salary must be whole rupiah (e.g. 4000000 or 4.000.000)",
    }
    assert [r.line for r in parsed.rows] == [2]
    assert all(t.id for t in parsed.error_fields().values())


def test_line_numbers_follow_the_file_even_with_quoted_newlines():
    content = f'nip,salary,keterangan\n{NIP_A},1000,"two\nlines"\nbad,1000,x\n'.encode()
    assert set(fields(salary_csv.parse(content))) == {"rows.4.nip"}


def test_file_level_problems():
    assert fields(salary_csv.parse(b"")) == {"file": "The header must name the column(s) nip, gaji_pokok"}
    assert fields(salary_csv.parse(b"nip,nama\n1,2\n")) == {"file": "The header must name the column(s) gaji_pokok"}
    assert fields(salary_csv.parse("nip,gaji\n".encode())) == {"file": "The file holds no data rows"}
    assert fields(salary_csv.parse(b"nip,gaji\n\xff\xfe1,2\n")) == {"file": "The file must be UTF-8 encoded"}


def test_amounts():
    ok = {"0": 0, "4000000": 4_000_000, "4.000.000": 4_000_000, "4,000,000": 4_000_000, "Rp 4.000.000": 4_000_000,
          "rp.12.500": 12_500, " 750 ": 750}
    for raw, value in ok.items():
        assert salary_csv.parse_amount(raw) == value, raw
    for raw in ("", "4.000,00", "4000000,5", "4.00.000", "4.000,000", "-1", "1e6", "=1+1"):
        assert salary_csv.parse_amount(raw) is None, raw
    # An amount past any real salary is read, then refused by the bound with its own message.
    parsed = salary_csv.parse("nip,gaji_pokok\n198609262015051001,12.345.678.901.234\n".encode())
    assert not parsed.rows and "paling banyak" in str(parsed.errors)

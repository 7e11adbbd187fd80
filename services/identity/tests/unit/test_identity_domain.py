from datetime import date, datetime, timedelta, timezone

import pytest

from ekinerja_common.errors import DomainError, ValidationFailed
from identity import domain
from identity.domain import Span

TODAY = date(2026, 11, 27)


def problems(nip, kind="PNS", today=TODAY):
    return set(domain.nip_problems(nip, kind, today))


# -- NIP ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("nip", ["198609262015051001", "197001011995032999", "200002292026111001",
                                 "19860926 201505 1 001"])
def test_valid_nips(nip):
    assert problems(nip) == set()


def test_parse_gives_every_part_and_the_printed_form():
    nip = domain.parse_nip("198609262015051001", "PNS", TODAY)
    assert nip.birth_date == date(1986, 9, 26) and nip.appointed == (2015, 5)
    assert (nip.gender, nip.sequence) == (1, 1)
    assert nip.formatted == "19860926 201505 1 001"
    assert domain.format_nip("198609262015051001") == "19860926 201505 1 001"


@pytest.mark.parametrize("nip, field", [
    ("198602302015051001", "nip.birth_date"),   # 30 February
    ("198613012015051001", "nip.birth_date"),   # month 13 of birth
    ("001001012015051001", "nip.birth_date"),   # a calendar date, but not a birthday on file
    ("202712012015051001", "nip.birth_date"),   # born in the future
    ("198609262015131001", "nip.tmt_cpns"),     # appointed in month 13
    ("198609262015001001", "nip.tmt_cpns"),     # month 00
    ("198609261985051001", "nip.tmt_cpns"),     # appointed before birth
    ("198609261986091001", "nip.tmt_cpns"),     # appointed in the birth month itself
    ("198609262026121001", "nip.tmt_cpns"),     # appointment next month: in the future
    ("198609262015053001", "nip.gender"),
    ("198609262015050001", "nip.gender"),
    ("198609262015051000", "nip.sequence"),
])
def test_each_bad_part_is_reported_by_name(nip, field):
    found = domain.nip_problems(nip, "PNS", TODAY)
    assert set(found) == {field}
    assert found[field].id and found[field].en and found[field].id != found[field].en


def test_every_bad_part_is_reported_at_once():
    assert problems("198602302015133000") == {"nip.birth_date", "nip.tmt_cpns", "nip.gender", "nip.sequence"}


@pytest.mark.parametrize("nip", ["19860926201505100", "1986092620150510011", "", "19860926-201505-1-001",
                                 "1986O9262015051001", "１９８６０９２６２０１５０５１００１"])
def test_shape_errors(nip):
    assert problems(nip) == {"nip"}


def test_current_month_appointment_is_valid():
    assert problems("199001012026111001") == set()


def test_pppk_numbers_skip_the_year_month_but_not_the_rest():
    # Digits 9–14 "202221" are no year-month: fine for PPPK, wrong for PNS.
    assert problems("199203152022211004", "PPPK") == set()
    assert problems("199203152022211004", "PNS") == {"nip.tmt_cpns"}
    assert problems("199202302022213000", "PPPK") == {"nip.birth_date", "nip.gender", "nip.sequence"}
    assert domain.parse_nip("199203152022211004", "PPPK", TODAY).appointed is None


def test_parse_raises_a_validation_error():
    with pytest.raises(ValidationFailed) as exc:
        domain.parse_nip("198609262015051000", "PNS", TODAY)
    assert exc.value.code == "invalid_nip" and set(exc.value.fields) == {"nip.sequence"}


# -- golongan, status -----------------------------------------------------------------------------

def personnel(**kw):
    base = dict(nip="198609262015051001", name="Budi", employee_kind="PNS", status="PNS", golongan="III/a",
                bank_account=None, npwp=None, today=TODAY)
    return domain.check_personnel(**{**base, **kw})


def test_pns_golongan_range():
    assert len(domain.PNS_GOLONGAN) == 17
    for gol in ("I/a", "I/d", "II/a", "II/d", "III/a", "III/d", "IV/a", "IV/e"):
        assert personnel(golongan=gol).golongan == gol
    for gol in ("I/e", "II/e", "III/e", "IV/f", "V/a", "III", "IX", "3/a", ""):
        with pytest.raises(ValidationFailed) as exc:
            personnel(golongan=gol)
        assert set(exc.value.fields) == {"golongan"}, gol


def test_pppk_golongan_range():
    pppk = dict(nip="199203152022211004", employee_kind="PPPK", status="PPPK")
    for gol in ("I", "V", "IX", "XVII"):
        assert personnel(golongan=gol, **pppk).golongan == gol
    for gol in ("XVIII", "0", "III/a", "IIII"):
        with pytest.raises(ValidationFailed):
            personnel(golongan=gol, **pppk)


def test_golongan_is_normalized():
    assert personnel(golongan=" iii/A ").golongan == "III/a"
    assert personnel(golongan="xvii", nip="199203152022211004", employee_kind="PPPK", status="PPPK").golongan == "XVII"


@pytest.mark.parametrize("kind, status, ok", [
    ("PNS", "PNS", True), ("PNS", "CPNS", True), ("PNS", "PPPK", False),
    ("PPPK", "PPPK", True), ("PPPK", "PNS", False), ("PPPK", "CPNS", False),
])
def test_status_matches_kind(kind, status, ok):
    gol = "III/a" if kind == "PNS" else "IX"
    if ok:
        personnel(employee_kind=kind, status=status, golongan=gol)
    else:
        with pytest.raises(ValidationFailed) as exc:
            personnel(employee_kind=kind, status=status, golongan=gol)
        assert set(exc.value.fields) == {"status"}


def test_personnel_lists_every_problem_and_normalizes():
    with pytest.raises(ValidationFailed) as exc:
        personnel(nip="198602301986021000", name=" ", employee_kind="ASN", bank_account="12ab", npwp="123")
    assert set(exc.value.fields) == {"nip.birth_date", "nip.sequence", "name", "employee_kind", "bank_account", "npwp"}
    p = personnel(nip="19860926 201505 1 001", name=" Budi  Santoso ", bank_account="0123 4567 89",
                  npwp="01.234.567.8-901.000")
    assert (p.nip, p.name, p.bank_account, p.npwp) == ("198609262015051001", "Budi Santoso", "0123456789", "012345678901000")
    assert personnel(bank_account="  ", npwp="").bank_account is None


# -- placements -----------------------------------------------------------------------------------

D = date.fromisoformat


def test_transfer_ends_the_open_definitive_placement():
    history = [Span("a", "P1", "definitive", D("2024-01-01"), None), Span("b", "P9", "plt", D("2024-03-01"), None)]
    assert domain.plan_placement(history, "P2", "definitive", D("2025-07-01"), None) == {"a": D("2025-06-30")}
    # A Plt alongside the definitive post ends nothing.
    assert domain.plan_placement(history, "P3", "plt", D("2025-07-01"), None) == {}


def test_overlaps_are_refused():
    history = [Span("a", "P1", "definitive", D("2024-01-01"), D("2024-12-31")),
               Span("b", "P2", "definitive", D("2025-01-01"), None),
               Span("c", "P9", "plt", D("2024-03-01"), D("2024-05-31"))]
    for position, kind, start, end in [("P3", "definitive", "2024-06-01", None),      # inside a closed one
                                       ("P3", "definitive", "2023-06-01", "2024-01-01"),  # touches its first day
                                       ("P3", "definitive", "2025-01-01", None),       # same day as the open one
                                       ("P9", "plt", "2024-05-31", None)]:             # same Plt post again
        with pytest.raises(DomainError) as exc:
            domain.plan_placement(history, position, kind, D(start), D(end) if end else None)
        assert exc.value.code == "overlapping_placement", (position, start)
    assert domain.plan_placement(history, "P9", "plt", D("2024-06-01"), None) == {}
    assert domain.plan_placement(history, "P3", "definitive", D("2023-01-01"), D("2023-12-31")) == {}


def test_placement_fields():
    with pytest.raises(ValidationFailed) as exc:
        domain.plan_placement([], "P1", "acting", D("2025-02-01"), D("2025-01-31"))
    assert set(exc.value.fields) == {"kind", "end_date"}
    assert domain.plan_placement([], "P1", "plt", D("2025-02-01"), D("2025-02-01")) == {}


# -- accounts -------------------------------------------------------------------------------------

def test_roles():
    assert domain.check_roles(["majelis", "pegawai", "majelis"], True) == ["pegawai", "majelis"]
    assert domain.check_roles([], True) == ["pegawai"]
    assert domain.check_roles(["admin_bkd"], False) == ["admin_bkd"]
    for roles, has_employee in ((["raja"], True), (["pegawai"], False), ([], False)):
        with pytest.raises(ValidationFailed) as exc:
            domain.check_roles(roles, has_employee)
        assert set(exc.value.fields) == {"roles"}


def test_new_account_lists_every_problem():
    with pytest.raises(ValidationFailed) as exc:
        domain.check_new_account("A b", "short", ["raja"], False)
    assert set(exc.value.fields) == {"username", "password", "roles"}
    assert domain.check_new_account("budi.santoso", "Sandi-Rahasia-1", [], True) == ["pegawai"]
    assert domain.password_problem("budi.santoso-2026!", "budi.santoso") is not None
    assert domain.password_problem("x" * 201, "budi") is not None
    assert domain.normalize_username("  Budi.Santoso ") == "budi.santoso"


def test_new_password_must_differ():
    domain.check_new_password("Sandi-Baru-2026", "Sandi-Lama-2025", "budi")
    for new in ("Sandi-Lama-2025", "pendek"):
        with pytest.raises(ValidationFailed) as exc:
            domain.check_new_password(new, "Sandi-Lama-2025", "budi")
        assert set(exc.value.fields) == {"new_password"}

from decimal import Decimal

import pytest

from ekinerja_common.errors import DomainError, ValidationFailed
from organization import domain


def test_position_rules_list_every_bad_field():
    with pytest.raises(ValidationFailed) as exc:
        domain.check_position("raja", 18, "II.a", Decimal("0"))
    assert set(exc.value.fields) == {"kind", "kelas_jabatan", "eselon", "factor"}


@pytest.mark.parametrize("kelas", [1, 9, 17])
def test_kelas_jabatan_bounds_accepted(kelas):
    domain.check_position("pelaksana", kelas, None, Decimal("1"))


def test_eselon_only_for_structural():
    domain.check_position("pengawas", 9, "IV.a", Decimal("1"))
    with pytest.raises(ValidationFailed):
        domain.check_position("pelaksana", 7, "IV.a", Decimal("1"))


def test_no_cycle():
    parents = {"c": "b", "b": "a", "a": None}
    domain.check_no_cycle("d", "c", parents.get)  # fine: d under c
    with pytest.raises(DomainError) as exc:
        domain.check_no_cycle("a", "c", parents.get)  # a under its own grandchild
    assert exc.value.code == "cycle"
    with pytest.raises(DomainError):
        domain.check_no_cycle("a", "a", parents.get)


def test_duty_rules():
    domain.check_duty(30, "Menyusun laporan", "laporan")
    with pytest.raises(ValidationFailed) as exc:
        domain.check_duty(0, " ", "")
    assert set(exc.value.fields) == {"norma_waktu", "description", "output_unit"}

"""The yearly policy document: defaults, validation and lookups."""
from datetime import date
from decimal import Decimal

import pytest

from ekinerja_common.errors import ValidationFailed
from payroll import defaults, policy


def default_doc() -> dict:
    return defaults.document(2026)


def test_defaults_parse_and_round_trip():
    p = policy.parse(2026, 1, default_doc())
    assert p.document() == default_doc()
    assert p.base_for(9) == 5_000_000
    amounts = [p.base_for(k) for k in range(1, 18)]
    assert amounts == sorted(amounts) and len(set(amounts)) == 17
    assert (p.perf_weight_pct, p.disc_weight_pct, p.minutes_per_day) == (60, 40, 300)
    assert date(2026, 8, 17) in p.holidays and p.bpjs_cap == 12_000_000 and p.bpjs_rate_pct == 1


def test_lookups_by_status_and_golongan():
    p = policy.parse(2026, 1, default_doc())
    assert p.status_factor_pct("CPNS") == 80 and p.status_factor_pct("PNS") == 100 and p.status_factor_pct("PPPK") == 100
    assert [p.pph_rate_pct("PNS", g) for g in ("I/a", "II/d", "III/a", "IV/e")] == [0, 0, 5, 15]
    assert [p.pph_rate_pct("PPPK", g) for g in ("VIII", "IX", "XII", "XIII", "XVII")] == [0, 5, 5, 15, 15]
    assert p.pph_rate_pct("PNS", "V/a") is None and p.pph_rate_pct("PPPK", "XVIII") is None
    assert p.base_for(18) is None


def test_every_bad_field_is_listed():
    doc = default_doc()
    del doc["base_amounts"]["5"]
    doc["base_amounts"]["9"] = 0
    doc["base_amounts"]["18"] = 1
    doc["weights_pct"] = {"performance": "70", "discipline": "40"}
    doc["minutes_per_day"] = 0
    doc["holidays"] = ["2026-01-01", "2025-12-25"]
    doc["cpns_factor_pct"] = "120"
    doc["pph21_pct"]["pns"]["IV"] = "NaN"
    del doc["pph21_pct"]["pppk"]["XVII"]
    doc["bpjs"] = {"employee_rate_pct": "-1", "cap": 0}
    with pytest.raises(ValidationFailed) as exc:
        policy.parse(2026, 1, doc)
    assert set(exc.value.fields) == {
        "base_amounts.5", "base_amounts.9", "base_amounts.18", "weights_pct", "minutes_per_day", "holidays.1",
        "cpns_factor_pct", "pph21_pct.pns.IV", "pph21_pct.pppk.XVII", "bpjs.employee_rate_pct", "bpjs.cap",
    }
    assert all(t.id and t.en for t in exc.value.fields.values())


def test_weights_may_be_fractional_but_must_total_100():
    doc = default_doc()
    doc["weights_pct"] = {"performance": "62.5", "discipline": "37.5"}
    assert policy.parse(2026, 1, doc).perf_weight_pct == Decimal("62.5")

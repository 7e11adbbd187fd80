"""The yearly policy document: defaults, validation and lookups."""
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
    assert (p.perf_weight_pct, p.disc_weight_pct) == (60, 40)
    assert p.bpjs_cap == 12_000_000 and p.bpjs_rate_pct == 1
    # Working days are not TPP policy any more (BKD's calendar or the shared default); a version
    # stored with the old fallback fields reads back without them.
    assert "holidays" not in p.document() and "minutes_per_day" not in p.document()
    old = policy.parse(2026, 1, {**default_doc(), "minutes_per_day": 300, "holidays": ["2026-01-01"]})
    assert old.document() == default_doc()


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
    doc["cpns_factor_pct"] = "120"
    doc["pph21_pct"]["pns"]["IV"] = "NaN"
    del doc["pph21_pct"]["pppk"]["XVII"]
    doc["bpjs"] = {"employee_rate_pct": "-1", "cap": 0}
    with pytest.raises(ValidationFailed) as exc:
        policy.parse(2026, 1, doc)
    assert set(exc.value.fields) == {
        "base_amounts.5", "base_amounts.9", "base_amounts.18", "weights_pct",
        "cpns_factor_pct", "pph21_pct.pns.IV", "pph21_pct.pppk.XVII", "bpjs.employee_rate_pct", "bpjs.cap",
    }
    assert all(t.id and t.en for t in exc.value.fields.values())


def test_weights_may_be_fractional_but_must_total_100():
    doc = default_doc()
    doc["weights_pct"] = {"performance": "62.5", "discipline": "37.5"}
    assert policy.parse(2026, 1, doc).perf_weight_pct == Decimal("62.5")


def test_new_sections_have_defaults_and_round_trip():
    p = policy.parse(2026, 1, default_doc())
    assert p.productivity_rule == "linear" and p.brackets is None
    assert p.productivity_brackets[0] == (Decimal(90), Decimal(100))
    assert p.deductions_pct["TL1"] == Decimal("0.5") and p.deductions_pct["TK"] == 3 and p.deductions_pct["CUTI"] == 0
    assert (p.sanction_combine, p.sanction_max_cut_pct, p.position_factors) == ("max", 100, {})


def test_deductions_are_priced_from_codes_and_unknown_codes_are_reported():
    p = policy.parse(2026, 1, default_doc())
    total, unknown = p.deduction_pct({"TL1": 2, "PSW4": 1, "TK": 2, "CUTI": 3, "WFH": 1})
    assert total == Decimal("9.0") and unknown == {"WFH": 1}  # 2 x 0.5 + 2 + 2 x 3


def test_position_factor_override_wins_over_the_published_one():
    doc = default_doc()
    doc["position_factors"] = {"JPT-01": "1.75"}
    p = policy.parse(2026, 1, doc)
    assert p.factor_for("JPT-01", Decimal("1.2")) == (Decimal("1.75"), "policy")
    assert p.factor_for("PEL-07", Decimal("1.2")) == (Decimal("1.2"), "position")


def test_bracket_rule_is_validated():
    doc = default_doc()
    doc["productivity"] = {"rule": "bracket", "brackets": [
        {"min_pct": "90", "pay_pct": "80"}, {"min_pct": "75", "pay_pct": "85"},  # pays less for more work
        {"min_pct": "75", "pay_pct": "85"}, {"min_pct": "120", "pay_pct": "100"}, {"min_pct": "10", "pay_pct": "x"}]}
    with pytest.raises(ValidationFailed) as exc:
        policy.parse(2026, 1, doc)
    assert set(exc.value.fields) == {"productivity.brackets", "productivity.brackets.2.min_pct",
                                     "productivity.brackets.3.min_pct", "productivity.brackets.4.pay_pct"}
    doc["productivity"] = {"rule": "bracket", "brackets": []}
    with pytest.raises(ValidationFailed) as exc:
        policy.parse(2026, 1, doc)
    assert set(exc.value.fields) == {"productivity.brackets"}
    doc["productivity"] = {"rule": "steps", "brackets": []}
    with pytest.raises(ValidationFailed) as exc:
        policy.parse(2026, 1, doc)
    assert set(exc.value.fields) == {"productivity.rule"}
    doc["productivity"] = {"rule": "bracket", "brackets": [{"min_pct": "60", "pay_pct": "70"}, {"min_pct": "90", "pay_pct": "100"}]}
    p = policy.parse(2026, 1, doc)
    assert p.brackets == ((Decimal(90), Decimal(100)), (Decimal(60), Decimal(70)))  # highest threshold first


def test_deduction_table_sanctions_and_factors_are_validated():
    doc = default_doc()
    del doc["discipline_deductions_pct"]["TL3"]
    doc["discipline_deductions_pct"]["TK"] = "101"
    doc["discipline_deductions_pct"]["psw9"] = "1"
    doc["discipline_deductions_pct"]["PSW1"] = "0.0005"
    doc["sanctions"] = {"combine": "avg", "max_cut_pct": "150"}
    doc["position_factors"] = {"A": "0", "B": "5.5", "C": "1.00001", "D": "2"}
    with pytest.raises(ValidationFailed) as exc:
        policy.parse(2026, 1, doc)
    assert set(exc.value.fields) == {
        "discipline_deductions_pct.TL3", "discipline_deductions_pct.TK", "discipline_deductions_pct.psw9",
        "discipline_deductions_pct.PSW1", "sanctions.combine", "sanctions.max_cut_pct",
        "position_factors.A", "position_factors.B", "position_factors.C"}


def test_a_policy_stored_before_the_new_sections_reads_with_their_defaults():
    old = default_doc()
    for key in defaults.LATER_SECTIONS:
        del old[key]
    p = policy.parse(2026, 3, defaults.complete(2026, old))
    assert p.document() == default_doc() and p.version == 3
    custom = {**default_doc(), "sanctions": {"combine": "sum", "max_cut_pct": "50"}}
    assert defaults.complete(2026, custom) is custom

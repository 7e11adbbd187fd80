"""The TPP arithmetic of DOMAIN.md, exactly, with the default policy's rates."""
from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

from ekinerja_common.errors import DomainError
from payroll import defaults, domain, policy

POLICY = policy.parse(2026, 1, defaults.document(2026))


def example(**changes) -> domain.TppInputs:
    """DOMAIN.md's worked example: kelas 9, golongan III, PNS, 5,670 of 6,300 minutes, discipline
    97 %, salary Rp 4,000,000."""
    base = domain.TppInputs(
        kelas_jabatan=9, base=POLICY.base_for(9), factor=Decimal("1"), employee_kind="PNS", golongan="III/b",
        status="PNS", approved_minutes=5_670, working_days=21, minutes_per_day=300,
        deductions_pct=Decimal("3"), perf_weight_pct=POLICY.perf_weight_pct, disc_weight_pct=POLICY.disc_weight_pct,
        status_factor_pct=POLICY.status_factor_pct("PNS"), pph_rate_pct=POLICY.pph_rate_pct("PNS", "III/b"),
        bpjs_rate_pct=POLICY.bpjs_rate_pct, bpjs_cap=POLICY.bpjs_cap, salary=4_000_000,
    )
    return replace(base, **changes)


def figures(line: domain.TppLine) -> tuple[int, int, int, int]:
    return line.gross, line.pph, line.bpjs, line.net


def test_domain_example_holds_exactly():
    line = domain.compute(example())
    assert figures(line) == (4_640_000, 232_000, 46_400, 4_361_600)
    assert line.productivity == Fraction(9, 10) and line.discipline == Fraction(97, 100)
    assert line.inputs.target_minutes == 6_300 and line.bpjs_already == 40_000


def test_line_keeps_every_input_and_output():
    shown = domain.compute(example()).explain()
    assert shown["base"] == 5_000_000 and shown["kelas_jabatan"] == 9 and shown["golongan"] == "III/b"
    assert shown["approved_minutes"] == 5_670 and shown["target_minutes"] == 6_300 and shown["working_days"] == 21
    assert shown["productivity"] == "9/10" and shown["productivity_pct"] == "90.00"
    assert shown["discipline"] == "97/100" and shown["deductions_pct"] == "3"
    assert shown["weights_pct"] == {"performance": "60", "discipline": "40"}
    assert shown["status_factor_pct"] == "100" and shown["sanction_cut_pct"] == "0"
    assert shown["salary"] == 4_000_000 and shown["pph_rate_pct"] == "5" and shown["bpjs_cap"] == 12_000_000
    assert (shown["gross"], shown["pph"], shown["bpjs"], shown["net"]) == (4_640_000, 232_000, 46_400, 4_361_600)


def test_cpns_receives_80_percent():
    line = domain.compute(example(status="CPNS", status_factor_pct=POLICY.status_factor_pct("CPNS")))
    # 4,640,000 x 80 %; PPh 5 %; BPJS 1 % of 7,712,000 less 40,000 already deducted.
    assert figures(line) == (3_712_000, 185_600, 37_120, 3_489_280)


def test_golongan_iv_pays_15_percent_and_golongan_i_nothing():
    iv = domain.compute(example(golongan="IV/a", pph_rate_pct=POLICY.pph_rate_pct("PNS", "IV/a")))
    assert figures(iv) == (4_640_000, 696_000, 46_400, 3_897_600)
    i = domain.compute(example(golongan="I/c", pph_rate_pct=POLICY.pph_rate_pct("PNS", "I/c")))
    assert figures(i) == (4_640_000, 0, 46_400, 4_593_600)


def test_bpjs_cap_reached():
    # 1 % of min(11,000,000 + 4,640,000, 12,000,000) - 1 % of 11,000,000
    assert domain.compute(example(salary=11_000_000)).bpjs == 10_000
    # The salary alone is over the cap: the TPP owes nothing more.
    assert domain.compute(example(salary=15_000_000)).bpjs == 0


def test_bpjs_already_deducted_as_recorded_and_never_negative():
    assert domain.compute(example(bpjs_already=30_000)).bpjs == 86_400 - 30_000
    assert domain.compute(example(bpjs_already=200_000)).bpjs == 0


def test_bpjs_never_takes_more_than_the_tpp_left():
    line = domain.compute(example(approved_minutes=0, deductions_pct=Decimal("100"), bpjs_already=0))
    assert line.gross == 0 and line.bpjs_due == 40_000 and line.bpjs == 0 and line.net == 0


def test_missing_salary_counts_bpjs_on_the_tpp_alone():
    line = domain.compute(example(salary=None))
    assert line.bpjs == 46_400 and line.bpjs_already == 0 and line.explain()["salary"] is None


def test_discipline_floors_at_zero():
    line = domain.compute(example(deductions_pct=Decimal("130.5")))
    assert line.discipline == 0
    assert line.gross == 2_700_000  # 5,000,000 x 60 % x 90 %


def test_productivity_capped_at_100_percent():
    line = domain.compute(example(approved_minutes=9_000))
    assert line.productivity == 1
    assert line.gross == 4_940_000  # 5,000,000 x (60 % + 40 % x 97 %)


def test_rounding_is_half_up_once_at_the_end():
    assert domain.round_half_up(Fraction(5, 2)) == 3  # round() would give 2
    assert domain.round_half_up(Fraction(7, 2)) == 4
    assert domain.round_half_up(Fraction(-5, 2)) == -3
    assert domain.round_half_up(Fraction(49, 100)) == 0
    half = domain.compute(example(base=5_000_001, factor=Decimal("0.5"), approved_minutes=6_300, deductions_pct=Decimal(0)))
    assert half.gross == 2_500_001  # 2,500,000.5
    # PPh on a gross ending in ...250 at 15 % is ...437.5: rounded up.
    c = domain.compute(example(base=8_750_000, factor=Decimal("1.5"), approved_minutes=3_150, deductions_pct=Decimal("10.5"),
                               golongan="IV/b", pph_rate_pct=Decimal("15"), salary=11_000_000))
    assert figures(c) == (8_636_250, 1_295_438, 10_000, 7_330_812)


def test_sanction_cut_applies_to_gross():
    assert domain.compute(example(sanction_cut_pct=Decimal("25"))).gross == 3_480_000


def test_month_without_working_days_is_refused():
    with pytest.raises(DomainError) as exc:
        domain.compute(example(working_days=0))
    assert exc.value.code == "no_working_days"


money = st.integers(min_value=0, max_value=60_000_000)
pct = st.decimals(min_value=0, max_value=100, places=1)


@settings(database=None, max_examples=300, deadline=None)
@given(base=st.integers(min_value=1, max_value=50_000_000), factor=st.decimals(min_value="0.1", max_value=5, places=2),
       a=st.integers(min_value=0, max_value=12_000), b=st.integers(min_value=0, max_value=12_000),
       days=st.integers(min_value=1, max_value=23), deductions=st.decimals(min_value=0, max_value=150, places=1),
       perf=st.integers(min_value=0, max_value=100), status=st.sampled_from(["CPNS", "PNS", "PPPK"]),
       pph=st.sampled_from([Decimal(0), Decimal(5), Decimal(15)]), salary=st.none() | money,
       already=st.none() | money, cut=st.sampled_from([Decimal(0), Decimal(25)]))
def test_properties(base, factor, a, b, days, deductions, perf, status, pph, salary, already, cut):
    common = dict(base=base, factor=factor, working_days=days, deductions_pct=deductions,
                  perf_weight_pct=Decimal(perf), disc_weight_pct=Decimal(100 - perf), status=status,
                  status_factor_pct=POLICY.status_factor_pct(status), pph_rate_pct=pph, salary=salary,
                  bpjs_already=already, sanction_cut_pct=cut)
    low, high = sorted((a, b))
    lo = domain.compute(example(approved_minutes=low, **common))
    hi = domain.compute(example(approved_minutes=high, **common))
    for line in (lo, hi):
        assert line.net == line.gross - line.pph - line.bpjs
        assert 0 <= line.net <= line.gross
        assert line.pph >= 0 and line.bpjs >= 0
    assert lo.gross <= hi.gross


@settings(database=None, max_examples=500, deadline=None)
@given(amount=st.integers(min_value=0, max_value=10**12), num=st.integers(min_value=0, max_value=10**6),
       den=st.integers(min_value=1, max_value=10**6))
def test_integer_rounding_equals_rounding_the_exact_product(amount, num, den):
    rate = Fraction(num, den)
    assert domain.times_half_up(amount, rate) == domain.round_half_up(amount * rate)

"""Three employees worked by hand (July 2026, default 2026 policy), the bracket rule, and the
arithmetic of corrections. The integration test ``test_payroll_three_employees`` runs the same
people through events and the API; the figures must agree with these.

July 2026: 23 weekdays, no default holiday -> target 23 x 300 = 6,900 minutes.
"""
from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

from payroll import defaults, domain, policy

POLICY = policy.parse(2026, 1, defaults.document(2026))


def inputs(*, kelas: int, golongan: str, status: str, minutes: int, codes: dict[str, int], salary: int,
           bpjs_already: int | None = None, sanctions: list[Decimal] = ()) -> domain.TppInputs:
    deductions, unknown = POLICY.deduction_pct(codes)
    assert unknown == {}
    return domain.TppInputs(
        kelas_jabatan=kelas, base=POLICY.base_for(kelas), factor=Decimal(1), employee_kind="PNS", golongan=golongan,
        status=status, approved_minutes=minutes, working_days=23, minutes_per_day=300, deductions_pct=deductions,
        perf_weight_pct=POLICY.perf_weight_pct, disc_weight_pct=POLICY.disc_weight_pct,
        status_factor_pct=POLICY.status_factor_pct(status), pph_rate_pct=POLICY.pph_rate_pct("PNS", golongan),
        bpjs_rate_pct=POLICY.bpjs_rate_pct, bpjs_cap=POLICY.bpjs_cap, salary=salary, bpjs_already=bpjs_already,
        sanction_cut_pct=POLICY.sanction_cut_pct(list(sanctions)), productivity_brackets=POLICY.brackets)


def figures(line: domain.TppLine) -> tuple[int, int, int, int]:
    return line.gross, line.pph, line.bpjs, line.net


# Ayu: PNS IV/a, kelas 12 (base 8,750,000), all 6,900 minutes approved (100 %).
# Late twice TL2 (1 % each) and left early once PSW1 (0.5 %): deductions 2.5 %, discipline 97.5 %.
# Salary 12,500,000 is over the BPJS cap.
AYU = inputs(kelas=12, golongan="IV/a", status="PNS", minutes=6_900, codes={"TL2": 2, "PSW1": 1}, salary=12_500_000)
# Bayu: CPNS III/a, kelas 7 (3,500,000), 5,520 of 6,900 minutes (80 %).
# Absent once TK (3 %) and late twice TL1 (0.5 % each): 4 %, discipline 96 %. Salary 2,800,000.
BAYU = inputs(kelas=7, golongan="III/a", status="CPNS", minutes=5_520, codes={"TK": 1, "TL1": 2}, salary=2_800_000)
# Citra: PNS II/c, kelas 5 (2,650,000), 3,450 of 6,900 minutes (50 %), no attendance codes (100 %).
# A medium sanction (PP 94/2021) cuts 25 %. Salary 3,100,000, of which the slip took 31,000 BPJS.
CITRA = inputs(kelas=5, golongan="II/c", status="PNS", minutes=3_450, codes={}, salary=3_100_000,
               bpjs_already=31_000, sanctions=[Decimal(25)])


def test_ayu_golongan_iv_capped_bpjs():
    line = domain.compute(AYU)
    # gross = 8,750,000 x (60 % x 1 + 40 % x 97.5 %) = 8,750,000 x 0.99          = 8,662,500
    # PPh   = 15 % x 8,662,500                                                    = 1,299,375
    # BPJS  = 1 % x min(12,500,000 + 8,662,500, 12,000,000) - 1 % x min(12,500,000, 12,000,000)
    #       = 120,000 - 120,000                                                   = 0
    # net   = 8,662,500 - 1,299,375 - 0                                           = 7,363,125
    assert figures(line) == (8_662_500, 1_299_375, 0, 7_363_125)
    assert line.discipline == Fraction(975, 1000) and line.productivity == 1


def test_bayu_cpns_golongan_iii():
    line = domain.compute(BAYU)
    # score = 60 % x 80 % + 40 % x 96 % = 0.48 + 0.384                            = 0.864
    # gross = 3,500,000 x 0.864 x 80 % (CPNS) = 3,024,000 x 0.8                   = 2,419,200
    # PPh   = 5 % x 2,419,200                                                     = 120,960
    # BPJS  = 1 % x (2,800,000 + 2,419,200) - 1 % x 2,800,000 = 52,192 - 28,000   = 24,192
    # net   = 2,419,200 - 120,960 - 24,192                                        = 2,274,048
    assert figures(line) == (2_419_200, 120_960, 24_192, 2_274_048)


def test_citra_golongan_ii_sanctioned_with_a_half_rupiah():
    line = domain.compute(CITRA)
    # gross = 2,650,000 x (60 % x 50 % + 40 % x 100 %) x (1 - 25 %) = 1,855,000 x 0.75 = 1,391,250
    # PPh   = 0 % (golongan II)                                                   = 0
    # BPJS  = 1 % x (3,100,000 + 1,391,250) = 44,912.5 -> half up 44,913; less the 31,000 the
    #         salary slip took                                                    = 13,913
    # net   = 1,391,250 - 0 - 13,913                                              = 1,377,337
    assert figures(line) == (1_391_250, 0, 13_913, 1_377_337)


def test_the_three_together():
    lines = [domain.compute(i) for i in (AYU, BAYU, CITRA)]
    # gross 8,662,500 + 2,419,200 + 1,391,250 = 12,472,950; PPh 1,299,375 + 120,960 + 0 = 1,420,335;
    # BPJS 0 + 24,192 + 13,913 = 38,105; net 12,472,950 - 1,420,335 - 38,105 = 11,014,510.
    assert tuple(sum(f) for f in zip(*map(figures, lines))) == (12_472_950, 1_420_335, 38_105, 11_014_510)


def test_corrections_for_late_approvals_worked_by_hand():
    """After July is locked, 690 more minutes of Bayu's are approved (90 %) and an appeal
    overturns the rejection of 1,380 minutes of Citra's (70 %)."""
    bayu_locked, citra_locked = domain.compute(BAYU), domain.compute(CITRA)
    bayu_now = domain.compute(replace(BAYU, approved_minutes=6_210))
    # gross = 3,500,000 x (0.54 + 0.384) x 80 % = 3,234,000 x 0.8 = 2,587,200; PPh 129,360;
    # BPJS = 1 % x 5,387,200 - 28,000 = 25,872; net 2,431,968.
    assert figures(bayu_now) == (2_587_200, 129_360, 25_872, 2_431_968)
    bayu = domain.correction(domain.Figures.of(bayu_now), domain.Figures.of(bayu_locked), domain.Figures())
    assert bayu == domain.Figures(168_000, 8_400, 1_680, 157_920)
    citra_now = domain.compute(replace(CITRA, approved_minutes=4_830))
    # gross = 2,650,000 x (0.42 + 0.4) x 0.75 = 1,629,750; BPJS 1 % x 4,729,750 = 47,297.5 -> 47,298
    # less 31,000 = 16,298; net 1,613,452.
    assert figures(citra_now) == (1_629_750, 0, 16_298, 1_613_452)
    citra = domain.correction(domain.Figures.of(citra_now), domain.Figures.of(citra_locked), domain.Figures())
    assert citra == domain.Figures(238_500, 0, 2_385, 236_115)
    # Once issued, the same data owes nothing more: the correction counts as paid.
    assert not domain.correction(domain.Figures.of(bayu_now), domain.Figures.of(bayu_locked), bayu)


def test_a_correction_can_be_negative():
    """A decision reversed after the lock (an approval later rejected) is recovered."""
    locked = domain.compute(AYU)
    now = domain.compute(replace(AYU, approved_minutes=6_600))  # 6,600 / 6,900 = 22/23
    delta = domain.correction(domain.Figures.of(now), domain.Figures.of(locked), domain.Figures())
    # gross 8,750,000 x (0.6 x 22/23 + 0.39) = 8,750,000 x 0.963913... = 8,434,239.13 -> 8,434,239,
    #       so 8,434,239 - 8,662,500 = -228,261;
    # PPh   15 % x 8,434,239 = 1,265,135.85 -> 1,265,136, so 1,265,136 - 1,299,375 = -34,239;
    # BPJS  still 0 (over the cap); net -228,261 + 34,239 = -194,022.
    assert delta == domain.Figures(-228_261, -34_239, 0, -194_022)


def test_stored_line_inputs_give_back_the_same_line():
    for i in (AYU, BAYU, CITRA, replace(AYU, productivity_brackets=((Decimal(90), Decimal(100)),))):
        line = domain.compute(i)
        again = domain.compute(domain.inputs_from_explained(line.explain()))
        assert figures(again) == figures(line)


BRACKETS = ((Decimal(90), Decimal(100)), (Decimal(75), Decimal(85)), (Decimal(60), Decimal(70)))


def test_bracket_rule_pays_the_bracket_reached():
    def paid(minutes: int) -> Fraction:
        return domain.compute(replace(AYU, approved_minutes=minutes, productivity_brackets=BRACKETS)).productivity_paid

    assert paid(6_210) == 1  # exactly 90 %
    assert paid(6_209) == Fraction(85, 100)  # 89.99 % does not reach 90 %
    assert paid(5_175) == Fraction(85, 100)  # 75 %
    assert paid(4_140) == Fraction(70, 100)  # 60 %
    assert paid(4_139) == 0  # below every bracket
    line = domain.compute(replace(AYU, approved_minutes=5_520, productivity_brackets=BRACKETS))
    # 80 % reaches the 75 % bracket, paid 85 %: 8,750,000 x (0.6 x 0.85 + 0.39) = 8,750,000 x 0.9 = 7,875,000
    assert line.gross == 7_875_000 and line.productivity == Fraction(4, 5)
    shown = line.explain()
    assert shown["productivity_rule"] == "bracket" and shown["productivity_paid_pct"] == "85.00"
    assert shown["productivity_brackets"][0] == {"min_pct": "90", "pay_pct": "100"}


def test_sanctions_combine_by_policy():
    assert POLICY.sanction_cut_pct([]) == 0
    assert POLICY.sanction_cut_pct([Decimal(25), Decimal(10)]) == 25
    summed = replace(POLICY, sanction_combine="sum", sanction_max_cut_pct=Decimal(30))
    assert summed.sanction_cut_pct([Decimal(25), Decimal(10)]) == 30
    assert summed.sanction_cut_pct([Decimal(10), Decimal(5)]) == 15

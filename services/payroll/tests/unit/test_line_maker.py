"""The run's fast path (``services.LineMaker``, issue 13) against the path it replaced: for any
policy, position, employee, salary and month data, the same figures and the same inputs JSON, byte
for byte, as ``_inputs`` + ``domain.compute`` + ``TppLine.explain`` encoded the way the lines were
stored (``json.dumps(..., separators=(",", ":"))``); and the integer gross of ``domain.figures``
equal to the Fraction product it replaced."""
import json
from collections import namedtuple
from datetime import date
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings, strategies as st

from payroll import defaults, domain, policy, services

Employee = namedtuple("Employee", "employee_kind golongan status")
Position = namedtuple("Position", "position_id code kelas_jabatan factor")
Salary = namedtuple("Salary", "salary bpjs_already")
Sanction = namedtuple("Sanction", "id cut_pct start_date end_date reference")

CODES = ["TL1", "TL2", "TL4", "PSW3", "TK", "CUTI", "DL", "XYZ"]  # XYZ: a code no policy prices
pcts = st.decimals(min_value=0, max_value=100, places=3, allow_nan=False, allow_infinity=False)


@st.composite
def policies(draw) -> policy.TppPolicy:
    doc = defaults.document(2026)
    perf = draw(st.integers(0, 100))
    doc["weights_pct"] = {"performance": str(perf), "discipline": str(100 - perf)}
    doc["cpns_factor_pct"] = str(draw(st.decimals(min_value=1, max_value=100, places=2)))
    doc["bpjs"] = {"employee_rate_pct": str(draw(st.decimals(min_value=0, max_value=5, places=2))),
                   "cap": draw(st.integers(1_000_000, 20_000_000))}
    if draw(st.booleans()):
        doc["productivity"] = {**doc["productivity"], "rule": "bracket"}
    doc["sanctions"] = {"combine": draw(st.sampled_from(["max", "sum"])), "max_cut_pct": str(draw(st.integers(1, 100)))}
    if draw(st.booleans()):
        doc["position_factors"] = {"J-1": str(draw(st.decimals(min_value="0.5", max_value=5, places=4)))}
    doc["discipline_deductions_pct"] = {**doc["discipline_deductions_pct"], "TL4": str(draw(pcts))}
    return policy.parse(2026, draw(st.integers(1, 9)), doc)


@st.composite
def cases(draw):
    pol = draw(policies())
    target = draw(st.sampled_from([domain.month_target(2026, 6, None),
                                   domain.MonthTarget(20, 450, "bkd", 3, "bkd"), domain.MonthTarget(1, 7, "bkd", 1, "default")]))
    kind = draw(st.sampled_from(["PNS", "PPPK"]))
    golongan = draw(st.sampled_from(["III/b", "IV/a", "II/c"] if kind == "PNS" else ["IX", "XIII", "V"]))
    employee = Employee(kind, golongan, draw(st.sampled_from(["PNS", "CPNS"])))
    position = Position("pos-1", draw(st.sampled_from(["J-1", "J-2", "Jabatan \u00e9\"\\"])), draw(st.integers(1, 17)),
                        draw(st.decimals(min_value="0.0001", max_value=5, places=4)))
    salary = draw(st.one_of(st.none(), st.builds(Salary, st.integers(0, 30_000_000),
                                                  st.one_of(st.none(), st.integers(0, 500_000)))))
    sanctions = draw(st.lists(st.builds(Sanction, st.uuids().map(str), st.decimals(min_value="0.001", max_value=100, places=3),
                                        st.just(date(2026, 1, 1)), st.just(date(2026, 12, 31)), st.just("SK/1")), max_size=2))
    month = services.MonthData(
        approved_minutes=draw(st.integers(0, 12_000)),
        code_days=draw(st.dictionaries(st.sampled_from(CODES), st.integers(1, 22), max_size=4)),
        sanctions=sanctions,
        reported_deductions=draw(st.one_of(st.none(), pcts)))
    return pol, target, employee, position, salary, month


def reference(pol, target, employee, position, salary, month):
    inputs, shown = services._inputs(pol, employee, position, target, salary, month)
    line = domain.compute(inputs)
    return line, json.dumps({**line.explain(), **shown}, separators=(",", ":"))


@settings(max_examples=400, deadline=None)
@given(cases())
def test_line_maker_equals_compute_and_explain(case):
    pol, target, employee, position, salary, month = case
    line, text = reference(*case)
    maker = services.LineMaker(pol, target)
    for _ in range(2):  # the second time from the maker's caches
        gross, pph, bpjs, net, inputs, priced = maker.line(employee, position, salary, month.approved_minutes,
                                                           month.code_days or None, month.sanctions or None,
                                                           month.reported_deductions)
        assert (gross, pph, bpjs, net) == (line.gross, line.pph, line.bpjs, line.net)
        assert inputs == text
        assert priced.unpriced == json.loads(text)["unpriced_codes"]


@settings(max_examples=400, deadline=None)
@given(cases())
def test_integer_gross_equals_the_fraction_product(case):
    pol, target, employee, position, salary, month = case
    i, _ = services._inputs(pol, employee, position, target, salary, month)
    productivity = Fraction(min(i.approved_minutes, i.target_minutes), i.target_minutes)
    score = (domain.pct(i.perf_weight_pct) * domain.paid_productivity(productivity, i.productivity_brackets)
             + domain.pct(i.disc_weight_pct) * max(Fraction(0), 1 - domain.pct(i.deductions_pct)))
    exact = i.base * score * Fraction(i.factor) * domain.pct(i.status_factor_pct) * (1 - domain.pct(i.sanction_cut_pct))
    assert domain.compute(i).gross == domain.round_half_up(exact)


def test_new_ids_are_distinct_version_4_uuids():
    import uuid

    from payroll.orm import new_ids

    ids = new_ids(5000)
    assert len(set(ids)) == 5000
    for value in ids:
        parsed = uuid.UUID(value)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == value


@settings(max_examples=200, deadline=None)
@given(policies(), st.sampled_from(["PNS", "PPPK"]), st.sampled_from(["III/b", "IX", "Z/a", "II"]),
       st.integers(0, 19), st.booleans(), st.booleans())
def test_skip_reason_equals_the_runs_reasons(pol, kind, golongan, kelas, known_employee, known_position):
    employee = Employee(kind, golongan, "PNS") if known_employee else None
    position = Position("pos-1", "J-1", kelas, Decimal(1)) if known_position else None
    maker = services.LineMaker(pol, domain.month_target(2026, 6, None))
    assert maker.skip_reason(employee, position) == services._skip_reason(pol, employee, position)

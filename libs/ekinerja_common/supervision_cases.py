"""The shared table of supervisor cases (issue 12, "one supervisor rule"): every place that answers
"who supervises X on D" or "who is above X's supervisor" must give these answers — the pure rule
(``libs/tests/unit/test_supervision.py``) and each service's loader and SQL over its own read
models (``tests/rules/test_supervision_everywhere.py``: identity, activity, approval with its
queue query). Add a case here and every one of them is held to it.

A case is an org chart (``parents``: position -> parent; a position missing as a key has no row
yet, as when its event has not arrived), its placements, and questions: on ``day``, ``employee``'s
line upwards — the supervisor, the supervisor's supervisor, the one above that — as far as it
goes (at most three levels).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .supervision import DEFINITIVE, PLT, Holding

D = date(2026, 11, 10)


def placed(employee: str, position: str, start: str = "2026-01-01", end: str | None = None, kind: str = DEFINITIVE,
           pid: str | None = None) -> Holding:
    return Holding(pid or f"{employee}@{position}@{start}{kind[0]}", employee, position, kind, date.fromisoformat(start),
                   date.fromisoformat(end) if end else None)


@dataclass(frozen=True)
class Case:
    name: str
    parents: dict[str, str | None]
    placements: tuple[Holding, ...]
    # (employee, day, the line upwards: supervisor, supervisor's supervisor, the next one)
    expect: tuple[tuple[str, date, tuple[str, ...]], ...]


# Kepala Dinas <- Kepala Bidang <- Kepala Subbidang <- staff, and a second bidang.
TREE = {"KADIS": None, "KABID": "KADIS", "KASUBBID": "KABID", "STAFF": "KASUBBID", "KABID2": "KADIS"}
FULL = (placed("kadis", "KADIS"), placed("kabid", "KABID"), placed("kasub", "KASUBBID"), placed("staff", "STAFF"))


def _without(*employees: str) -> tuple[Holding, ...]:
    return tuple(p for p in FULL if p.employee_id not in employees)


CASES: tuple[Case, ...] = (
    Case("definitive holders of the parent posts, level by level", TREE, FULL, (
        ("staff", D, ("kasub", "kabid", "kadis")),
        ("kasub", D, ("kabid", "kadis")),
        ("kabid", D, ("kadis",)),
        ("kadis", D, ()),
    )),
    Case("somebody without a placement has nobody above", TREE, FULL, (("stranger", D, ()),)),
    Case("a vacant post's Plt supervises in its place", TREE, _without("kasub") + (placed("acting", "KASUBBID", kind=PLT),), (
        ("staff", D, ("acting", "kabid", "kadis")),
        ("acting", D, ()),  # a Plt placement is nobody's own post
    )),
    Case("a definitive holder wins over a Plt of the same post", TREE, FULL + (placed("acting", "KASUBBID", kind=PLT),), (
        ("staff", D, ("kasub", "kabid", "kadis")),
    )),
    Case("a post held by nobody is skipped, at every level", TREE, _without("kasub"), (
        ("staff", D, ("kabid", "kadis")),
    )),
    Case("two vacancies in a row", TREE, _without("kasub", "kabid"), (("staff", D, ("kadis",)),)),
    Case("the supervisor's post vacant above: escalation skips it", TREE, _without("kabid"), (
        ("staff", D, ("kasub", "kadis")),
    )),
    Case("placement dates are inclusive at both ends", TREE,
         (placed("kadis", "KADIS"), placed("staff", "STAFF"), placed("kasub", "KASUBBID", "2026-11-10", "2026-11-20")), (
        ("staff", date(2026, 11, 9), ("kadis",)),
        ("staff", date(2026, 11, 10), ("kasub", "kadis")),
        ("staff", date(2026, 11, 20), ("kasub", "kadis")),
        ("staff", date(2026, 11, 21), ("kadis",)),
    )),
    Case("a Plt's dates are inclusive too", TREE,
         _without("kasub") + (placed("acting", "KASUBBID", "2026-11-01", "2026-11-10", kind=PLT),), (
        ("staff", date(2026, 11, 10), ("acting", "kabid", "kadis")),
        ("staff", date(2026, 11, 11), ("kabid", "kadis")),
    )),
    Case("the employee's own placement dates decide their post", TREE,
         FULL[:3] + (placed("staff", "STAFF", end="2026-06-30"), placed("staff", "KABID2", "2026-07-01"),
                     placed("kabid2", "KADIS", kind=PLT)), (
        ("staff", date(2026, 6, 30), ("kasub", "kabid", "kadis")),
        # In KABID2 from July: KADIS has a definitive holder, so its Plt is not asked.
        ("staff", date(2026, 7, 1), ("kadis",)),
        ("staff", date(2025, 12, 31), ()),
    )),
    Case("a transfer recorded before the old placement ended counts from its start", TREE,
         FULL[:3] + (placed("staff", "STAFF"), placed("staff", "KABID2", "2026-07-01")), (
        ("staff", date(2026, 6, 30), ("kasub", "kabid", "kadis")),
        ("staff", date(2026, 8, 3), ("kadis",)),
    )),
    Case("a Plt placement is not the employee's own post", TREE,
         (placed("kadis", "KADIS"), placed("staff", "KABID", kind=PLT)), (("staff", D, ()),)),
    Case("nobody supervises themself: a post held only by the employee is skipped", TREE,
         (placed("kadis", "KADIS"), placed("kasub", "KASUBBID"), placed("kasub", "KABID", kind=PLT),
          placed("staff", "STAFF")), (
        ("kasub", D, ("kadis",)),
        # The supervisor is Plt of the post above their own: the level above skips them there.
        ("staff", D, ("kasub", "kadis")),
    )),
    Case("the employee as Plt above their supervisor is skipped", TREE,
         (placed("kadis", "KADIS"), placed("kasub", "KASUBBID"), placed("staff", "STAFF"),
          placed("staff", "KABID", kind=PLT)), (
        ("staff", D, ("kasub", "kadis")),
        ("kasub", D, ("staff", "kadis")),
    )),
    Case("the employee's own older definitive post above: its Plt is not asked", TREE,
         (placed("kadis", "KADIS"), placed("kabid", "KABID"), placed("staff", "KASUBBID"),
          placed("staff", "STAFF", "2026-07-01"), placed("acting", "KASUBBID", kind=PLT)), (
        ("staff", D, ("kabid", "kadis")),
    )),
    # Issue 12's example: a division head acting (Plt) over a section of another division. For the
    # section's staff the line goes on from the section's post: to the head of *that* division.
    Case("Plt over a section of another division: the line continues from the post acted in",
         {"KADIS": None, "BIDANG_A": "KADIS", "BIDANG_B": "KADIS", "SEKSI_B1": "BIDANG_B", "STAF_B1": "SEKSI_B1"},
         (placed("kadis", "KADIS"), placed("kabid_a", "BIDANG_A"), placed("kabid_b", "BIDANG_B"),
          placed("kabid_a", "SEKSI_B1", kind=PLT), placed("staf", "STAF_B1")), (
        ("staf", D, ("kabid_a", "kabid_b", "kadis")),
        ("kabid_a", D, ("kadis",)),  # their own line is their definitive post's
    )),
    Case("Plt of the post above their own: the level above skips them", TREE,
         (placed("kadis", "KADIS"), placed("kabid", "KASUBBID", kind=PLT), placed("kabid", "KABID"),
          placed("staff", "STAFF")), (
        ("staff", D, ("kabid", "kadis")),
    )),
    Case("two holders of one post: the latest start, then the placement id", TREE,
         (placed("kadis", "KADIS"), placed("old", "KASUBBID", "2026-01-01"), placed("new", "KASUBBID", "2026-03-01"),
          placed("p", "KABID", pid="a"), placed("q", "KABID", pid="b"), placed("staff", "STAFF")), (
        ("staff", D, ("new", "q", "kadis")),
    )),
    Case("two Plts of one vacant post: the latest start", TREE,
         _without("kasub") + (placed("plt1", "KASUBBID", "2026-01-01", kind=PLT),
                              placed("plt2", "KASUBBID", "2026-06-01", kind=PLT)), (
        ("staff", D, ("plt2", "kabid", "kadis")),
        ("staff", date(2026, 5, 31), ("plt1", "kabid", "kadis")),
    )),
    Case("a parent whose position event has not arrived ends the walk after its holders", {"STAFF": "KASUBBID"},
         (placed("kasub", "KASUBBID"), placed("staff", "STAFF")), (("staff", D, ("kasub",)),)),
    Case("... and when that unknown post is vacant, nobody is found", {"STAFF": "KASUBBID"},
         (placed("kadis", "KADIS"), placed("staff", "STAFF")), (("staff", D, ()),)),
    Case("a damaged (cyclic) tree ends where it would revisit a post", {"S": "A", "A": "B", "B": "A"},
         (placed("a", "A"), placed("b", "B"), placed("staff", "S")), (
        ("staff", D, ("a", "b")),
        ("a", D, ("b",)),
    )),
)


# -- random org charts (for the property tests) ---------------------------------------------------

@dataclass(frozen=True)
class Chart:
    parents: dict[str, str | None]
    placements: tuple[Holding, ...]
    employees: tuple[str, ...]
    days: tuple[date, ...]


def random_chart(max_posts: int = 9, max_people: int = 8, max_placements: int = 16):
    """A hypothesis strategy of org charts: a forest of posts (now and then a parent whose own
    row is missing), people placed definitively and as Plt with overlapping dates, vacancies,
    transfers recorded before the old placement ended, several holders of one post; and the
    days to ask about. (Hypothesis is imported here only, so that services never load it.)"""
    from hypothesis import strategies as st

    first = date(2026, 1, 1)
    offsets = st.sampled_from([0, 20, 45, 60, 90])

    @st.composite
    def charts(draw) -> Chart:
        n_posts = draw(st.integers(1, max_posts))
        posts = [f"P{i}" for i in range(n_posts)]
        parents: dict[str, str | None] = {}
        for i, post in enumerate(posts):
            # Mostly under one of the last few posts, so that trees are deep as well as wide.
            parent = draw(st.one_of(st.none(), st.sampled_from(posts[max(0, i - 3):i]))) if i else None
            if draw(st.integers(0, 19)) == 0:
                parent = "MISSING"  # a parent whose position event has not arrived
            parents[post] = parent
        people = [f"e{i}" for i in range(draw(st.integers(2, max_people)))]
        placements: list[Holding] = []

        def place(employee: str, post: str, kind: str, start: int = 0, length: int | None = None) -> None:
            placements.append(Holding(f"pl{len(placements):02d}", employee, post, kind,
                                      date.fromordinal(first.toordinal() + start),
                                      None if length is None else date.fromordinal(first.toordinal() + start + length)))

        # Each post: a definitive holder, or vacant — and a vacant post often has a Plt, usually
        # somebody with a post of their own elsewhere (the case issue 12 found).
        for post in posts:
            if draw(st.integers(0, 9)) < 6:
                place(draw(st.sampled_from(people)), post, DEFINITIVE)
            elif draw(st.booleans()):
                placed_ones = sorted({h.employee_id for h in placements}) or people
                place(draw(st.sampled_from(placed_ones if draw(st.integers(0, 3)) else people)), post, PLT)
        # Then changes over time: transfers, acting spells, placements that end, overlaps.
        for _ in range(draw(st.integers(0, max_placements // 2))):
            place(draw(st.sampled_from(people)), draw(st.sampled_from(posts + ["MISSING"])),
                  draw(st.sampled_from([DEFINITIVE, DEFINITIVE, PLT])), draw(offsets),
                  draw(st.one_of(st.none(), st.sampled_from([0, 19, 30, 59]))))
        days = tuple(sorted({date.fromordinal(first.toordinal() + draw(st.sampled_from([0, 19, 20, 45, 50, 89, 100])))
                             for _ in range(draw(st.integers(1, 3)))}))
        return Chart(parents, tuple(placements), tuple(people), days)

    return charts()

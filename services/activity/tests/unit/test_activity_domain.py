from datetime import date, time, timedelta

import pytest

from ekinerja_common.errors import Conflict, ValidationFailed
from activity import domain
from activity.domain import Draft, Duty, Facts, Placement, EntryRules, Slot

TODAY = date(2026, 11, 27)
POS, OTHER_POS = "pos-1", "pos-2"
DUTY = Duty("d-1", POS, "Menyusun laporan", "laporan", norma_waktu=30)
HELD = (Placement(POS, date(2026, 1, 1), None),)


def draft(**kw) -> Draft:
    base = dict(date=TODAY, start_time=time(8, 0), end_time=time(10, 0), duty_id="d-1", volume=2,
                description="Laporan bulanan")
    return Draft(**{**base, **kw})


def facts(**kw) -> Facts:
    return Facts(**{"duty": DUTY, "placements": HELD, **kw})


def assess(d=None, f=None, today=TODAY, policy=EntryRules()):
    return domain.assess(d or draft(), f or facts(), today, policy)


# -- credited minutes -------------------------------------------------------------------------

@pytest.mark.parametrize("volume, norma, start, end, expected", [
    (2, 30, time(8, 0), time(10, 0), 60),     # standard time below the time spent
    (5, 30, time(8, 0), time(10, 0), 120),    # capped at the time spent
    (4, 30, time(8, 0), time(10, 0), 120),    # exactly equal
    (1, 45, time(13, 15), time(13, 40), 25),  # minutes, not hours
])
def test_credited_minutes_is_the_smaller_of_standard_and_spent(volume, norma, start, end, expected):
    assert domain.credited_minutes(volume, norma, start, end) == expected


def test_a_valid_entry_has_its_credit_and_no_errors():
    result = assess()
    assert result.valid and result.credited_minutes == 60 and result.errors == {}
    result.raise_if_invalid()


# -- times and volume -------------------------------------------------------------------------

@pytest.mark.parametrize("end", [time(8, 0), time(7, 59)])
def test_end_must_be_after_start(end):
    result = assess(draft(end_time=end))
    assert set(result.errors) == {"end_time"} and result.credited_minutes is None
    assert result.errors["end_time"].id and result.errors["end_time"].en


@pytest.mark.parametrize("volume", [0, -3])
def test_volume_must_be_positive(volume):
    assert set(assess(draft(volume=volume)).errors) == {"volume"}


def test_description_is_required():
    assert set(assess(draft(description="  ")).errors) == {"description"}


# -- the date ---------------------------------------------------------------------------------

def test_future_date_is_refused():
    result = assess(draft(date=TODAY + timedelta(days=1)), facts(placements=(Placement(POS, date(2026, 1, 1), None),)))
    assert set(result.errors) == {"date"}
    assert "masa depan" in result.errors["date"].id and "future" in result.errors["date"].en


def test_locked_period_is_refused():
    result = assess(f=facts(period_locked=True))
    assert set(result.errors) == {"date"} and "locked" in result.errors["date"].en


@pytest.mark.parametrize("days_ago, ok", [(0, True), (5, True), (6, False), (40, False)])
def test_submission_window_default_five_days_inclusive(days_ago, ok):
    result = assess(draft(date=TODAY - timedelta(days=days_ago)))
    assert result.valid is ok
    if not ok:
        assert set(result.errors) == {"date"} and "5" in result.errors["date"].en


def test_submission_window_is_policy():
    d = draft(date=TODAY - timedelta(days=3))
    assert not assess(d, policy=EntryRules(submission_window_days=2)).valid
    assert assess(d, policy=EntryRules(submission_window_days=3)).valid


def test_the_years_stored_window_wins_over_the_default():
    d = draft(date=TODAY - timedelta(days=8))
    assert not assess(d).valid
    assert assess(d, facts(submission_window_days=10)).valid
    refused = assess(draft(date=TODAY - timedelta(days=3)), facts(submission_window_days=2))
    assert set(refused.errors) == {"date"} and "(2 hari" in refused.errors["date"].id


@pytest.mark.parametrize("until, ok", [(TODAY, True), (TODAY + timedelta(days=3), True), (TODAY - timedelta(days=1), False)])
def test_a_late_entry_permission_opens_a_closed_date_until_it_expires(until, ok):
    d = draft(date=TODAY - timedelta(days=30))
    result = assess(d, facts(late_entry_until=until))
    assert result.valid is ok
    if not ok:
        assert "izin pengisian susulan" in result.errors["date"].id and "late-entry permission" in result.errors["date"].en


def test_a_permission_waives_the_window_only():
    # Not a locked month, not a future day, not another rule.
    old = TODAY - timedelta(days=30)
    assert set(assess(draft(date=old), facts(late_entry_until=TODAY, period_locked=True)).errors) == {"date"}
    assert set(assess(draft(date=TODAY + timedelta(days=1)), facts(late_entry_until=TODAY)).errors) == {"date"}
    assert set(assess(draft(date=old, volume=0), facts(late_entry_until=TODAY)).errors) == {"volume"}


# -- the duty ---------------------------------------------------------------------------------

def test_unknown_duty_is_refused_and_no_credit_is_computed():
    result = assess(f=facts(duty=None))
    assert set(result.errors) == {"duty_id"} and result.credited_minutes is None


def test_retired_duty_is_refused():
    result = assess(f=facts(duty=Duty("d-1", POS, "x", "x", 30, retired=True)))
    assert set(result.errors) == {"duty_id"} and "retired" in result.errors["duty_id"].en


def test_duty_of_another_position_is_refused():
    result = assess(f=facts(duty=Duty("d-2", OTHER_POS, "x", "x", 30)))
    assert set(result.errors) == {"duty_id"} and "position" in result.errors["duty_id"].en


def test_duty_counts_only_while_the_placement_lasts():
    ended = (Placement(POS, date(2026, 1, 1), TODAY - timedelta(days=2)),)
    assert assess(draft(date=TODAY - timedelta(days=2)), facts(placements=ended)).valid  # end date inclusive
    assert set(assess(draft(date=TODAY - timedelta(days=1)), facts(placements=ended)).errors) == {"duty_id"}
    later = (Placement(POS, TODAY + timedelta(days=1), None),)
    assert set(assess(f=facts(placements=later)).errors) == {"duty_id"}


def test_duty_of_a_plt_post_counts():
    plt_duty = Duty("d-2", OTHER_POS, "Tugas Plt", "dokumen", 60)
    both = HELD + (Placement(OTHER_POS, TODAY - timedelta(days=10), TODAY + timedelta(days=20), "plt"),)
    assert assess(f=facts(duty=plt_duty, placements=both)).valid


def test_positions_on():
    ps = [Placement("a", date(2026, 1, 1), date(2026, 6, 30)), Placement("b", date(2026, 7, 1), None),
          Placement("c", date(2026, 3, 1), date(2026, 3, 31), "plt")]
    assert domain.positions_on(ps, date(2026, 3, 15)) == {"a", "c"}
    assert domain.positions_on(ps, date(2026, 6, 30)) == {"a"}
    assert domain.positions_on(ps, date(2026, 7, 1)) == {"b"}
    assert domain.positions_on(ps, date(2025, 12, 31)) == set()


# -- the rest of the day ----------------------------------------------------------------------

@pytest.mark.parametrize("other, clash", [
    (Slot(time(9, 0), time(11, 0), 60), True),    # overlaps the end
    (Slot(time(7, 0), time(8, 30), 60), True),    # overlaps the start
    (Slot(time(8, 30), time(9, 0), 30), True),    # inside
    (Slot(time(7, 0), time(12, 0), 60), True),    # around
    (Slot(time(10, 0), time(11, 0), 60), False),  # touching after
    (Slot(time(7, 0), time(8, 0), 60), False),    # touching before
])
def test_no_overlap_with_other_live_entries(other, clash):
    result = assess(f=facts(others=(other,)))
    assert ("start_time" in result.errors) is clash
    if clash:
        assert other.start_time.strftime("%H:%M") in result.errors["start_time"].en


def test_daily_ceiling_counts_other_entries():
    others = (Slot(time(6, 0), time(8, 0), 390),)
    assert assess(f=facts(others=others)).valid                      # 390 + 60 = 450: at the ceiling
    over = assess(draft(end_time=time(9, 1), volume=3), facts(others=others))  # 390 + min(90, 61)
    assert set(over.errors) == {"credited_minutes"} and "451" in over.errors["credited_minutes"].en
    assert over.credited_minutes == 61


def test_daily_ceiling_is_policy():
    assert set(assess(policy=EntryRules(daily_ceiling_minutes=59)).errors) == {"credited_minutes"}
    assert assess(policy=EntryRules(daily_ceiling_minutes=60)).valid


def test_every_failing_field_is_listed_at_once():
    result = assess(draft(date=TODAY + timedelta(days=2), end_time=time(7, 0), volume=0, duty_id="x"),
                    facts(duty=None))
    assert set(result.errors) == {"date", "end_time", "volume", "duty_id"}
    with pytest.raises(ValidationFailed) as exc:
        result.raise_if_invalid()
    assert set(exc.value.fields) == {"date", "end_time", "volume", "duty_id"}


# -- policy and states ------------------------------------------------------------------------

def test_policy_defaults_and_overrides():
    assert EntryRules() == EntryRules(submission_window_days=5, daily_ceiling_minutes=450)
    p = EntryRules.from_settings({"ACTIVITY_DAILY_CEILING_MINUTES": "420"})
    assert p == EntryRules(5, 420)
    assert EntryRules.from_settings({}) == EntryRules()


def test_the_submission_window_is_no_setting_any_more():
    # BKD's yearly data (Facts.submission_window_days) decides; a restart with a variable does not.
    assert EntryRules.from_settings({"ACTIVITY_SUBMISSION_WINDOW_DAYS": "40"}).submission_window_days == 5


def test_only_submitted_entries_can_be_withdrawn():
    domain.check_withdrawable("submitted")
    for status in ("approved", "rejected", "returned", "withdrawn"):
        with pytest.raises(Conflict):
            domain.check_withdrawable(status)

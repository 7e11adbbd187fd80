"""The regency's calendar day: every date the users see or the rules compare is a WIB date
(Asia/Jakarta, DOMAIN.md), whatever the machine's time zone. The one definition of "today" every
service uses (issue 12: there were four).

Tests move the day by replacing :func:`today` (``monkeypatch.setattr(clock, "today", ...)``);
callers therefore always look it up as ``clock.today()`` at call time, never bind it at import.
A service may also take a ``today_fn`` where a test needs to steer one app only (approval).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def _wib() -> tzinfo:
    try:
        return ZoneInfo("Asia/Jakarta")
    except ZoneInfoNotFoundError:
        # Slim containers may lack the tz database; WIB has had no daylight saving since 1964,
        # so the fixed offset gives the same answer.
        return timezone(timedelta(hours=7), "WIB")


WIB = _wib()


def wib_date(moment: datetime) -> date:
    """The WIB calendar day of an instant (a naive one is UTC, as SQLite hands stored ones back)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(WIB).date()


def today() -> date:
    """Today in WIB."""
    return wib_date(datetime.now(timezone.utc))

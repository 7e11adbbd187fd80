"""Local time of the regency: deadlines, windows and board appointments are WIB dates (DOMAIN.md)."""
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


def today() -> date:
    return datetime.now(WIB).date()


def wib_date(moment: datetime) -> date:
    """The WIB calendar day of a stored instant (SQLite hands back naive UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(WIB).date()

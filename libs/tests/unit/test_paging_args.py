"""The paging contract's query string: limits, cursors, pages, and every bad one listed at once."""
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from ekinerja_common.errors import ValidationFailed
from ekinerja_common.paging import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, encode_cursor, page_request


def test_defaults():
    req = page_request({})
    assert (req.limit, req.after, req.page) == (DEFAULT_LIMIT, None, None) == (50, None, None)


def test_limit_bounds_and_page():
    assert page_request({"limit": "500", "page": "3"}).limit == MAX_LIMIT
    assert page_request({"limit": "1", "page": "3"}).page == 3


def test_every_bad_argument_is_listed_at_once():
    with pytest.raises(ValidationFailed) as exc:
        page_request({"limit": "501", "page": "0", "cursor": "%%%"})
    fields = exc.value.fields
    assert set(fields) == {"limit", "page", "cursor"}
    assert fields["limit"].id == "Harus 1–500" and fields["limit"].en == "Must be 1-500"
    with pytest.raises(ValidationFailed) as exc:
        page_request({"limit": "lima"})
    assert exc.value.fields["limit"].id == "Harus berupa bilangan bulat"


def test_cursor_and_page_together_are_refused():
    cursor = encode_cursor(("Budi", "id-1"))
    with pytest.raises(ValidationFailed) as exc:
        page_request({"cursor": cursor, "page": "2"})
    assert set(exc.value.fields) == {"page"}


def test_cursor_round_trip_keeps_types():
    key = ("Budi Santoso", 7, date(2026, 11, 2), datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc), Decimal("1.25"), None)
    assert decode_cursor(encode_cursor(key)) == key
    assert page_request({"cursor": encode_cursor(key)}).after == key


@pytest.mark.parametrize("bad", ["", "e30", "W10", "bm90IGpzb24", "W3sieCI6MX1d", "x" * 3000])
def test_foreign_cursors_are_not_ours(bad):
    # "" is no cursor at all; {} / [] / "not json" / [{"x":1}] / far too long are not cursors.
    if bad == "":
        assert page_request({"cursor": bad}).after is None
    else:
        assert decode_cursor(bad) is None


def test_problems_join_the_callers_own():
    from ekinerja_common.errors import FieldErrors

    errors = FieldErrors()
    errors.add("status", "Status tidak dikenal", "Unknown status")
    req = page_request({"limit": "0"}, errors=errors)  # does not raise: the caller does, once
    assert set(errors.errors) == {"status", "limit"} and req.limit == 50

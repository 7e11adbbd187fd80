"""Server-side paging of list endpoints, the one way every service pages a list.

The contract (docs/api.md "Paging"): ``?limit=`` (default 50, at most 500) and either ``?cursor=``
(opaque, from the previous answer's ``next_cursor``) or ``?page=`` (1-based); the answer is
``{"items": [...], "total": n, "next_cursor": str | null}``.

Why keyset (cursor) paging and not only offsets: an offset makes the database read and throw away
every row before the page, so the 200th page of 10,000 employees costs forty times the first; a
cursor names the last row shown (its sort key) and the next page starts right after it through the
index, whatever its depth. ``page=`` stays for "jump to page 7" and for totals shown as pages.

Plain SQLAlchemy, no Flask: a view passes ``request.args`` to :func:`page_request` and the select
(filters and authorization already in its WHERE clause) to :func:`paginate`. A cursor only
positions within the caller's own filtered select, so a forged cursor can never widen what the
caller sees; a malformed one is a 422 on the field ``cursor``.
"""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable, Mapping, Sequence

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from .errors import FieldErrors, Text, ValidationFailed

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass(frozen=True)
class PageRequest:
    limit: int = DEFAULT_LIMIT
    after: tuple | None = None  # the sort key of the last row already shown (from the cursor)
    page: int | None = None


@dataclass(frozen=True)
class SortKey:
    """One column (or expression) of the order. The last key of an order must be unique (an id),
    so that every row has its own place; keys must not be NULL (wrap them in coalesce())."""

    column: Any
    descending: bool = False


@dataclass(frozen=True)
class Page:
    items: list
    total: int
    next_cursor: str | None

    def as_json(self, to_json: Callable[[Any], dict]) -> dict:
        return {"items": [to_json(i) for i in self.items], "total": self.total, "next_cursor": self.next_cursor}


def _int_arg(errors: FieldErrors, args: Mapping[str, str], name: str, low: int, high: int | None) -> int | None:
    raw = args.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        errors.add(name, "Harus berupa bilangan bulat", "Must be a whole number")
        return None
    if value < low or (high is not None and value > high):
        span_id = f"{low}–{high}" if high is not None else f"≥ {low}"
        errors.add(name, f"Harus {span_id}", f"Must be {span_id.replace('–', '-')}")
        return None
    return value


def page_request(args: Mapping[str, str], default_limit: int = DEFAULT_LIMIT,
                 errors: FieldErrors | None = None) -> PageRequest:
    """``limit``, ``cursor`` and ``page`` of a query string; every bad one is listed at once.
    With ``errors`` (the caller's own filters' problems) the problems are added there and the
    caller raises, so a request with bad filters and a bad limit hears of both."""
    own = errors is None
    errors = errors if errors is not None else FieldErrors()
    limit = _int_arg(errors, args, "limit", 1, MAX_LIMIT)
    page = _int_arg(errors, args, "page", 1, None)
    after = None
    raw_cursor = args.get("cursor") or None
    if raw_cursor is not None:
        after = decode_cursor(raw_cursor)
        if after is None:
            errors.add("cursor", "Penanda halaman tidak valid; muat ulang daftar dari awal",
                       "Invalid cursor; reload the list from the start")
        if page is not None:
            errors.add("page", "Pakai cursor atau page, tidak keduanya", "Use either cursor or page, not both")
    if own:
        errors.raise_if_any()
    return PageRequest(limit=limit or default_limit, after=after, page=page)


# -- the cursor: the last row's sort key, as tagged JSON in base64url ----------------------------

def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"n": str(value)}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _typed(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        (tag, raw), = value.items()
        if tag == "t":
            return datetime.fromisoformat(raw)
        if tag == "d":
            return date.fromisoformat(raw)
        if tag == "n":
            return Decimal(raw)
        raise ValueError(tag)
    if isinstance(value, (list, dict)):
        raise ValueError("nested")
    return value


def encode_cursor(key: Sequence[Any]) -> str:
    raw = json.dumps([_plain(v) for v in key], separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple | None:
    """The key a cursor names, or None when it is not one of ours."""
    if len(cursor) > 2000:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or not values:
            return None
        return tuple(_typed(v) for v in values)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        return None


# -- the query ------------------------------------------------------------------------------------

def _after(order: Sequence[SortKey], key: tuple):
    """Rows strictly after ``key`` in ``order``: (k1 > v1) or (k1 = v1 and k2 > v2) or ... —
    spelled out rather than as a row-value comparison so that mixed directions work too."""
    alternatives = []
    for i, sk in enumerate(order):
        equal = [order[j].column == key[j] for j in range(i)]
        beyond = sk.column < key[i] if sk.descending else sk.column > key[i]
        alternatives.append(and_(*equal, beyond))
    return or_(*alternatives)


def paginate(session: Session, stmt: Select, order: Sequence[SortKey], req: PageRequest) -> Page:
    """One page of ``stmt`` (its WHERE clause holds the filters and who may see what) in ``order``.
    Items are what the select yields: the entity for a one-entity select, else the row."""
    if not order:
        raise ValueError("paginate needs an order ending in a unique key")
    width = len(stmt.column_descriptions)  # entities and columns the caller selected
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    query = stmt.order_by(None).order_by(*(sk.column.desc() if sk.descending else sk.column.asc() for sk in order))
    if req.after is not None:
        if len(req.after) != len(order):
            # A cursor of another list (or another order): start again rather than guess.
            raise ValidationFailed({"cursor": Text("Penanda halaman bukan untuk daftar ini; muat ulang daftar dari awal",
                                                   "The cursor is not of this list; reload it from the start")})
        query = query.where(_after(order, req.after))
    elif req.page is not None:
        query = query.offset((req.page - 1) * req.limit)
    # Labelled, or SQLAlchemy folds a key column that the select already yields into that one.
    query = query.add_columns(*(sk.column.label(f"_page_key_{i}") for i, sk in enumerate(order))).limit(req.limit + 1)
    rows = session.execute(query).all()
    more = len(rows) > req.limit
    rows = rows[:req.limit]
    items = [row[0] if width == 1 else tuple(row[:width]) for row in rows]
    next_cursor = encode_cursor(tuple(rows[-1][width:])) if more and rows else None
    return Page(items, total, next_cursor)

"""Keyset paging against real PostgreSQL and SQLite: walking every page by cursor visits each
row exactly once in order, ties included; pages by number agree; the caller's filter bounds it."""
from __future__ import annotations

import random

import pytest
from sqlalchemy import Integer, String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ekinerja_common.db import make_session_factory
from ekinerja_common.errors import ValidationFailed
from ekinerja_common.paging import PageRequest, SortKey, encode_cursor, page_request, paginate
from ekinerja_common.testing import fresh_database


class Base(DeclarativeBase):
    pass


class Person(Base):
    __tablename__ = "people"
    id: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    unit: Mapped[int] = mapped_column(Integer)


@pytest.fixture(params=["postgresql", "sqlite"])
def factory(request, tmp_path):
    def filled(url):
        engine = create_engine(url)
        Base.metadata.create_all(engine)
        rng = random.Random(7)
        names = ["Budi", "Siti", "Agus", "Dewi", "Rina"]  # many ties on the first key
        with make_session_factory(engine)() as s:
            s.add_all(Person(id=f"p{i:04d}", name=rng.choice(names), unit=i % 3) for i in range(1, 238))
            s.commit()
        return engine

    if request.param == "sqlite":
        engine = filled(f"sqlite:///{tmp_path}/p.db")
        yield make_session_factory(engine)
        engine.dispose()
    else:
        with fresh_database("paging") as url:
            engine = filled(url)
            yield make_session_factory(engine)
            engine.dispose()


ORDER = [SortKey(Person.name), SortKey(Person.id)]


def walk(s, stmt, order, limit):
    seen, cursor, totals = [], None, set()
    while True:
        args = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
        page = paginate(s, stmt, order, page_request(args))
        totals.add(page.total)
        assert len(page.items) <= limit
        seen += page.items
        cursor = page.next_cursor
        if cursor is None:
            return seen, totals


def test_cursor_walk_visits_every_row_once_in_order(factory):
    with factory() as s:
        everyone = s.scalars(select(Person).order_by(Person.name, Person.id)).all()
        seen, totals = walk(s, select(Person), ORDER, 20)
        assert [p.id for p in seen] == [p.id for p in everyone]
        assert totals == {237}


def test_descending_and_mixed_order(factory):
    with factory() as s:
        order = [SortKey(Person.name, descending=True), SortKey(Person.id)]
        expected = s.scalars(select(Person).order_by(Person.name.desc(), Person.id)).all()
        seen, _ = walk(s, select(Person), order, 33)
        assert [p.id for p in seen] == [p.id for p in expected]


def test_filter_bounds_the_pages_and_the_total(factory):
    with factory() as s:
        stmt = select(Person).where(Person.unit == 1)
        seen, totals = walk(s, stmt, ORDER, 25)
        assert {p.unit for p in seen} == {1} and totals == {len(seen)} == {79}
        # A cursor made up to point anywhere still only walks the caller's rows.
        forged = paginate(s, stmt, ORDER, PageRequest(limit=500, after=("A", "p0000")))
        assert {p.unit for p in forged.items} == {1}


def test_pages_by_number_agree_with_the_cursor(factory):
    with factory() as s:
        seen, _ = walk(s, select(Person), ORDER, 50)
        by_page = []
        for n in range(1, 6):
            page = paginate(s, select(Person), ORDER, page_request({"limit": "50", "page": str(n)}))
            by_page += page.items
        assert [p.id for p in by_page] == [p.id for p in seen]
        last = paginate(s, select(Person), ORDER, page_request({"limit": "50", "page": "5"}))
        assert len(last.items) == 37 and last.next_cursor is None
        assert paginate(s, select(Person), ORDER, page_request({"page": "9"})).items == []


def test_multi_entity_rows_and_json(factory):
    with factory() as s:
        page = paginate(s, select(Person.id, Person.name), ORDER, PageRequest(limit=2))
        assert page.items[0] == tuple(page.items[0]) and len(page.items[0]) == 2
        body = page.as_json(lambda row: {"id": row[0]})
        assert set(body) == {"items", "total", "next_cursor"} and body["total"] == 237


def test_a_cursor_of_another_order_is_refused(factory):
    with factory() as s:
        with pytest.raises(ValidationFailed) as exc:
            paginate(s, select(Person), ORDER, page_request({"cursor": encode_cursor(("x",))}))
        assert set(exc.value.fields) == {"cursor"}

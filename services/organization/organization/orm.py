"""Tables of the organization database (SQLAlchemy 2, typed)."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, DateTime, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ekinerja_common.envelope import utcnow
from ekinerja_common.outbox import add_messaging_tables


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    """This service's own metadata: one database per service, never shared."""


class Unit(Base):
    __tablename__ = "units"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("units.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Position(Base):
    __tablename__ = "positions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    eselon: Mapped[str | None] = mapped_column(String(10))
    kelas_jabatan: Mapped[int] = mapped_column(Integer)
    factor: Mapped[Decimal] = mapped_column(Numeric(6, 4), default=Decimal("1"))
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("positions.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Duty(Base):
    __tablename__ = "duties"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    position_id: Mapped[str] = mapped_column(ForeignKey("positions.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    output_unit: Mapped[str] = mapped_column(String(50))
    norma_waktu: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="published")
    version: Mapped[int] = mapped_column(Integer, default=1)


class Placement(Base):
    """Read model of identity's placements, for headcount per position."""

    __tablename__ = "placements"
    placement_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    employee_id: Mapped[str] = mapped_column(String(36), index=True)
    position_id: Mapped[str] = mapped_column(String(36), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(12))
    version: Mapped[int] = mapped_column(Integer)


add_messaging_tables(Base.metadata)

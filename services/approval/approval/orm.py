"""Tables of the approval database (SQLAlchemy 2, typed).

Employees, positions and placements are read models of other services' events; none carries a
foreign key, because events of different aggregates arrive in any order."""
from __future__ import annotations

import uuid
from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import Boolean, Date, DateTime, Index, Integer, Numeric, String, Text, Time
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ekinerja_common.envelope import utcnow
from ekinerja_common.outbox import add_messaging_tables


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    """This service's own metadata: one database per service, never shared."""


class Employee(Base):
    """Read model of identity's employees: the name and NIP shown in the queue."""

    __tablename__ = "employees"
    employee_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nip: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(200))
    employee_kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10))
    golongan: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer)


class Position(Base):
    """Read model of organization's positions: the parent links the supervisor walk follows."""

    __tablename__ = "positions"
    position_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    code: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    kelas_jabatan: Mapped[int] = mapped_column(Integer)
    parent_id: Mapped[str | None] = mapped_column(String(36), index=True)
    unit_id: Mapped[str] = mapped_column(String(36))
    factor: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    version: Mapped[int] = mapped_column(Integer)


class Placement(Base):
    """Read model of identity's placements (effective-dated; end_date inclusive, None = open)."""

    __tablename__ = "placements"
    __table_args__ = (
        Index("ix_placements_position_dates", "position_id", "start_date"),
        Index("ix_placements_employee_dates", "employee_id", "start_date"),
    )
    placement_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    employee_id: Mapped[str] = mapped_column(String(36))
    position_id: Mapped[str] = mapped_column(String(36))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(12))
    version: Mapped[int] = mapped_column(Integer)


class ValidationItem(Base):
    """An activity entry awaiting (or having had) its supervisor's decision.

    ``version`` continues the entry's version from activity: a decision increments it, and a
    resubmission after a return arrives with a higher one. The detail columns are empty only for
    a withdrawal that arrived before its submission (kept so the late submission is ignored)."""

    __tablename__ = "validation_items"
    __table_args__ = (
        Index("ix_items_status_employee_date", "status", "employee_id", "date"),
        Index("ix_items_status_date", "status", "date"),  # the queue's hop over pending days
    )
    entry_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    employee_id: Mapped[str] = mapped_column(String(36))
    date: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time | None] = mapped_column(Time)
    end_time: Mapped[time | None] = mapped_column(Time)
    duty_id: Mapped[str | None] = mapped_column(String(36))
    duty_description: Mapped[str | None] = mapped_column(Text)
    volume: Mapped[int | None] = mapped_column(Integer)
    output_unit: Mapped[str | None] = mapped_column(String(50))
    credited_minutes: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))
    version: Mapped[int] = mapped_column(Integer)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Decision(Base):
    """Audit of one supervisor decision. Rows are only ever inserted, never edited."""

    __tablename__ = "decisions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    entry_id: Mapped[str] = mapped_column(String(36), index=True)
    decision: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(36), index=True)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    request_id: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)


class LockedPeriod(Base):
    """Months BPKAD locked (tpp.period_locked): no decision may change them any more."""

    __tablename__ = "locked_periods"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    month: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    locked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_by: Mapped[str] = mapped_column(String(100))


add_messaging_tables(Base.metadata)

"""Tables of the activity database (SQLAlchemy 2, typed)."""
from __future__ import annotations

import uuid
from datetime import date, datetime, time

from sqlalchemy import Date, DateTime, Index, Integer, String, Text, Time
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ekinerja_common.envelope import utcnow
from ekinerja_common.outbox import add_messaging_tables


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    """This service's own metadata: one database per service, never shared."""


class Entry(Base):
    """A daily activity entry. Duty details are copied in at submission, so a later change or
    retirement of the duty never rewrites what the employee claimed."""

    __tablename__ = "entries"
    __table_args__ = (Index("ix_entries_employee_date", "employee_id", "date"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    employee_id: Mapped[str] = mapped_column(String(36))
    date: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    duty_id: Mapped[str] = mapped_column(String(36))
    duty_description: Mapped[str] = mapped_column(Text)
    output_unit: Mapped[str] = mapped_column(String(50))
    norma_waktu: Mapped[int] = mapped_column(Integer)
    volume: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    credited_minutes: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="submitted")
    reason: Mapped[str | None] = mapped_column(Text)
    # The approval service's version of its decision: a late, older decision must not undo a newer one.
    decision_version: Mapped[int] = mapped_column(Integer, default=0)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EmployeeLock(Base):
    """One row per employee, locked for the length of a submission: two concurrent submissions of
    the same employee then check overlap and the daily ceiling one after the other."""

    __tablename__ = "employee_locks"
    employee_id: Mapped[str] = mapped_column(String(36), primary_key=True)


class Placement(Base):
    """Read model of identity's placements: which posts an employee holds on which dates."""

    __tablename__ = "placements"
    placement_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    employee_id: Mapped[str] = mapped_column(String(36), index=True)
    position_id: Mapped[str] = mapped_column(String(36))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(12))
    version: Mapped[int] = mapped_column(Integer)


class Duty(Base):
    """Read model of organization's duties. A retirement may arrive before the publication it
    ends, so the details are optional until the publication comes."""

    __tablename__ = "duties"
    duty_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    position_id: Mapped[str] = mapped_column(String(36), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    output_unit: Mapped[str | None] = mapped_column(String(50))
    norma_waktu: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(Integer)


class ClosedPeriod(Base):
    """A month payroll has locked: no entry may be added to it any more."""

    __tablename__ = "closed_periods"
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    locked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_by: Mapped[str] = mapped_column(String(100))


add_messaging_tables(Base.metadata)

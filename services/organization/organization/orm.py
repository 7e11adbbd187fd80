"""Tables of the organization database (SQLAlchemy 2, typed)."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint, true
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ekinerja_common.envelope import utcnow
from ekinerja_common.auth_store import add_auth_tables
from ekinerja_common.idempotency import add_idempotency_table
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
    # A dissolved unit stays (history and old positions refer to it) but takes nothing new.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    dissolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Raised on every change published as unit.updated, so consumers can ignore a late event.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


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
    # The date the current version took effect (its row in position_history has the same).
    valid_from: Mapped[date | None] = mapped_column(Date)
    # Abolished posts are never deleted: placements, entries and history still name them.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class PositionHistory(Base):
    """Every version of a position with the day it took effect; only ever inserted. The row of
    the highest version is the position's current state."""

    __tablename__ = "position_history"
    __table_args__ = (UniqueConstraint("position_id", "version"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    position_id: Mapped[str] = mapped_column(ForeignKey("positions.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[date] = mapped_column(Date)
    code: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    eselon: Mapped[str | None] = mapped_column(String(10))
    kelas_jabatan: Mapped[int] = mapped_column(Integer)
    factor: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    unit_id: Mapped[str] = mapped_column(String(36))
    parent_id: Mapped[str | None] = mapped_column(String(36))
    active: Mapped[bool] = mapped_column(Boolean)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recorded_by: Mapped[str | None] = mapped_column(String(36))


class Duty(Base):
    __tablename__ = "duties"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    position_id: Mapped[str] = mapped_column(ForeignKey("positions.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    output_unit: Mapped[str] = mapped_column(String(50))
    norma_waktu: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="published")
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Output units per year, for the workload analysis (ABK); null until job analysis sets it.
    yearly_volume: Mapped[int | None] = mapped_column(Integer)


class Placement(Base):
    """Read model of identity's placements, for headcount per position."""

    __tablename__ = "placements"
    __table_args__ = (Index("ix_placements_position_dates", "position_id", "start_date", "end_date"),)
    placement_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    employee_id: Mapped[str] = mapped_column(String(36), index=True)
    position_id: Mapped[str] = mapped_column(String(36), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(12))
    version: Mapped[int] = mapped_column(Integer)


class AbkPolicy(Base):
    """The yearly figure of the workload analysis that is policy data (DOMAIN.md): effective
    working minutes per year. A year without a row uses the default."""

    __tablename__ = "abk_policies"
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    effective_minutes_per_year: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(36))


class AuditRecord(Base):
    """Who changed which part of the structure, when, in which request, and the record before and
    after; written in the same transaction as the change. Append-only: the database refuses UPDATE
    and DELETE (migration 0004)."""

    __tablename__ = "audit_records"
    __table_args__ = (Index("ix_audit_object", "object_type", "object_id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor_account_id: Mapped[str | None] = mapped_column(String(36))
    action: Mapped[str] = mapped_column(String(50))
    object_type: Mapped[str] = mapped_column(String(30))
    object_id: Mapped[str] = mapped_column(String(36))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    request_id: Mapped[str | None] = mapped_column(String(100))
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)


add_messaging_tables(Base.metadata)
add_idempotency_table(Base.metadata)
add_auth_tables(Base.metadata)  # the last good JWKS and account revocations (auth_store)

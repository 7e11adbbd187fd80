"""Tables of the identity database (SQLAlchemy 2, typed)."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, true
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ekinerja_common.auth import ROLES
from ekinerja_common.envelope import utcnow
from ekinerja_common.idempotency import add_idempotency_table
from ekinerja_common.outbox import add_messaging_tables


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    """This service's own metadata: one database per service, never shared."""


class Employee(Base):
    __tablename__ = "employees"
    # The list is paged by (name, id): the index serves each page from where the last ended.
    __table_args__ = (Index("ix_employees_name_id", "name", "id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    nip: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    employee_kind: Mapped[str] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(4))
    golongan: Mapped[str] = mapped_column(String(6))
    bank_account: Mapped[str | None] = mapped_column(String(20))
    npwp: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Placement(Base):
    """An employee in a position from start_date to end_date (inclusive; null = open). Rows are
    never deleted: the history answers "who held this post on that date"."""

    __tablename__ = "placements"
    __table_args__ = (Index("ix_placements_employee_start", "employee_id", "start_date"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    employee_id: Mapped[str] = mapped_column(ForeignKey("employees.id"))
    # Not a foreign key: positions belong to organization; position_refs only mirrors them.
    position_id: Mapped[str] = mapped_column(String(36), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(12))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PositionRef(Base):
    """Read model of organization's positions, fed by position.created/updated: a placement may
    only name a position that exists and is not abolished; imports name it by code; the parent
    links tell who supervises whom."""

    __tablename__ = "position_refs"
    position_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    code: Mapped[str] = mapped_column(String(50), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # Null for rows stored before identity kept the parent (the next position event fills it).
    parent_id: Mapped[str | None] = mapped_column(String(36))
    kind: Mapped[str | None] = mapped_column(String(20))
    # The post's unit, for BKD's "employees of this unit" list; null for rows stored before
    # identity kept it (the next position event fills it).
    unit_id: Mapped[str | None] = mapped_column(String(36), index=True)
    # False once organization abolished the post: nobody may be placed there any more.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    version: Mapped[int] = mapped_column(Integer)


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    # One account per employee; null for service staff without a personnel record (the admin).
    employee_id: Mapped[str | None] = mapped_column(ForeignKey("employees.id"), unique=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Goes up whenever the account's tokens must stop working at once (deactivation, a role taken
    # away, password reset or change); tokens carry it as ``ver`` and older ones are refused.
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    role_rows: Mapped[list[AccountRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def roles(self) -> list[str]:
        names = {r.role for r in self.role_rows}
        return [r for r in ROLES if r in names]


class AccountRole(Base):
    __tablename__ = "account_roles"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)


class RoleGrant(Base):
    """A request to add a role to an account, waiting for the second person (grants.py). Kept
    after the decision: with the audit records it says who asked and who agreed."""

    __tablename__ = "role_grants"
    __table_args__ = (Index("ix_role_grants_pending", "status", "role"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12))  # pending | approved | rejected | cancelled
    requested_by: Mapped[str | None] = mapped_column(String(36))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(36))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AttemptCounter(Base):
    """Failed logins or password changes of one scope (throttle.py): a username from an address,
    a username, an address, an account. ``key`` is a digest of (scope, subject, address)."""

    __tablename__ = "attempt_counters"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    scope: Mapped[str] = mapped_column(String(30))
    # The username (login scopes) or account id: what an administrator's reset clears.
    subject: Mapped[str] = mapped_column(String(100), index=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_failure_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RefreshToken(Base):
    """One opaque refresh token, stored as its SHA-256. Tokens rotated from one login share a
    family, so reuse of a spent one can revoke every token descended from that login."""

    __tablename__ = "refresh_tokens"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_id: Mapped[str] = mapped_column(String(36), index=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SigningKey(Base):
    """An Ed25519 token-signing key. The highest live generation signs; every live key is in
    the JWKS so tokens signed before a rotation stay valid until they expire."""

    __tablename__ = "signing_keys"
    kid: Mapped[str] = mapped_column(String(36), primary_key=True)
    # Unique so that two processes creating "the first key" at once cannot both succeed.
    generation: Mapped[int] = mapped_column(Integer, unique=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditRecord(Base):
    """Who did what to which record, when, in which request, and the record before and after;
    written in the same transaction as the change. Append-only: the database refuses UPDATE and
    DELETE (migration 0004)."""

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
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


add_messaging_tables(Base.metadata)
add_idempotency_table(Base.metadata)

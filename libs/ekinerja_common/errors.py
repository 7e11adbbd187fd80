"""Errors that reach a person: a stable code plus a message in Indonesian and in English.

Domain code raises :class:`DomainError` (plain Python, no Flask); the web layer maps it to
``{"error": {"code", "message", "message_en", "fields"}}`` with the error's HTTP status.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Text:
    """One human message in both languages the users read."""

    id: str
    en: str

    def as_json(self) -> dict[str, str]:
        return {"message": self.id, "message_en": self.en}


class DomainError(Exception):
    """A rule of the domain refused the request. ``status`` is the HTTP status it maps to."""

    status = 422

    def __init__(self, code: str, text: Text, fields: dict[str, Text] | None = None, status: int | None = None):
        super().__init__(f"{code}: {text.en}")
        self.code = code
        self.text = text
        self.fields = dict(fields or {})
        if status is not None:
            self.status = status

    def as_json(self) -> dict:
        return {
            "error": {
                "code": self.code,
                **self.text.as_json(),
                "fields": {name: t.as_json() for name, t in self.fields.items()},
            }
        }


class ValidationFailed(DomainError):
    """Several fields are wrong; every one of them is listed."""

    def __init__(self, fields: dict[str, Text], code: str = "validation_failed"):
        super().__init__(code, Text("Data tidak valid", "Invalid data"), fields)


class NotFound(DomainError):
    status = 404

    def __init__(self, what: Text, code: str = "not_found"):
        super().__init__(code, what)


class Forbidden(DomainError):
    status = 403

    def __init__(self, text: Text | None = None, code: str = "forbidden"):
        super().__init__(code, text or Text("Anda tidak berhak melakukan ini", "You are not allowed to do this"))


class Unauthorized(DomainError):
    status = 401

    def __init__(self, text: Text | None = None, code: str = "unauthorized"):
        super().__init__(code, text or Text("Silakan masuk terlebih dahulu", "Please log in first"))


class Conflict(DomainError):
    status = 409


class TooManyAttempts(DomainError):
    """Slowed down, not refused for good: 429 with ``Retry-After`` and the wait in the message."""

    status = 429

    def __init__(self, retry_after: int, text: Text | None = None, code: str = "too_many_attempts"):
        self.retry_after = max(1, int(retry_after))
        super().__init__(code, text or Text(
            f"Terlalu banyak percobaan; coba lagi dalam {self.retry_after} detik",
            f"Too many attempts; try again in {self.retry_after} seconds"))


class ServiceUnavailable(DomainError):
    """Something the request needs is down for a while (not the caller's fault): 503 with
    ``Retry-After``; the client tries again."""

    status = 503

    def __init__(self, retry_after: int = 5, text: Text | None = None, code: str = "service_unavailable"):
        self.retry_after = max(1, int(retry_after))
        super().__init__(code, text or Text(
            f"Layanan sedang sibuk/terganggu, coba lagi dalam {self.retry_after} detik",
            f"The service is busy or disrupted, try again in {self.retry_after} seconds"))


@dataclass
class FieldErrors:
    """Collects every problem of one input before raising, so the user fixes them all at once."""

    errors: dict[str, Text] = field(default_factory=dict)

    def add(self, name: str, id_text: str, en_text: str) -> None:
        self.errors.setdefault(name, Text(id_text, en_text))

    def raise_if_any(self, code: str = "validation_failed") -> None:
        if self.errors:
            raise ValidationFailed(self.errors, code)


class FieldValueError(DomainError, ValueError):
    """Raise inside a pydantic validator: pydantic only catches ValueError there, and the web
    layer then files this bilingual text under the field being validated."""

    def __init__(self, id_text: str, en_text: str):
        super().__init__("invalid_value", Text(id_text, en_text))


class Unrecoverable(Exception):
    """An incoming event that no retry can cure (damaged or impossible data, not a passing fault):
    raised by an event handler, the consumer dead-letters the message at once, with the reason,
    instead of retrying it; an operator replays it after the fix. Not a :class:`DomainError`: it
    never reaches an HTTP client."""

"""The JSON envelope every event travels in (DESIGN.md §3)."""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Envelope:
    type: str
    source: str
    data: dict[str, Any]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    version: int = 1
    occurred_at: str = field(default_factory=lambda: utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    correlation_id: str | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "id": self.id,
                "type": self.type,
                "version": self.version,
                "occurred_at": self.occurred_at,
                "source": self.source,
                "correlation_id": self.correlation_id,
                "data": self.data,
            },
            separators=(",", ":"),
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, body: bytes | str) -> "Envelope":
        raw = json.loads(body)
        missing = [k for k in ("id", "type", "source", "data") if k not in raw]
        if missing:
            raise ValueError(f"envelope lacks {missing}")
        if not isinstance(raw["data"], dict):
            raise ValueError("envelope data must be an object")
        return cls(
            id=str(raw["id"]),
            type=str(raw["type"]),
            source=str(raw["source"]),
            data=raw["data"],
            version=int(raw.get("version", 1)),
            occurred_at=str(raw.get("occurred_at", "")),
            correlation_id=raw.get("correlation_id"),
        )

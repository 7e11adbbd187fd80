import json

import pytest

from ekinerja_common import events
from ekinerja_common.envelope import Envelope


def test_envelope_round_trip_keeps_every_field():
    env = Envelope(type="duty.retired", source="organization", data={"duty_id": "d", "position_id": "p", "version": 2},
                   correlation_id="req-1")
    back = Envelope.from_json(env.to_json())
    assert back == env
    raw = json.loads(env.to_json())
    assert set(raw) == {"id", "type", "version", "occurred_at", "source", "correlation_id", "data"}
    assert raw["occurred_at"].endswith("Z")


@pytest.mark.parametrize("body", ['{"type": "x"}', '{"id": 1, "type": "x", "source": "s", "data": []}', "not json"])
def test_malformed_envelopes_are_refused(body):
    with pytest.raises(ValueError):
        Envelope.from_json(body)


def test_catalogue_checks_producer_and_fields():
    events.check_event("duty.retired", "organization", {"duty_id": "d", "position_id": "p", "version": 1})
    with pytest.raises(ValueError, match="published by organization"):
        events.check_event("duty.retired", "activity", {"duty_id": "d", "position_id": "p", "version": 1})
    with pytest.raises(ValueError, match="lacks"):
        events.check_event("duty.retired", "organization", {"duty_id": "d"})
    with pytest.raises(ValueError, match="unknown event"):
        events.check_event("duty.eaten", "organization", {})


def test_every_event_has_a_known_producer_and_consumers():
    # (A type may have no consumer yet: tpp.correction_issued is published for the record. Which
    # services consume what is tests/rules/test_subscriptions.py: exactly their handlers.)
    for e in events.CATALOGUE.values():
        assert e.producer in events.SERVICES
        assert set(e.consumers) <= set(events.SERVICES)
        assert e.producer not in e.consumers
        assert "." in e.name


def test_validator_errors_keep_both_languages():
    from pydantic import BaseModel, ValidationError, field_validator

    from ekinerja_common.errors import FieldValueError
    from ekinerja_common.web import validation_error

    class Body(BaseModel):
        reason: str

        @field_validator("reason")
        @classmethod
        def not_blank(cls, v: str) -> str:
            if not v.strip():
                raise FieldValueError("Alasan wajib diisi", "A reason is required")
            return v

    with pytest.raises(ValidationError) as exc:
        Body(reason="  ")
    failed = validation_error(exc.value)
    assert failed.fields["reason"].id == "Alasan wajib diisi" and failed.fields["reason"].en == "A reason is required"

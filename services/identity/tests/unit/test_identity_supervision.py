"""Changing a placement's end: rules without I/O. (Who supervises whom is the shared rule in
``ekinerja_common.supervision``, tested in libs/tests/unit/test_supervision.py.)"""
from datetime import date

import pytest

from ekinerja_common.errors import DomainError, ValidationFailed
from identity import domain
from identity.domain import Span

D = date.fromisoformat


def test_placement_end_rules():
    history = [Span("a", "P1", "definitive", D("2024-01-01"), D("2024-12-31")),
               Span("b", "P2", "definitive", D("2025-01-01"), None),
               Span("c", "P9", "plt", D("2025-02-01"), D("2025-04-30"))]
    domain.plan_end(history, "b", D("2025-06-30"))       # ending the open one
    domain.plan_end(history, "c", D("2025-07-31"))       # extending a Plt
    domain.plan_end(history, "a", D("2024-06-30"))       # shortening a closed one
    with pytest.raises(ValidationFailed) as exc:
        domain.plan_end(history, "b", D("2024-12-31"))
    assert set(exc.value.fields) == {"end_date"}
    with pytest.raises(DomainError) as exc:
        domain.plan_end(history, "a", None)              # reopening would overlap P2
    assert exc.value.code == "overlapping_placement" and set(exc.value.fields) == {"end_date"}

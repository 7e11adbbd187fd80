"""Queue bindings come from the handlers (issue 12: 8 bound types had no handler, e.g. approval
was bound to duty.*, so those messages were consumed and ignored). Each service's queue is bound
to exactly the types its ``inbox.HANDLERS`` handle: no message is routed where nothing handles it,
and none a handler waits for is missing."""
import importlib

import pytest

from ekinerja_common import broker_definitions, events, topology
from ekinerja_common.config import Settings


def handled(service: str) -> set[str]:
    return set(importlib.import_module(f"{service}.inbox").HANDLERS)


def bound(service: str) -> set[str]:
    queue = topology.names(Settings(service=service, database_url="sqlite://"), service)["queue"]
    return {b["routing_key"] for b in broker_definitions.recorded().bindings if b["destination"] == queue}


@pytest.mark.parametrize("service", events.SERVICES)
def test_a_service_s_queue_is_bound_to_exactly_what_it_handles(service):
    assert bound(service) == handled(service)
    assert set(events.consumed_by(service)) == handled(service)


@pytest.mark.parametrize("service", events.SERVICES)
def test_every_handled_type_is_in_the_catalogue_and_not_the_service_s_own(service):
    for name in handled(service):
        assert name in events.CATALOGUE
        assert events.CATALOGUE[name].producer != service

"""Checks for the whole test suite (every service's tests, libs and tests/)."""
from ekinerja_common import events

# Every event any test writes to an outbox is parsed by its catalogue model and written back: the
# JSON must come out as the producer wrote it (the typed contracts do not change the wire format).
events.CHECK_ROUND_TRIP = True

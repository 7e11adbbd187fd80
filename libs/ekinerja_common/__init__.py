"""Shared *mechanisms* of the E-Kinerja services.

Nothing in this package knows any service's domain: it carries settings, the event envelope and
catalogue, the transactional outbox and its relay, the idempotent consumer, JWT verification,
HTTP error mapping, metrics and logging. Each service imports it; it imports no service.
"""

"""No spurious 502 without any fault (issue 9 item 16): an idle keep-alive connection between
the gateway and a service is closed by the gateway, never by the service, so nginx never sends a
request on a connection gunicorn is closing. Requests spaced around gunicorn's old 2 s timeout."""
from __future__ import annotations

import socket
import time

import pytest

pytestmark = pytest.mark.e2e

STAFF_NIP = "199306122019032004"
OLD_GUNICORN_KEEPALIVE = 2.0  # seconds: gunicorn's default, what the services ran with


def http_get(sock: socket.socket, path: str) -> bytes:
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data  # closed by the server
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head


def test_a_service_keeps_an_idle_connection_open_past_the_old_timeout(stack):
    with socket.create_connection(("127.0.0.1", stack.ports.web["organization"]), timeout=10) as sock:
        assert http_get(sock, "/healthz").startswith(b"HTTP/1.1 200")
        time.sleep(OLD_GUNICORN_KEEPALIVE + 1.5)  # idle, as a pooled upstream connection of nginx is
        again = http_get(sock, "/healthz")
        assert again.startswith(b"HTTP/1.1 200"), f"the service closed the idle connection: {again!r}"


def test_posts_spaced_around_the_old_timeout_never_see_a_502(stack, person):
    staff = person(STAFF_NIP)
    statuses = []
    for gap in (1.6, 1.8, 1.9, 2.0, 2.05, 2.1, 2.2, 2.5):
        time.sleep(gap)
        # A POST that changes nothing (the schema refuses it): nginx never retries a POST.
        statuses.append(staff.post("/api/activity/entries/preview", {"date": "bukan tanggal"}).status_code)
    assert statuses == [422] * len(statuses), statuses

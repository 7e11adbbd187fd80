"""ETag / If-None-Match for the reads (every service, no per-view code).

Every successful GET whose body is built in memory (JSON lists, reports, CSV) and at least
``MIN_BYTES`` long gets a strong ETag of its bytes; a request that sends the same value back in
If-None-Match gets ``304 Not Modified`` with no body. The month-end reads that are large and
polled — the employee list, the validation queue, a month's TPP run, the unit tree — cost the
server one hash and the network nothing when unchanged.

The body differs per caller (what each may see), so responses say ``Vary: Authorization`` and,
unless the view chose otherwise, ``Cache-Control: private, no-cache``: a browser may keep a copy
for that user and must ask again each time. Answers to a request carrying a token are
``no-store`` already (the web base: records, runs and bank data must not stay in a browser's disk
cache on a shared office computer), so there the ETag serves clients that keep their own copy in
memory and send If-None-Match themselves. Streamed downloads (files) are left alone.
"""
from __future__ import annotations

from flask import Request, Response

MIN_BYTES = 1024
SKIP_PATHS = {"/metrics", "/healthz", "/readyz"}


def apply(request: Request, response: Response) -> Response:
    if request.method not in ("GET", "HEAD") or response.status_code != 200 or response.direct_passthrough \
            or request.path in SKIP_PATHS or response.is_streamed:
        return response
    if response.calculate_content_length() is None or response.calculate_content_length() < MIN_BYTES:
        return response
    response.add_etag()
    response.vary.add("Authorization")
    if "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "private, no-cache"
    return response.make_conditional(request)

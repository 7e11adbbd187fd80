"""What every service's Flask app has in common: request ids, JSON errors, metrics, health,
OpenAPI, body parsing and the caller's identity. Entry points stay thin: parse, call, map errors.
"""
from __future__ import annotations

import functools
import logging
import time
import uuid
from typing import Annotated, Any, Callable

from flask import Flask, Response, current_app, g, jsonify, request
from flask.json.provider import DefaultJSONProvider
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from . import conditional, metrics
from .auth import Principal, TokenVerifier
from .errors import DomainError, Forbidden, ServiceUnavailable, Text, Unauthorized, ValidationFailed
from .logs import request_id_var

log = logging.getLogger("ekinerja.web")

# Indonesian wording for pydantic's error kinds; the English comes from pydantic itself.
_PYDANTIC_ID = {
    "missing": "Wajib diisi",
    "string_type": "Harus berupa teks",
    "int_type": "Harus berupa bilangan bulat",
    "int_parsing": "Harus berupa bilangan bulat",
    "int_from_float": "Harus berupa bilangan bulat",
    "decimal_parsing": "Harus berupa angka",
    "decimal_type": "Harus berupa angka",
    "bool_type": "Harus benar atau salah",
    "bool_parsing": "Harus benar atau salah",
    "date_type": "Harus berupa tanggal (YYYY-MM-DD)",
    "date_parsing": "Harus berupa tanggal (YYYY-MM-DD)",
    "date_from_datetime_parsing": "Harus berupa tanggal (YYYY-MM-DD)",
    "date_from_datetime_inexact": "Harus berupa tanggal (YYYY-MM-DD)",
    "time_type": "Harus berupa jam (HH:MM)",
    "time_parsing": "Harus berupa jam (HH:MM)",
    "greater_than": "Terlalu kecil",
    "greater_than_equal": "Terlalu kecil",
    "less_than": "Terlalu besar",
    "less_than_equal": "Terlalu besar",
    "string_too_short": "Terlalu pendek",
    "string_too_long": "Terlalu panjang",
    "too_short": "Terlalu sedikit",
    "too_long": "Terlalu banyak",
    "extra_forbidden": "Kolom tidak dikenal",
    "literal_error": "Nilai tidak dikenal",
    "enum": "Nilai tidak dikenal",
    "list_type": "Harus berupa daftar",
    "dict_type": "Harus berupa objek",
    "model_type": "Harus berupa objek",
    "uuid_parsing": "Harus berupa UUID",
    "uuid_type": "Harus berupa UUID",
    "string_pattern_mismatch": "Format tidak sesuai",
}


# No request of the API nests deeper than a few levels (a batch of entries holds objects); a body
# nested deeper is refused before it reaches a parser's or a validator's recursion.
MAX_JSON_DEPTH = 32
# Seconds a client waits before trying again when the database cannot answer (a restart takes a
# few seconds; the pool drops broken connections, so the next try gets a fresh one).
DB_RETRY_AFTER = 5
TOO_DEEP = Text(f"Isi permintaan bersarang terlalu dalam (paling banyak {MAX_JSON_DEPTH} tingkat)",
                f"The request body is nested too deeply (at most {MAX_JSON_DEPTH} levels)")


def json_depth(value: Any) -> int:
    """How deeply lists and objects nest in ``value`` (iterative: no recursion to exhaust)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, dict)):
            deepest = max(deepest, depth)
            if depth > MAX_JSON_DEPTH:
                return depth
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


class BoundedJSONProvider(DefaultJSONProvider):
    """Every JSON body of every service is parsed here (``request.get_json``): one that nests
    deeper than MAX_JSON_DEPTH is a 400 ``json_too_deep``, not a RecursionError and a 500."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise DomainError("json_too_deep", TOO_DEEP, status=400) from None
        if json_depth(value) > MAX_JSON_DEPTH:
            raise DomainError("json_too_deep", TOO_DEEP, status=400)
        return value


# The bound a person needs to correct the value, in pydantic's error context, by error kind.
_BOUNDS = {"greater_than": ("gt", "lebih dari"), "greater_than_equal": ("ge", "paling sedikit"),
           "less_than": ("lt", "kurang dari"), "less_than_equal": ("le", "paling banyak"),
           "string_too_short": ("min_length", "paling sedikit {} karakter"),
           "string_too_long": ("max_length", "paling banyak {} karakter"),
           "too_short": ("min_length", "paling sedikit {} butir"), "too_long": ("max_length", "paling banyak {} butir")}


def _with_bound(text: str, kind: str, ctx: dict) -> str:
    """'Terlalu besar' becomes 'Terlalu besar (paling banyak 1.000.000)': the Indonesian message
    says what is allowed, as pydantic's English one does."""
    key, words = _BOUNDS.get(kind, (None, ""))
    if key is None or key not in ctx:
        return text
    bound = ctx[key]
    shown = f"{bound:,}".replace(",", ".") if isinstance(bound, int) and not isinstance(bound, bool) else str(bound)
    return f"{text} ({words.format(shown) if '{}' in words else f'{words} {shown}'})"


def validation_error(exc: ValidationError) -> ValidationFailed:
    fields: dict[str, Text] = {}
    for err in exc.errors():
        name = ".".join(str(p) for p in err["loc"]) or "body"
        ctx = err.get("ctx") or {}
        if err["type"] == "value_error" and isinstance(ctx.get("error"), DomainError):
            fields.setdefault(name, ctx["error"].text)
            continue
        if err.get("input", ...) is None and err["type"] != "missing":
            # An explicit null for a field that has no "empty" value (e.g. PATCH {"name": null}).
            fields.setdefault(name, Text("Tidak boleh kosong (null)", "Must not be null"))
            continue
        en = err["msg"].removeprefix("Value error, ")
        fields.setdefault(name, Text(_with_bound(_PYDANTIC_ID.get(err["type"], en), err["type"], ctx), en))
    return ValidationFailed(fields)


# A check of the domain's rules on the fields that parsed: given those values (a dict, only the
# fields that passed the schema), it returns the rule errors by field. See :func:`parse_body`.
Rules = Callable[[dict[str, Any]], dict[str, Text]]


@functools.lru_cache(maxsize=None)
def _field_adapter(model: type[BaseModel], name: str) -> TypeAdapter:
    info = model.model_fields[name]
    return TypeAdapter(Annotated[info.annotation, info])  # the field's type with its constraints


def parsed_fields(model: type[BaseModel], raw: dict, failed: set[str]) -> dict[str, Any]:
    """The top-level fields of ``raw`` that pass ``model``'s schema on their own (those in
    ``failed`` did not), parsed to their types; defaults for the ones left out."""
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name in failed:
            continue
        if name in raw:
            try:
                values[name] = _field_adapter(model, name).validate_python(raw[name])
            except ValidationError:
                continue
        elif not info.is_required():
            values[name] = info.get_default(call_default_factory=True)
    return values


def parse_body(model: type[BaseModel], raw: Any, rules: Rules | None = None) -> BaseModel:
    """``raw`` (parsed JSON or form fields) validated into ``model``. A body that breaks the
    schema is a 422 listing every bad field; with ``rules``, the domain's rule checks run on the
    fields that did parse, so the same 422 lists the rule errors too and the person fixes
    everything in one round (README: "every bad field at once"). When the schema passes, the
    view's use case checks the rules itself."""
    if raw is None:
        raise DomainError("malformed_json", Text("Isi permintaan harus JSON yang valid", "The request body must be valid JSON"), status=400)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        failed = validation_error(exc)
        if rules is not None and isinstance(raw, dict):
            bad = {str(err["loc"][0]) for err in exc.errors() if err["loc"]}
            for name, text in rules(parsed_fields(model, raw, bad)).items():
                failed.fields.setdefault(name, text)
        raise failed from None


def accepts(model: type[BaseModel], rules: Rules | None = None) -> Callable:
    """Parse and validate the JSON body into ``model`` and pass it as ``body=``. Malformed JSON
    is a 400, a well-formed body that breaks the schema a 422 listing every bad field (and, with
    ``rules``, every rule the parsed fields break: :func:`parse_body`)."""

    def wrap(view: Callable) -> Callable:
        @functools.wraps(view)
        def inner(*args: Any, **kwargs: Any):
            body = parse_body(model, request.get_json(silent=True), rules)
            return view(*args, body=body, **kwargs)

        inner._body_model = model  # type: ignore[attr-defined]
        return inner

    return wrap


def public(view: Callable) -> Callable:
    """Marks an endpoint that needs no access token (documented so in OpenAPI)."""
    view._public = True  # type: ignore[attr-defined]
    return view


def allows_password_change(view: Callable) -> Callable:
    """Marks the one endpoint a must-change-password token may call (identity's POST
    /auth/password); every other one answers such a token 403 password_change_required."""
    view._allows_password_change = True  # type: ignore[attr-defined]
    return view


def principal() -> Principal:
    """The verified caller of this request, or 401 (403 for a token that must first change the
    one-time password, on every endpoint not marked :func:`allows_password_change`)."""
    if "principal" not in g:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            raise Unauthorized()
        verifier: TokenVerifier = current_app.extensions["token_verifier"]
        found = verifier.verify(header.removeprefix("Bearer ").strip())
        view = current_app.view_functions.get(request.endpoint or "")
        if found.password_change_required and not getattr(view, "_allows_password_change", False):
            raise Forbidden(Text("Ganti kata sandi awal Anda terlebih dahulu", "Change your one-time password first"),
                            "password_change_required")
        g.principal = found
    return g.principal


def create_base_app(service: str, verifier: TokenVerifier, readiness: Callable[[], None], title: str,
                    description: str = "") -> Flask:
    app = Flask(service)
    app.json = BoundedJSONProvider(app)
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.config["MAX_CONTENT_LENGTH"] = 16 * 1024 * 1024
    app.extensions["token_verifier"] = verifier

    @app.before_request
    def _start() -> None:
        rid = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        g.request_id = rid[:100]
        g.request_id_token = request_id_var.set(g.request_id)
        g.started = time.perf_counter()
        metrics.start_process_sampler(service)
        if request.path != "/metrics":  # the scrape itself is not load
            metrics.IN_FLIGHT.labels(service).inc()
            g.in_flight = True

    @app.before_request
    def _token_first() -> None:
        # A request that carries a token has it checked before its body or anything else: a bad,
        # revoked or must-change-password token is refused the same way on every endpoint.
        view = app.view_functions.get(request.endpoint or "")
        if view is not None and not getattr(view, "_public", False) and "Authorization" in request.headers:
            principal()

    @app.after_request
    def _finish(resp: Response) -> Response:
        resp.headers["X-Request-ID"] = g.get("request_id", "")
        if "Cache-Control" not in resp.headers and ("Authorization" in request.headers or "principal" in g):
            # What a person sees with their token (their record, slips, runs, bank data) must not
            # stay in a browser's or a proxy's cache. Public answers set their own header.
            resp.headers["Cache-Control"] = "no-store"
        route = request.url_rule.rule if request.url_rule else "<unmatched>"
        resp = conditional.apply(request, resp)  # ETag / 304 for the reads
        if "started" in g:
            # Streamed bodies (file downloads) have no length up front and count as 0 bytes.
            metrics.observe(service, request.method, route, resp.status_code, g.started,
                            request.content_length or 0, resp.content_length or 0)
        return resp

    @app.teardown_request
    def _reset(_exc) -> None:
        if g.pop("in_flight", False):
            metrics.IN_FLIGHT.labels(service).dec()
        token = g.pop("request_id_token", None)
        if token is not None:
            request_id_var.reset(token)

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        retry_after = getattr(exc, "retry_after", None)
        return jsonify(exc.as_json()), exc.status, ({"Retry-After": str(retry_after)} if retry_after else {})

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large",
                415: "unsupported_media_type"}.get(exc.code or 500, "http_error")
        texts = {
            404: Text("Alamat tidak ditemukan", "Not found"),
            405: Text("Metode tidak diizinkan", "Method not allowed"),
            413: Text("Berkas atau permintaan terlalu besar", "Request too large"),
        }
        text = texts.get(exc.code or 500, Text("Permintaan tidak valid", exc.description or "Bad request"))
        return jsonify(DomainError(code, text).as_json()), exc.code

    @app.errorhandler(sa_exc.DataError)
    def _data_error(exc: sa_exc.DataError):
        # A value the schema let through but the column cannot hold (a number past BIGINT, a
        # string past its length): the caller's input, not the server's fault.
        log.warning("value refused by the database: %s", str(exc.orig).splitlines()[0] if exc.orig else exc)
        return jsonify(DomainError("invalid_value", Text("Nilai di luar batas yang dapat disimpan",
                                                         "A value is outside what can be stored")).as_json()), 422

    @app.errorhandler(sa_exc.OperationalError)
    @app.errorhandler(sa_exc.TimeoutError)
    def _database_unavailable(exc: Exception):
        # The database is down, paused, restarting or overloaded (connect timeout, pool wait,
        # statement timeout, a connection cut): a person is told to try again, not that the
        # server is broken. The broken connection has been dropped from the pool already.
        log.warning("database unavailable: %s", str(exc).splitlines()[0][:300])
        err = ServiceUnavailable(DB_RETRY_AFTER, Text(
            f"Basis data sedang tidak dapat dihubungi; coba lagi dalam {DB_RETRY_AFTER} detik",
            f"The database cannot be reached right now; try again in {DB_RETRY_AFTER} seconds"))
        return jsonify(err.as_json()), 503, {"Retry-After": str(err.retry_after)}

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return jsonify(DomainError("internal_error", Text("Terjadi kesalahan pada server", "Internal server error")).as_json()), 500

    @app.get("/healthz")
    @public
    def healthz():
        """Liveness: the process answers."""
        return {"status": "ok", "service": service}

    @app.get("/readyz")
    @public
    def readyz():
        """Readiness: the database answers and is migrated."""
        try:
            readiness()
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            return {"status": "not ready", "reason": str(exc)[:200]}, 503
        return {"status": "ready", "service": service}

    @app.get("/metrics")
    @public
    def metrics_endpoint():
        """Prometheus metrics of every worker."""
        body, ctype = metrics.exposition()
        return Response(body, content_type=ctype)

    @app.get("/openapi.json")
    @public
    def openapi():
        """This document."""
        from .openapi import build_spec

        return build_spec(app, title, description)

    return app

"""Settings read from the environment, one frozen object per process.

Every variable has a default that works for a single-machine run, so a service starts with no
configuration at all; production overrides them (see README, "Configuration").
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

DEFAULT_PORTS = {"identity": 8001, "organization": 8002, "activity": 8003, "approval": 8004, "payroll": 8005}


@dataclass(frozen=True)
class Settings:
    service: str
    database_url: str
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/%2F"
    exchange: str = "ekinerja.events"
    dead_exchange: str = "ekinerja.dead"
    # Prefix for queue names; tests use a random one so that parallel runs never share a queue.
    queue_prefix: str = ""
    jwks_url: str = "http://127.0.0.1:8001/.well-known/jwks.json"
    jwt_issuer: str = "ekinerja-identity"
    jwt_audience: str = "ekinerja"
    consumer_prefetch: int = 200
    consumer_batch: int = 100  # deliveries committed in one transaction when the queue has them
    consumer_max_retries: int = 5
    retry_delay_ms: int = 1000
    relay_batch: int = 1000  # also the window of unconfirmed messages (relay.PipelinedChannel)
    relay_poll_seconds: float = 0.2
    metrics_port: int = 0
    log_level: str = "INFO"
    # Every wait on the database is bounded, so that a request ends with an answer (503) even when
    # PostgreSQL is down or paused, well before the gateway's 120 s (ekinerja_common.db).
    db_statement_timeout_ms: int = 15_000
    db_pool_timeout: float = 5.0
    db_connect_timeout: int = 5
    # A pooled connection idle this long is pinged before use (ekinerja_common.db).
    db_ping_idle_seconds: float = 1.0
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def queue(self) -> str:
        return f"{self.queue_prefix}{self.service}.events"

    @classmethod
    def from_env(cls, service: str) -> "Settings":
        env = os.environ
        up = service.upper()

        def get(name: str, default: str) -> str:
            # A service-specific variable (IDENTITY_DATABASE_URL) wins over the generic one, so
            # one environment can describe the whole stack.
            return env.get(f"{up}_{name}", env.get(name, default))

        data_dir = env.get("EKINERJA_DATA_DIR", os.path.join(os.getcwd(), "var"))
        database_url = get("DATABASE_URL", f"sqlite:///{os.path.join(data_dir, service + '.db')}")
        # A plain libpq URI (what CloudNativePG's app secret holds) means the psycopg 3 driver here.
        for plain in ("postgresql://", "postgres://"):
            if database_url.startswith(plain):
                database_url = "postgresql+psycopg://" + database_url.removeprefix(plain)
        return cls(
            service=service,
            database_url=database_url,
            amqp_url=get("AMQP_URL", cls.amqp_url),
            exchange=get("EVENT_EXCHANGE", cls.exchange),
            dead_exchange=get("DEAD_EXCHANGE", cls.dead_exchange),
            queue_prefix=get("QUEUE_PREFIX", ""),
            jwks_url=get("JWKS_URL", cls.jwks_url),
            jwt_issuer=get("JWT_ISSUER", cls.jwt_issuer),
            jwt_audience=get("JWT_AUDIENCE", cls.jwt_audience),
            consumer_prefetch=int(get("CONSUMER_PREFETCH", str(cls.consumer_prefetch))),
            consumer_max_retries=int(get("CONSUMER_MAX_RETRIES", str(cls.consumer_max_retries))),
            consumer_batch=int(get("CONSUMER_BATCH", str(cls.consumer_batch))),
            retry_delay_ms=int(get("RETRY_DELAY_MS", str(cls.retry_delay_ms))),
            relay_batch=int(get("RELAY_BATCH", str(cls.relay_batch))),
            relay_poll_seconds=float(get("RELAY_POLL_SECONDS", str(cls.relay_poll_seconds))),
            metrics_port=int(get("METRICS_PORT", "0")),
            db_statement_timeout_ms=int(get("DB_STATEMENT_TIMEOUT_MS", str(cls.db_statement_timeout_ms))),
            db_pool_timeout=float(get("DB_POOL_TIMEOUT", str(cls.db_pool_timeout))),
            db_connect_timeout=int(get("DB_CONNECT_TIMEOUT", str(cls.db_connect_timeout))),
            db_ping_idle_seconds=float(get("DB_PING_IDLE_SECONDS", str(cls.db_ping_idle_seconds))),
            log_level=get("LOG_LEVEL", "INFO"),
            extra={k: v for k, v in env.items() if k.startswith(up + "_")},
        )

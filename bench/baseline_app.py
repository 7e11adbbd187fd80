"""The baselines of bench/surge.py: a bare Flask app served by the services' own gunicorn settings
(``-c python:ekinerja_common.gunicorn_conf``) behind the same nginx template, so that the ratios
compare the services with the least a Python web request on this stack can cost.

- ``GET /bare/json``: a constant JSON object — baseline (a);
- ``POST /bare/insert``: one INSERT into PostgreSQL (a pooled SQLAlchemy connection, one
  transaction) — baseline (b);
- ``GET /readyz``: for the runner.

    BASELINE_DATABASE_URL=postgresql+psycopg://... gunicorn -c python:ekinerja_common.gunicorn_conf 'bench.baseline_app:create_app()'
"""
from __future__ import annotations

import os
import uuid

from flask import Flask, request
from sqlalchemy import create_engine, text

DDL = "CREATE TABLE IF NOT EXISTS bare_rows (id uuid PRIMARY KEY, body text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"


def create_app() -> Flask:
    app = Flask("baseline")
    engine = create_engine(os.environ["BASELINE_DATABASE_URL"], pool_size=5, max_overflow=5)

    @app.get("/readyz")
    def ready():
        return {"status": "ok"}

    @app.get("/bare/json")
    def bare_json():
        return {"status": "ok", "service": "baseline", "items": [1, 2, 3]}

    @app.post("/bare/insert")
    def bare_insert():
        body = request.get_data(as_text=True)[:2000]
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO bare_rows (id, body) VALUES (:id, :body)"), {"id": uuid.uuid4(), "body": body})
        return {"status": "stored"}, 201

    return app

import pytest

from ekinerja_common.config import Settings
from ekinerja_common.testing import fresh_database, queue_prefix

from identity.app import create_app


@pytest.fixture
def app():
    # No verifier injected: identity checks the tokens it signed with its own keys, as in production.
    with fresh_database("identity") as url:
        app = create_app(Settings(service="identity", database_url=url, queue_prefix=queue_prefix()))
        rt = app.extensions["runtime"]
        rt.migrate()
        yield app
        rt.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runtime(app):
    return app.extensions["runtime"]

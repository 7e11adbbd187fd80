import pytest

from ekinerja_common.config import Settings
from ekinerja_common.testing import TestKeys, fresh_database, queue_prefix

from organization.app import create_app


@pytest.fixture(scope="session")
def keys():
    return TestKeys()


@pytest.fixture
def app(keys):
    with fresh_database("organization") as url:
        app = create_app(Settings(service="organization", database_url=url, queue_prefix=queue_prefix()), keys.verifier)
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

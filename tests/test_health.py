"""/healthz answers 200 when the database and the broker both answer, 503 otherwise."""

import pytest
from django.db import OperationalError


@pytest.fixture
def unreachable_broker(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"  # the discard port: nothing listens there


def test_healthz_is_200_when_database_and_broker_answer(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_healthz_is_503_when_the_broker_is_unreachable(client, db, unreachable_broker):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "broker": "unreachable"}


class RefusingConnection:
    def cursor(self):
        raise OperationalError("connection refused")


def test_healthz_is_503_when_the_database_is_unreachable(client, db, monkeypatch):
    monkeypatch.setattr("crt.health.connection", RefusingConnection())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_healthz_needs_no_login_and_carries_no_data(client, db):
    response = client.get("/healthz")
    assert set(response.json()) == {"status", "database", "broker"}

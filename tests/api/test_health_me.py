"""/health (database, outbox backlog) and /me (who, role, capabilities, teams)."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection
from django.test import Client
from django.utils import timezone

from servio.accounts.roles import capabilities_of
from servio.core import outbox
from servio.core.models import OutboxMessage
from tests.api.helpers import assert_problem
from tests.drills import queries_fail_with, sqlite_locked, wrapped

pytestmark = pytest.mark.django_db


def _message(status: str, available_in: timedelta) -> OutboxMessage:
    return OutboxMessage.objects.create(
        topic="test.topic",
        handler="tests.handler",
        status=status,
        available_at=timezone.now() + available_in,
    )


def test_health_needs_no_credentials_and_reports_an_empty_outbox(db):
    response = Client().get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": connection.vendor,
        "outbox_pending": 0,
        "outbox_dead": 0,
        "outbox_lag_seconds": 0.0,
        "checks": {
            "audit_checkpoint_overdue": 0,
            "audit_unsealed_stale": 0,
            "mailboxes_failing": 0,
            "report_refresh_stale": 0,
        },
        "figures": {"audit_seal_lag_seconds": 0.0, "report_refresh_lag_seconds": 0.0},
        "problems": [],
    }


def test_health_reports_backlog_dead_letters_and_lag(db):
    _message(OutboxMessage.Status.PENDING, -timedelta(seconds=90))  # overdue: this is the lag
    _message(OutboxMessage.Status.PENDING, timedelta(minutes=5))  # a retry not yet due
    _message(OutboxMessage.Status.DEAD, -timedelta(hours=1))
    _message(OutboxMessage.Status.DELIVERED, -timedelta(hours=1))
    body = Client().get("/api/v1/health").json()
    assert body["outbox_pending"] == 2
    assert body["outbox_dead"] == 1
    assert 90 <= body["outbox_lag_seconds"] < 120
    assert body["status"] == "degraded"  # a dead letter waits for an administrator
    assert body["problems"] == ["1 outbox dead letter(s); requeue or delete them in the admin."]


def test_health_is_503_problem_with_the_reason_when_the_database_fails(db, tmp_path):
    with queries_fail_with(wrapped(sqlite3, lambda: sqlite_locked(tmp_path))):
        response = Client().get("/api/v1/health")
    body = assert_problem(response, 503)
    assert body["database"] == "unreachable"
    assert body["reason"] == "the database is locked by another write"
    assert body["reason"] in body["detail"]
    assert int(response["Retry-After"]) > 0


def test_health_names_a_database_error_that_is_not_an_outage(db, monkeypatch):
    def broken():
        raise DatabaseError("no such column")

    monkeypatch.setattr(outbox, "outbox_stats", broken)
    body = assert_problem(Client().get("/api/v1/health"), 503)
    assert body["reason"] == "the database failed (DatabaseError)"


def test_me_shows_role_capabilities_organization_and_teams(personas, api_as):
    body = api_as(personas.agent_desk).get("me").json()
    assert body["email"] == "dana@provider.example"
    assert body["role"] == "agent"
    assert body["organization"] == {"id": personas.provider.pk, "name": "Provider IT"}
    assert body["capabilities"] == sorted(capabilities_of("agent"))
    assert "ticket.work" in body["capabilities"] and "admin.configure" not in body["capabilities"]
    assert body["teams"] == [{"id": personas.team_desk.pk, "name": "Service Desk"}]


def test_me_for_an_admin_and_a_requester(personas, api_as):
    admin = api_as(personas.admin).get("me").json()
    assert admin["role"] == "admin"
    assert {"admin.configure", "audit.read", "visibility.all"} <= set(admin["capabilities"])
    requester = api_as(personas.requester_acme).get("me").json()
    assert requester["capabilities"] == ["portal.use"]
    assert requester["teams"] == []
    assert requester["organization"]["id"] == personas.acme.pk


def test_me_works_with_the_ui_session(personas):
    client = Client()
    client.force_login(personas.lead_desk)
    body = client.get("/api/v1/me").json()
    assert body["role"] == "team_lead"
    assert "team.manage" in body["capabilities"]


def test_openapi_document_and_docs_are_served(db):
    client = Client()
    document = client.get("/api/v1/openapi.json")
    assert document.status_code == 200
    assert document.json()["openapi"].startswith("3.")
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    assert "openapi.json" in docs.content.decode()

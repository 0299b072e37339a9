"""/api/v1/health shows the sealer's lag and turns "degraded" when sealing or checkpoints stall."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from servio.accounts.services import organization_create
from servio.audit.checkpoints import audit_checkpoint
from servio.audit.models import AuditHead, AuditPending, AuditSeal
from servio.audit.sealing import audit_seal

pytestmark = pytest.mark.django_db


def health() -> dict:
    response = Client().get("/api/v1/health")
    assert response.status_code == 200
    return response.json()


def test_an_unsealed_event_shows_as_lag_and_only_a_stale_one_degrades(personas, settings):
    organization_create(actor=personas.admin, name="Waiting")
    AuditPending.objects.update(at=timezone.now() - timedelta(seconds=30))
    body = health()
    assert 30 <= body["figures"]["audit_seal_lag_seconds"] < 60
    assert body["status"] == "ok" and body["checks"]["audit_unsealed_stale"] == 0
    settings.SERVIO_AUDIT_SEAL_LAG_ALERT_SECONDS = 20
    body = health()
    assert body["status"] == "degraded" and body["checks"]["audit_unsealed_stale"] >= 1
    assert any("wait for the sealer" in problem for problem in body["problems"])
    audit_seal()
    body = health()
    assert body["figures"]["audit_seal_lag_seconds"] == 0.0 and body["status"] == "ok"


def test_a_checkpoint_not_written_for_twice_its_period_degrades(personas, settings):
    organization_create(actor=personas.admin, name="Sealed")
    audit_seal()
    assert health()["checks"]["audit_checkpoint_overdue"] == 0  # just sealed
    long_ago = timezone.now() - timedelta(minutes=11)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditseal SET sealed_at = %s", [long_ago])
    body = health()
    assert body["checks"]["audit_checkpoint_overdue"] == 1 and body["status"] == "degraded"
    assert any("SERVIO_AUDIT_CHECKPOINTS" in problem for problem in body["problems"])
    audit_checkpoint(force=True)
    assert health()["checks"]["audit_checkpoint_overdue"] == 0
    assert AuditHead.objects.get().checkpoint_seq == AuditSeal.objects.count()

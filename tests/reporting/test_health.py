"""/api/v1/health shows how far behind the report tables are, and degrades when they stall."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from servio.reporting.models import ReportZone
from servio.reporting.services import report_refresh

pytestmark = pytest.mark.django_db


def health() -> dict:
    response = Client().get("/api/v1/health")
    assert response.status_code == 200
    return response.json()


def test_the_report_refresh_lag_shows_and_only_a_stale_one_degrades(personas, settings):
    settings.SERVIO_REPORT_TIME_ZONES = ["UTC", "Europe/Berlin"]
    body = health()  # nothing built yet: no lag, nothing wrong
    assert body["figures"]["report_refresh_lag_seconds"] == 0.0
    assert body["checks"]["report_refresh_stale"] == 0
    report_refresh()
    assert health()["figures"]["report_refresh_lag_seconds"] < 60
    ReportZone.objects.filter(zone="Europe/Berlin").update(
        refreshed_at=timezone.now() - timedelta(minutes=5)
    )
    body = health()
    assert 300 <= body["figures"]["report_refresh_lag_seconds"] < 360  # the oldest zone
    assert body["checks"]["report_refresh_stale"] == 0 and body["status"] == "ok"
    ReportZone.objects.update(refreshed_at=timezone.now() - timedelta(minutes=11))
    body = health()
    assert body["checks"]["report_refresh_stale"] == 2 and body["status"] == "degraded"
    assert any("report figures of 2 time zone(s)" in problem for problem in body["problems"])
    report_refresh()
    body = health()
    assert body["checks"]["report_refresh_stale"] == 0 and body["status"] == "ok"


def test_a_zone_no_longer_configured_is_not_counted(personas, settings):
    ReportZone.objects.create(zone="Asia/Tokyo", refreshed_at=timezone.now() - timedelta(days=3))
    settings.SERVIO_REPORT_TIME_ZONES = ["UTC"]
    body = health()
    assert body["checks"]["report_refresh_stale"] == 0
    assert body["figures"]["report_refresh_lag_seconds"] == 0.0

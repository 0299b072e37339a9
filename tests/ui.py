"""Shared set-up of the UI tests (web, workspace, portal, browser)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings as django_settings

from servio.web.static_dirs import static_dirs


@pytest.fixture
def ui_settings(settings, tmp_path):
    """Every vendor static folder (Chart.js too) and uploads in a per-test folder."""
    settings.STATICFILES_DIRS = static_dirs(Path(django_settings.BASE_DIR) / "node_modules")
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings


def make_ticket(personas, *, requester=None, title="Printer on fire", **fields):
    """An incident logged through the service, as the requester would."""
    from servio.tickets import services

    requester = requester or personas.requester_acme
    return services.ticket_create(actor=requester, title=title, **fields)


def login(client, user):
    client.force_login(user)
    return client


def sla_policy(minutes: int = 240):
    """A 24x7 SLA: first response in 30 minutes x priority, resolution in `minutes` x priority."""
    from servio.sla.models import Calendar, SlaPolicy, SlaTarget

    calendar = Calendar.objects.create(name="Always", twenty_four_seven=True)
    policy = SlaPolicy.objects.create(name="Standard", type=SlaPolicy.Type.SLA)
    for priority in range(1, 6):
        SlaTarget.objects.create(
            policy=policy,
            metric="first_response",
            priority=priority,
            minutes=30 * priority,
            calendar=calendar,
        )
        SlaTarget.objects.create(
            policy=policy,
            metric="resolution",
            priority=priority,
            minutes=minutes * priority,
            calendar=calendar,
        )
    return policy


XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def told(response) -> int:
    """The outcome a page or an HTMX part reports. Refusals (form errors 422, conflicts 409)
    are answered 200 with the real status in X-Servio-Status: browsers log every 4xx response
    as a console error, a whole page's too (docs/ui.md)."""
    if not response.has_header("X-Servio-Status"):
        return response.status_code  # a redirect, a page that refuses nothing
    status = int(response["X-Servio-Status"])
    if status in (409, 422):
        assert response.status_code == 200, response.status_code
    return status

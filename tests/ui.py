"""Shared set-up of the UI tests (web, workspace, portal, browser)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings as django_settings

from servio.web.static_dirs import static_dirs


@pytest.fixture
def ui_settings(settings, tmp_path):
    """The UI's URLs, every vendor static folder, uploads in a per-test folder, and tickets'
    workflows loaded."""
    settings.ROOT_URLCONF = "tests.web.urls"
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

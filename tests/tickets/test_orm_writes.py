"""Ticket creation is an ordinary ORM save (decision 27): what Django promises a model's
writer (signals, every field written as `save()` writes it) holds for it, so a field or a
receiver added to `Ticket` later needs nothing from the creation path."""

from __future__ import annotations

import pytest
from django.db.models.signals import post_save, pre_save

from servio.tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def saved():
    seen: list[tuple[str, int | None, bool]] = []

    def before(sender, instance, **kwargs):
        seen.append(("pre", instance.number, instance._state.adding))

    def after(sender, instance, created, **kwargs):
        seen.append(("post", instance.number, created))

    pre_save.connect(before, sender=Ticket, dispatch_uid="test-orm-writes-pre")
    post_save.connect(after, sender=Ticket, dispatch_uid="test-orm-writes-post")
    yield seen
    pre_save.disconnect(sender=Ticket, dispatch_uid="test-orm-writes-pre")
    post_save.disconnect(sender=Ticket, dispatch_uid="test-orm-writes-post")


def test_a_creation_through_the_api_sends_the_model_signals(saved, personas, api_as):
    response = api_as(personas.requester_acme).post("tickets", json={"title": "Printer jams"})
    assert response.status_code == 201, response.content
    number = Ticket.objects.get(title="Printer jams").number
    # The number is drawn before the INSERT, so receivers see the ticket as stored.
    assert saved == [("pre", number, True), ("post", number, True)]

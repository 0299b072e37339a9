"""The field-restriction hook on its own: allows everything until a provider objects, then
refuses once, naming every refused field."""

from __future__ import annotations

import pytest

from servio.core import restrictions
from servio.core.errors import PermissionDenied
from servio.tickets.models import Ticket, Watcher


@pytest.fixture
def providers(monkeypatch: pytest.MonkeyPatch) -> list:
    """An empty provider registry for the test (the real one is restored afterwards)."""
    fresh: list = []
    monkeypatch.setattr(restrictions, "_providers", fresh)
    return fresh


def test_without_providers_everything_is_allowed(providers):
    restrictions.check_writable(actor=None, record=Ticket(), fields=["priority", "status"])


def test_the_refusals_of_every_provider_are_raised_once_naming_each_field(providers):
    seen: list[restrictions.FieldWrite] = []

    @restrictions.register
    def no_priority(write):
        seen.append(write)
        return {"priority": "only managers set it"} if "priority" in write.fields else None

    restrictions.register(lambda write: {"team": "frozen", "priority": "second opinion"})
    restrictions.register(no_priority)  # registering twice keeps one

    ticket = Ticket(title="Printer")
    with pytest.raises(PermissionDenied) as refused:
        restrictions.check_writable(actor=None, record=ticket, fields=["priority", "team", "x"])
    assert refused.value.extra["fields"] == ["priority", "team"]
    assert "priority (only managers set it)" in refused.value.detail
    assert "team (frozen)" in refused.value.detail
    [write] = seen
    assert write.record is ticket and write.creating and not write.deleting
    assert write.fields == {"priority", "team", "x"}

    restrictions.unregister(no_priority)
    with pytest.raises(PermissionDenied) as refused:
        restrictions.check_writable(actor=None, record=ticket, fields=["priority"])
    assert "second opinion" in refused.value.detail


def test_a_removal_is_not_a_creation(providers):
    seen: list[restrictions.FieldWrite] = []
    restrictions.register(seen.append)  # returns None: no objection
    restrictions.check_writable(
        actor=None, record=Watcher(), fields=["ticket", "user"], deleting=True
    )
    assert seen[0].deleting and not seen[0].creating

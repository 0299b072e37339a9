"""Reading the audit trail checks its permission in the selector, whoever calls it."""

from __future__ import annotations

import pytest

from servio.audit.selectors import audit_events
from servio.core.errors import PermissionDenied
from tests.tickets.helpers import log

pytestmark = pytest.mark.django_db


def test_only_administrators_read_the_trail_and_filters_narrow_it(personas):
    p = personas
    ticket = log(p.requester_acme)
    for someone in (p.requester_acme, p.agent_desk, p.lead_desk, p.change_manager):
        with pytest.raises(PermissionDenied):
            audit_events(user=someone)
    mine = audit_events(user=p.admin, object_type="tickets.ticket", object_id=str(ticket.pk))
    assert [e.action for e in mine] == ["ticket.created"]
    assert not audit_events(user=p.admin, action="no.such.action").exists()

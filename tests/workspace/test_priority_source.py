"""Where the priority comes from is visible on the ticket page, and explained when impact or
urgency change: it follows the impact x urgency matrix unless it was set by hand, which an
impact or urgency edit leaves alone."""

from __future__ import annotations

import pytest

from servio.tickets import services
from tests.ui import make_ticket

HX = {"HX-Request": "true"}
X = "\u00d7"  # impact x urgency, as the page writes it


@pytest.fixture
def dana(client, personas):
    client.force_login(personas.agent_desk)
    return client


def _edit(client, ticket, field, value, version):
    response = client.post(
        f"/desk/t/{ticket.reference}/edit/{field}/",
        {field: value, "version": str(version)},
        headers=HX,
    )
    assert response.status_code == 200 and response["X-Servio-Status"] == "200"
    return response.content.decode()


def test_following_the_matrix_is_said_and_a_change_is_explained(dana, personas):
    ticket = make_ticket(personas, impact=3, urgency=3)  # P5
    page = dana.get(f"/desk/t/{ticket.reference}/").content.decode()
    assert f'id="priority-source">From impact {X} urgency' in page
    editor = dana.get(f"/desk/t/{ticket.reference}/edit/urgency/", headers=HX).content.decode()
    assert "The priority follows the impact x urgency matrix (now P5 - Planning)" in editor
    part = _edit(dana, ticket, "urgency", 1, 1)
    assert f"Priority is now P3 - Moderate, from impact {X} urgency (it was P5)." in part
    part = _edit(dana, ticket, "title", "Renamed", 2)
    assert 'id="priority-notice"' not in part


def test_a_priority_set_by_hand_stays_and_says_why(dana, personas):
    ticket = make_ticket(personas, impact=3, urgency=3)
    services.ticket_update(
        actor=personas.agent_desk, ticket=ticket, version=1, changes={"priority": 1}
    )
    page = dana.get(f"/desk/t/{ticket.reference}/").content.decode()
    assert '<span class="badge bg-yellow-lt">Set by hand</span>' in page
    assert f"impact {X} urgency gives P5 - Planning" in page
    editor = dana.get(f"/desk/t/{ticket.reference}/edit/impact/", headers=HX).content.decode()
    assert "The priority is set by hand (P1 - Critical) and stays so when impact changes" in editor
    part = _edit(dana, ticket, "impact", 1, 2)
    assert "Priority stays P1 - Critical: it is set by hand" in part
    assert f"(impact {X} urgency gives P3 - Moderate)" in part
    ticket.refresh_from_db()
    assert ticket.priority == 1 and ticket.priority_overridden
    # Back to the matrix: the priority editor's empty choice.
    part = _edit(dana, ticket, "priority", "", 3)
    assert f"Priority is now P3 - Moderate, from impact {X} urgency (it was P1)." in part
    assert f'id="priority-source">From impact {X} urgency' in part

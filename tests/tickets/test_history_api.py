"""GET /tickets/{number}/history: every change, oldest first, each field as old -> new."""

from __future__ import annotations

import pytest

from tests.tickets.helpers import RESOLVE

pytestmark = pytest.mark.django_db


def test_history_shows_each_change_old_to_new(personas, api_as):
    p = personas
    rita, dana = api_as(p.requester_acme), api_as(p.agent_desk)
    ref = rita.post("tickets", json={"title": "Slow laptop", "urgency": 2}).json()["reference"]
    dana.patch(f"tickets/{ref}", json={"title": "Very slow laptop", "impact": 1, "version": 1})
    dana.post(
        f"tickets/{ref}/assignment", json={"team": p.team_desk.pk, "assignee": p.agent_desk.pk}
    )
    dana.post(f"tickets/{ref}/transitions", json={"transition": "start"})
    dana.post(f"tickets/{ref}/transitions", json={"transition": "resolve", **RESOLVE})

    items = rita.get(f"tickets/{ref}/history").json()["items"]
    assert [e["action"] for e in items] == [
        "ticket.created",
        "ticket.updated",
        "ticket.assigned",
        "ticket.start",
        "ticket.resolve",
    ]
    assert [e["id"] for e in items] == sorted(e["id"] for e in items)
    created, updated, assigned, started, resolved = items
    assert created["actor"] == p.requester_acme.email
    assert created["changes"]["title"] == [None, "Slow laptop"]
    assert updated["actor"] == p.agent_desk.email
    assert updated["changes"]["title"] == ["Slow laptop", "Very slow laptop"]
    assert updated["changes"]["impact"] == [3, 1]
    assert updated["changes"]["priority"] == [4, 2]  # recomputed from the matrix
    assert assigned["changes"] == {
        "assignee": [None, p.agent_desk.pk],
        "team": [None, p.team_desk.pk],
    }
    assert started["changes"]["status"] == ["new", "in_progress"]
    assert resolved["changes"]["status"] == ["in_progress", "resolved"]
    assert resolved["changes"]["resolution_code"] == ["", "fixed"]
    # Pages of the history join up without gaps.
    first = rita.get(f"tickets/{ref}/history", data={"limit": 2}).json()
    rest = rita.get(
        f"tickets/{ref}/history", data={"limit": 10, "cursor": first["next_cursor"]}
    ).json()
    assert [e["id"] for e in first["items"] + rest["items"]] == [e["id"] for e in items]

"""One source of open, paused and closed statuses: the workflows. The partial indexes of the
ticket table are the one place a set is frozen (a migration), and this test fails as soon as
they and the workflows disagree, e.g. when a practice adds a closed status of its own."""

from __future__ import annotations

import pytest
from django.db.models import Q

from servio.core.workflow import State, Workflow
from servio.incidents.workflow import INCIDENT_WORKFLOW
from servio.tickets import workflows
from servio.tickets.models import INDEXED_CLOSED_STATUSES, Kind, Ticket


def _statuses_in(condition: Q) -> list[tuple[bool, tuple[str, ...]]]:
    """(negated, statuses) of every `status__in` inside an index condition."""
    found = []
    for child in condition.children:
        if isinstance(child, Q):
            for negated, statuses in _statuses_in(child):
                found.append((negated != condition.negated, statuses))
        elif child[0] == "status__in":
            found.append((condition.negated, tuple(child[1])))
    return found


def disagreements() -> list[str]:
    """Every place where a frozen status set differs from what the workflows declare."""
    problems = []
    closed = workflows.closed_statuses()
    if tuple(INDEXED_CLOSED_STATUSES) != closed:
        problems.append(f"INDEXED_CLOSED_STATUSES {INDEXED_CLOSED_STATUSES} != workflows {closed}")
    for index in Ticket._meta.indexes:
        if index.condition is None:
            continue
        for negated, statuses in _statuses_in(index.condition):
            if not negated or statuses != closed:
                problems.append(f"index {index.name} leaves out {statuses}, not {closed}")
    for kind in Kind.values:
        workflow = workflows.get(kind)
        both = set(workflow.open_states()) & set(closed)
        if both:
            problems.append(f"{kind}: {sorted(both)} is open in one workflow, closed in another")
    return problems


def test_the_indexes_and_the_workflows_agree():
    assert disagreements() == []
    assert workflows.open_statuses() == ("new", "in_progress", "on_hold")
    assert workflows.paused_statuses() == ("on_hold",)
    assert workflows.done_statuses() == ("resolved", "closed")
    assert workflows.abandoned_statuses() == ("cancelled",)


def test_a_practice_with_a_closed_status_of_its_own_is_caught(monkeypatch):
    """The guard itself can fail: a 'rejected' state the indexes do not know about."""
    rejecting = Workflow(
        name="change",
        initial="new",
        states=(*INCIDENT_WORKFLOW.states, State("rejected", "Rejected", open=False)),
        transitions=INCIDENT_WORKFLOW.transitions,
    )
    monkeypatch.setattr(workflows, "_workflows", dict(workflows._workflows))
    workflows.register(Kind.CHANGE, rejecting)
    assert "rejected" in workflows.closed_statuses()
    assert any("rejected" in problem for problem in disagreements())
    assert not workflows.is_open(Kind.CHANGE, "rejected")


@pytest.mark.django_db
def test_queries_ask_the_workflows(personas, monkeypatch):
    """Queues and open() follow the declared sets: a new closed status leaves them at once."""
    from tests.tickets.helpers import log

    ticket = log(personas.requester_acme)
    assert list(Ticket.objects.open()) == [ticket]
    rejecting = Workflow(
        name="incident",
        initial="new",
        states=(*INCIDENT_WORKFLOW.states, State("rejected", "Rejected", open=False)),
        transitions=INCIDENT_WORKFLOW.transitions,
    )
    monkeypatch.setattr(workflows, "_workflows", dict(workflows._workflows))
    workflows.register(Kind.INCIDENT, rejecting)
    Ticket.objects.filter(pk=ticket.pk).update(status="rejected")
    assert list(Ticket.objects.open()) == []
    assert not Ticket.objects.get(pk=ticket.pk).is_open

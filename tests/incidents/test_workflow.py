"""The incident workflow table, walked exhaustively: every (state, transition, role) answer of
the service and of the API is the one the documented life cycle gives."""

from __future__ import annotations

from datetime import timedelta

import pytest

from servio.core.errors import Conflict
from servio.incidents.workflow import HOLD_REASONS, INCIDENT_WORKFLOW, RESOLUTION_CODES
from servio.tickets import services, workflows
from servio.tickets.models import Kind, Ticket
from tests.tickets.helpers import RESOLVE, field_names, log, put_in, reload

pytestmark = pytest.mark.django_db

AGENT, REQUESTER, SYSTEM = "agent", "requester", "system"
# The life cycle of issue 3, written out independently of servio/incidents/workflow.py:
# transition -> (from states, to state, roles that may take it).
EXPECTED = {
    "start": ({"new"}, "in_progress", {AGENT}),
    "hold": ({"new", "in_progress"}, "on_hold", {AGENT}),
    "resume": ({"on_hold"}, "in_progress", {AGENT, SYSTEM}),
    "resolve": ({"new", "in_progress", "on_hold"}, "resolved", {AGENT, SYSTEM}),
    "reopen": ({"resolved"}, "in_progress", {AGENT, REQUESTER, SYSTEM}),
    "close": ({"resolved"}, "closed", {AGENT, REQUESTER, SYSTEM}),
    "cancel": ({"new", "in_progress", "on_hold"}, "cancelled", {AGENT, REQUESTER}),
}
STATES = ("new", "in_progress", "on_hold", "resolved", "closed", "cancelled")
VALID_VALUES = {
    "hold": {"hold_reason": "awaiting_requester"},
    "resolve": RESOLVE,
    "cancel": {"reason": "Logged twice"},
}


def test_the_table_is_the_documented_life_cycle():
    wf = INCIDENT_WORKFLOW
    assert wf.initial == "new"
    assert tuple(wf.state_names) == STATES
    assert set(wf.open_states()) == {"new", "in_progress", "on_hold"}
    declared = {t.name: (set(t.sources), t.target, set(t.actors)) for t in wf.transitions}
    assert declared == EXPECTED
    assert wf.transition("hold").required == ("hold_reason",)
    assert wf.transition("hold").choices == {"hold_reason": HOLD_REASONS}
    assert set(wf.transition("resolve").required) == {"resolution_code", "resolution_notes"}
    assert wf.transition("resolve").choices == {"resolution_code": RESOLUTION_CODES}
    assert wf.transition("cancel").required == ("reason",)
    assert [s for s in STATES if wf.is_final(s)] == ["closed", "cancelled"]
    # Every kind has a workflow, so no ticket can be created without one.
    for kind in Kind.values:
        assert workflows.get(kind) is not None


@pytest.mark.parametrize("role", [AGENT, REQUESTER, SYSTEM])
def test_the_service_allows_exactly_what_the_table_says(personas, role):
    p = personas
    actor = {AGENT: p.agent_desk, REQUESTER: p.requester_acme, SYSTEM: None}[role]
    mismatches = []
    for state in STATES:
        allowed_here = {
            name
            for name, (sources, _, roles) in EXPECTED.items()
            if state in sources and role in roles
        }
        for name, (_, target, _) in EXPECTED.items():
            # A fresh ticket per pair, so every attempt starts from exactly `state`.
            before = put_in(log(p.requester_acme), state, p.agent_desk)
            offered = {t.name for t in services.allowed_transitions(before, actor)}
            if offered != allowed_here:
                mismatches.append(f"{state}/{role} offers {sorted(offered)}, not {allowed_here}")
            try:
                after = services.ticket_transition(
                    actor=actor,
                    ticket=before,
                    transition=name,
                    values=dict(VALID_VALUES.get(name, {})),
                )
            except Conflict as exc:
                if name in allowed_here:
                    mismatches.append(f"{state} --{name}--> refused to {role}: {exc.detail}")
                assert set(exc.extra["allowed_transitions"]) == allowed_here
                now = reload(before)
                assert (now.status, now.version) == (state, before.version)
                continue
            if name not in allowed_here:
                mismatches.append(f"{state} --{name}--> allowed to {role}")
            elif reload(after).status != target:
                mismatches.append(f"{state} --{name}--> {after.status}, not {target}")
            else:
                assert reload(after).version == before.version + 1
    assert mismatches == []


def test_a_requester_may_reopen_only_within_the_window(personas, settings):
    p = personas
    settings.SERVIO_INCIDENT_REOPEN_DAYS = 3
    recent = put_in(log(p.requester_acme), "resolved", p.agent_desk)
    old = put_in(log(p.requester_acme), "resolved", p.agent_desk)
    Ticket.objects.filter(pk=old.pk).update(resolved_at=old.resolved_at - timedelta(days=4))
    old = reload(old)
    assert {t.name for t in services.allowed_transitions(old, p.requester_acme)} == {"close"}
    with pytest.raises(Conflict) as refused:
        services.ticket_transition(actor=p.requester_acme, ticket=old, transition="reopen")
    assert "3 days" in refused.value.detail
    assert refused.value.extra["allowed_transitions"] == ["close"]
    reopened = services.ticket_transition(
        actor=p.requester_acme, ticket=recent, transition="reopen"
    )
    assert reopened.status == "in_progress" and reopened.reopen_count == 1
    # Staff may always reopen.
    assert services.ticket_transition(
        actor=p.agent_desk, ticket=old, transition="reopen"
    ).status == ("in_progress")


# --- through the API --------------------------------------------------------------------------


def test_unknown_and_forbidden_transitions_answer_409_with_the_allowed_ones(personas, api_as):
    p = personas
    requester, agent = api_as(p.requester_acme), api_as(p.agent_desk)
    ref = requester.post("tickets", json={"title": "Mail is slow"}).json()["reference"]

    unknown = agent.post(f"tickets/{ref}/transitions", json={"transition": "teleport"})
    assert unknown.status_code == 409
    assert unknown["Content-Type"] == "application/problem+json"
    assert set(unknown.json()["allowed_transitions"]) == {"start", "hold", "resolve", "cancel"}

    impossible = agent.post(f"tickets/{ref}/transitions", json={"transition": "close"})
    assert impossible.status_code == 409
    assert impossible.json()["current_status"] == "new"
    assert "close" not in impossible.json()["allowed_transitions"]

    forbidden = requester.post(
        f"tickets/{ref}/transitions", json={"transition": "resolve", **RESOLVE}
    )
    assert forbidden.status_code == 409
    assert forbidden.json()["allowed_transitions"] == ["cancel"]
    assert requester.get(f"tickets/{ref}").json()["status"] == "new"

    agent.post(f"tickets/{ref}/transitions", json={"transition": "cancel", "reason": "Duplicate"})
    final = agent.post(f"tickets/{ref}/transitions", json={"transition": "start"})
    assert final.status_code == 409
    assert final.json()["allowed_transitions"] == []


def test_transition_values_are_validated_naming_the_field(personas, api_as):
    p = personas
    agent = api_as(p.agent_desk)
    ref = agent.post("tickets", json={"title": "Disk full", "requester": p.requester_acme.pk})
    ref = ref.json()["reference"]

    def go(**body):
        return agent.post(f"tickets/{ref}/transitions", json=body)

    assert field_names(go(transition="hold")) == {"hold_reason"}
    assert field_names(go(transition="hold", hold_reason="lunch")) == {"hold_reason"}
    no_notes = go(transition="resolve", resolution_code="fixed")
    assert no_notes.status_code == 422 and field_names(no_notes) == {"resolution_notes"}
    blank = go(transition="resolve", resolution_code="fixed", resolution_notes="   ")
    assert field_names(blank) == {"resolution_notes"}
    bad_code = go(transition="resolve", resolution_code="magic", resolution_notes="x")
    assert field_names(bad_code) == {"resolution_code"}
    assert field_names(go(transition="resolve", bogus=1)) == {"bogus"}
    assert agent.get(f"tickets/{ref}").json()["status"] == "new"
    assert go(transition="hold", hold_reason="awaiting_change").json()["hold_reason"] == (
        "awaiting_change"
    )


def test_a_cancellation_needs_a_reason_and_records_it(personas, api_as):
    """Cancelling is final, so the table requires the reason why: 422 naming `reason` when it
    is missing, blank or too long; the reason is in the ticket's history."""
    agent = api_as(personas.agent_desk)
    created = agent.post("tickets", json={"title": "Disk", "requester": personas.requester_acme.pk})
    ref = created.json()["reference"]

    def go(**body):
        return agent.post(f"tickets/{ref}/transitions", json={"transition": "cancel", **body})

    missing = go()
    assert missing.status_code == 422 and field_names(missing) == {"reason"}
    assert field_names(go(reason="  ")) == {"reason"}
    assert field_names(go(reason="x" * 501)) == {"reason"}
    assert agent.get(f"tickets/{ref}").json()["status"] == "new"
    done = go(reason="Logged twice: see the other one")
    assert done.status_code == 200 and done.json()["status"] == "cancelled"
    history = agent.get(f"tickets/{ref}/history").json()
    cancelled = [e for e in history["items"] if e["action"] == "ticket.cancel"]
    assert cancelled[0]["changes"]["reason"] == [None, "Logged twice: see the other one"]
    # Final: nothing leads out of cancelled, for anyone.
    again = agent.post(f"tickets/{ref}/transitions", json={"transition": "reopen"})
    assert again.status_code == 409 and again.json()["allowed_transitions"] == []


def test_every_field_and_choice_of_the_table_has_words_for_people():
    """The UI shows labels, never stored values such as no_fault_found."""
    wf = INCIDENT_WORKFLOW
    for t in wf.transitions:
        for value in (*t.fields, *(v for c in t.choices.values() for v in c)):
            assert value in wf.labels, value
    assert wf.label("no_fault_found") == "No fault found"
    assert wf.label("awaiting_vendor") == "Awaiting vendor"
    assert wf.describe()["labels"]["reason"] == "Reason for cancelling"


def test_the_workflow_is_published_as_data(personas, api_as):
    described = api_as(personas.agent_desk).get("workflows/incident").json()
    assert described == INCIDENT_WORKFLOW.describe()
    assert {t["name"] for t in described["transitions"]} == set(EXPECTED)
    assert api_as(personas.agent_desk).get("workflows/nope").status_code == 404

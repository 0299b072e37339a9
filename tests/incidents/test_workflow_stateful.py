"""Hypothesis drives one incident with random actors, transitions, values, replies, time and the
auto-close job: it never leaves the declared graph, a step the table forbids (or with invalid
values) changes nothing, and the milestones always agree with the status."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from servio.core.errors import DomainError
from servio.incidents.services import incidents_auto_close
from servio.incidents.workflow import HOLD_REASONS, INCIDENT_WORKFLOW, RESOLUTION_CODES
from servio.tickets import services
from servio.tickets.models import Ticket
from tests.factories import Personas
from tests.tickets.helpers import put_in

pytestmark = pytest.mark.django_db

TRANSITIONS = {t.name: t for t in INCIDENT_WORKFLOW.transitions}
ACTORS = ("agent", "admin", "requester", "colleague", "system")
ROLES = {  # the workflow roles each actor holds on the machine's ticket
    "agent": {"agent"},
    "admin": {"agent"},
    "requester": {"requester"},
    "colleague": set(),
    "system": {"system"},
}
REOPEN_DAYS, AUTOCLOSE_DAYS = 7, 5
# Cancelling ends a run, so it is drawn less often than the other steps.
NAMES = [*[n for n in TRANSITIONS if n != "cancel"] * 3, "cancel", "teleport"]
VISITED: set[str] = set()
ACTIONS = ["transition"] * 6 + ["requester_replies", "agent_replies", "time_passes", "auto_close"]


def mostly(valid: tuple[str, ...]):
    """Usually a valid choice (so the machine gets somewhere), sometimes missing or wrong."""
    wrong = st.one_of(st.none(), st.sampled_from(["", "  ", "bogus"]), st.text(max_size=8))
    return st.one_of(st.sampled_from(valid), st.sampled_from(valid), wrong)


values_strategy = st.fixed_dictionaries(
    {
        "hold_reason": mostly(HOLD_REASONS),
        "resolution_code": mostly(RESOLUTION_CODES),
        "resolution_notes": mostly(("Replaced the switch", "Rebooted")),
    },
    optional={"reason": st.one_of(st.text(max_size=12), st.just("Logged twice"))},
)


def values_are_valid(name: str, values: dict) -> bool:
    """What the table requires of the values, restated here so the service can be caught
    accepting something it should not."""
    reason = values.get("reason") or ""
    if "\x00" in reason:  # a reason given to any step is recorded, so it must be storable
        return False
    if name == "cancel":
        return bool(reason.strip())
    if name == "hold":
        return values.get("hold_reason") in HOLD_REASONS
    if name == "resolve":
        notes = (values.get("resolution_notes") or "").strip()
        return (
            values.get("resolution_code") in RESOLUTION_CODES
            and bool(notes)
            and "\x00" not in notes
        )
    return True


class IncidentMachine(RuleBasedStateMachine):
    personas: Personas  # set by the test before the machine runs

    def __init__(self) -> None:
        super().__init__()
        p = self.personas
        self.actors = {
            "agent": p.agent_desk,
            "admin": p.admin,
            "requester": p.requester_acme,
            "colleague": p.colleague_acme,
            "system": None,
        }
        self.ticket = services.ticket_create(actor=p.requester_acme, title="Wi-Fi drops")
        self.version = self.ticket.version

    start_state = "new"  # set by the test: every state is a starting point in turn

    @initialize()
    def start_in(self):
        """Start from any state (walked to through the workflow), not only from new."""
        self.ticket = put_in(self.ticket, self.start_state, self.personas.agent_desk)

    def current(self) -> Ticket:
        return Ticket.objects.get(pk=self.ticket.pk)

    @rule(
        action=st.sampled_from(ACTIONS),
        name=st.sampled_from(NAMES),
        actor=st.sampled_from(ACTORS),
        values=values_strategy,
        days=st.integers(min_value=1, max_value=10),
        internal=st.booleans(),
    )
    def act(self, action, name, actor, values, days, internal):
        """One rule drawing the action, so Hypothesis never switches transitions off."""
        if action == "transition":
            self.transition(name, actor, values)
        elif action == "requester_replies":
            self.requester_replies()
        elif action == "agent_replies":
            self.agent_replies(internal)
        elif action == "time_passes":
            self.time_passes(days)
        else:
            self.auto_close_runs()

    def transition(self, name, actor, values):
        before = self.current()
        step = TRANSITIONS.get(name)
        legal = (
            step is not None
            and before.status in step.sources
            and bool(ROLES[actor] & step.actors)
            and not (step.guard and step.guard(before, self.actors[actor]))
        )
        try:
            after = services.ticket_transition(
                actor=self.actors[actor], ticket=before, transition=name, values=dict(values)
            )
        except DomainError:
            now = self.current()
            assert (now.status, now.version) == (before.status, before.version)
            assert not (legal and values_are_valid(name, values)), "a legal step was refused"
            return
        assert legal and values_are_valid(name, values), f"{before.status} --{name}--> by {actor}"
        assert after.status == step.target
        assert self.current().version == before.version + 1

    def requester_replies(self):
        before = self.current()
        try:
            services.comment_add(actor=self.actors["requester"], ticket=before, body="Any news?")
        except DomainError:
            assert INCIDENT_WORKFLOW.is_final(before.status)
            return
        after = self.current()
        window_open = (
            before.resolved_at is not None
            and timezone.now() - before.resolved_at <= timedelta(days=REOPEN_DAYS)
        )
        reopens = before.status == "resolved" and window_open
        resumes = before.status == "on_hold" and before.hold_reason == "awaiting_requester"
        assert after.status == ("in_progress" if reopens or resumes else before.status)

    def agent_replies(self, internal):
        before = self.current()
        services.comment_add(
            actor=self.actors["agent"], ticket=before, body="On it", internal=internal
        )
        after = self.current()
        assert (after.status, after.version) == (before.status, before.version)
        if not internal:
            assert after.first_response_at is not None

    def time_passes(self, days):
        """Age every milestone, as if `days` went by."""
        delta = timedelta(days=days)
        t = self.current()
        Ticket.objects.filter(pk=t.pk).update(
            created_at=t.created_at - delta,
            resolved_at=t.resolved_at - delta if t.resolved_at else None,
            closed_at=t.closed_at - delta if t.closed_at else None,
        )

    def auto_close_runs(self):
        before = self.current()
        incidents_auto_close()
        after = self.current()
        due = before.status == "resolved" and timezone.now() - before.resolved_at > (
            timedelta(days=AUTOCLOSE_DAYS)
        )
        assert after.status == ("closed" if due else before.status)

    @invariant()
    def milestones_agree_with_the_status(self):
        t = self.current()
        VISITED.add(t.status)
        assert t.status in INCIDENT_WORKFLOW.state_names
        assert (t.resolved_at is not None) == (t.status in ("resolved", "closed"))
        assert bool(t.resolution_code) == (t.status in ("resolved", "closed"))
        assert bool(t.resolution_notes) == (t.status in ("resolved", "closed"))
        assert (t.closed_at is not None) == (t.status == "closed")
        if t.status == "on_hold":
            assert t.hold_reason in HOLD_REASONS
        else:
            assert t.hold_reason == ""
        assert t.version >= self.version
        self.version = t.version


def test_no_sequence_of_steps_leaves_the_declared_graph(personas, settings_fixture):
    IncidentMachine.personas = personas
    VISITED.clear()
    for start in INCIDENT_WORKFLOW.state_names:
        IncidentMachine.start_state = start
        _run(IncidentMachine)
    assert set(INCIDENT_WORKFLOW.state_names) == VISITED, f"states never reached: {VISITED}"


def _run(machine) -> None:
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=6,
            stateful_step_count=20,
            deadline=None,
            database=None,
            # A fixed seed: the same sequences every run, so the suite never flakes on which
            # states a run happened to reach. Change the code and the sequences change too.
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


@pytest.fixture
def settings_fixture(settings):
    settings.SERVIO_INCIDENT_REOPEN_DAYS = REOPEN_DAYS
    settings.SERVIO_INCIDENT_AUTOCLOSE_DAYS = AUTOCLOSE_DAYS
    return settings

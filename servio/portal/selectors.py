"""Reads of the self-service portal: the requester's tickets and what waits for them, what
happens next on a ticket, the public conversation, the survey waiting for an answer. Scoped by
`Ticket.objects.visible_to` and the ticket selectors (404 for anything else)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from servio.core import configcache
from servio.incidents.workflow import closes_itself_at, reopen_deadline
from servio.portal.models import DEFAULT_ANSWERS, PortalAnswer
from servio.sla.models import SlaPolicy
from servio.tickets import selectors as ticket_selectors
from servio.tickets import workflows
from servio.tickets.filters import TicketFilter
from servio.tickets.models import Ticket
from servio.workspace.selectors import TimelineEntry, first_name, timeline

# --- the list: what waits for the requester, then their tickets --------------------------------


@dataclass(frozen=True)
class Action:
    """Something the requester is asked to do on a ticket, named in their words."""

    code: str
    label: str
    anchor: str  # where on the ticket page it is done


ANSWER = Action("answer", "Answer our question", "reply")
CONFIRM = Action("confirm", "Confirm it is solved, or reopen it", "resolution")
RATE = Action("rate", "Rate how we did", "rate")
NEEDS_ACTION_LIMIT = 20


@dataclass
class Waiting:
    """One of the requester's tickets and what it waits for them to do (first: most pressing)."""

    ticket: Ticket
    actions: list[Action]


def _open_survey_of(user, now: dt.datetime) -> QuerySet:
    from servio.surveys.models import SurveyInvitation

    return SurveyInvitation.objects.filter(
        ticket=OuterRef("pk"), requester=user, used_at__isnull=True, expires_at__gt=now
    )


def needs_action(*, user, limit: int | None = None) -> tuple[list[Waiting], bool]:
    """The requester's own tickets that wait for them: on hold awaiting their answer, resolved
    awaiting their confirmation, or with a satisfaction survey to answer; most pressing first
    (an answer, then a confirmation, then a rating), and whether more than `limit` wait.

    One query (and the watcher look-up of `visible_to`). Only the requester may confirm, reopen
    or rate, so colleagues' tickets shared with the organisation are not listed.
    """
    limit = limit or NEEDS_ACTION_LIMIT
    now = timezone.now()
    answer = Q(
        status__in=workflows.paused_statuses(), hold_reason=Ticket.HoldReason.AWAITING_REQUESTER
    )
    confirm = Q(status__in=workflows.awaiting_confirmation_statuses())
    rows = list(
        Ticket.objects.visible_to(user)
        .filter(requester=user)
        .annotate(survey_open=Exists(_open_survey_of(user, now)))
        .filter(answer | confirm | Q(survey_open=True))
        .order_by("-updated_at", "-id")[: limit + 1]
    )
    found = [Waiting(t, actions_for(ticket=t, survey_open=t.survey_open)) for t in rows[:limit]]
    found = [w for w in found if w.actions]  # (the query and actions_for agree; a test holds it)
    found.sort(key=lambda w: ORDER.index(w.actions[0]))  # stable: newest first within a rank
    return found, len(rows) > limit


ORDER = (ANSWER, CONFIRM, RATE)  # most pressing first: the desk waits on an answer


def actions_for(*, ticket: Ticket, survey_open: bool) -> list[Action]:
    """What the ticket waits for its requester to do (the rule `needs_action` queries)."""
    actions = []
    if (
        ticket.status in workflows.paused_statuses()
        and ticket.hold_reason == Ticket.HoldReason.AWAITING_REQUESTER
    ):
        actions.append(ANSWER)
    if ticket.status in workflows.awaiting_confirmation_statuses():
        actions.append(CONFIRM)
    if survey_open:
        actions.append(RATE)
    return actions


def my_actions(*, user, ticket: Ticket, survey) -> list[Action]:
    """What this ticket waits for `user` to do (nothing unless they are its requester)."""
    if ticket.requester_id != user.pk:
        return []
    return actions_for(ticket=ticket, survey_open=survey is not None)


# Which tickets the list shows: "open" and "closed" as the workflows classify the statuses.
SHOW = {"all": None, "open": True, "closed": False}


def my_tickets(
    *, user, scope: str, show: str = "all", q: str = ""
) -> tuple[QuerySet[Ticket], list[str]]:
    """The requester's own tickets, or every ticket of their organisation they may see, open,
    closed or all, matching `q` (a number or words), with the order to page them in."""
    given: dict[str, Any] = {"sort": "-updated", "open": SHOW.get(show)}
    if q:
        given["q"] = q
    if scope != "organization":
        given["requester"] = user.pk
    filters = TicketFilter.model_validate(given)
    return ticket_selectors.ticket_list(user=user, filters=filters), filters.ordering()


# --- the ticket page: what happens next, by when, who, how it was solved -----------------------


@dataclass(frozen=True)
class NextStep:
    """What happens next on a ticket, and by when, in the requester's words."""

    tone: str  # info, warning, success or secondary: how the page shows it
    title: str
    text: str
    when_label: str = ""  # "We aim to reply by", "Closed on", ...
    when: dt.datetime | None = None
    countdown: bool = False  # the time is ahead: say how long until then
    late: bool = False  # the time we aimed for has passed
    after: list[str] = field(default_factory=list)  # further sentences


HOLD_STEPS: dict[str, tuple[str, str, str]] = {
    Ticket.HoldReason.AWAITING_REQUESTER: (
        "warning",
        "We are waiting for your answer",
        "Please read our last message below and reply. Our clock stops while we wait for you.",
    ),
    Ticket.HoldReason.AWAITING_VENDOR: (
        "info",
        "We are waiting for a supplier",
        "We have asked a supplier for help and will tell you as soon as we hear back.",
    ),
    Ticket.HoldReason.AWAITING_CHANGE: (
        "info",
        "We are waiting for a planned change",
        "The fix needs a planned change to our systems. We will tell you when it is done.",
    ),
}
# Resolution codes (incidents/workflow.py) as the requester reads them.
RESOLUTION_WORDS = {
    "fixed": "Fixed",
    "workaround": "A workaround is in place",
    "no_fault_found": "We found no fault",
    "duplicate": "Handled in another ticket",
    "user_education": "We showed how to do it",
    "resolved_by_change": "Fixed by a planned change",
}


@dataclass(frozen=True)
class HandledBy:
    """Who works on the ticket as requesters are shown it: the team, and the agent's first
    name where the installation shows it (SERVIO_PORTAL_AGENT_NAME)."""

    team: str
    agent: str  # "" when not shown or nobody is assigned

    def __str__(self) -> str:
        return f"{self.agent} ({self.team})" if self.agent else self.team


def shows_agent_names() -> bool:
    return settings.SERVIO_PORTAL_AGENT_NAME == "first"


def handled_by(ticket: Ticket) -> HandledBy:
    team = ticket.team.name if ticket.team_id and ticket.team else "Service desk"
    agent = ""
    if shows_agent_names() and ticket.assignee_id and ticket.assignee is not None:
        agent = first_name(ticket.assignee)
    return HandledBy(team, agent)


def _promise(clocks: list) -> Any:
    """The SLA promise to show: the reply while it is owed, then the resolution. Only the SLA:
    an OLA or underpinning contract is the provider's own business, even for staff here."""
    counting = [
        c
        for c in clocks
        if c.policy_type == SlaPolicy.Type.SLA and c.stopped_at is None and c.due_at is not None
    ]
    for metric in ("first_response", "resolution"):
        found = sorted((c for c in counting if c.metric == metric), key=lambda c: c.due_at)
        if found:
            return found[0]
    return None


def next_step(*, user, ticket: Ticket, now: dt.datetime | None = None) -> NextStep:
    """What happens next on this (already visible) ticket and by when: the SLA promised to the
    requester (never an OLA), the hold reason, the confirmation asked for, or the outcome."""
    now = now or timezone.now()
    try:
        state = workflows.get(ticket.kind).state(ticket.status)
    except (LookupError, KeyError):
        return NextStep("info", "We are on it", "The service desk will keep you posted here.")
    mine = ticket.requester_id == user.pk
    if state.abandoned:
        return NextStep(
            "secondary",
            "Cancelled",
            "Nothing more will happen on this ticket. If you still need help, report a new one.",
        )
    if not state.open:
        if ticket.status in workflows.awaiting_confirmation_statuses():
            closes = closes_itself_at(ticket)
            deadline = reopen_deadline(ticket)
            after = []
            if mine and deadline is not None and deadline > now:
                after.append(f"You can reopen it until {_when(deadline)}.")
            return NextStep(
                "success",
                "We think this is solved",
                "Please confirm it is solved, or reopen it if the problem is still there."
                if mine
                else f"{ticket.requester.get_full_name()} is asked to confirm it is solved.",
                "If we do not hear back, it closes by itself on" if closes else "",
                closes,
                countdown=closes is not None and closes > now,
                after=after,
            )
        return NextStep(
            "secondary",
            "Closed",
            "This ticket is finished. If the problem comes back, report a new ticket and "
            f"mention {ticket.reference}.",
            "Closed on" if ticket.closed_at else "",
            ticket.closed_at,
        )
    if state.paused:
        tone, title, text = HOLD_STEPS.get(
            ticket.hold_reason, ("info", "On hold", "We will tell you when work goes on.")
        )
        if ticket.hold_reason == Ticket.HoldReason.AWAITING_REQUESTER and not mine:
            text = f"{ticket.requester.get_full_name()} is asked to answer our last message."
        return NextStep(tone, title, text)
    from servio.sla.selectors import ticket_clocks  # requesters see SLA clocks only, not OLAs

    clock = _promise(ticket_clocks(user=user, ticket=ticket))
    who = handled_by(ticket)
    if ticket.assignee_id is None and ticket.first_response_at is None:
        team = who.team if ticket.team_id else "The service desk"
        title, text = "We have received it", f"{team} will look at it and reply."
    else:
        title, text = "We are working on it", f"{who} is working on it."
    if clock is None:
        return NextStep("info", title, text + " We will keep you posted here and by email.")
    late = clock.breached or clock.due_at <= now
    aim = "We aimed" if late else "We aim"
    label = f"{aim} to reply by" if clock.metric == "first_response" else f"{aim} to solve it by"
    after = ["We are later than we aimed to be. Sorry for the wait: it is still on our list."]
    return NextStep(
        "warning" if late else "info",
        title,
        text,
        label,
        clock.due_at,
        countdown=not late,
        late=late,
        after=after if late else [],
    )


def _when(at: dt.datetime) -> str:
    local = timezone.localtime(at)
    return f"{local:%A %-d %B, %H:%M} {local.tzname()}"


@dataclass(frozen=True)
class Resolution:
    """How a finished ticket was solved, as the requester reads it."""

    words: str
    notes: str  # Markdown
    at: dt.datetime | None


def resolution(ticket: Ticket) -> Resolution | None:
    """The resolution of a resolved or closed ticket (None while open, or when cancelled)."""
    if ticket.status not in workflows.done_statuses():
        return None
    if not (ticket.resolution_code or ticket.resolution_notes):
        return None
    code = ticket.resolution_code
    words = RESOLUTION_WORDS.get(code, code.replace("_", " ").capitalize() if code else "Solved")
    return Resolution(words, ticket.resolution_notes, ticket.resolved_at)


# --- the conversation and the survey ------------------------------------------------------------


def conversation(*, user, ticket: Ticket) -> list[TimelineEntry]:
    """Public replies, shared files and status changes: what a requester follows. Staff are
    named as the installation shows them to requesters (first name, or the team)."""
    team = handled_by(ticket).team
    entries = []
    for entry in timeline(user=user, ticket=ticket):
        if entry.internal:
            continue
        if entry.kind in ("reply", "file"):
            entries.append(entry)
        elif entry.kind == "status" or entry.title == "created the ticket":
            entry.changes = [c for c in entry.changes if c["field"] == "Status"]
            if entry.title == "created the ticket":
                entry.changes = []
            entries.append(entry)
        else:
            continue
        if entry.by_staff:
            entry.actor = (entry.first_name if shows_agent_names() else "") or team
    return entries


def open_survey(*, user, ticket: Ticket):
    """The requester's unanswered, unexpired invitation to rate this ticket, if any."""
    from servio.surveys.models import SurveyInvitation

    if ticket.requester_id != user.pk:
        return None
    return (
        SurveyInvitation.objects.filter(
            ticket=ticket, requester=user, used_at__isnull=True, expires_at__gt=timezone.now()
        )
        .order_by("-created_at")
        .first()
    )


def my_rating(*, user, ticket: Ticket):
    """The requester's latest answer about this ticket (their own, so no report rights needed)."""
    from servio.surveys.models import SurveyResponse

    return (
        SurveyResponse.objects.filter(ticket=ticket, invitation__requester=user)
        .order_by("-created_at")
        .first()
    )


# --- the questions of the report form ----------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """An answer the report form offers, and the urgency or impact it stands for."""

    code: str
    wording: str
    level: int


def _load_answers() -> dict[str, list[Answer]]:
    columns = ("question", "code", "wording", "level", "is_active")
    rows = list(PortalAnswer.objects.values_list(*columns))
    if not rows:  # a table never filled (a flushed test database): the defaults
        rows = [(q, c, w, lv, True) for q, c, w, lv in DEFAULT_ANSWERS]
    found: dict[str, list[Answer]] = {q: [] for q in PortalAnswer.Question.values}
    for question, code, wording, level, active in rows:
        if active and question in found:
            found[question].append(Answer(code, wording, level))
    return found


_ANSWERS = configcache.Cached("portal answers", _load_answers, watched=(PortalAnswer,))


def answers() -> dict[str, list[Answer]]:
    """The active answers of each question of the report form, in the admin's order (the
    defaults of `DEFAULT_ANSWERS` while the table is empty)."""
    return _ANSWERS.get()

"""The demo's service levels: office hours and 24x7 calendars, an incident SLA and a service
request SLA, so that every ticket logged in the demo gets clocks that count down.

Created through the SLA services (validated and audited); the targets are rows of the policies,
as the admin's inline form writes them. Finished tickets of the loaded history get no clocks; the
open ones get theirs through `sla_sync` as the demo loads: those untouched since they were
logged count from then (so a few are already breached, as on a real desk), the others from the
moment the demo is loaded.
"""

from __future__ import annotations

from django.utils import timezone

from servio.sla.models import Calendar, SlaPolicy, SlaTarget
from servio.sla.services import calendar_save, policy_save, sla_sync
from servio.tickets.models import Ticket

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
OFFICE = "Office hours (Berlin)"
ALWAYS = "24x7"

# (priority, first response minutes, resolution minutes, calendar)
INCIDENT_TARGETS = [
    (1, 15, 4 * 60, ALWAYS),
    (2, 30, 8 * 60, ALWAYS),
    (3, 2 * 60, 2 * 10 * 60, OFFICE),  # two business days of ten hours
    (4, 4 * 60, 5 * 10 * 60, OFFICE),
    (5, 8 * 60, 10 * 10 * 60, OFFICE),
]
REQUEST_TARGETS = [(p, 4 * 60, 5 * 10 * 60, OFFICE) for p in range(1, 6)]


def ensure_service_levels() -> list[SlaPolicy]:
    """Create the calendars and policies unless they exist; returns the demo's policies."""
    calendars = {
        OFFICE: _calendar(
            OFFICE,
            time_zone="Europe/Berlin",
            hours={day: [["08:00", "18:00"]] for day in WEEKDAYS},
            holiday_country="DE",
            holiday_subdivision="BE",
        ),
        ALWAYS: _calendar(ALWAYS, twenty_four_seven=True),
    }
    return [
        _policy(
            "Incidents",
            kinds=["incident"],
            order=10,
            targets=INCIDENT_TARGETS,
            calendars=calendars,
            escalations=[{"at": 90, "action": "notify_team_lead"}],
        ),
        _policy(
            "Service requests",
            kinds=["request"],
            order=20,
            targets=REQUEST_TARGETS,
            calendars=calendars,
            escalations=[],
        ),
    ]


def start_open_clocks() -> int:
    """Clocks for the open tickets loaded as history (see the module's docstring)."""
    now = timezone.now()
    count = 0
    for ticket in Ticket.objects.open().order_by("pk").iterator():
        sla_sync(ticket=ticket, at=now)
        count += 1
    return count


def _calendar(name: str, **fields) -> Calendar:
    existing = Calendar.objects.filter(name=name).first()
    return existing or calendar_save(actor=None, calendar=Calendar(name=name, **fields))


def _policy(name, *, kinds, order, targets, calendars, escalations) -> SlaPolicy:
    existing = SlaPolicy.objects.filter(name=name).first()
    if existing is not None:
        return existing
    policy = policy_save(
        actor=None,
        policy=SlaPolicy(
            name=name,
            type=SlaPolicy.Type.SLA,
            kinds=kinds,
            order=order,
            pause_on=["on_hold:awaiting_requester"],
            restart_on_reopen=False,
            warning_thresholds=[75, 90],
            escalations=escalations,
        ),
    )
    SlaTarget.objects.bulk_create(
        SlaTarget(policy=policy, metric=metric, priority=priority, minutes=minutes,
                  calendar=calendars[calendar])
        for priority, response, resolution, calendar in targets
        for metric, minutes in (("first_response", response), ("resolution", resolution))
    )  # fmt: skip
    return policy

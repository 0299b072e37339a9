"""The demo's finished history as the dashboard reads it: SLA clocks of the finished tickets and
satisfaction answers of some resolutions, so that SLA compliance and CSAT are not empty on the
first start (the open tickets' clocks come from `service_levels.start_open_clocks`).

Written in bulk, as `bulk.write_plans` writes the tickets: the clocks are the SLA service's
(`sla_clocks_of_history`); the answers are what a requester's rating writes, an invitation used
once and its response, at a random time after the resolution.
"""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

from django.utils import timezone

from servio.sla.models import SlaClock
from servio.sla.services import sla_clocks_of_history
from servio.surveys.models import SurveyInvitation, SurveyResponse
from servio.tickets import workflows
from servio.tickets.models import Ticket

# Share of resolutions rated, and the ratings' weights (1 to 5): most requesters who answer
# are content, a few are not.
RATED_SHARE = 0.35
RATING_WEIGHTS = (4, 6, 12, 33, 45)
COMMENTS = {1: "Took far too long.", 2: "Had to chase twice.", 5: "Quick and clear, thanks!"}


def write_finished_history(*, seed: int) -> dict[str, int]:
    """Clocks for the finished tickets without any, and answers for about a third of them."""
    rng = random.Random(seed)  # noqa: S311 (demo data, not secrets)
    now = timezone.now()
    finished = (
        Ticket.objects.filter(status__in=workflows.done_statuses(), sla_clocks__isnull=True)
        .exclude(resolved_at__isnull=True)
        .order_by("pk")
    )
    clocks: list[SlaClock] = []
    invitations: list[SurveyInvitation] = []
    ratings: list[int] = []
    for ticket in finished.iterator():
        clocks += sla_clocks_of_history(ticket=ticket)
        if ticket.resolved_at is None or not rng.random() < RATED_SHARE:
            continue
        answered = ticket.resolved_at + timedelta(hours=rng.uniform(0.2, 30))
        if answered >= now:
            continue
        invitations.append(
            SurveyInvitation(
                ticket=ticket,
                requester_id=ticket.requester_id,
                team_id=ticket.team_id,
                agent_id=ticket.assignee_id,
                event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"servio-demo:{seed}:rated:{ticket.pk}"),
                created_at=ticket.resolved_at,
                expires_at=ticket.resolved_at + timedelta(days=14),
                used_at=answered,
            )
        )
        ratings.append(rng.choices(range(1, 6), weights=RATING_WEIGHTS)[0])
    SlaClock.objects.bulk_create(clocks, batch_size=500)
    made = SurveyInvitation.objects.bulk_create(invitations, batch_size=500)
    SurveyResponse.objects.bulk_create(
        (
            SurveyResponse(
                invitation=invitation,
                ticket_id=invitation.ticket_id,
                team_id=invitation.team_id,
                agent_id=invitation.agent_id,
                rating=rating,
                comment=COMMENTS.get(rating, "") if rng.random() < 0.5 else "",
                created_at=invitation.used_at,
            )
            for invitation, rating in zip(made, ratings, strict=True)
        ),
        batch_size=500,
    )
    return {"clocks": len(clocks), "answers": len(invitations)}

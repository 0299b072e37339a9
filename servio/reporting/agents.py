"""Per-agent figures of the service desk dashboard, for team leads and administrators.

Read from the same scope as every other figure (`Ticket.objects.visible_to` of the reader, the
service desk's kinds, the team and organisation filters), grouped by the ticket's assignee: an
agent appears only with the tickets the reader may see, so no other organisation's work is
counted, and a reader who may not see a team's tickets sees none of its agents' figures.
Counted live (the report tables have no per-agent rows): decision 35.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from typing import Any

from django.db.models import Avg, Count

from servio.accounts.models import User
from servio.core.errors import PermissionDenied
from servio.reporting import distribution, figures, selectors

# Rows shown at most (the busiest agents first); a desk larger than this filters by team.
MAX_AGENTS = 200


def can_read_agent_figures(user) -> bool:
    """Team leads and administrators (`reports.agents`); not agents, not change managers."""
    return bool(user.is_authenticated and user.has_capability("reports.agents"))


def require_agent_figures_reader(*, user) -> None:
    if not can_read_agent_figures(user):
        raise PermissionDenied(
            "Only team leads and administrators may read figures per agent; ask one of them."
        )


def agent_figures(
    *,
    user,
    start: dt.datetime,
    end: dt.datetime,
    team_id: int | None = None,
    organization_id: int | None = None,
) -> list[dict[str, Any]]:
    """One row per assignee of the tickets in scope, busiest first: tickets handled (resolved
    in [start, end) and still resolved or closed), their MTTR median, the share of them that
    had been reopened, and the satisfaction answers given in the period about tickets now
    assigned to the agent (average and count).

    PermissionDenied without `reports.agents`; the period and filters are checked as
    `service_desk_metrics` checks them (ValidationFailed, NotFound).
    """
    require_agent_figures_reader(user=user)
    start, end = selectors._checked_period(start, end)
    tickets = selectors._scoped_tickets(user, team_id=team_id, organization_id=organization_id)
    mine = tickets.filter(assignee__isnull=False)
    handled = figures.resolved(mine).filter(figures.between("resolved_at", start, end))
    durations: dict[int, list[float]] = defaultdict(list)
    reopened: dict[int, int] = defaultdict(int)
    for assignee, seconds, reopens in handled.annotate(
        seconds=figures.resolution_seconds()
    ).values_list("assignee_id", "seconds", "reopen_count"):
        durations[assignee].append(seconds)
        reopened[assignee] += reopens > 0
    answers = (
        figures.survey_answers()
        .filter(figures.between("created_at", start, end), ticket__in=mine)
        .values("ticket__assignee_id")
        .annotate(average=Avg("rating"), count=Count("id"))
        .order_by()
    )
    ratings = {row["ticket__assignee_id"]: row for row in answers}
    ids = sorted(set(durations) | set(ratings), key=lambda a: (-len(durations.get(a, [])), a))
    ids = ids[:MAX_AGENTS]
    people = User.objects.in_bulk(ids)
    rows = []
    for agent_id in ids:
        times = sorted(durations.get(agent_id, []))
        rated = ratings.get(agent_id)
        count = len(times)
        rows.append(
            {
                "agent_id": agent_id,
                "agent": people[agent_id].get_full_name() or people[agent_id].email
                if agent_id in people
                else str(agent_id),
                "handled": count,
                "mttr_median_seconds": _median(times),
                "reopened": reopened.get(agent_id, 0),
                "reopen_rate": selectors._rate(reopened.get(agent_id, 0), count),
                "csat_average": round(rated["average"], 2) if rated else None,
                "csat_responses": rated["count"] if rated else 0,
            }
        )
    return rows


def _median(values: list[float]) -> float | None:
    """percentile_cont(0.5) of sorted `values`, rounded as the dashboard's durations."""
    if not values:
        return None
    position = 0.5 * (len(values) - 1)
    low, high = values[math.floor(position)], values[math.ceil(position)]
    return selectors._seconds(distribution.interpolate(low, high, position))

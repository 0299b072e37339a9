"""The dashboard's drill-down links: for each figure, the agent queue of exactly its tickets.

Each link is the queue "All tickets" over the dashboard's scope (the service desk's kinds, its
team and organisation filters) with the report filters of `TicketFilter` that say the figure's
definition (servio.reporting.figures); the period's days are the dashboard's, in its time zone
(`tz`). The tests in tests/workspace/test_drilldown.py count each link's queue against the
figure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from servio.reporting.figures import SERVICE_DESK_KINDS


@dataclass(frozen=True)
class Scope:
    """What the dashboard shows: its days (first and last, inclusive), zone and filters."""

    first_day: dt.date
    last_day: dt.date
    time_zone: str
    team_id: int | None = None
    organization_id: int | None = None

    def base(self) -> dict[str, Any]:
        params: dict[str, Any] = {"queue": "all", "kind": list(SERVICE_DESK_KINDS)}
        if self.team_id:
            params["team"] = self.team_id
        if self.organization_id:
            params["organization"] = self.organization_id
        return params

    def period(self, name: str, first: dt.date | None = None, last: dt.date | None = None):
        """`<name>_after` / `<name>_before` for the days first..last (default: the period)."""
        first, last = first or self.first_day, last or self.last_day
        return {
            f"{name}_after": first.isoformat(),
            f"{name}_before": (last + dt.timedelta(days=1)).isoformat(),
            "tz": self.time_zone,
        }


def queue_url(params: dict[str, Any]) -> str:
    return f"{reverse('workspace:queue')}?{urlencode(params, doseq=True)}"


def figure_links(scope: Scope) -> dict[str, str]:
    """The links of the dashboard's single figures, by name."""
    base = scope.base()
    resolved = {**base, **scope.period("resolved")}
    sla = scope.period("sla")
    rated = {**base, **scope.period("rated")}
    return {
        "backlog": queue_url({**base, "open": "true"}),
        "mtta": queue_url({**base, **scope.period("created"), "responded": "true"}),
        "mttr": queue_url(resolved),
        "fcr": queue_url({**resolved, "first_contact": "true"}),
        "reassigned": queue_url({**resolved, "reassigned": "true"}),
        "sla_met": queue_url({**base, "sla": "met", **sla}),
        "sla_breached": queue_url({**base, "sla": "breached", **sla}),
        "csat": queue_url(rated),
        **{f"rating_{r}": queue_url({**rated, "rating": r}) for r in range(1, 6)},
    }


def backlog_url(
    scope: Scope, *, team_id: int | None = None, no_team: bool = False, priority: int | None = None
) -> str:
    """Open tickets of one team (or of none) and/or of one priority."""
    params: dict[str, Any] = {**scope.base(), "open": "true"}
    if team_id is not None:
        params["team"] = team_id
    elif no_team:
        params["no_team"] = "true"
    if priority is not None:
        params["priority"] = priority
    return queue_url(params)


def day_links(scope: Scope, day: dt.date) -> dict[str, str]:
    """Opened and resolved on one day of the chart."""
    base = scope.base()
    return {
        "opened": queue_url({**base, **scope.period("created", day, day)}),
        "resolved": queue_url({**base, **scope.period("resolved", day, day)}),
    }


def agent_links(scope: Scope, agent_id: int) -> dict[str, str]:
    """Handled, reopened and rated tickets of one agent (the ticket's assignee)."""
    base = {**scope.base(), "assignee": str(agent_id)}
    resolved = {**base, **scope.period("resolved")}
    return {
        "handled": queue_url(resolved),
        "reopened": queue_url({**resolved, "reopened": "true"}),
        "csat": queue_url({**base, **scope.period("rated")}),
    }

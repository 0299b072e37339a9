"""API: the service desk dashboard's figures, as JSON or as a CSV download."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router

from servio.api.schemas import Problem
from servio.reporting import agents, exports, selectors, zones
from servio.reporting.schemas import AgentFiguresOut, ServiceDeskMetricsOut, ServiceDeskQuery

router = Router(tags=["reporting"])

# Merged into the responses ninja declares (int keys, as ninja's): the 200 response gets the
# CSV as a second media type, the 404 says when it happens.
RESPONSES = {
    200: {
        "description": "The figures as JSON, or with `format=csv` as a CSV file with the columns "
        "figure, team_id, team, priority, day, measure, value (one value a row); with "
        "`format=sheet` as a spreadsheet CSV of one row per team (all teams first), one column "
        "per figure with headers in words, durations in hours, and the time zone of the days.",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    },
    404: {"description": "Not found. No team or organisation with that id is visible to you."},
}


@router.get(
    "/reports/service-desk",
    # 404: a team or organisation the caller may not see (the document adds the other errors).
    response={200: ServiceDeskMetricsOut, 404: Problem},
    openapi_extra={"responses": RESPONSES},
)
def service_desk(request: HttpRequest, query: Query[ServiceDeskQuery]):
    """Backlog, opened vs resolved per day, MTTA, MTTR, first-contact resolution, SLA
    compliance, reassignment rate and CSAT for [start, end), over the tickets you may see,
    with days in the time zone `tz` (the answer's `time_zone` says which).

    For team leads, change managers and administrators; see docs/reporting.md for how each
    figure is defined.
    """
    scope, zone = _scope(request, query)
    if query.format == "sheet":
        teams = selectors.service_desk_by_team(**scope, time_zone=zone)
        return exports.service_desk_sheet_response(teams)
    metrics = selectors.service_desk_metrics(**scope, time_zone=zone)
    if query.format == "csv":
        return exports.service_desk_csv_response(metrics)
    return metrics


@router.get(
    "/reports/service-desk/agents",
    response={200: AgentFiguresOut, 404: Problem},
    openapi_extra={"responses": {404: RESPONSES[404]}},
)
def service_desk_agents(request: HttpRequest, query: Query[ServiceDeskQuery]):
    """Per agent (the ticket's assignee) of the tickets you may see: handled, MTTR median,
    reopen rate and CSAT for [start, end), as on the dashboard. For team leads and
    administrators (`reports.agents`); `format` is ignored."""
    scope, _ = _scope(request, query)
    rows = agents.agent_figures(**scope)
    return {"period": {"start": scope["start"], "end": scope["end"]}, "agents": rows}


def _scope(request: HttpRequest, query: ServiceDeskQuery) -> tuple[dict, str]:
    """Who asks, the period (days in the query's time zone) and the team/organisation filter,
    as every report selector takes them; and the name of that time zone."""
    zone = zones.zone_named(query.tz)
    start, end = selectors.default_period(start=query.start, end=query.end, zone=zone)
    return {
        "user": request.auth,
        "start": start,
        "end": end,
        "team_id": query.team,
        "organization_id": query.organization,
    }, zone.key

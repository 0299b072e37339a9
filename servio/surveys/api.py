"""API: /surveys — satisfaction results per team, agent or month, and a ticket's responses."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Router, Schema

from servio.api.pagination import paginate
from servio.api.types import UtcDateTime
from servio.core.errors import NotFound, ValidationFailed
from servio.surveys import selectors
from servio.tickets import selectors as ticket_selectors

router = Router(tags=["surveys"])


class ReportRow(Schema):
    key: int | str | None
    label: str
    responses: int
    average_rating: float
    csat_percent: float


class ResponseOut(Schema):
    id: int
    ticket: str
    rating: int
    comment: str
    team: str | None
    agent: str | None
    created_at: datetime


class ResponsePage(Schema):
    items: list[ResponseOut]
    next_cursor: str | None


@router.get("/surveys/report", response=list[ReportRow])
def report(
    request: HttpRequest,
    group_by: Literal["team", "agent", "month"] = "month",
    since: UtcDateTime | None = None,
    until: UtcDateTime | None = None,
):
    """Responses, average rating and CSAT (% of 4 and 5) per team, agent or month
    (team leads, managers and administrators: `reports.read`)."""
    return selectors.survey_report(user=request.auth, group_by=group_by, since=since, until=until)


@router.get("/surveys/responses", response=ResponsePage)
def responses(
    request: HttpRequest,
    ticket: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
):
    """Individual answers you may see, newest first; `ticket=INC-000123` for one ticket."""
    ticket_obj = None
    if ticket:
        try:
            ticket_obj = ticket_selectors.ticket_get(user=request.auth, reference=ticket)
        except NotFound as exc:  # a filter value, not the resource: name the field
            raise ValidationFailed.field(
                "ticket", f"No ticket {ticket} is visible to you."
            ) from exc
    qs = selectors.responses(user=request.auth, ticket=ticket_obj)
    page = paginate(qs, order=["-created_at", "-id"], cursor=cursor, limit=limit)
    return {
        "items": [
            {
                "id": r.pk,
                "ticket": r.ticket.reference,
                "rating": r.rating,
                "comment": r.comment,
                "team": str(r.team) if r.team_id else None,
                "agent": r.agent.get_full_name() if r.agent_id and r.agent else None,
                "created_at": r.created_at,
            }
            for r in page.items
        ],
        "next_cursor": page.next_cursor,
    }

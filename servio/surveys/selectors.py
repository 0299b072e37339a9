"""Reading survey results: per team, agent or month, for people who may read reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet
from django.db.models.functions import TruncMonth

from servio.core.errors import PermissionDenied, ValidationFailed
from servio.surveys.models import SurveyResponse

GROUPS = ("team", "agent", "month")


def can_read_reports(user) -> bool:
    return user.has_capability("reports.read") or user.has_capability("admin.configure")


def responses(*, user, ticket=None) -> QuerySet[SurveyResponse]:
    """Responses the user may see (admins: all; staff: those of the tickets they may see)."""
    qs = SurveyResponse.objects.visible_to(user).select_related("ticket", "team", "agent")
    if ticket is not None:
        qs = qs.filter(ticket=ticket)
    return qs


def survey_report(
    *, user, group_by: str, since: datetime | None = None, until: datetime | None = None
) -> list[dict[str, Any]]:
    """Responses, average rating and CSAT (share of 4s and 5s, in percent) per group."""
    if not can_read_reports(user):
        raise PermissionDenied("Only team leads, managers and administrators may read reports.")
    if group_by not in GROUPS:
        raise ValidationFailed.field("group_by", f"must be one of: {', '.join(GROUPS)}.")
    qs = SurveyResponse.objects.visible_to(user)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    if until is not None:
        qs = qs.filter(created_at__lt=until)
    measures = {
        "responses": Count("id"),
        "average": Avg("rating"),
        "satisfied": Count("id", filter=Q(rating__gte=4)),
    }
    rows = _grouped(qs, group_by, measures)
    return [
        {
            "key": row["key"],
            "label": row["label"],
            "responses": row["responses"],
            "average_rating": round(float(row["average"] or 0), 2),
            "csat_percent": round(100 * row["satisfied"] / row["responses"], 1)
            if row["responses"]
            else 0.0,
        }
        for row in rows
    ]


def _grouped(qs: QuerySet[SurveyResponse], group_by: str, measures: dict) -> list[dict[str, Any]]:
    """Rows with "key", "label" and the measures, for one grouping."""
    found: list[dict[str, Any]] = []
    if group_by == "team":
        by_team: Any = qs.values("team_id", "team__name").annotate(**measures)
        for row in by_team.order_by("team__name"):
            found.append({**row, "key": row["team_id"], "label": row["team__name"] or "(no team)"})
    elif group_by == "agent":
        by_agent: Any = qs.values("agent_id", "agent__full_name", "agent__email")
        for row in by_agent.annotate(**measures).order_by("agent__full_name", "agent__email"):
            label = row["agent__full_name"] or row["agent__email"] or "(unassigned)"
            found.append({**row, "key": row["agent_id"], "label": label})
    else:
        by_month: Any = qs.annotate(month=TruncMonth("created_at")).values("month")
        for row in by_month.annotate(**measures).order_by("month"):
            month = row["month"].strftime("%Y-%m")
            found.append({**row, "key": month, "label": month})
    return found

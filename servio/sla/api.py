"""API: a ticket's SLA clocks, the compliance report (JSON or CSV), calendars and policies."""

from __future__ import annotations

import csv
import io
from typing import Literal

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router, Schema, Status

from servio.api.types import UtcDateTime
from servio.sla import selectors, services
from servio.sla.models import Calendar
from servio.sla.schemas import (
    CalendarIn,
    CalendarOut,
    ClockOut,
    ComplianceRow,
    OverlapOut,
    PolicyOut,
)
from servio.tickets.selectors import ticket_get

router = Router(tags=["sla"])


@router.get("/tickets/{reference}/sla", response=list[ClockOut])
def ticket_sla(request: HttpRequest, reference: str):
    """Every clock on the ticket: target, due time, business time left, % used, state."""
    ticket = ticket_get(user=request.auth, reference=reference)
    clocks = selectors.ticket_clocks(user=request.auth, ticket=ticket)
    return [selectors.clock_view(c) for c in clocks]


class ComplianceQuery(Schema):
    group_by: Literal[
        "policy", "organization", "service", "team", "priority", "metric", "week", "month"
    ] = "policy"
    start: UtcDateTime | None = None
    end: UtcDateTime | None = None
    policy_type: Literal["sla", "ola", "uc"] | None = None
    format: Literal["json", "csv"] = "json"


@router.get("/sla/compliance", response=list[ComplianceRow])
def compliance(request: HttpRequest, query: Query[ComplianceQuery]):
    """Met vs breached for clocks finished in [start, end); `format=csv` downloads it."""
    rows = selectors.compliance(
        user=request.auth,
        group_by=query.group_by,
        start=query.start,
        end=query.end,
        policy_type=query.policy_type,
    )
    if query.format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        # Weeks and months are cut in the installation's zone (the API is not in the reader's);
        # each row says which, so a spreadsheet keeps it.
        zone_name = timezone.get_current_timezone_name()
        writer.writerow(
            [query.group_by, "label", "met", "breached", "total", "compliance_pct", "time_zone"]
        )
        for row in rows:
            writer.writerow(
                [
                    _csv_safe(row["key"]),
                    _csv_safe(row["label"]),
                    row["met"],
                    row["breached"],
                    row["total"],
                    row["compliance"],
                    zone_name,
                ]
            )
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="sla-compliance-{query.group_by}.csv"'
        )
        return response
    return rows


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_safe(value: object) -> object:
    """Keep spreadsheet formulas out of exported cells: text that a spreadsheet would evaluate
    (starting with = + - @ or a tab or carriage return) gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return f"'{value}"
    return value


def _calendar_out(calendar: Calendar) -> dict:
    return {f: getattr(calendar, f) for f in CalendarOut.model_fields}


@router.get("/sla/calendars", response=list[CalendarOut])
def list_calendars(request: HttpRequest):
    calendars = selectors.calendars(user=request.auth)[: selectors.LIST_LIMIT]
    return [_calendar_out(c) for c in calendars]


@router.post("/sla/calendars", response={201: CalendarOut})
def create_calendar(request: HttpRequest, payload: CalendarIn):
    """Create a business-hours calendar; bad hours, zones or holiday countries answer 422."""
    calendar = services.calendar_save(actor=request.auth, calendar=Calendar(**payload.dict()))
    return Status(201, _calendar_out(calendar))


@router.put("/sla/calendars/{calendar_id}", response=CalendarOut)
def update_calendar(request: HttpRequest, calendar_id: int, payload: CalendarIn):
    calendar = selectors.calendar_get(user=request.auth, calendar_id=calendar_id)
    for name, value in payload.dict().items():
        setattr(calendar, name, value)
    return _calendar_out(services.calendar_save(actor=request.auth, calendar=calendar))


@router.get("/sla/policies", response=list[PolicyOut])
def list_policies(request: HttpRequest):
    return list(selectors.policies(user=request.auth)[: selectors.LIST_LIMIT])


@router.get("/sla/policies/overlaps", response=list[OverlapOut])
def policy_overlaps(request: HttpRequest):
    """Pairs of policies that could match the same ticket, and which one applies."""
    return [
        {"first": a.name, "second": b.name, "applies": a.name}
        for a, b in selectors.policy_overlaps(user=request.auth)
    ]

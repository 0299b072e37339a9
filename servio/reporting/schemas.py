"""API schemas of the service desk dashboard's figures and of its query."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Schema
from pydantic import AwareDatetime

from servio.tickets.inputs import MAX_ID


class ServiceDeskQuery(Schema):
    """The period, the filters and the format (absent means: the last 30 days, everything)."""

    # Typed without "| None" so the document says what a value looks like (a nullable query
    # parameter invites clients to send the text "null"); absent is None.
    start: AwareDatetime = Field(
        None, description="Start of the period, inclusive, with its offset (default: 30 days ago)."
    )
    end: AwareDatetime = Field(
        None,
        description="End of the period, exclusive, with its offset (default: now); at most "
        "366 days after the start.",
    )
    team: int = Field(None, ge=1, le=MAX_ID, description="Only tickets assigned to this team.")
    organization: int = Field(
        None, ge=1, le=MAX_ID, description="Only tickets of this organisation."
    )
    format: Literal["json", "csv", "sheet"] = Field(
        "json",
        description="`csv` downloads the figures as a CSV file (one value a row); `sheet` as a "
        "spreadsheet CSV, one row per team and one column per figure.",
    )
    tz: str = Field(
        None,
        max_length=64,
        description="The time zone of the report's days, an IANA name such as `Europe/Berlin` "
        "(default: the installation's report time zone, see `time_zone` in the answer).",
    )


class PeriodOut(Schema):
    start: dt.datetime
    end: dt.datetime


class BacklogRow(Schema):
    team_id: int | None = Field(..., description="None: not assigned to a team.")
    team: str | None
    priority: int
    count: int


class DayRow(Schema):
    day: dt.date = Field(..., description="A day in the report's `time_zone`.")
    opened: int
    resolved: int


class TimingOut(Schema):
    median_seconds: float | None
    p90_seconds: float | None
    count: int = Field(..., description="Tickets measured.")


class FirstContactOut(Schema):
    rate: float | None = Field(..., description="Percent of resolved tickets; None if none.")
    fcr_count: int
    resolved_count: int


class SlaComplianceOut(Schema):
    met: int = Field(..., description="Requester SLA clocks that ended within target.")
    breached: int = Field(..., description="Requester SLA clocks that ended past target.")
    breached_open: int = Field(
        ...,
        description="Requester SLA clocks still open (counting or waiting) that passed their "
        "target in the period.",
    )
    breached_tickets: int = Field(
        ..., description="Tickets with a clock counted in `breached` or `breached_open`."
    )
    rate: float | None = Field(
        ...,
        description="Percent met of met + breached + breached_open; None if there is none.",
    )


class ReassignmentOut(Schema):
    rate: float | None = Field(..., description="Percent of resolved tickets; None if none.")
    reassigned: int
    total: int


class CsatOut(Schema):
    average: float | None = Field(..., description="Average rating, 1 to 5; None if none.")
    responses: int
    distribution: dict[str, int] = Field(..., description='Answers per rating, "1" to "5".')


class ServiceDeskMetricsOut(Schema):
    period: PeriodOut
    time_zone: str = Field(
        ..., description="The IANA time zone the days are in (`opened_vs_resolved`)."
    )
    backlog: list[BacklogRow]
    opened_vs_resolved: list[DayRow]
    mtta: TimingOut = Field(..., description="Created to first public agent reply.")
    mttr: TimingOut = Field(..., description="Created to resolved.")
    first_contact_resolution: FirstContactOut
    sla_compliance: SlaComplianceOut
    reassignment_rate: ReassignmentOut
    csat: CsatOut


class AgentRow(Schema):
    agent_id: int
    agent: str
    handled: int = Field(
        ..., description="Assigned tickets resolved in the period, still resolved or closed."
    )
    mttr_median_seconds: float | None = Field(..., description="Median of the handled ones.")
    reopened: int = Field(..., description="Handled tickets reopened at least once.")
    reopen_rate: float | None = Field(..., description="Percent of handled; None if none.")
    csat_average: float | None = Field(
        ...,
        description="Average rating of the answers given in the period about the agent's tickets.",
    )
    csat_responses: int


class AgentFiguresOut(Schema):
    period: PeriodOut
    agents: list[AgentRow]

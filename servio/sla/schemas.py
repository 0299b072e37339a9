"""API schemas for SLA clocks, calendars, policies and the compliance report."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema

from servio.api.schemas import Out


class ClockOut(Out):
    id: int
    policy: str
    policy_type: str
    metric: str
    state: str
    breached: bool
    target_seconds: int
    elapsed_seconds: float
    remaining_seconds: float
    percent_used: float
    started_at: dt.datetime
    due_at: dt.datetime | None
    stopped_at: dt.datetime | None
    paused: bool
    pauses: list[Any]
    cycle: int
    calendar: str
    team_id: int | None


class ComplianceRow(Schema):
    key: Any
    label: str
    met: int
    breached: int
    total: int
    compliance: float | None


class CalendarIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    time_zone: str = "UTC"
    twenty_four_seven: bool = False
    hours: dict[str, list[list[str]]] = Field(default_factory=dict)
    holiday_country: str = ""
    holiday_subdivision: str = ""
    closed_dates: list[str] = Field(default_factory=list)
    extra_working_days: dict[str, list[list[str]]] = Field(default_factory=dict)


class CalendarOut(CalendarIn):
    id: int


class PolicyOut(Schema):
    id: int
    name: str
    type: str
    is_active: bool
    order: int
    kinds: list[str]
    priorities: list[int]
    pause_on: list[str]
    restart_on_reopen: bool
    warning_thresholds: list[float]
    escalations: list[dict[str, Any]]


class OverlapOut(Schema):
    first: str
    second: str
    applies: str

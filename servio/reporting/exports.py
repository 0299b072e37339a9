"""The dashboard's figures as CSV files: one value a row, in a tidy long format (for scripts),
and a spreadsheet of one row per team (for people; `service_desk_sheet_response`).

Columns: figure, team_id, team, priority, day, measure, value. A cell a figure does not use is
empty, and so is a value that does not exist (a median of nothing). Text that a spreadsheet
would evaluate as a formula gets a leading apostrophe. The period's rows say the time zone of
the days.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from django.http import HttpResponse

COLUMNS = ("figure", "team_id", "team", "priority", "day", "measure", "value")
# (figure, its measures in order) for the figures that are one set of numbers.
SUMMARIES = (
    ("mtta", ("median_seconds", "p90_seconds", "count")),
    ("mttr", ("median_seconds", "p90_seconds", "count")),
    ("first_contact_resolution", ("rate", "fcr_count", "resolved_count")),
    ("sla_compliance", ("met", "breached", "breached_open", "breached_tickets", "rate")),
    ("reassignment_rate", ("rate", "reassigned", "total")),
    ("csat", ("average", "responses")),
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def rows(metrics: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    """The CSV rows of `service_desk_metrics` output, header first."""
    yield COLUMNS
    for name in ("start", "end"):
        yield ("period", "", "", "", "", name, metrics["period"][name].isoformat())
    yield ("period", "", "", "", "", "time_zone", metrics["time_zone"])
    for row in metrics["backlog"]:
        yield ("backlog", row["team_id"], row["team"], row["priority"], "", "count", row["count"])
    for row in metrics["opened_vs_resolved"]:
        day = row["day"].isoformat()
        yield ("opened_vs_resolved", "", "", "", day, "opened", row["opened"])
        yield ("opened_vs_resolved", "", "", "", day, "resolved", row["resolved"])
    for figure, measures in SUMMARIES:
        for measure in measures:
            yield (figure, "", "", "", "", measure, metrics[figure][measure])
    for rating, count in metrics["csat"]["distribution"].items():
        yield ("csat", "", "", "", "", f"rating_{rating}", count)


def service_desk_csv(metrics: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows(metrics):
        writer.writerow([safe_cell(value) for value in row])
    return buffer.getvalue()


def service_desk_csv_response(metrics: dict[str, Any]) -> HttpResponse:
    """The download: `service-desk-<first day>-<last day>.csv`, days in the report's zone."""
    days = metrics["opened_vs_resolved"]
    name = f"service-desk-{days[0]['day']:%Y%m%d}-{days[-1]['day']:%Y%m%d}.csv"
    response = HttpResponse(service_desk_csv(metrics), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# The spreadsheet: one row per team, one column per figure, headers in words.
HOURS = 3600.0


def _hours(seconds: float | None) -> float | None:
    return round(seconds / HOURS, 2) if seconds is not None else None


SHEET_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("First day", lambda m: m["opened_vs_resolved"][0]["day"].isoformat()),
    ("Last day", lambda m: m["opened_vs_resolved"][-1]["day"].isoformat()),
    ("Time zone", lambda m: m["time_zone"]),
    ("Open backlog now", lambda m: sum(r["count"] for r in m["backlog"])),
    ("Opened", lambda m: sum(r["opened"] for r in m["opened_vs_resolved"])),
    ("Resolved", lambda m: sum(r["resolved"] for r in m["opened_vs_resolved"])),
    ("Answered (MTTA tickets)", lambda m: m["mtta"]["count"]),
    ("MTTA median (hours)", lambda m: _hours(m["mtta"]["median_seconds"])),
    ("MTTA 90th percentile (hours)", lambda m: _hours(m["mtta"]["p90_seconds"])),
    ("Resolved and still resolved (MTTR tickets)", lambda m: m["mttr"]["count"]),
    ("MTTR median (hours)", lambda m: _hours(m["mttr"]["median_seconds"])),
    ("MTTR 90th percentile (hours)", lambda m: _hours(m["mttr"]["p90_seconds"])),
    ("First-contact resolution (%)", lambda m: m["first_contact_resolution"]["rate"]),
    ("Reassignment rate (%)", lambda m: m["reassignment_rate"]["rate"]),
    ("SLA clocks met", lambda m: m["sla_compliance"]["met"]),
    ("SLA clocks breached (ended)", lambda m: m["sla_compliance"]["breached"]),
    ("SLA clocks breached (still open)", lambda m: m["sla_compliance"]["breached_open"]),
    ("SLA compliance (%)", lambda m: m["sla_compliance"]["rate"]),
    ("CSAT average (1 to 5)", lambda m: m["csat"]["average"]),
    ("CSAT responses", lambda m: m["csat"]["responses"]),
)


def sheet_rows(teams: list[tuple[str, dict[str, Any]]]) -> Iterator[tuple[Any, ...]]:
    """The spreadsheet's rows: a header in words, then one row per team ("All teams" first).
    Durations are in hours, rates in percent; an empty cell is a figure with nothing to
    measure."""
    yield ("Team", *(name for name, _ in SHEET_COLUMNS))
    for label, metrics in teams:
        yield (label, *(value(metrics) for _, value in SHEET_COLUMNS))


def service_desk_sheet_response(teams: list[tuple[str, dict[str, Any]]]) -> HttpResponse:
    """The download `service-desk-by-team-<first day>-<last day>-<zone>.csv`, with a byte order
    mark so that spreadsheet programs read it as UTF-8."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in sheet_rows(teams):
        writer.writerow([safe_cell(value) for value in row])
    metrics = teams[0][1]
    days = metrics["opened_vs_resolved"]
    zone = metrics["time_zone"].replace("/", "-")
    name = f"service-desk-by-team-{days[0]['day']:%Y%m%d}-{days[-1]['day']:%Y%m%d}-{zone}.csv"
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def safe_cell(value: Any) -> Any:
    """None as an empty cell; text a spreadsheet would evaluate gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return f"'{value}"
    return value

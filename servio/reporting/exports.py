"""The dashboard's figures as a CSV file: one value a row, in a tidy long format.

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
    ("sla_compliance", ("met", "breached", "rate")),
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


def safe_cell(value: Any) -> Any:
    """None as an empty cell; text a spreadsheet would evaluate gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return f"'{value}"
    return value

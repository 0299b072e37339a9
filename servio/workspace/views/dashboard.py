"""The service desk dashboard for team leads and managers (figures from servio.reporting)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from servio.accounts.models import Organization, Team
from servio.accounts.timezones import effective_zone_name
from servio.core.errors import DomainError, PermissionDenied
from servio.reporting import agents as agent_figures
from servio.reporting import selectors as reporting
from servio.reporting import zones
from servio.reporting.definitions import DEFINITIONS
from servio.web.errors import add_errors
from servio.workspace import drilldown
from servio.workspace.views.common import agent_required

PERIODS = [
    ("7", "Last 7 days"),
    ("30", "Last 30 days"),
    ("90", "Last 90 days"),
    ("custom", "From … to …"),
]


class DashboardForm(forms.Form):
    period = forms.ChoiceField(choices=PERIODS, required=False, initial="30", label="Period")
    start = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        required=False, label="To (inclusive)", widget=forms.DateInput(attrs={"type": "date"})
    )
    team = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="Team")
    organization = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, label="Organisation"
    )
    tz = forms.ChoiceField(required=False, label="Days in")

    def __init__(self, *args, teams=(), organizations=(), time_zones=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [("", "All teams")] + [(t.pk, t.name) for t in teams]
        self.fields["organization"].choices = [("", "All organisations")] + [
            (o.pk, o.name) for o in organizations
        ]
        self.fields["tz"].choices = [(name, name) for name in time_zones]

    def zone(self) -> ZoneInfo:
        """The time zone chosen (default: the installation's report time zone)."""
        data = self.cleaned_data if self.is_bound and not self.errors else {}
        return zones.zone_named(data.get("tz") or None)

    def clean(self):
        data = super().clean()
        if data.get("period") == "custom":
            if not data.get("start"):
                self.add_error("start", "Choose the first day of the period.")
            if not data.get("end"):
                self.add_error("end", "Choose the last day of the period.")
            if data.get("start") and data.get("end") and data["end"] < data["start"]:
                self.add_error("end", "The last day must not be before the first.")
        return data

    def window(self, now: dt.datetime, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
        """[start, end): from the first day's midnight to the midnight after the last day, in
        the time zone of the report."""
        data = self.cleaned_data if self.is_bound and not self.errors else {}
        period = data.get("period") or "30"
        if period == "custom":
            first, last = data["start"], data["end"]
        else:
            last = zones.day_of(now, zone)
            first = last - dt.timedelta(days=int(period) - 1)
        return zones.start_of(first, zone), zones.start_of(last + dt.timedelta(days=1), zone)


def _charts(
    metrics: dict[str, Any], backlog: dict[str, Any], days: list[dict[str, Any]], links
) -> dict[str, Any]:
    """The chart data (Chart.js datasets) from the metrics; the tables show the same numbers,
    and a click on a point or bar opens the queue behind it (the `links`)."""
    csat = (metrics.get("csat") or {}).get("distribution") or {}
    ratings = sorted(csat, key=int)
    return {
        "daily": {
            "labels": [str(r["day"]) for r in days],
            "opened": [r["opened"] for r in days],
            "resolved": [r["resolved"] for r in days],
            "links": [[r["links"]["opened"], r["links"]["resolved"]] for r in days],
        },
        "backlog": {
            "labels": [row["team"] for row in backlog["rows"]],
            "datasets": [
                {
                    "label": f"P{p}",
                    "data": [row["cells"][i]["count"] for row in backlog["rows"]],
                    "links": [row["cells"][i]["url"] for row in backlog["rows"]],
                }
                for i, p in enumerate(backlog["priorities"])
            ],
        },
        "csat": {
            "labels": ratings,
            "data": [csat[k] for k in ratings],
            "links": [links[f"rating_{k}"] for k in ratings],
        },
    }


def _backlog_table(backlog: list[dict], scope: drilldown.Scope) -> dict[str, Any]:
    """Open tickets by team (rows, "(no team)" last) and priority, each cell with its link."""
    priorities = sorted({row["priority"] for row in backlog})
    rows: dict[int | None, dict[int, int]] = {}
    names: dict[int | None, str] = {}
    for row in backlog:  # ordered by team name, no team last
        rows.setdefault(row["team_id"], {})[row["priority"]] = row["count"]
        names[row["team_id"]] = row["team"] or "(no team)"

    def url(team_id, priority=None):
        return drilldown.backlog_url(
            scope, team_id=team_id, no_team=team_id is None, priority=priority
        )

    return {
        "priorities": priorities,
        "rows": [
            {
                "team": names[team_id],
                "url": url(team_id),
                "cells": [{"count": cells.get(p, 0), "url": url(team_id, p)} for p in priorities],
                "total": sum(cells.values()),
            }
            for team_id, cells in rows.items()
        ],
        "totals": [
            {
                "count": sum(r.get(p, 0) for r in rows.values()),
                "url": drilldown.backlog_url(scope, priority=p),
            }
            for p in priorities
        ],
        "total": sum(sum(r.values()) for r in rows.values()),
    }


def _time_zones(user) -> list[str]:
    """The report time zones of the installation (pre-aggregated, default first), and the
    reader's own if it is another."""
    names = zones.aggregated_zones()
    own = effective_zone_name(user)
    if own and own not in names:
        try:
            zones.zone_named(own)
        except DomainError:
            return names
        names = [*names, own]
    return names


@agent_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    try:
        reporting.require_dashboard_reader(user=user)
    except PermissionDenied as exc:  # as if the page did not exist; the refusal is still logged
        raise Http404("No such page.") from exc
    teams = list(Team.objects.visible_to(user).filter(is_active=True))
    organizations = list(Organization.objects.visible_to(user)[:500])
    form = DashboardForm(
        request.GET or None,
        teams=teams,
        organizations=organizations,
        time_zones=_time_zones(user),
    )
    if form.is_bound:
        form.is_valid()
    zone = form.zone()
    start, end = form.window(timezone.now(), zone)
    team_id = form.cleaned_data.get("team") if form.is_bound and not form.errors else None
    org_id = form.cleaned_data.get("organization") if form.is_bound and not form.errors else None
    metrics = agents = None
    try:
        metrics = reporting.service_desk_metrics(
            user=user,
            start=start,
            end=end,
            team_id=team_id,
            organization_id=org_id,
            time_zone=zone.key,
        )
        if agent_figures.can_read_agent_figures(user):
            agents = agent_figures.agent_figures(
                user=user, start=start, end=end, team_id=team_id, organization_id=org_id
            )
    except DomainError as exc:
        add_errors(form, exc, aliases={"team_id": "team", "organization_id": "organization"})
    first_day = zones.day_of(start, zone)
    last_day = zones.day_of(end - dt.timedelta(microseconds=1), zone)
    scope = drilldown.Scope(first_day, last_day, zone.key, team_id, org_id)
    query: dict[str, Any] = {
        "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tz": zone.key,
    }
    if team_id:
        query["team"] = team_id
    if org_id:
        query["organization"] = org_id
    links = drilldown.figure_links(scope)
    backlog = _backlog_table(metrics.get("backlog") or [], scope) if metrics else None
    days = [
        {**row, "links": drilldown.day_links(scope, row["day"])}
        for row in (metrics or {}).get("opened_vs_resolved") or []
    ]
    csat = ((metrics or {}).get("csat") or {}).get("distribution") or {}
    context = {
        "nav": "dashboard",
        "form": form,
        "metrics": metrics,
        "first_day": first_day,
        "last_day": last_day,
        "time_zone": zone.key,
        "links": links,
        "definitions": DEFINITIONS,
        "days": days,
        "charts": _charts(metrics, backlog, days, links) if metrics and backlog else None,
        "backlog": backlog,
        "csat_rows": [(k, csat[k], links[f"rating_{k}"]) for k in sorted(csat, key=int)],
        "agents": [
            {**row, "links": drilldown.agent_links(scope, row["agent_id"])} for row in agents or []
        ]
        if agents is not None
        else None,
        "csv_url": f"/api/v1/reports/service-desk?{urlencode({**query, 'format': 'csv'})}",
        "sheet_url": f"/api/v1/reports/service-desk?{urlencode({**query, 'format': 'sheet'})}",
    }
    return render(request, "workspace/dashboard.html", context)

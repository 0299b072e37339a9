"""The service desk report's figures per day, pre-aggregated for whole organisations and teams.

Derived data, rebuilt from the tickets by `services.report_refresh` (decision 29): nobody reads
these rows directly. The report (`selectors.service_desk_metrics`) reads them only for the
whole organisations and teams a reader may see, and counts everything else from the tickets.
One row per (time zone, local day, organisation, team) holds the counts of that day's tickets of
the service desk's kinds, grouped by the ticket's organisation and its current team.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from servio.accounts.models import Organization, Team
from servio.tickets.models import Ticket


class ReportZone(models.Model):
    """How far the figures of one time zone are built, and up to when changes were read."""

    zone = models.CharField(max_length=64, primary_key=True)
    # Every local day before this one is built (None: nothing is built yet).
    complete_before = models.DateField(null=True)
    # The refresh read the changes of tickets touched up to this instant.
    changes_read_at = models.DateTimeField(null=True)
    refreshed_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"{self.zone}: days before {self.complete_before}"


class _Group(models.Model):
    """A (time zone, organisation, team) group of one period: team None means no team."""

    zone = models.CharField(max_length=64)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, related_name="+", db_index=False
    )

    class Meta:
        abstract = True


class ReportDay(_Group):
    """One local day's counts and duration histograms for one organisation and team."""

    day = models.DateField()
    opened = models.PositiveIntegerField(default=0)  # logged that day
    answered = models.PositiveIntegerField(default=0)  # of those, answered by now
    resolved = models.PositiveIntegerField(default=0)  # resolved that day (last resolution)
    first_contact = models.PositiveIntegerField(default=0)  # of those, at first contact
    reassigned = models.PositiveIntegerField(default=0)  # of those, reassigned at least once
    sla_met = models.PositiveIntegerField(default=0)  # requester SLA clocks finished that day
    sla_breached = models.PositiveIntegerField(default=0)
    rated_1 = models.PositiveIntegerField(default=0)  # survey answers given that day
    rated_2 = models.PositiveIntegerField(default=0)
    rated_3 = models.PositiveIntegerField(default=0)
    rated_4 = models.PositiveIntegerField(default=0)
    rated_5 = models.PositiveIntegerField(default=0)
    # {"bucket": count} of the durations (distribution.py): to the first response of the
    # tickets logged that day, and to the resolution of those resolved that day.
    response_histogram = models.JSONField(default=dict)
    resolution_histogram = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["zone", "day"], name="report_day")]
        constraints = [
            models.UniqueConstraint(
                fields=["zone", "day", "organization", "team"],
                condition=Q(team__isnull=False),
                name="report_day_group",
            ),
            models.UniqueConstraint(
                fields=["zone", "day", "organization"],
                condition=Q(team__isnull=True),
                name="report_day_group_no_team",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.zone} {self.day} org {self.organization_id} team {self.team_id}"


class ReportMonth(_Group):
    """The sums of an ended local month's duration histograms for one organisation and team,
    so that a long period adds a dozen months instead of hundreds of days."""

    month = models.DateField()  # its first day
    response_histogram = models.JSONField(default=dict)
    resolution_histogram = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["zone", "month"], name="report_month")]

    def __str__(self) -> str:
        return f"{self.zone} {self.month:%Y-%m} org {self.organization_id} team {self.team_id}"


class _Durations(_Group):
    """The exact durations (seconds, sorted) of one histogram bucket of one measure: what a
    percentile reads once the histograms have said where its rank lies."""

    class Measure(models.TextChoices):
        RESPONSE = "response", "Logged to first response"
        RESOLUTION = "resolution", "Logged to resolution"

    measure = models.CharField(max_length=10, choices=Measure.choices)
    bucket = models.PositiveSmallIntegerField()
    seconds = models.JSONField(default=list)

    class Meta:
        abstract = True


class ReportDurations(_Durations):
    """One bucket's durations of one local day, organisation and team."""

    day = models.DateField()

    class Meta:
        indexes = [
            models.Index(fields=["zone", "measure", "bucket", "day"], name="report_bucket"),
            models.Index(fields=["zone", "day"], name="report_bucket_day"),
        ]

    def __str__(self) -> str:
        return f"{self.zone} {self.day} {self.measure} bucket {self.bucket}"


class ReportMonthDurations(_Durations):
    """One bucket's durations of an ended local month, organisation and team (its days'
    together), so that a year's percentile reads a dozen rows per group, not hundreds."""

    month = models.DateField()  # its first day

    class Meta:
        indexes = [
            models.Index(fields=["zone", "measure", "bucket", "month"], name="report_month_bucket"),
            models.Index(fields=["zone", "month"], name="report_month_bucket_month"),
        ]

    def __str__(self) -> str:
        return f"{self.zone} {self.month:%Y-%m} {self.measure} bucket {self.bucket}"


class CountedResolution(models.Model):
    """A resolution the days count that may still be undone: its ticket is resolved but not in
    a final state, so a reopening can clear `resolved_at`. The refresh then knows which day
    to correct, which the ticket itself no longer says."""

    ticket = models.OneToOneField(
        Ticket, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    resolved_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"ticket {self.ticket_id} resolved at {self.resolved_at}"

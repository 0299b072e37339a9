"""SLA calendars, policies (SLA, OLA, underpinning contract), targets and the clocks on tickets."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from servio.accounts.models import Organization, Team
from servio.sla.calendar import BusinessCalendar, build_calendar
from servio.tickets.models import Category, Priority, Service, Ticket

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Calendar(models.Model):
    """Business hours in a time zone, with public holidays, closures and extra working days."""

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    twenty_four_seven = models.BooleanField(default=False)
    hours = models.JSONField(
        default=dict,
        blank=True,
        help_text='Per weekday, e.g. {"mon": [["09:00", "17:00"]], ...}; end <= start runs '
        "overnight.",
    )
    holiday_country = models.CharField(max_length=8, blank=True)
    holiday_subdivision = models.CharField(max_length=16, blank=True)
    closed_dates = models.JSONField(default=list, blank=True, help_text='["2026-12-24", ...]')
    extra_working_days = models.JSONField(
        default=dict, blank=True, help_text='{"2026-12-19": [["09:00", "13:00"]]}'
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def engine(self) -> BusinessCalendar:
        """The validated engine calendar (cached per saved version of this row)."""
        key = (self.pk, self.updated_at)
        cached = _ENGINE_CACHE.get(key)
        if cached is None:
            cached = self.build()
            _ENGINE_CACHE[key] = cached
        return cached

    def build(self) -> BusinessCalendar:
        if self.twenty_four_seven:
            return BusinessCalendar.twenty_four_seven(self.time_zone)
        return build_calendar(
            time_zone=self.time_zone,
            hours=self.hours,
            holiday_country=self.holiday_country or None,
            holiday_subdivision=self.holiday_subdivision or None,
            closed_dates=self.closed_dates,
            extra_working_days=self.extra_working_days,
        )


_ENGINE_CACHE: dict[tuple, BusinessCalendar] = {}


class SlaPolicy(models.Model):
    """Promised times for tickets that match its conditions; the first matching policy wins."""

    class Type(models.TextChoices):
        SLA = "sla", "Service level agreement (requester)"
        OLA = "ola", "Operational level agreement (team)"
        UC = "uc", "Underpinning contract (vendor)"

    name = models.CharField(max_length=120, unique=True)
    type = models.CharField(max_length=3, choices=Type.choices, default=Type.SLA)
    is_active = models.BooleanField(default=True)
    order = models.PositiveIntegerField(
        default=100, help_text="Lower is checked first; the first match applies."
    )
    # Conditions (empty = any).
    kinds = models.JSONField(default=list, blank=True)
    priorities = models.JSONField(default=list, blank=True)
    organizations = models.ManyToManyField(Organization, blank=True, related_name="+")
    services = models.ManyToManyField(Service, blank=True, related_name="+")
    categories = models.ManyToManyField(Category, blank=True, related_name="+")
    team = models.ForeignKey(
        Team,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="OLA: the team whose work it measures (empty = any team).",
    )
    vendor = models.CharField(max_length=120, blank=True, help_text="Underpinning contract: who.")
    # Behaviour.
    pause_on = models.JSONField(
        default=list,
        blank=True,
        help_text='Statuses that pause the clock: "on_hold" or "on_hold:awaiting_requester".',
    )
    restart_on_reopen = models.BooleanField(
        default=False, help_text="A reopened ticket's resolution clock starts again from zero."
    )
    warning_thresholds = models.JSONField(
        default=list, blank=True, help_text="Percentages of the target, e.g. [75, 90]."
    )
    escalations = models.JSONField(
        default=list,
        blank=True,
        help_text='e.g. [{"at": 90, "action": "notify_team_lead"}, {"at": 100, "action": '
        '"raise_priority"}]; actions: notify_assignee, notify_team_lead, notify_team, '
        "raise_priority, reassign (with team).",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["type", "order", "pk"]
        verbose_name_plural = "SLA policies"

    def __str__(self) -> str:
        return f"{self.get_type_display().split(' (')[0]}: {self.name}"


class SlaTarget(models.Model):
    """How long a metric may take for one priority under a policy, on a calendar."""

    class Metric(models.TextChoices):
        FIRST_RESPONSE = "first_response", "First response"
        RESOLUTION = "resolution", "Resolution"

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="targets")
    metric = models.CharField(max_length=20, choices=Metric.choices)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    minutes = models.PositiveIntegerField()
    calendar = models.ForeignKey(Calendar, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["policy", "metric", "priority"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "metric", "priority"], name="sla_target_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.policy}: {self.metric} P{self.priority} {self.minutes} min"


class ClockState(models.TextChoices):
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    MET = "met", "Met"
    BREACHED = "breached", "Breached"
    CANCELLED = "cancelled", "Cancelled"


class SlaClock(models.Model):
    """One promise being timed on one ticket: due time, business time used, state, pauses."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_clocks")
    policy = models.ForeignKey(SlaPolicy, on_delete=models.PROTECT, related_name="clocks")
    policy_type = models.CharField(max_length=3, choices=SlaPolicy.Type.choices)
    metric = models.CharField(max_length=20, choices=SlaTarget.Metric.choices)
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True)
    calendar = models.ForeignKey(Calendar, on_delete=models.PROTECT, related_name="+")
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    target_seconds = models.PositiveIntegerField()
    state = models.CharField(max_length=10, choices=ClockState.choices)
    breached = models.BooleanField(default=False)
    started_at = models.DateTimeField()
    running_since = models.DateTimeField(null=True, blank=True)
    elapsed_seconds = models.FloatField(
        default=0, help_text="Business seconds before running_since"
    )
    due_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    next_threshold_at = models.DateTimeField(null=True, blank=True)
    fired = models.JSONField(default=list, blank=True, help_text="Thresholds already announced")
    pauses = models.JSONField(default=list, blank=True, help_text="[[from, to], ...]")
    cycle = models.PositiveSmallIntegerField(default=1)
    # Denormalised for the compliance report (one table scan, no joins).
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    service = models.ForeignKey(Service, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        indexes = [
            # The periodic scan reads only clocks whose next threshold has come.
            models.Index(
                fields=["next_threshold_at"],
                name="sla_clock_next_threshold",
                condition=models.Q(state__in=["running", "breached"], stopped_at__isnull=True),
            ),
            models.Index(fields=["ticket", "metric"], name="sla_clock_ticket"),
            models.Index(fields=["stopped_at", "policy"], name="sla_clock_report"),
            models.Index(fields=["due_at"], name="sla_clock_due"),
        ]

    def __str__(self) -> str:
        return f"{self.metric} on {self.ticket_id} ({self.state})"

    @property
    def is_live(self) -> bool:
        return self.stopped_at is None and self.state in (ClockState.RUNNING, ClockState.BREACHED)

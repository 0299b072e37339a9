"""SLA calendars, policies (SLA, OLA, underpinning contract), targets and the clocks on tickets."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from servio.accounts.models import Organization, Team
from servio.core.errors import ValidationFailed
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
        if self.pk is None:
            return self.build()
        cached = _ENGINE_CACHE.get(self.pk)
        if cached is None or cached[0] != self.updated_at:
            cached = _ENGINE_CACHE[self.pk] = (self.updated_at, self.build())
        return cached[1]

    def build(self) -> BusinessCalendar:
        """The engine calendar of these settings; `ValidationFailed` names each bad field."""
        if self.twenty_four_seven:
            unused = {
                "holiday_country": self.holiday_country,
                "holiday_subdivision": self.holiday_subdivision,
                "closed_dates": self.closed_dates,
                "extra_working_days": self.extra_working_days,
            }
            errors = {
                name: "A 24x7 calendar has no holidays, closures or extra days; clear this, or "
                "give every weekday the hours 00:00-24:00 instead of choosing 24x7."
                for name, value in unused.items()
                if value
            }
            try:
                calendar = BusinessCalendar.twenty_four_seven(self.time_zone)
            except ValidationFailed as exc:
                errors.update({k: " ".join(v) for k, v in exc.errors.items()})
            if errors:
                raise ValidationFailed(errors)
            return calendar
        return build_calendar(
            time_zone=self.time_zone,
            hours=self.hours,
            holiday_country=self.holiday_country or None,
            holiday_subdivision=self.holiday_subdivision or None,
            closed_dates=self.closed_dates,
            extra_working_days=self.extra_working_days,
        )


# Calendar pk -> (updated_at, engine calendar): one entry per calendar, replaced when it changes.
_ENGINE_CACHE: dict[int, tuple[object, BusinessCalendar]] = {}


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
        default=100,
        help_text="Lower is checked first; the first match applies (on a tie, the older policy).",
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
        '"raise_priority"}, {"at": 150, "action": "reassign", "team": 3}]; "at" is a percentage '
        "of the target (100 = the breach); actions: notify_assignee, notify_team_lead, "
        'notify_team (the ticket\'s team, or "team"), notify_group ("team"), raise_priority, '
        'reassign ("team").',
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # The precedence rule: within a type, the lowest `order` applies, then the oldest.
        ordering = ["type", "order", "created_at", "pk"]
        verbose_name = "SLA policy"
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
    """Running and breached clocks count; paused ones wait; met, breached and cancelled end."""

    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    MET = "met", "Met"
    BREACHED = "breached", "Breached"
    CANCELLED = "cancelled", "Cancelled"


class SlaClock(models.Model):
    """One promise being timed on one ticket: due time, business time used, state, pauses."""

    # Few indexes on purpose: the scan rewrites due clocks, and every index costs each write.
    # The ticket is found through `sla_clock_ticket`; the rare deletes of an organisation,
    # service, team or calendar may scan the table.
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="sla_clocks", db_index=False
    )
    policy = models.ForeignKey(SlaPolicy, on_delete=models.PROTECT, related_name="clocks")
    policy_type = models.CharField(max_length=3, choices=SlaPolicy.Type.choices)
    metric = models.CharField(max_length=20, choices=SlaTarget.Metric.choices)
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True, db_index=False)
    calendar = models.ForeignKey(
        Calendar, on_delete=models.PROTECT, related_name="+", db_index=False
    )
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
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    service = models.ForeignKey(
        Service, on_delete=models.SET_NULL, null=True, blank=True, db_index=False
    )

    class Meta:
        indexes = [
            # The periodic scan reads only clocks whose next level has come. Only clocks with a
            # level to announce (counting ones, and paused ones whose new target lies behind
            # them) have one; the condition is one that SQLite and PostgreSQL both see is
            # implied by the scan's `next_threshold_at < %s`, even with bound parameters.
            models.Index(
                fields=["next_threshold_at"],
                name="sla_clock_next_threshold",
                condition=models.Q(next_threshold_at__isnull=False),
            ),
            models.Index(fields=["ticket", "metric"], name="sla_clock_ticket"),
            models.Index(fields=["stopped_at", "policy"], name="sla_clock_report"),
            # "Breaching soonest" across tickets: unfinished clocks by due time.
            models.Index(
                fields=["due_at"], name="sla_clock_due", condition=models.Q(stopped_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric} on {self.ticket_id} ({self.state})"

    @property
    def is_live(self) -> bool:
        return self.stopped_at is None and self.state in (ClockState.RUNNING, ClockState.BREACHED)

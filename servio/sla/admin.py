"""Django admin for SLA calendars, policies with their targets, and (read-only) clocks.

Forms validate with the same rules as the API (`Calendar.build`, `services.validate_policy`) and
show each message beside its field; saves go through the SLA services (which also check that
the person is an administrator); every change is audited. A policy's kinds, priorities and
pausing statuses are checkboxes (the statuses offered come from the workflows), its warning
thresholds number inputs and its escalations rows of inputs; the form turns them into the JSON
the policy stores.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Q

from servio.accounts.models import Team
from servio.audit.admin_base import AuditedAdmin, ReadOnlyAdmin
from servio.core.errors import ValidationFailed
from servio.sla import services
from servio.sla.calendar_validation import WEEKDAY_NAMES
from servio.sla.models import Calendar, SlaClock, SlaPolicy, SlaTarget
from servio.tickets import workflows
from servio.tickets.models import Kind, Priority, Ticket
from servio.web.admin_fields import (
    Column,
    DateListField,
    IntervalsField,
    PercentListField,
    RowsWidget,
    number,
)

CALENDAR_FIELDS = (
    "time_zone",
    "twenty_four_seven",
    "hours",
    "holiday_country",
    "holiday_subdivision",
    "closed_dates",
    "extra_working_days",
)
TARGET_FIELDS = ("metric", "priority", "minutes", "calendar")
POLICY_RULE_FIELDS = (
    "type",
    "kinds",
    "priorities",
    "pause_on",
    "warning_thresholds",
    "escalations",
)


def _show_errors(form: forms.ModelForm, exc: ValidationFailed) -> None:
    """Each reason beside its field (or above the form when the field is not on it)."""
    for name, messages in exc.errors.items():
        for message in messages:
            form.add_error(name if name in form.fields else None, message)


WEEKDAYS = [("", "---------"), *((name[:3].lower(), name) for name in WEEKDAY_NAMES)]


class CalendarForm(forms.ModelForm):
    """Refuses what the engine refuses: no working time, overlaps, unknown zones or countries.

    Weekly hours, closed dates and extra working days are rows of inputs, stored as JSON.
    """

    hours = IntervalsField(
        key=Column("day", "Day", choices=WEEKDAYS),
        what="choose the day.",
        caption="weekly hours",
        label="Weekly hours",
        help_text="One row per interval: a day, from and to (HH:MM). Two rows for a day with a "
        "break; 'to' at or before 'from' runs overnight; 00:00 to 24:00 is the whole day. "
        "Save to get more rows.",
    )
    closed_dates = DateListField(
        caption="closed",
        help_text="Days the desk is closed beyond public holidays, e.g. 2026-12-24.",
    )
    extra_working_days = IntervalsField(
        key=Column("date", "Date", input_type="date"),
        what="give the date (YYYY-MM-DD).",
        caption="extra day",
        help_text="Days worked although the week or a holiday says otherwise, with their hours.",
    )

    class Meta:
        model = Calendar
        fields = ("name", *CALENDAR_FIELDS)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if any(name in self.errors for name in CALENDAR_FIELDS):
            return cleaned  # a malformed row: its own message is already shown
        values = {name: cleaned.get(name, getattr(self.instance, name)) for name in CALENDAR_FIELDS}
        try:
            Calendar(**values).build()
        except ValidationFailed as exc:
            _show_errors(self, exc)
        return cleaned


class _CalendarStore(admin.ModelAdmin):
    def save_model(self, request, obj, form, change):
        # Reschedules the clocks running on it; refuses anyone but an administrator.
        services.calendar_store(actor=request.user, calendar=obj)


@admin.register(Calendar)
class CalendarAdmin(AuditedAdmin, _CalendarStore):
    form = CalendarForm
    list_display = ("name", "time_zone", "twenty_four_seven", "holiday_country", "updated_at")
    search_fields = ("name",)


class SlaTargetInline(admin.TabularInline):
    model = SlaTarget
    extra = 0
    fields = TARGET_FIELDS


ACTION_LABELS = {
    "notify_assignee": "Notify the assignee",
    "notify_team_lead": "Notify the team lead",
    "notify_team": "Notify the team (the ticket's, or the team chosen)",
    "notify_group": "Notify the team chosen",
    "raise_priority": "Raise the priority one step",
    "reassign": "Reassign to the team chosen",
}
NEEDS_TEAM = {"reassign": "Reassigning", "notify_group": "Notifying a group"}


def pause_choices(stored: list[str] | None = None) -> list[tuple[str, str]]:
    """Every open status of the workflows (a paused one also with each hold reason).

    The workflows are the one source of status sets: a practice's new open status appears here
    without a change to this form. A stored rule no longer offered is kept as a choice, so that
    saving the form does not drop it silently (`validate_policy` still judges it).
    """
    labels: dict[str, str] = {}
    for workflow in workflows.registered():
        for state in workflow.states:
            labels.setdefault(state.name, state.label)
    paused = set(workflows.paused_statuses())
    choices: list[tuple[str, str]] = []
    for status in workflows.open_statuses():
        choices.append(
            (status, f"{labels[status]} (any reason)" if status in paused else labels[status])
        )
        if status in paused:
            choices += [
                (f"{status}:{reason.value}", f"{labels[status]}: {reason.label.lower()}")
                for reason in Ticket.HoldReason
            ]
    offered = {value for value, _ in choices}
    choices += [
        (rule, f"{rule} (no longer offered)") for rule in stored or () if rule not in offered
    ]
    return choices


class EscalationsField(forms.Field):
    """Rows of (at %, action, team) -> `[{"at": 90, "action": "notify_team"}, ...]`, by level."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", RowsWidget(caption="escalation"))
        super().__init__(**kwargs)
        self.team_names: dict[int, str] = {}
        self.inactive: set[int] = set()

    def set_teams(self, teams: list[tuple[int, str]], inactive: set[int] | None = None) -> None:
        self.team_names = dict(teams)
        self.inactive = inactive or set()
        actions = (*services.NOTIFY_ACTIONS, *services.TICKET_ACTIONS)
        self.widget.columns = [
            Column(
                "at", "At (% of the target; 100 = the breach)", attrs={"min": "1", "step": "any"}
            ),
            Column(
                "action",
                "Action",
                choices=[("", "---------"), *((a, ACTION_LABELS.get(a, a)) for a in actions)],
            ),
            Column("team", "Team (reassign, notify)", choices=[("", "---------"), *teams]),
        ]

    def to_python(self, value: Any) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        problems: list[str] = []
        for row, item in enumerate(value or (), start=1):
            if not isinstance(item, dict):
                problems.append(f"Row {row}: not an escalation; fill in its level and action.")
                continue
            at, action, team = item.get("at"), item.get("action") or "", item.get("team") or ""
            if at in (None, "") and not action and not team:
                continue  # an empty row
            problem = self._problem(at, action, team)
            if problem:
                problems.append(f"Row {row}: {problem}")
                continue
            escalation: dict[str, Any] = {"at": number(at), "action": action}
            if team:
                escalation["team"] = int(team)
            found.append(escalation)
        if problems:
            raise ValidationError(problems, code="invalid")
        return sorted(found, key=lambda e: e["at"])

    def _problem(self, at: Any, action: str, team: Any) -> str | None:
        try:
            level = number(at)
        except ValueError:
            level = None
        if level is None or level <= 0:
            return "give the level as a percentage of the target above 0, e.g. 100 for the breach."
        actions = (*services.NOTIFY_ACTIONS, *services.TICKET_ACTIONS)
        if action not in actions:
            return "choose what happens (an action)."
        if team:
            try:
                team_id = int(team)
            except (TypeError, ValueError):
                team_id = None
            if team_id not in self.team_names or team_id in self.inactive:
                return "the team chosen is not an active team; choose another."
        elif action in NEEDS_TEAM:
            return f"{NEEDS_TEAM[action].lower()} needs a team: choose the team in this row."
        return None

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return self.to_python(initial) != self.to_python(data)
        except ValidationError:
            return True


CHECKBOXES = forms.CheckboxSelectMultiple(attrs={"class": "servio-choices"})


class PolicyForm(forms.ModelForm):
    """Refuses conditions, pausing statuses, thresholds and escalations that cannot work."""

    kinds = forms.TypedMultipleChoiceField(
        choices=Kind.choices,
        required=False,
        widget=CHECKBOXES,
        help_text="Tick none for every kind.",
    )
    priorities = forms.TypedMultipleChoiceField(
        choices=Priority.choices,
        coerce=int,
        required=False,
        widget=CHECKBOXES,
        help_text="Tick none for every priority.",
    )
    pause_on = forms.MultipleChoiceField(
        label="Pausing statuses",
        required=False,
        widget=CHECKBOXES,
        help_text="The clock stops while the ticket is in a ticked status. Only open statuses "
        "are offered: a resolved, closed or cancelled ticket stops the clock instead.",
        error_messages={
            "invalid_choice": "'%(value)s' cannot pause a clock: only the open statuses listed "
            "here can (a finished ticket stops its clock instead). Untick it."
        },
    )
    warning_thresholds = PercentListField(
        what="A warning",
        row_label="Warning",
        help_text="Warn when this share of the target is used, e.g. 75 and 90. Leave a box "
        "empty for none; save to get more boxes.",
    )
    escalations = EscalationsField(
        help_text="What happens when a level of the target is reached (100 = the breach). "
        "Reassigning and notifying a group need a team. Leave a row empty to skip it; save to "
        "get more rows.",
    )

    class Meta:
        model = SlaPolicy
        fields = (
            "name",
            "is_active",
            "order",
            "organizations",
            "services",
            "categories",
            "team",
            "vendor",
            "restart_on_reopen",
            *POLICY_RULE_FIELDS,
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stored = self.instance.pause_on if isinstance(self.instance.pause_on, list) else []
        pause_on = self.fields["pause_on"]
        if isinstance(pause_on, forms.ChoiceField):
            pause_on.choices = pause_choices([str(rule) for rule in stored])
        # Active teams, and a team a stored escalation names that is no longer active (shown as
        # such, so that it is not silently dropped; validate_policy then asks for another).
        escalations = (
            self.instance.escalations if isinstance(self.instance.escalations, list) else []
        )
        named = {e.get("team") for e in escalations if isinstance(e, dict)}
        found = Team.objects.filter(Q(is_active=True) | Q(pk__in=named)).order_by("name")
        rows = list(found.values_list("pk", "name", "is_active"))
        teams = [(pk, name if active else f"{name} (inactive)") for pk, name, active in rows]
        field = self.fields["escalations"]
        if isinstance(field, EscalationsField):
            field.set_teams(teams, inactive={pk for pk, _, active in rows if not active})

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if any(name in self.errors for name in (*POLICY_RULE_FIELDS, "team")):
            return cleaned
        values = {
            name: cleaned.get(name, getattr(self.instance, name)) for name in POLICY_RULE_FIELDS
        }
        team = cleaned.get("team")
        try:
            services.validate_policy(SlaPolicy(**values, team_id=team.pk if team else None))
        except ValidationFailed as exc:
            _show_errors(self, exc)
        return cleaned


class _PolicyStore(admin.ModelAdmin):
    def save_model(self, request, obj, form, change):
        # Running clocks pick up changed levels; refuses anyone but an administrator.
        services.policy_store(actor=request.user, policy=obj)


@admin.register(SlaPolicy)
class SlaPolicyAdmin(AuditedAdmin, _PolicyStore):
    form = PolicyForm
    inlines = (SlaTargetInline,)
    list_display = ("name", "type", "order", "is_active", "created_at")
    list_filter = ("type", "is_active")
    search_fields = ("name", "vendor")
    filter_horizontal = ("organizations", "services", "categories")
    readonly_fields = ("created_at",)
    fieldsets = (
        (None, {"fields": ("name", "type", "is_active", "order", "created_at")}),
        (
            "Applies to (empty = any)",
            {"fields": ("kinds", "priorities", "organizations", "services", "categories")},
        ),
        ("Who is measured", {"fields": ("team", "vendor")}),
        (
            "Behaviour",
            {"fields": ("pause_on", "restart_on_reopen", "warning_thresholds", "escalations")},
        ),
    )


@admin.register(SlaClock)
class SlaClockAdmin(ReadOnlyAdmin):
    """Clocks are kept by the SLA services; here they can only be looked at."""

    list_display = (
        "ticket",
        "policy",
        "metric",
        "state",
        "breached",
        "due_at",
        "stopped_at",
        "cycle",
    )
    list_filter = ("policy_type", "metric", "state", "breached")
    list_select_related = ("ticket", "policy")
    search_fields = ("ticket__number",)
    raw_id_fields = ("ticket",)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in SlaClock._meta.fields]

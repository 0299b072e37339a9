"""Django admin for SLA calendars, policies with their targets, and (read-only) clocks.

Forms validate with the same rules as the API (`Calendar.build`, `services.validate_policy`) and
show each message beside its field; saves go through the SLA services (which also check that
the person is an administrator); every change is audited.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from servio.audit.admin_base import AuditedAdmin, ReadOnlyAdmin
from servio.core.errors import ValidationFailed
from servio.sla import services
from servio.sla.models import Calendar, SlaClock, SlaPolicy, SlaTarget

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


class CalendarForm(forms.ModelForm):
    """Refuses what the engine refuses: no working time, overlaps, unknown zones or countries."""

    class Meta:
        model = Calendar
        fields = ("name", *CALENDAR_FIELDS)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if any(name in self.errors for name in CALENDAR_FIELDS):
            return cleaned  # malformed JSON: its own message is already shown
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


class PolicyForm(forms.ModelForm):
    """Refuses conditions, pausing statuses, thresholds and escalations that cannot work."""

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

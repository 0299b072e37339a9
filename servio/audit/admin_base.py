"""The base every Django admin of Servio derives from, so no admin change escapes the audit trail.

`AuditedAdmin` records an audit event for each save, delete (one by one or "delete selected")
and inline row added, changed or deleted. `ReadOnlyAdmin` offers no add, change or delete at all.
`tests/audit/test_admin_coverage.py` walks `admin.site._registry` and holds every registered
admin to one of the two.
"""

from __future__ import annotations

from typing import Any, TypedDict

from django import forms
from django.contrib import admin
from django.db import models

from servio.audit.services import audit_atomic, audit_record, diff, json_safe

# Form fields whose values must never reach the (append-only) audit trail.
SECRET_FIELDS = frozenset({"password", "password1", "password2", "usable_password"})
HIDDEN = "(hidden)"
# Formset bookkeeping, not data.
FORMSET_FIELDS = frozenset({"DELETE", "ORDER"})


def audit_value(value: Any) -> Any:
    """A form value as the audit keeps it: related objects (many-to-many) as sorted ids."""
    if isinstance(value, models.QuerySet):
        value = list(value)
    if isinstance(value, list | tuple) and all(isinstance(v, models.Model) for v in value):
        return sorted(v.pk for v in value)
    return json_safe(value)


def form_changes(
    form: forms.BaseForm, *, change: bool, original: models.Model | None = None
) -> dict[str, list[Any]]:
    """Field -> [old, new] for what the form changed; secrets only say that they changed."""
    changed = [f for f in form.changed_data if f not in SECRET_FIELDS | FORMSET_FIELDS]
    before = {}
    if change:
        before = {f: audit_value(form.initial.get(f, getattr(original, f, None))) for f in changed}
    after = {f: audit_value(form.cleaned_data.get(f)) for f in changed}
    changes = diff(before, after)
    if SECRET_FIELDS & set(form.changed_data):
        changes["password"] = [HIDDEN, HIDDEN]  # that it changed, never the value
    return changes


class _Reference(TypedDict):
    object_type: str
    object_id: str
    object_repr: str


def _reference(obj: models.Model) -> _Reference:
    """What the event names, taken before a delete clears the primary key."""
    return {
        "object_type": obj._meta.label_lower,
        "object_id": str(obj.pk),
        "object_repr": str(obj)[:200],
    }


class AuditedAdmin(admin.ModelAdmin):
    """Writes an audit event with the changed fields for every admin save and delete.

    Subclasses customise saving by putting a class with their own `save_model` after this one
    in their bases (`class CalendarAdmin(AuditedAdmin, _CalendarStore)`), never by overriding
    the four methods below, so the audit always wraps the write.
    """

    def save_model(self, request, obj, form, change):
        original = type(obj)._base_manager.filter(pk=obj.pk).first() if change else None
        with audit_atomic():
            super().save_model(request, obj, form, change)
            audit_record(
                actor=request.user,
                action=f"{obj._meta.model_name}.{'updated' if change else 'created'}_in_admin",
                target=obj,
                changes=form_changes(form, change=change, original=original),
            )

    def delete_model(self, request, obj):
        reference = _reference(obj)
        with audit_atomic():
            super().delete_model(request, obj)
            audit_record(
                actor=request.user,
                action=f"{obj._meta.model_name}.deleted_in_admin",
                **reference,
            )

    def delete_queryset(self, request, queryset):
        """The "delete selected" action: one event per deleted row."""
        with audit_atomic():
            for obj in queryset:
                self.delete_model(request, obj)

    def save_formset(self, request, form, formset, change):
        """Inline rows: an event for each one added, changed or deleted."""
        with audit_atomic():
            saved = formset.save(commit=False)
            for obj in formset.deleted_objects:
                reference = _reference(obj)
                obj.delete()
                audit_record(
                    actor=request.user,
                    action=f"{obj._meta.model_name}.deleted_in_admin",
                    **reference,
                )
            forms_of = {id(f.instance): f for f in formset.forms}
            for obj in saved:
                creating = obj._state.adding
                obj.save()
                verb = "created" if creating else "updated"
                audit_record(
                    actor=request.user,
                    action=f"{obj._meta.model_name}.{verb}_in_admin",
                    target=obj,
                    changes=form_changes(forms_of[id(obj)], change=not creating),
                )
            formset.save_m2m()


class ReadOnlyMixin:
    """No add, change or delete: for admins and inlines of records kept by the services."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Look, search and filter; nothing to write, so nothing to audit."""


class ReadOnlyInline(ReadOnlyMixin, admin.TabularInline):
    """Rows shown under their parent, never edited there."""

    extra = 0
    can_delete = False
    show_change_link = False

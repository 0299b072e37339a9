"""Django admin: the configuration admins edit (services, categories, the priority matrix) and
read-only ticket browsing. Tickets change through the services only (policy, audit, events),
so the admin offers no add, change or delete for them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse

from servio.audit.admin_base import AuditedAdmin, ReadOnlyInline
from servio.audit.services import audit_atomic
from servio.tickets.models import (
    Attachment,
    Category,
    Comment,
    Level,
    Priority,
    PriorityRule,
    Service,
    Ticket,
    parse_number,
)


@admin.register(Service)
class ServiceAdmin(AuditedAdmin):
    list_display = ("name", "owner_team", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "description")
    autocomplete_fields = ("owner_team",)

    def has_delete_permission(self, request, obj=None):
        return False  # tickets point at services: deactivate instead


@admin.register(Category)
class CategoryAdmin(AuditedAdmin):
    list_display = ("path", "is_active")
    list_filter = ("is_active",)
    search_fields = ("path",)
    fields = ("name", "parent", "path", "is_active")
    readonly_fields = ("path",)

    def has_delete_permission(self, request, obj=None):
        return False  # tickets and child categories point at categories: deactivate instead


def cell_name(impact: int, urgency: int) -> str:
    return f"cell_{impact}_{urgency}"


class PriorityMatrixForm(forms.Form):
    """The whole matrix at once: impact rows x urgency columns, a priority in each cell."""

    def __init__(self, *args: Any, matrix: dict[tuple[int, int], int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for impact in Level:
            for urgency in Level:
                self.fields[cell_name(impact, urgency)] = forms.TypedChoiceField(
                    label=f"Priority for impact {impact.label}, urgency {urgency.label}",
                    choices=[("", "---------"), *Priority.choices],
                    coerce=int,
                    initial=matrix.get((impact, urgency)),
                    error_messages={
                        "required": f"Choose a priority for impact {impact.label} and urgency "
                        f"{urgency.label}: every cell needs one.",
                        "invalid_choice": "Choose one of the priorities listed (P1 to P5).",
                    },
                )

    def rows(self) -> list[dict[str, Any]]:
        """What the template lays out: a row per impact, a bound field per urgency."""
        return [
            {
                "impact": impact,
                "cells": [self[cell_name(impact, urgency)] for urgency in Level],
            }
            for impact in Level
        ]


class PriorityCellForm(forms.ModelForm):
    """One cell as the audited admin save records it (`priority: [old, new]`)."""

    class Meta:
        model = PriorityRule
        fields = ("impact", "urgency", "priority")


@admin.register(PriorityRule)
class PriorityRuleAdmin(AuditedAdmin):
    """The impact x urgency matrix, edited as one grid (a priority select in each cell).

    Each changed cell is saved through `AuditedAdmin.save_model`, so the grid writes the same
    audit events as the one-cell change page, all in one transaction. A change applies to
    tickets logged or re-prioritised afterwards; existing priorities stay.
    """

    list_display = ("impact", "urgency", "priority")
    list_display_links = None
    ordering = ("impact", "urgency")

    def get_readonly_fields(self, request, obj=None):
        return ("impact", "urgency") if obj is not None else ()

    def has_add_permission(self, request):
        # Only to restore a missing cell: the matrix has exactly one row per combination.
        return super().has_add_permission(request) and (
            PriorityRule.objects.count() < len(Level.values) ** 2
        )

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        """The grid instead of a list of nine rows."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        editable = self.has_change_permission(request)
        rules = {(r.impact, r.urgency): r for r in PriorityRule.objects.all()}
        matrix = {cell: rule.priority for cell, rule in rules.items()}
        form = PriorityMatrixForm(request.POST if request.method == "POST" else None, matrix=matrix)
        if request.method == "POST":
            if not editable:
                raise PermissionDenied
            if form.is_valid():
                changed = self._save_matrix(request, form, rules)
                self.message_user(
                    request,
                    f"The priority matrix is saved ({changed} cell(s) changed). It applies to "
                    "tickets logged or re-prioritised from now on.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(request.path)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Priority matrix",
            "subtitle": None,
            "form": form,
            "urgencies": list(Level),
            "editable": editable,
            "has_view_permission": True,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/tickets/priorityrule/matrix.html", context)

    def _save_matrix(
        self,
        request: HttpRequest,
        form: PriorityMatrixForm,
        rules: dict[tuple[int, int], PriorityRule],
    ) -> int:
        changed = 0
        with audit_atomic():
            for impact in Level:
                for urgency in Level:
                    rule = rules.get((impact, urgency))
                    priority = form.cleaned_data[cell_name(impact, urgency)]
                    if rule is not None and rule.priority == priority:
                        continue
                    cell = PriorityCellForm(
                        {"impact": impact, "urgency": urgency, "priority": priority},
                        instance=rule,
                    )
                    if not cell.is_valid():  # pragma: no cover - the grid checked each value
                        raise ValueError(cell.errors)
                    self.save_model(request, cell.save(commit=False), cell, rule is not None)
                    changed += 1
        return changed


class CommentInline(ReadOnlyInline):
    model = Comment
    fields = ("created_at", "author", "is_internal", "source", "body")
    readonly_fields = fields


class AttachmentInline(ReadOnlyInline):
    model = Attachment
    fk_name = "ticket"
    fields = ("created_at", "filename", "content_type", "size", "is_internal", "uploaded_by")
    readonly_fields = fields


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    """Browse and search tickets; every change goes through the API or the UI."""

    list_display = (
        "reference",
        "title",
        "kind",
        "status",
        "priority",
        "organization",
        "team",
        "assignee",
        "created_at",
    )
    list_filter = ("kind", "status", "priority", "is_major", "team")
    list_select_related = ("organization", "team", "assignee")
    search_fields = ("title",)
    ordering = ("-created_at", "-id")
    show_full_result_count = False  # no COUNT(*) over a million rows on every page
    list_per_page = 50
    inlines = (CommentInline, AttachmentInline)

    @admin.display(description="number", ordering="number")
    def reference(self, obj: Ticket) -> str:
        return obj.reference

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        """A ticket number (INC-000123) finds that ticket; other text searches titles."""
        parsed = parse_number(search_term or "")
        if parsed is not None:
            return queryset.filter(kind=parsed[0], number=parsed[1]), False
        return super().get_search_results(request, queryset, search_term)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Ticket._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

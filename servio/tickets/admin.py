"""Django admin: the configuration admins edit (services, categories, the priority matrix) and
read-only ticket browsing. Tickets change through the services only (policy, audit, events),
so the admin offers no add, change or delete for them."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from servio.audit.admin_base import AuditedAdmin, ReadOnlyInline
from servio.tickets.models import (
    Attachment,
    Category,
    Comment,
    Level,
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


@admin.register(PriorityRule)
class PriorityRuleAdmin(AuditedAdmin):
    """The impact x urgency matrix: nine cells whose priority admins change in place.

    A change applies to tickets logged or re-prioritised afterwards; existing priorities stay.
    """

    list_display = ("impact", "urgency", "priority")
    list_editable = ("priority",)
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

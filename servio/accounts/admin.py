"""Django admin for organisations, teams, users and tokens; every change is audited."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models, transaction

from servio.accounts.models import ApiToken, Organization, Team, User
from servio.accounts.services import token_revoke
from servio.audit.services import audit_record, diff, json_safe

# Form fields whose values must never reach the (append-only) audit trail.
SECRET_FIELDS = frozenset({"password", "password1", "password2", "usable_password"})
HIDDEN = "(hidden)"


def audit_value(value):
    """A form value as the audit keeps it: related objects (many-to-many) as sorted ids."""
    if isinstance(value, models.QuerySet):
        value = list(value)
    if isinstance(value, list | tuple) and all(isinstance(v, models.Model) for v in value):
        return sorted(v.pk for v in value)
    return json_safe(value)


class AuditedAdmin(admin.ModelAdmin):
    """Writes an audit event with the changed fields for every admin save and delete."""

    def save_model(self, request, obj, form, change):
        changed = [f for f in form.changed_data if f not in SECRET_FIELDS]
        before = {}
        if change and obj.pk:
            original = type(obj).objects.get(pk=obj.pk)
            before = {
                f: audit_value(form.initial.get(f, getattr(original, f, None))) for f in changed
            }
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            after = {f: audit_value(form.cleaned_data.get(f)) for f in changed}
            changes = diff(before, after)
            if SECRET_FIELDS & set(form.changed_data):
                changes["password"] = [HIDDEN, HIDDEN]  # that it changed, never the value
            audit_record(
                actor=request.user,
                action=f"{obj._meta.model_name}.{'updated' if change else 'created'}_in_admin",
                target=obj,
                changes=changes,
            )

    def delete_model(self, request, obj):
        with transaction.atomic():
            audit_record(
                actor=request.user, action=f"{obj._meta.model_name}.deleted_in_admin", target=obj
            )
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                self.delete_model(request, obj)


@admin.register(Organization)
class OrganizationAdmin(AuditedAdmin):
    list_display = ("name", "kind", "requesters_see_org_tickets", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Team)
class TeamAdmin(AuditedAdmin):
    list_display = ("name", "lead", "is_active")
    search_fields = ("name",)
    filter_horizontal = ("members", "serves")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(User)
class UserAdmin(AuditedAdmin, DjangoUserAdmin):
    ordering = ("email",)
    list_display = ("email", "full_name", "role", "organization", "is_active")
    list_filter = ("role", "organization", "is_active")
    search_fields = ("email", "full_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name", "organization", "role", "time_zone")}),
        ("Status", {"fields": ("is_active", "last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "organization", "role", "password1", "password2"),
            },
        ),
    )
    readonly_fields = ("last_login", "date_joined")
    filter_horizontal = ()

    def user_change_password(self, request, id, form_url=""):
        """The admin's password form bypasses save_model; audit it here, without the value."""
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                audit_record(
                    actor=request.user,
                    action="user.password_changed_in_admin",
                    target=self.get_object(request, id),
                    changes={"password": [HIDDEN, HIDDEN]},
                )
        return response


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdmin):
    """Tokens are issued in personal settings; here admins can only inspect and revoke."""

    list_display = (
        "name",
        "user",
        "scope",
        "prefix",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    )
    list_filter = ("scope",)
    search_fields = ("name", "user__email", "prefix")
    readonly_fields = (
        "user",
        "name",
        "prefix",
        "scope",
        "created_at",
        "last_used_at",
        "last_used_ip",
        "key_hash",
        "revoked_at",  # one-way: revoke with the action, never un-revoke
    )
    actions = ("revoke_tokens",)
    fields = (
        "user",
        "name",
        "prefix",
        "scope",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
        "last_used_ip",
    )

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke selected tokens")
    def revoke_tokens(self, request, queryset):
        """Revocation goes through the service, so it is audited like any other."""
        for token in queryset.filter(revoked_at__isnull=True):
            token_revoke(actor=request.user, token=token)

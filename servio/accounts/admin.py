"""Django admin for organisations, teams, users and tokens; every change is audited."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group

from servio.accounts.models import ApiToken, Organization, Team, User
from servio.accounts.roles import STAFF_ROLES
from servio.accounts.services import token_revoke
from servio.audit.admin_base import HIDDEN, AuditedAdmin
from servio.audit.services import audit_atomic, audit_record
from servio.web.admin_fields import DomainListField

# Servio grants rights by role (decision 2), not by Django's groups and permissions: the groups
# page would edit data nothing reads, so it is not offered.
admin.site.unregister(Group)


class OrganizationForm(forms.ModelForm):
    """Mail domains one a line instead of a JSON list."""

    email_domains = DomainListField(
        label="Mail domains",
        help_text="One a line, e.g. acme.example: mail from these domains belongs to this "
        "organisation.",
    )

    class Meta:
        model = Organization
        fields = (
            "name",
            "slug",
            "kind",
            "email_domains",
            "requesters_see_org_tickets",
            "time_zone",
            "is_active",
        )


@admin.register(Organization)
class OrganizationAdmin(AuditedAdmin):
    form = OrganizationForm
    list_display = ("name", "kind", "requesters_see_org_tickets", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


class StaffChoiceField(forms.ModelChoiceField):
    """A person shown as "Name <email>", so two people of the same name can be told apart."""

    def label_from_instance(self, obj: User) -> str:
        return f"{obj.full_name} <{obj.email}>" if obj.full_name else obj.email


class TeamForm(forms.ModelForm):
    """Only active service desk staff (agents, leads, change managers, admins) can lead."""

    lead = StaffChoiceField(
        queryset=User.objects.none(),
        required=False,
        help_text="Active service desk staff only; requesters and deactivated people are not "
        "offered.",
        error_messages={
            "invalid_choice": "This person cannot lead a team: only active service desk staff "
            "can. Choose another lead or leave it empty."
        },
    )

    class Meta:
        model = Team
        fields = ("name", "slug", "email", "lead", "members", "serves", "is_active")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        lead = self.fields["lead"]
        if isinstance(lead, forms.ModelChoiceField):
            lead.queryset = User.objects.filter(is_active=True, role__in=STAFF_ROLES).order_by(
                "full_name", "email"
            )


@admin.register(Team)
class TeamAdmin(AuditedAdmin):
    form = TeamForm
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
        with audit_atomic():
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

"""Django admin for the email channel: mailboxes, the inbound log with its quarantine (retry),
held replies, the outbound log with delivery failures (retry), and the email templates."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from servio.accounts.models import Organization, Team
from servio.audit.admin_base import AuditedAdmin
from servio.core.errors import DomainError
from servio.mail import outbound, selectors, services
from servio.mail.models import (
    InboundMessage,
    InboundStatus,
    Mailbox,
    MailTemplate,
    OutboundMessage,
)


class MailboxForm(forms.ModelForm):
    """A mailbox's connection and policies: who unknown senders become (a choice of three,
    each explained), which receiving hosts are trusted (one a line), active teams and
    organisations only."""

    password = forms.CharField(
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep the stored password. Stored encrypted under "
        "SERVIO_SECRET_KEY; prefer an application password that can only read this mailbox.",
    )

    class Meta:
        model = Mailbox
        fields = (
            "name", "address", "is_active", "imap_host", "imap_port", "security", "folder",
            "username", "password", "default_kind", "default_team", "default_organization",
            "unknown_sender_policy", "trusted_authserv_ids",
        )  # fmt: skip
        widgets = {
            "unknown_sender_policy": forms.RadioSelect(attrs={"class": "servio-choices"}),
            "trusted_authserv_ids": forms.Textarea(attrs={"rows": 3, "cols": 40}),
        }
        labels = {"unknown_sender_policy": "Mail from an unknown sender"}
        help_texts = {
            "trusted_authserv_ids": "One a line (or separated by commas): the authserv-ids, "
            "usually host names, of the receiving mail servers whose Authentication-Results "
            "headers count for this mailbox, e.g. mx.provider.example. Those servers must remove "
            "such headers that arrive with the message. Mail from a staff address acts as that "
            "person only when it is authenticated (see docs/email.md).",
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Active ones only (and the one chosen before, so that saving keeps it).
        for name, model in (("default_team", Team), ("default_organization", Organization)):
            field = self.fields.get(name)
            if isinstance(field, forms.ModelChoiceField):
                current = getattr(self.instance, f"{name}_id", None)
                field.queryset = model.objects.filter(Q(is_active=True) | Q(pk=current)).order_by(
                    "name"
                )

    def clean_password(self) -> str:
        password = self.cleaned_data.get("password") or ""
        if not password and self.instance.pk:
            return self.instance.password
        return password


class PollingFilter(admin.SimpleListFilter):
    """Mailboxes whose latest poll failed (what /api/v1/health counts), or that poll fine."""

    title = "polling"
    parameter_name = "polling"

    def lookups(self, request, model_admin):
        return (("failing", "Failing"), ("ok", "OK"))

    def queryset(self, request, queryset):
        if self.value() == "failing":
            return queryset.filter(poll_failures__gt=0).exclude(imap_host="")
        if self.value() == "ok":
            return queryset.filter(poll_failures=0).exclude(imap_host="")
        return queryset


@admin.register(Mailbox)
class MailboxAdmin(AuditedAdmin):
    form = MailboxForm
    list_display = ("address", "imap_host", "folder", "default_team", "unknown_sender_policy",
                    "is_active", "polling", "last_success_at", "next_poll_at",
                    "last_error")  # fmt: skip
    list_filter = ("is_active", "unknown_sender_policy", PollingFilter)
    readonly_fields = ("last_polled_at", "last_success_at", "poll_failures", "next_poll_at",
                       "last_error", "created_at")  # fmt: skip
    actions = ("poll_now",)

    @admin.display(description="polling", ordering="poll_failures")
    def polling(self, obj: Mailbox) -> str:
        if not obj.polls_imap:
            return "-"
        if obj.poll_failures:
            return f"FAILING ({obj.poll_failures} in a row)"
        return "ok" if obj.last_success_at else "not yet"

    @admin.action(description="Poll the selected mailboxes now")
    def poll_now(self, request: HttpRequest, queryset: QuerySet[Mailbox]) -> None:
        for mailbox in queryset.exclude(imap_host=""):
            try:
                result = services.mailbox_poll(mailbox=mailbox)
            except Exception as exc:
                self.message_user(request, f"{mailbox}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{mailbox}: {result.stored} new message(s).")


@admin.register(InboundMessage)
class InboundMessageAdmin(AuditedAdmin):
    """The inbound log: read only; deleting a message (privacy, retention) is audited."""

    list_display = ("received_at", "mailbox", "from_address", "sender_check", "subject",
                    "status", "reason", "ticket")  # fmt: skip
    list_filter = ("status", "authentication", "mailbox", "via")
    search_fields = ("from_address", "subject", "message_id")
    date_hierarchy = "received_at"
    exclude = ("raw",)
    readonly_fields = tuple(
        f.name for f in InboundMessage._meta.get_fields() if f.concrete and f.name != "raw"
    )
    actions = ("retry",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[InboundMessage]:
        return super().get_queryset(request).defer("raw").select_related("mailbox", "ticket")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="sender", ordering="authentication")
    def sender_check(self, obj: InboundMessage) -> str:
        """The authentication verdict, flagged when it was checked and did not pass."""
        label = obj.get_authentication_display()
        return f"⚠ {label.upper()}" if obj.unauthenticated else label

    @admin.action(description="Retry processing (quarantined messages)")
    def retry(self, request: HttpRequest, queryset: QuerySet[InboundMessage]) -> None:
        done = 0
        for message in queryset.filter(status=InboundStatus.QUARANTINED):
            try:
                result = services.inbound_retry(actor=request.user, message=message)
            except DomainError as exc:
                self.message_user(request, f"#{message.pk}: {exc.detail}", messages.ERROR)
                continue
            done += 1
            self.message_user(request, f"#{message.pk}: {result.get_status_display()}")
        if not done:
            self.message_user(request, "No quarantined message selected.", messages.WARNING)


@admin.register(OutboundMessage)
class OutboundMessageAdmin(AuditedAdmin):
    """The outbound log: read only; deleting a message (privacy, retention) is audited."""

    list_display = ("created_at", "template", "recipient", "subject", "status", "delivery",
                    "attempts", "last_error")  # fmt: skip
    list_filter = ("status", "template")
    search_fields = ("recipient", "subject", "message_id")
    readonly_fields = tuple(f.name for f in OutboundMessage._meta.get_fields() if f.concrete)
    actions = ("retry",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[OutboundMessage]:
        return selectors.outbound_list(user=request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="delivery")
    def delivery(self, obj: OutboundMessage) -> str:
        if obj.status == "sent":
            return "sent"
        return {
            "dead": "FAILED",
            "pending": "retrying" if getattr(obj, "delivery_attempts", 0) else "pending",
        }.get(getattr(obj, "delivery_status", None) or "", "pending")

    @admin.display(description="attempts")
    def attempts(self, obj: OutboundMessage) -> int:
        return getattr(obj, "delivery_attempts", None) or 0

    @admin.display(description="last error")
    def last_error(self, obj: OutboundMessage) -> str:
        return (getattr(obj, "delivery_error", None) or "")[:200]

    @admin.action(description="Send again now")
    def retry(self, request: HttpRequest, queryset: QuerySet[OutboundMessage]) -> None:
        for message in queryset:
            try:
                services.outbound_retry(actor=request.user, message=message)
            except DomainError as exc:
                self.message_user(request, f"{message}: {exc.detail}", messages.WARNING)


class MailTemplateForm(forms.ModelForm):
    class Meta:
        model = MailTemplate
        fields = ("key", "subject", "text", "html", "is_active")

    def clean(self):
        data = super().clean()
        errors = outbound.check_template(
            outbound.TemplateSource(
                data.get("subject") or "", data.get("text") or "", data.get("html") or ""
            )
        )
        for name, message in errors.items():
            self.add_error(name, message)
        return data


@admin.register(MailTemplate)
class MailTemplateAdmin(AuditedAdmin):
    form = MailTemplateForm
    list_display = ("key", "subject", "is_active", "updated_at")
    list_filter = ("is_active",)

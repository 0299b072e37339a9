"""The security log: refused requests and sign-in trouble, in a table of their own.

Not the audit trail: the audit chain records changes, in the changing transaction, and is never
pruned; this log records refusals (nothing changed), is written after the answer outside any
transaction of the request, and is pruned after `SERVIO_SECURITY_LOG_DAYS` (decision 19).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class SecurityEventQuerySet(models.QuerySet["SecurityEvent"]):
    def visible_to(self, user) -> SecurityEventQuerySet:
        if user.is_authenticated and user.is_active and user.has_capability("security.read"):
            return self
        return self.none()


class SecurityEvent(models.Model):
    """One refusal or sign-in event: who (or anonymous), from where, what, when."""

    class Kind(models.TextChoices):
        NOT_FOUND_HIDDEN = "not_found_hidden", "Not found: exists but hidden"
        NOT_FOUND_MISSING = "not_found_missing", "Not found: does not exist"
        FORBIDDEN = "forbidden", "Forbidden"
        SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
        LOCKOUT = "lockout", "Sign-in paused"
        RESET_THROTTLED = "reset_throttled", "Password reset throttled"

    at = models.DateTimeField(default=timezone.now, editable=False)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # the (user, at) index serves it
    )
    user_repr = models.CharField("who", max_length=254, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    method = models.CharField(max_length=10, blank=True)
    path = models.CharField(max_length=500, blank=True)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    objects = SecurityEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["at", "id"], name="security_event_at"),
            models.Index(fields=["kind", "at"], name="security_event_kind"),
            models.Index(fields=["user", "at"], name="security_event_user"),
            models.Index(fields=["client_ip", "at"], name="security_event_ip"),
        ]

    def __str__(self) -> str:
        who = self.user_repr or "anonymous"
        return f"{self.get_kind_display()}: {who} {self.method} {self.path}".strip()

"""The append-only audit trail: events written by the services, seals written by the sealer."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from servio.audit import chain


class AppendOnlyError(RuntimeError):
    """Raised on any attempt to change or remove an audit row through the ORM."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit records cannot be changed.")

    def delete(self):
        raise AppendOnlyError("Audit records cannot be deleted.")


class AppendOnly(models.Model):
    """A row that is inserted once and never changed or removed through the ORM."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Audit records cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit records cannot be deleted.")


class AuditEventQuerySet(AppendOnlyQuerySet):
    def visible_to(self, user) -> AuditEventQuerySet:
        if user.is_authenticated and user.has_capability("audit.read"):
            return self
        return self.none()


class AuditEvent(AppendOnly):
    """One recorded change: who did what to which object, when, from where, with field diffs.

    Written by the services inside their transaction, unchained; the sealer gives it its place
    in the chain (`seal`) within seconds of its commit (decision 31).
    """

    at = models.DateTimeField(default=timezone.now, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_repr = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=100)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    # The hash format the event was written in (`chain.link_hash`), its salt for the digests of
    # its personal values, and the digests of values a privacy erasure has replaced.
    format = models.PositiveSmallIntegerField(default=chain.FORMAT, editable=False)
    salt = models.CharField(max_length=32, blank=True, default=chain.new_salt, editable=False)
    redacted = models.JSONField(default=dict, blank=True, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["object_type", "object_id", "id"])]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id} at {self.at:%Y-%m-%d %H:%M:%S}"


class AuditSeal(AppendOnly):
    """An event's place in the hash chain: its sequence number, the previous link and its own.

    Inserted only by the sealer (`audit.sealing.audit_seal`), which runs alone; never changed.
    """

    seq = models.BigIntegerField(primary_key=True)
    event = models.OneToOneField(
        AuditEvent, on_delete=models.DO_NOTHING, related_name="seal", editable=False
    )
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    sealed_at = models.DateTimeField(default=timezone.now)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"seal #{self.seq}"


class AuditPending(models.Model):
    """An event not yet sealed: written with the event, removed by the sealer when it seals it.

    A work queue, not evidence: an event whose row here is lost shows up in `servio audit
    verify` as unsealed.
    """

    event = models.OneToOneField(AuditEvent, on_delete=models.CASCADE, primary_key=True)
    at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"unsealed event {self.event_id}"


class AuditHead(models.Model):
    """The chain's tip (sequence and hash) and the latest checkpoint written outside the
    database. Only the sealer locks and moves it, so writers never wait for it."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=chain.GENESIS)
    checkpoint_seq = models.BigIntegerField(default=0)
    checkpoint_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"audit tip #{self.seq}"

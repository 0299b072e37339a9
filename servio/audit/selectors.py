"""Reading the audit trail: the permission is checked here, so the API, the admin and any
command read it under the same rule."""

from __future__ import annotations

from django.db.models import QuerySet

from servio.audit.models import AuditEvent
from servio.core.errors import PermissionDenied

FILTERS = ("object_type", "object_id", "action")


def audit_events(
    *,
    user,
    object_type: str | None = None,
    object_id: str | None = None,
    action: str | None = None,
) -> QuerySet[AuditEvent]:
    """The events the user may read (`audit.read`: administrators), filtered (unordered)."""
    if not user.has_capability("audit.read"):
        raise PermissionDenied("Only administrators may read the audit trail.")
    qs = AuditEvent.objects.visible_to(user)
    wanted = {"object_type": object_type, "object_id": object_id, "action": action}
    return qs.filter(**{name: value for name, value in wanted.items() if value is not None})

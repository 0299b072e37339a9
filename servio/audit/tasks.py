"""The sealer's job: chain what committed since the last run, then checkpoint the tip when due."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from servio.audit.checkpoints import audit_checkpoint
from servio.audit.sealing import audit_seal
from servio.core.jobs import periodic


@periodic("audit.seal", every=timedelta(seconds=settings.SERVIO_AUDIT_SEAL_SECONDS), lane="audit")
def seal() -> int:
    """Seal pending audit events and write a checkpoint outside the database when one is due.
    A lane of its own: outbox delivery or a slow job never delays sealing."""
    sealed = audit_seal()
    audit_checkpoint()
    return sealed

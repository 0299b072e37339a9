"""Incident jobs."""

from datetime import timedelta

from servio.core.jobs import periodic
from servio.incidents.services import incidents_auto_close


@periodic("incidents.auto_close", every=timedelta(minutes=15))
def auto_close() -> int:
    return incidents_auto_close()

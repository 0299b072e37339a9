"""SLA jobs: the periodic level scan (warnings, breaches, escalations)."""

from datetime import timedelta

from servio.core.jobs import periodic
from servio.sla.scan import sla_scan


@periodic("sla.scan", every=timedelta(minutes=1))
def scan() -> int:
    """Announce the levels that have come since the last run; returns how many."""
    return sla_scan().announced

"""SLA jobs."""

from datetime import timedelta

from servio.core.jobs import periodic
from servio.sla.services import sla_scan


@periodic("sla.scan", every=timedelta(minutes=1))
def scan() -> int:
    return sla_scan()

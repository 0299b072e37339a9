"""Reporting jobs: keep the report tables in step with the tickets (decision 29)."""

from datetime import timedelta

from servio.core.jobs import periodic
from servio.reporting.services import report_refresh


# A lane of its own: the first build of a large installation takes minutes, and must not hold
# up the outbox or the SLA scan. Each day is written in a short transaction of its own.
@periodic("reporting.refresh", every=timedelta(minutes=1), lane="reporting")
def refresh() -> int:
    """Build the days that ended and rebuild those changed since the last run; returns how
    many days were (re)built."""
    return sum(report_refresh().values())

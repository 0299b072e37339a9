"""The report tables' part of /api/v1/health: how far behind the tickets their figures are.

The dashboard and the report API read the pre-aggregated days (decision 29), which the
`reporting.refresh` job brings up to date every minute. When that job stops (no worker, a failing
lane), the figures silently freeze: the lag shows it, and a lag of REFRESH_LAG_ALERT degrades.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from servio.core.health import check, figure
from servio.reporting.models import ReportZone
from servio.reporting.zones import aggregated_zones

# Ten runs of the one-minute job missed (a first build of a large installation takes minutes,
# but refreshes its zone as it finishes each).
REFRESH_LAG_ALERT = timedelta(minutes=10)


def _refreshed() -> list:
    """When each configured zone's tables were last refreshed (None: being built)."""
    return list(
        ReportZone.objects.filter(zone__in=aggregated_zones()).values_list(
            "refreshed_at", flat=True
        )
    )


@figure("report_refresh_lag_seconds")
def report_refresh_lag_seconds() -> float:
    """Seconds since the least recently refreshed zone's tables were refreshed (0: none yet)."""
    known = [at for at in _refreshed() if at is not None]
    if not known:
        return 0.0
    return round(max(0.0, (timezone.now() - min(known)).total_seconds()), 3)


@check(
    "report_refresh_stale",
    problem="The report figures of {count} time zone(s) were not refreshed for over ten "
    "minutes; is the background worker running (`servio worker` or the runner of `servio run`)?",
)
def report_refresh_stale() -> int:
    """Configured zones whose tables were last refreshed more than REFRESH_LAG_ALERT ago."""
    limit = timezone.now() - REFRESH_LAG_ALERT
    return sum(1 for at in _refreshed() if at is not None and at < limit)

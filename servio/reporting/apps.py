from django.apps import AppConfig
from django.core import checks


class ReportingConfig(AppConfig):
    name = "servio.reporting"
    label = "reporting"
    verbose_name = "Reporting"

    def ready(self) -> None:
        checks.register(check_report_time_zones)


def check_report_time_zones(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Every name in SERVIO_REPORT_TIME_ZONES must be a time zone."""
    from servio.core.errors import ValidationFailed
    from servio.reporting.zones import aggregated_zones, zone_named

    errors: list[checks.CheckMessage] = []
    for name in aggregated_zones():
        try:
            zone_named(name)
        except ValidationFailed:
            errors.append(
                checks.Error(
                    f"SERVIO_REPORT_TIME_ZONES names an unknown time zone: {name!r}.",
                    hint="Use IANA names such as 'Europe/Berlin' or 'UTC', comma-separated.",
                    id="reporting.E001",
                )
            )
    return errors

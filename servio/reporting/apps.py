from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "servio.reporting"
    label = "reporting"
    verbose_name = "Reporting"

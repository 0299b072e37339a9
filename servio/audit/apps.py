from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "servio.audit"
    label = "audit"
    verbose_name = "Audit trail"

from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "servio.portal"
    label = "portal"
    verbose_name = "Self-service portal"

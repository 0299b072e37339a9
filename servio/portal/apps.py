from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "servio.portal"
    label = "portal"
    verbose_name = "Self-service portal"

    def ready(self) -> None:
        from servio.core import configcache
        from servio.portal.models import PortalAnswer

        configcache.watch(PortalAnswer)  # read through a cache (portal.selectors.answers)

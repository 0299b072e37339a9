from django.apps import AppConfig
from django.conf import settings


class CoreConfig(AppConfig):
    name = "servio.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from servio.core import registry

        registry.autodiscover()
        if settings.SERVIO_BROKER_URL:
            from servio.celery import enable_broker_wakeups

            enable_broker_wakeups()

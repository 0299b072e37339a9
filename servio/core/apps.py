from django.apps import AppConfig
from django.conf import settings


class CoreConfig(AppConfig):
    name = "servio.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from servio.core import configcache, registry

        post_migrate.connect(configcache.install_triggers, sender=self)
        registry.autodiscover()
        if settings.SERVIO_BROKER_URL:
            from servio.celery import enable_broker_wakeups

            enable_broker_wakeups()

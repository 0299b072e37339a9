from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "servio.sla"
    label = "sla"
    verbose_name = "Service level management"

    def ready(self) -> None:
        from servio.sla.services import sla_sync
        from servio.tickets import hooks

        hooks.observe(sla_sync)

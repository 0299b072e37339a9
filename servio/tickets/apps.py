from django.apps import AppConfig
from django.db.models.signals import post_migrate


class TicketsConfig(AppConfig):
    name = "servio.tickets"
    label = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        from servio.tickets import search

        # A later migration that rebuilds the ticket table on SQLite drops its triggers.
        post_migrate.connect(search.install_sqlite_triggers, sender=self)

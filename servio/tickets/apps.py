from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "servio.tickets"
    label = "tickets"
    verbose_name = "Tickets"

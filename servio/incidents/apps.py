from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "servio.incidents"
    label = "incidents"
    verbose_name = "Incident management"

    def ready(self) -> None:
        from servio.incidents import services
        from servio.incidents.workflow import INCIDENT_WORKFLOW
        from servio.tickets import workflows
        from servio.tickets.models import Kind

        # Until their own practices land, requests, problems, changes and tasks follow the
        # incident life cycle (see docs/decisions/0006-ticket-workflows.md).
        for kind in Kind.values:
            workflows.register(kind, INCIDENT_WORKFLOW)
        workflows.on_transition(Kind.INCIDENT, services.cascade_major_incident)

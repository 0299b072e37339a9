from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    name = "servio.workspace"
    label = "workspace"
    verbose_name = "Agent workspace"

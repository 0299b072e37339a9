from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "servio.api"
    label = "api"
    verbose_name = "API"

from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "servio.web"
    label = "web"
    verbose_name = "Web UI"

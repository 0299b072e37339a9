from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "servio.security"
    label = "security"
    verbose_name = "Security log"

from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "servio.security"
    label = "security"
    verbose_name = "Security log"

    def ready(self) -> None:
        from servio.security import signin  # noqa: F401 - connects the sign-in signal receivers

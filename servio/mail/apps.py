from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "servio.mail"
    label = "mail"
    verbose_name = "Email channel"

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "servio.notifications"
    label = "notifications"
    verbose_name = "Notifications"

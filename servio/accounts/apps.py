from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "servio.accounts"
    label = "accounts"
    verbose_name = "Accounts and organisations"

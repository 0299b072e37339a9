from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "servio.surveys"
    label = "surveys"
    verbose_name = "Satisfaction surveys"

from django.urls import path

from servio.surveys import views

app_name = "surveys"
urlpatterns = [
    path("<str:token>/", views.respond, name="respond"),
]

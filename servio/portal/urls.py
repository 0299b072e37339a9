"""The self-service portal, mounted at /portal/."""

from django.urls import path

from servio.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("new/", views.ticket_new, name="ticket_new"),
    path("t/<str:reference>/", views.ticket_page, name="ticket"),
    path("t/<str:reference>/reply/", views.ticket_reply, name="ticket_reply"),
    path("t/<str:reference>/rate/", views.ticket_rate, name="ticket_rate"),
    path("t/<str:reference>/<str:name>/", views.ticket_action, name="ticket_action"),
]

from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path

from servio.api.instance import api

admin.site.site_header = "Servio administration"
admin.site.site_title = "Servio admin"


def no_icon(request):
    """Pages that name no icon (the admin's) make browsers ask for /favicon.ico: nothing here,
    and no 404 in the log or the browser's console."""
    return HttpResponse(status=204)


urlpatterns = [
    path("favicon.ico", no_icon),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("survey/", include("servio.surveys.urls")),
    path("desk/", include("servio.workspace.urls")),
    path("portal/", include("servio.portal.urls")),
    path("", include("servio.web.urls")),
]

from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path

from servio.api.instance import api
from servio.web.forms import AdminSignInForm

admin.site.site_header = "Servio administration"
admin.site.site_title = "Servio admin"
admin.site.login_form = AdminSignInForm  # the sign-in throttles' messages (security.signin)


def no_icon(request):
    """Pages that name no icon (the admin's) make browsers ask for /favicon.ico: nothing here,
    and no 404 in the log or the browser's console."""
    return HttpResponse(status=204)


handler500 = "servio.web.errors.server_error"  # a database outage is a 503 page

urlpatterns = [
    path("favicon.ico", no_icon),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("survey/", include("servio.surveys.urls")),
    path("desk/", include("servio.workspace.urls")),
    path("portal/", include("servio.portal.urls")),
    path("", include("servio.web.urls")),
]

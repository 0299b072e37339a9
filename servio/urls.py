from django.contrib import admin
from django.http import HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path

from servio.api.instance import api
from servio.web.forms import AdminSignInForm

admin.site.site_header = "Servio administration"
admin.site.site_title = "Servio admin"
admin.site.site_url = None  # the header links to the desk and the portal instead (base_site.html)
admin.site.login_form = AdminSignInForm  # the sign-in throttles' messages (security.signin)


def favicon(request):
    """Pages that name no icon (the admin's, the API docs') make browsers ask for /favicon.ico:
    Servio's icon, the one every page of ours names."""
    return HttpResponseRedirect(static("web/favicon.png"))


handler500 = "servio.web.errors.server_error"  # a database outage is a 503 page

urlpatterns = [
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("survey/", include("servio.surveys.urls")),
    path("desk/", include("servio.workspace.urls")),
    path("portal/", include("servio.portal.urls")),
    path("", include("servio.web.urls")),
]

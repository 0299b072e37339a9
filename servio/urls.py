from django.contrib import admin
from django.urls import include, path

from servio.api.instance import api
from servio.web.forms import AdminSignInForm

admin.site.site_header = "Servio administration"
admin.site.site_title = "Servio admin"
admin.site.login_form = AdminSignInForm  # the sign-in throttles' messages (security.signin)

handler500 = "servio.web.errors.server_error"  # a database outage is a 503 page

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("survey/", include("servio.surveys.urls")),
    path("desk/", include("servio.workspace.urls")),
    path("portal/", include("servio.portal.urls")),
    path("", include("servio.web.urls")),
]

"""The project's URLs plus the workspace and portal, until servio/urls.py mounts them itself."""

from django.urls import include, path

from servio.urls import urlpatterns as project

_mounted = {getattr(p, "app_name", None) or getattr(p, "namespace", None) for p in project}

urlpatterns = [
    *([path("desk/", include("servio.workspace.urls"))] if "workspace" not in _mounted else []),
    *([path("portal/", include("servio.portal.urls"))] if "portal" not in _mounted else []),
    *project,
]

"""The project's URLconf plus what the email channel needs, for as long as the project's own
files do not mount it yet: the mail and survey API routers and the public survey page.

When servio/api/instance.py mounts both routers and servio/urls.py the survey page, this is
exactly servio.urls.
"""

from __future__ import annotations

from django.urls import include, path
from ninja import NinjaAPI

from servio import urls as project_urls
from servio.api import errors
from servio.api.auth import DEFAULT_AUTH, TokenRateThrottle
from servio.api.instance import api as project_api
from servio.api.parser import StrictJsonParser
from servio.mail.api import router as mail_router
from servio.surveys.api import router as surveys_router

_mounted = {id(router) for _, router in project_api._routers}
_missing = [r for r in (mail_router, surveys_router) if id(r) not in _mounted]

urlpatterns = list(project_urls.urlpatterns)
if _missing:
    api = NinjaAPI(
        title="Servio API (tests)",
        version="1",
        urls_namespace="api",
        auth=DEFAULT_AUTH,
        parser=StrictJsonParser(),
        throttle=[TokenRateThrottle()],
    )
    errors.install(api)
    for prefix, router in [*project_api._routers, *(("", r) for r in _missing)]:
        api.add_router(prefix, router)
    urlpatterns = [
        path("api/v1/", api.urls) if str(p.pattern) == "api/v1/" else p for p in urlpatterns
    ]
if not any(getattr(p, "namespace", None) == "surveys" for p in urlpatterns):
    urlpatterns.append(path("survey/", include("servio.surveys.urls")))

"""The one NinjaAPI instance: authentication, error mapping and each app's router."""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI

from servio.api import errors
from servio.api.auth import DEFAULT_AUTH, TokenRateThrottle
from servio.api.links import add_links
from servio.api.openapi import add_problem_responses
from servio.api.parser import StrictJsonParser
from servio.api.renderer import JsonRenderer


class ServioApi(NinjaAPI):
    """NinjaAPI whose OpenAPI document also declares the problem+json errors of each operation
    and the links between operations."""

    def get_openapi_schema(self, **kwargs: Any):
        return add_links(add_problem_responses(super().get_openapi_schema(**kwargs)))


api = ServioApi(
    title="Servio API",
    version="1",
    description=(
        "IT Service Management API. Authenticate with `Authorization: Bearer <token>` "
        "(personal tokens are created in your settings). Errors are RFC 9457 problem documents "
        "(`application/problem+json`); validation errors name each field in `errors[].field`. "
        "Lists use cursor pagination: pass `next_cursor` back as `cursor`. POSTs accept an "
        "`Idempotency-Key` header: the same key and body replay the first response."
    ),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
    auth=DEFAULT_AUTH,
    parser=StrictJsonParser(),
    renderer=JsonRenderer(),
    throttle=[TokenRateThrottle()],
)
errors.install(api)


def _mount() -> None:
    from servio.accounts.api import router as accounts_router
    from servio.audit.api import router as audit_router
    from servio.core.api import router as core_router
    from servio.mail.api import router as mail_router
    from servio.reporting.api import router as reporting_router
    from servio.security.api import router as security_router
    from servio.sla.api import router as sla_router
    from servio.surveys.api import router as surveys_router
    from servio.tickets.api import router as tickets_router

    api.add_router("", core_router)
    api.add_router("", accounts_router)
    api.add_router("", audit_router)
    api.add_router("", security_router)
    api.add_router("", tickets_router)
    api.add_router("", sla_router)
    api.add_router("", mail_router)
    api.add_router("", surveys_router)
    api.add_router("", reporting_router)


_mount()

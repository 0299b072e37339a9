"""The one NinjaAPI instance: authentication, error mapping and each app's router."""

from __future__ import annotations

from ninja import NinjaAPI

from servio.api import errors
from servio.api.auth import DEFAULT_AUTH, TokenRateThrottle
from servio.api.parser import StrictJsonParser

api = NinjaAPI(
    title="Servio API",
    version="1",
    description=(
        "IT Service Management API. Authenticate with `Authorization: Bearer <token>` "
        "(personal tokens are created in your settings). Errors are RFC 9457 problem documents. "
        "Lists use cursor pagination: pass `next_cursor` back as `cursor`."
    ),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
    auth=DEFAULT_AUTH,
    parser=StrictJsonParser(),
    throttle=[TokenRateThrottle()],
)
errors.install(api)


def _mount() -> None:
    from servio.accounts.api import router as accounts_router
    from servio.audit.api import router as audit_router
    from servio.core.api import router as core_router
    from servio.sla.api import router as sla_router
    from servio.tickets.api import router as tickets_router

    api.add_router("", core_router)
    api.add_router("", accounts_router)
    api.add_router("", audit_router)
    api.add_router("", tickets_router)
    api.add_router("", sla_router)


_mount()

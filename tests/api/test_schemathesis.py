"""Schemathesis against our own /api/v1/openapi.json: no 5xx, every response as documented.

Each operation gets a bounded, deterministic run (MAX_EXAMPLES generated requests plus the
schemathesis coverage phase) through the in-process WSGI app, as an administrator with a write
token. Every built-in check runs (no 5xx, status codes, content types, headers and bodies as
documented, auth enforced, 405 with Allow) except two that judge input semantics, not responses:
`positive_data_acceptance` (schema-valid input may be refused on purpose: a cursor we did not
issue, an expiry in the past) and `negative_data_rejection` (pydantic's lax mode accepts some
off-schema input, e.g. "0.5" as a Unix time for a date-time query parameter).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
)

from servio.accounts.models import ApiToken
from servio.accounts.services import IssuedToken, token_create
from servio.wsgi import application
from tests.factories import make_personas

MAX_EXAMPLES = 25
ALWAYS_EXCLUDED = [positive_data_acceptance, negative_data_rejection]
# Known defects in routers this suite does not own, each excluding only the one check it fails
# on that one operation (everything else still runs there). Remove an entry once it is fixed.
KNOWN_DEFECTS = {
    # `format=csv` answers text/csv, but the operation documents only application/json.
    "GET /api/v1/sla/compliance": [content_type_conformance],
}

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def admin_token(transactional_db) -> IssuedToken:
    """Personas in a database every request sees (the app runs outside a test transaction)."""
    personas = make_personas()
    return token_create(actor=personas.admin, name="schemathesis", scope="write")


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_matches_its_schema(case, admin_token):
    # DELETE /me/tokens/{id} may hit our own token; keep it usable for every case.
    ApiToken.objects.filter(pk=admin_token.token.pk).update(revoked_at=None)
    case.call_and_validate(
        headers={"Authorization": f"Bearer {admin_token.plaintext}"},
        excluded_checks=ALWAYS_EXCLUDED + KNOWN_DEFECTS.get(case.operation.label, []),
    )

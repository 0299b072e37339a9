"""What logging a ticket through the API costs in statements, and that the configuration token
read with the API token (no query of its own) still follows every change."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from servio.accounts.models import ApiToken
from servio.core.models import ConfigVersion
from servio.tickets.models import PriorityRule

pytestmark = pytest.mark.django_db

# The API token with its user, organisation and the configuration token; the ticket (its
# number drawn inside the INSERT on PostgreSQL, a statement of its own on SQLite); the outbox
# row; the audit append (and, on SQLite, the tip's lock and move). Savepoints of the test's
# transaction come on top.
MOST = 10


def create(api, title: str = "Printer jams", **fields):
    body = {"title": title, "description": "Paper jam, no paper.", **fields}
    response = api.post("tickets", json=body)
    assert response.status_code == 201, response.content
    return response.json()


def test_a_creation_reads_the_configuration_token_with_the_api_token(personas, api_as):
    api = api_as(personas.requester_acme)
    create(api, "Warm-up")  # the caches (matrix, services) as a running server has them
    config_table = ConfigVersion._meta.db_table

    with CaptureQueriesContext(connection) as ctx:
        create(api, impact=2, urgency=2)

    sql = [q["sql"] for q in ctx.captured_queries]
    assert len(sql) <= MOST, sql
    reads = [s for s in sql if config_table in s]
    assert len(reads) == 1 and ApiToken._meta.db_table in reads[0], reads


def test_a_matrix_changed_between_two_requests_is_used_by_the_second(personas, api_as):
    api = api_as(personas.requester_acme)
    assert create(api, impact=3, urgency=3)["priority"] == 5

    PriorityRule.objects.filter(impact=3, urgency=3).update(priority=4)

    assert create(api, impact=3, urgency=3)["priority"] == 4

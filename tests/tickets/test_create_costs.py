"""What logging a ticket through the API costs in statements, pinned per database, with and
without an active SLA policy; and that a configuration change between two requests is seen by
the second (the configuration token is read once per creation, decision 12)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from servio.demo.service_levels import ensure_service_levels
from servio.tickets.models import PriorityRule

pytestmark = pytest.mark.django_db

AUDIT_TABLES = ("audit_auditevent", "audit_auditpending", "audit_audithead", "audit_auditseal")
# Every statement of one creation through the ORM (decision 27), in order, outside the audit
# append: the API token with its user and organisation, the configuration token (the priority
# matrix, the services and the SLA policies come from caches checked against it), the number
# (a sequence on PostgreSQL, the counter row on SQLite), the ticket, [its SLA clocks,] its
# outbox row. Django does not report BEGIN and COMMIT here; they come on top.
BEFORE_CLOCKS = [
    ("SELECT", "accounts_apitoken"),
    ("SELECT", "core_configversion"),
]
NUMBER = {
    "postgresql": ("SELECT", "nextval"),
    "sqlite": ("INSERT", "tickets_numbercounter"),
}
# The audit write (decision 31): the block's events and their rows in the sealer's queue, two
# bulk inserts; nothing of the chain (the sealer's tip and seals) is touched by a writer.
AUDIT = [("INSERT", "audit_auditevent"), ("INSERT", "audit_auditpending")]


def expected(*, clocks: bool) -> list[tuple[str, str]]:
    return [
        *BEFORE_CLOCKS,
        NUMBER[connection.vendor],
        ("INSERT", "tickets_ticket"),
        *([("INSERT", "sla_slaclock")] if clocks else []),
        ("INSERT", "core_outboxmessage"),
    ]


def create(api, title: str = "Printer jams", **fields):
    body = {"title": title, "description": "Paper jam, no paper.", **fields}
    response = api.post("tickets", json=body)
    assert response.status_code == 201, response.content
    return response.json()


def shape(sql: str) -> tuple[str, str]:
    """A statement as (verb, what it reads or writes)."""
    verb = sql.split(None, 1)[0].upper()
    if "nextval(" in sql:
        return verb, "nextval"
    table = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', sql)
    return verb, table.group(1) if table else sql[:40]


def statements_of_a_creation(api) -> tuple[list[tuple[str, str]], list[str]]:
    create(api, "Warm-up")  # the caches (matrix, services, policies) as a running server has
    with CaptureQueriesContext(connection) as ctx:
        ticket = create(api, impact=2, urgency=2)
    sql = [q["sql"] for q in ctx.captured_queries]
    audit = [s for s in sql if any(table in s for table in AUDIT_TABLES)]
    rest = [shape(s) for s in sql if s not in audit]
    return rest, audit if ticket else []


def test_the_statements_of_a_creation(personas, api_as):
    rest, audit = statements_of_a_creation(api_as(personas.requester_acme))
    assert rest == expected(clocks=False)
    assert [shape(s) for s in audit] == AUDIT, audit


def test_the_statements_of_a_creation_with_an_sla_policy(personas, api_as):
    """Real desks have SLA policies: the clocks add one statement (one `bulk_create`)."""
    ensure_service_levels()
    api = api_as(personas.requester_acme)
    rest, audit = statements_of_a_creation(api)
    assert rest == expected(clocks=True), rest
    assert [shape(s) for s in audit] == AUDIT, audit
    response = api.get(f"tickets/{create(api)['reference']}")
    assert {c["metric"] for c in response.json()["sla"]} == {"first_response", "resolution"}


def test_a_matrix_changed_between_two_requests_is_used_by_the_second(personas, api_as):
    api = api_as(personas.requester_acme)
    assert create(api, impact=3, urgency=3)["priority"] == 5

    PriorityRule.objects.filter(impact=3, urgency=3).update(priority=4)

    assert create(api, impact=3, urgency=3)["priority"] == 4

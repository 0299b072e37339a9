"""Rows deferred to the end of an audit block: sent with its append, never lost, never kept
from a savepoint that rolled back."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from servio.audit.models import AuditEvent
from servio.audit.services import audit_atomic, audit_record
from servio.core import outbox
from servio.core.models import OutboxMessage


class Boom(Exception):
    pass


@pytest.fixture
def handled(registry):
    outbox.handler("a", name="t.a")(lambda event: None)


def test_outbox_rows_travel_with_the_audit_append(db, handled):
    with CaptureQueriesContext(connection) as ctx, audit_atomic():
        outbox.publish("a", {"n": 1})
        audit_record(actor=None, action="t.did", object_type="t", object_id=1)
        assert not OutboxMessage.objects.exists()  # kept for the block's end

    assert OutboxMessage.objects.get().payload == {"n": 1}
    assert AuditEvent.objects.filter(action="t.did").count() == 1
    inserts = [q["sql"] for q in ctx.captured_queries if "INSERT" in q["sql"]]
    if connection.vendor == "postgresql":  # one statement: WITH d0 AS (INSERT outbox) INSERT audit
        assert len(inserts) == 1 and inserts[0].startswith("WITH d0 AS (INSERT INTO")
    else:
        assert any(OutboxMessage._meta.db_table in sql for sql in inserts)


def test_rows_without_an_audit_event_are_inserted_at_the_end(db, handled):
    with audit_atomic():
        outbox.publish("a", {"n": 2})
    assert OutboxMessage.objects.get().payload == {"n": 2}


def test_a_rolled_back_savepoint_takes_its_rows_along(db, handled):
    with audit_atomic():
        outbox.publish("a", {"keep": True})
        with pytest.raises(Boom), transaction.atomic():
            outbox.publish("a", {"keep": False})
            raise Boom
        audit_record(actor=None, action="t.did", object_type="t", object_id=1)

    assert [m.payload for m in OutboxMessage.objects.all()] == [{"keep": True}]


def test_a_failing_block_leaves_no_rows(db, handled):
    with pytest.raises(Boom), audit_atomic():
        outbox.publish("a", {})
        raise Boom
    assert not OutboxMessage.objects.exists()


def test_outside_an_audit_block_rows_are_inserted_at_once(db, handled):
    with transaction.atomic():
        outbox.publish("a", {})
        assert OutboxMessage.objects.count() == 1

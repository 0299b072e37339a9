"""Rows deferred to the end of an audit block: sent with its append, never lost, never kept
from a savepoint that rolled back."""

from __future__ import annotations

import pytest
from django.db import transaction

from servio.audit.services import audit_atomic, audit_record
from servio.core import outbox
from servio.core.models import OutboxMessage


class Boom(Exception):
    pass


@pytest.fixture
def handled(registry):
    outbox.handler("a", name="t.a")(lambda event: None)


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

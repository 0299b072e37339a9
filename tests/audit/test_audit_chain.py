"""The audit trail is append-only and `servio audit verify` finds any tampering."""

import itertools

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from servio.accounts.services import organization_create, user_create
from servio.audit.models import AppendOnlyError, AuditEvent
from servio.audit.services import audit_atomic, audit_record, audit_verify
from servio.core import context

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(personas):
    for i in range(5):
        organization_create(actor=personas.admin, name=f"Tenant {i}")
    return list(AuditEvent.objects.order_by("seq"))


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def table():
    return AuditEvent._meta.db_table


def test_services_write_audit_events_with_context(personas):
    with context.bind(request_id="req-123", client_ip="10.0.0.7"):
        org = organization_create(actor=personas.admin, name="Wayne Enterprises")
    event = AuditEvent.objects.get(action="organization.created", object_id=str(org.pk))
    assert event.actor == personas.admin
    assert event.request_id == "req-123"
    assert event.client_ip == "10.0.0.7"
    assert event.object_repr == "Wayne Enterprises"


def test_user_creation_records_field_values(personas):
    user = user_create(actor=personas.admin, email="new@acme.example", organization=personas.acme)
    event = AuditEvent.objects.get(action="user.created", object_id=str(user.pk))
    assert event.changes["email"] == [None, "new@acme.example"]
    assert event.changes["organization"] == [None, personas.acme.pk]


def test_intact_chain_verifies(chain):
    result = audit_verify()
    assert result.ok
    assert result.checked == len(chain)
    assert [e.seq for e in chain] == list(range(1, len(chain) + 1))
    for prev, event in itertools.pairwise(chain):
        assert event.prev_hash == prev.hash


def test_audit_rows_cannot_be_changed_or_deleted_through_the_orm(chain):
    event = chain[0]
    event.action = "forged"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="forged")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


def test_edited_row_is_named(chain):
    target = chain[2]
    raw(f"UPDATE {table()} SET object_repr = %s WHERE seq = %s", ["Evil Corp", target.seq])
    result = audit_verify()
    assert not result.ok
    assert result.first_bad_seq == target.seq
    assert "edited" in result.reason


def test_edited_changes_json_is_named(chain):
    target = chain[1]
    raw(f"UPDATE {table()} SET changes = %s WHERE seq = %s", ['{"name": [null, "x"]}', target.seq])
    result = audit_verify()
    assert (result.ok, result.first_bad_seq) == (False, target.seq)


def test_deleted_row_is_named(chain):
    raw(f"DELETE FROM {table()} WHERE seq = %s", [chain[3].seq])
    result = audit_verify()
    assert not result.ok
    assert result.first_bad_seq == chain[3].seq
    assert "deleted" in result.reason


def test_deleted_newest_row_is_detected_by_the_tip(chain):
    raw(f"DELETE FROM {table()} WHERE seq = %s", [chain[-1].seq])
    result = audit_verify()
    assert not result.ok
    assert result.first_bad_seq == chain[-1].seq


def test_reordered_rows_are_detected(chain):
    a, b = chain[1], chain[2]
    # Swap the sequence numbers of two rows (through a temporary value for the unique index).
    raw(f"UPDATE {table()} SET seq = -1 WHERE seq = %s", [a.seq])
    raw(f"UPDATE {table()} SET seq = %s WHERE seq = %s", [a.seq, b.seq])
    raw(f"UPDATE {table()} SET seq = %s WHERE seq = -1", [b.seq])
    result = audit_verify()
    assert not result.ok
    assert result.first_bad_seq == a.seq


def test_recomputed_hash_of_edited_row_still_breaks_the_chain(chain):
    """Re-hashing an edited row does not help: the next row points to the old hash."""
    from servio.audit.services import _event_values, compute_hash

    target = AuditEvent.objects.get(seq=chain[1].seq)
    target.object_repr = "Forged"
    new_hash = compute_hash(_event_values(target))
    raw(
        f"UPDATE {table()} SET object_repr = %s, hash = %s WHERE seq = %s",
        ["Forged", new_hash, target.seq],
    )
    result = audit_verify()
    assert (result.ok, result.first_bad_seq) == (False, chain[2].seq)


def test_verify_command_reports_first_bad_row(chain, capsys):
    call_command("audit", "verify", "--quiet")
    assert f"{len(chain)} events verified" in capsys.readouterr().out
    raw(f"UPDATE {table()} SET actor_repr = %s WHERE seq = %s", ["mallory", chain[1].seq])
    with pytest.raises(CommandError, match=f"#{chain[1].seq}"):
        call_command("audit", "verify", "--quiet")


def test_rolled_back_change_leaves_no_audit_event(personas):
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor=personas.admin, action="thing.done", object_type="x", object_id=1)
        raise RuntimeError("boom")
    assert AuditEvent.objects.count() == before
    assert audit_verify().ok


# --- one append per transaction, as late as possible ------------------------------------------


def record(action: str) -> AuditEvent:
    return audit_record(actor=None, action=action, object_type="x", object_id=1)


def actions_since(seq: int) -> list[str]:
    return list(AuditEvent.objects.filter(seq__gt=seq).values_list("action", flat=True))


def tip() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def test_outside_a_block_an_event_is_appended_at_once(personas):
    start = tip()
    event = record("thing.done")
    assert (event.seq, event.pk) == (start + 1, AuditEvent.objects.get(seq=start + 1).pk)


def test_a_block_appends_its_events_together_at_its_end_in_order(personas):
    start = tip()
    with audit_atomic():
        first, second = record("a.one"), record("a.two")
        assert first.seq is None and AuditEvent.objects.count() == start  # not yet
        with audit_atomic():  # a nested block joins the outer one
            record("a.three")
        assert actions_since(start) == []
    assert actions_since(start) == ["a.one", "a.two", "a.three"]
    assert (first.seq, second.seq) == (start + 1, start + 2)
    assert second.prev_hash == first.hash
    assert AuditEvent.objects.get(seq=start + 2).pk == second.pk
    assert audit_verify().ok


def test_events_of_a_rolled_back_savepoint_are_dropped_with_it(personas):
    start = tip()
    with audit_atomic():
        record("kept.before")
        with pytest.raises(RuntimeError), transaction.atomic():
            record("dropped")
            raise RuntimeError("boom")
        with pytest.raises(RuntimeError), audit_atomic():
            record("dropped.too")
            raise RuntimeError("boom")
        record("kept.after")
    assert actions_since(start) == ["kept.before", "kept.after"]
    assert audit_verify().ok


def test_a_failing_block_appends_nothing(personas):
    start = tip()
    with pytest.raises(RuntimeError), audit_atomic():
        record("never")
        raise RuntimeError("boom")
    assert actions_since(start) == []
    record("next")  # the chain goes on from the same tip
    assert actions_since(start) == ["next"] and audit_verify().ok


def test_the_tip_is_locked_after_the_change_is_written(personas):
    """The tip row serialises audited writers until they commit: a service touches it last
    (on PostgreSQL with one statement that locks, chains, inserts and moves the tip)."""
    with CaptureQueriesContext(connection) as ctx:
        organization_create(actor=personas.admin, name="Late Lock Ltd")
    sql = [q["sql"] for q in ctx.captured_queries]
    tip = [i for i, s in enumerate(sql) if "audit_audithead" in s or "servio_audit_chain" in s]
    insert_org = next(i for i, s in enumerate(sql) if s.startswith('INSERT INTO "accounts_org'))
    assert tip and insert_org < tip[0]
    assert len(tip) == (1 if connection.vendor == "postgresql" else 2)


# --- a block that is the whole transaction (the append travels with the COMMIT) ---------------


@pytest.mark.django_db(transaction=True)
def test_a_whole_transaction_block_commits_its_change_and_events_together():
    from servio.accounts.models import Team

    committed: list[str] = []
    with audit_atomic():
        Team.objects.create(name="Night shift", slug="night-shift")
        event = record("team.made")
        transaction.on_commit(lambda: committed.append("hook"))
    assert not connection.in_atomic_block and connection.get_autocommit()
    assert committed == ["hook"]
    assert AuditEvent.objects.get(seq=event.seq).pk == event.pk
    assert Team.objects.filter(slug="night-shift").exists()
    with audit_atomic():  # the connection goes on as usual
        record("team.next")
    assert audit_verify().ok and audit_verify().checked == 2


@pytest.mark.django_db(transaction=True)
def test_a_commit_that_fails_keeps_neither_the_change_nor_its_events():
    """PostgreSQL checks foreign keys at COMMIT: the append's round trip carries the failure."""
    from servio.accounts.models import Team

    committed: list[str] = []
    with pytest.raises(IntegrityError), audit_atomic():
        Team.objects.create(name="Ghosts", slug="ghosts", lead_id=987654)
        record("team.made")
        transaction.on_commit(lambda: committed.append("hook"))
    assert committed == []
    assert not Team.objects.filter(slug="ghosts").exists()
    assert AuditEvent.objects.count() == 0
    with audit_atomic():  # the tip was not moved: the chain starts at #1
        event = record("team.next")
    assert event.seq == 1 and audit_verify().ok

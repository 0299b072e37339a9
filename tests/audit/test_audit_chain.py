"""The audit trail is append-only, sealed into a hash chain after commit, checkpointed outside
the database, and `servio audit verify` finds any tampering (decision 31)."""

import datetime as dt
import itertools
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from servio.accounts.services import organization_create, user_create
from servio.audit import chain as hashing
from servio.audit.checkpoints import audit_checkpoint
from servio.audit.models import AppendOnlyError, AuditEvent, AuditHead, AuditPending, AuditSeal
from servio.audit.sealing import audit_seal, seal_lag
from servio.audit.services import audit_atomic, audit_record
from servio.audit.verification import audit_verify
from servio.core import context

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(personas):
    """Five organisations created and every event sealed: the seals in chain order."""
    for i in range(5):
        organization_create(actor=personas.admin, name=f"Tenant {i}")
    audit_seal()
    return list(AuditSeal.objects.select_related("event").order_by("seq"))


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


EVENTS, SEALS, HEAD = "audit_auditevent", "audit_auditseal", "audit_audithead"


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
    assert result.ok, result.reason
    assert result.checked == len(chain) == AuditEvent.objects.count()
    assert [seal.seq for seal in chain] == list(range(1, len(chain) + 1))
    assert chain[0].prev_hash == hashing.GENESIS
    for prev, seal in itertools.pairwise(chain):
        assert seal.prev_hash == prev.hash
    head = AuditHead.objects.get()
    assert (head.seq, head.hash) == (chain[-1].seq, chain[-1].hash)
    assert {seal.event.format for seal in chain} == {hashing.FORMAT}


def test_audit_rows_cannot_be_changed_or_deleted_through_the_orm(chain):
    event, seal = chain[0].event, chain[0]
    for row in (event, seal):
        with pytest.raises(AppendOnlyError):
            row.save()
        with pytest.raises(AppendOnlyError):
            row.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="forged")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditSeal.objects.filter(pk=seal.pk).update(hash="0" * 64)
    with pytest.raises(AppendOnlyError):
        AuditSeal.objects.all().delete()


# --- tampering inside the database -------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("object_repr", "Evil Corp"),
        ("actor_repr", "mallory@example.com"),
        ("action", "organization.deleted"),
        ("changes", '{"name": [null, "x"]}'),
        ("at", "2001-01-01 00:00:00+00:00"),
        ("request_id", "forged"),
    ],
)
def test_an_edited_event_is_named(chain, column, value):
    target = chain[2]
    raw(f"UPDATE {EVENTS} SET {column} = %s WHERE id = %s", [value, target.event_id])
    result = audit_verify()
    assert (result.ok, result.first_bad_seq) == (False, target.seq)
    assert "edited" in result.reason


def test_an_edited_seal_hash_is_named(chain):
    raw(f"UPDATE {SEALS} SET hash = %s WHERE seq = %s", ["f" * 64, chain[1].seq])
    result = audit_verify()
    assert (result.ok, result.first_bad_seq) == (False, chain[1].seq)


def test_a_deleted_event_is_named(chain):
    target = chain[3]
    raw(f"DELETE FROM {SEALS} WHERE seq = %s", [target.seq])
    raw(f"DELETE FROM {EVENTS} WHERE id = %s", [target.event_id])
    result = audit_verify()
    assert (result.ok, result.first_bad_seq) == (False, target.seq)
    assert "deleted" in result.reason


def test_a_deleted_newest_event_is_detected_by_the_tip(chain):
    raw(f"DELETE FROM {SEALS} WHERE seq = %s", [chain[-1].seq])
    result = audit_verify()
    assert (result.ok, result.first_bad_seq) == (False, chain[-1].seq)
    assert "tip" in result.reason


def test_swapped_events_are_detected(chain):
    a, b = chain[1], chain[2]
    # Point each seal at the other's event (through a free id for the unique index).
    raw(f"UPDATE {SEALS} SET event_id = %s WHERE seq = %s", [-1, a.seq])
    raw(f"UPDATE {SEALS} SET event_id = %s WHERE seq = %s", [a.event_id, b.seq])
    raw(f"UPDATE {SEALS} SET event_id = %s WHERE seq = %s", [b.event_id, a.seq])
    result = audit_verify()
    assert (result.ok, result.first_bad_seq) == (False, a.seq)


def test_a_rehashed_edited_event_still_breaks_the_chain(chain):
    """Re-hashing an edited event's seal does not help: the next seal points to the old hash."""
    target = chain[1]
    event = AuditEvent.objects.get(pk=target.event_id)
    event.object_repr = "Forged"
    forged = hashing.link_hash(event, seq=target.seq, prev_hash=target.prev_hash)
    raw(f"UPDATE {EVENTS} SET object_repr = %s WHERE id = %s", ["Forged", event.pk])
    raw(f"UPDATE {SEALS} SET hash = %s WHERE seq = %s", [forged, target.seq])
    result = audit_verify()
    assert (result.ok, result.first_bad_seq) == (False, chain[2].seq)


def rewrite_from(seq: int, *, object_repr: str) -> None:
    """What someone with write access to the database would do: edit the event at `seq`, then
    re-chain it and every later seal and move the tip, so the chain alone verifies."""
    seals = list(AuditSeal.objects.select_related("event").filter(seq__gte=seq).order_by("seq"))
    prev = seals[0].prev_hash
    raw(f"UPDATE {EVENTS} SET object_repr = %s WHERE id = %s", [object_repr, seals[0].event_id])
    for seal in seals:
        event = AuditEvent.objects.get(pk=seal.event_id)
        digest = hashing.link_hash(event, seq=seal.seq, prev_hash=prev)
        raw(
            f"UPDATE {SEALS} SET prev_hash = %s, hash = %s WHERE seq = %s", [prev, digest, seal.seq]
        )
        prev = digest
    raw(f"UPDATE {HEAD} SET hash = %s WHERE id = 1", [prev])


def test_rewriting_the_tail_and_the_tip_is_caught_by_the_checkpoint(chain, personas):
    written = audit_checkpoint(force=True)
    assert written.seq == chain[-1].seq
    organization_create(actor=personas.admin, name="After the checkpoint")
    audit_seal()
    rewrite_from(chain[-2].seq, object_repr="Forged")
    inside = audit_verify(checkpoint_files=[])  # the database alone cannot tell
    assert inside.ok, inside.reason
    result = audit_verify()
    assert (result.ok, result.first_bad_seq) == (False, chain[-1].seq)
    assert "checkpoint" in result.reason and "rewritten" in result.reason


def test_rewriting_only_what_came_after_the_last_checkpoint_is_reported_as_uncovered(
    chain, personas
):
    audit_checkpoint(force=True)
    organization_create(actor=personas.admin, name="Later")
    audit_seal()
    rewrite_from(chain[-1].seq + 1, object_repr="Forged")
    result = audit_verify()
    assert result.ok  # nothing outside the database saw these events yet
    assert (result.last_checkpoint.seq, result.after_last_checkpoint) == (chain[-1].seq, 1)


def test_deleting_the_tail_and_moving_the_tip_back_is_caught_by_the_checkpoint(chain):
    audit_checkpoint(force=True)
    last, before = chain[-1], chain[-2]
    raw(f"DELETE FROM {SEALS} WHERE seq = %s", [last.seq])
    raw(f"DELETE FROM {EVENTS} WHERE id = %s", [last.event_id])
    raw(f"UPDATE {HEAD} SET seq = %s, hash = %s WHERE id = 1", [before.seq, before.hash])
    assert audit_verify(checkpoint_files=[]).ok
    result = audit_verify()
    assert (result.ok, result.first_bad_seq) == (False, last.seq)
    assert "--restored" in result.reason


def test_a_restored_backup_verifies_against_the_checkpoint_of_its_time(chain, personas, settings):
    """Checkpoints go on after a backup; the restored database reaches an older one."""
    audit_checkpoint(force=True)  # current when the "backup" was taken: at chain[-1]
    backup_tip = chain[-1]
    organization_create(actor=personas.admin, name="After the backup")
    audit_seal()
    later = audit_checkpoint(force=True)
    # "Restore": the events after the backup are gone, the tip is the backup's.
    for seal in AuditSeal.objects.filter(seq__gt=backup_tip.seq):
        raw(f"DELETE FROM {SEALS} WHERE seq = %s", [seal.seq])
        raw(f"DELETE FROM {EVENTS} WHERE id = %s", [seal.event_id])
    raw(f"UPDATE {HEAD} SET seq = %s, hash = %s WHERE id = 1", [backup_tip.seq, backup_tip.hash])
    assert not audit_verify().ok
    result = audit_verify(restored=True)
    assert result.ok, result.reason
    assert result.last_checkpoint.seq == backup_tip.seq and later.seq > backup_tip.seq
    assert "Restored backup" in result.notes[0]
    # A restore that was tampered with before its checkpoint still fails.
    rewrite_from(chain[0].seq, object_repr="Forged")
    assert not audit_verify(restored=True).ok


def test_an_altered_checkpoint_file_is_refused(chain, settings, tmp_path):
    audit_checkpoint(force=True)
    path = tmp_path / "audit-checkpoints.jsonl"
    line = json.loads(path.read_text())
    line["hash"] = chain[0].hash  # pretend an older tip
    path.write_text(json.dumps(line) + "\n")
    result = audit_verify()
    assert not result.ok and "not signed" in result.reason
    path.write_text("not a checkpoint\n")
    assert "is not a checkpoint" in audit_verify().reason


def test_a_checkpoint_signed_with_another_key_is_refused(chain, settings):
    audit_checkpoint(force=True)
    settings.SERVIO_AUDIT_CHECKPOINT_KEY = "another installation"
    result = audit_verify()
    assert not result.ok and "SERVIO_AUDIT_CHECKPOINT_KEY" in result.reason


def test_checkpoints_are_written_when_due_and_only_when_the_tip_moved(chain, personas, tmp_path):
    path = tmp_path / "audit-checkpoints.jsonl"
    now = AuditSeal.objects.latest("seq").sealed_at
    first = audit_checkpoint(now=now)
    assert first is not None and first.seq == chain[-1].seq
    assert audit_checkpoint(now=now + dt.timedelta(minutes=1)) is None  # not due yet
    assert audit_checkpoint(now=now + dt.timedelta(hours=1)) is None  # due, tip did not move
    organization_create(actor=personas.admin, name="Moves the tip")
    audit_seal()
    assert audit_checkpoint(now=now + dt.timedelta(minutes=1)) is None
    assert audit_checkpoint(now=now + dt.timedelta(minutes=6)).seq == chain[-1].seq + 1
    assert len(path.read_text().splitlines()) == 2


def test_checkpoints_are_written_outside_transactions(chain):
    from servio.core.network import TransactionHeld

    with pytest.raises(TransactionHeld), transaction.atomic():
        audit_checkpoint(force=True)


# --- the unsealed tail and the sealer's queue ---------------------------------------------------


def test_unsealed_events_are_reported_and_sealed_later_in_order(chain, personas):
    organization_create(actor=personas.admin, name="Waits for the sealer")
    result = audit_verify()
    assert result.ok and result.checked == len(chain)
    assert result.unsealed == 1 and result.unsealed_oldest_seconds >= 0
    assert seal_lag().unsealed == 1
    assert audit_seal() == 1
    assert audit_verify().checked == len(chain) + 1 and seal_lag().unsealed == 0


def test_an_event_that_lost_its_queue_row_is_detected(chain, personas):
    organization_create(actor=personas.admin, name="Hidden from the sealer")
    raw("DELETE FROM audit_auditpending")
    result = audit_verify()
    assert not result.ok and "never sealed" in result.reason


def test_events_committed_out_of_id_order_are_sealed_in_the_order_they_are_found(chain):
    """The sealer chains what has committed; an event with a lower id that commits later is
    sealed later. `seq` is the chain's order, the id only the writer's."""
    late = AuditEvent.objects.create(action="late", at=AuditEvent().at)
    early = AuditEvent.objects.create(action="early")
    AuditPending.objects.create(event=early)
    audit_seal()
    AuditPending.objects.create(event=late)
    audit_seal()
    seals = {s.event_id: s.seq for s in AuditSeal.objects.filter(event__in=[late, early])}
    assert seals[early.pk] < seals[late.pk] and late.pk < early.pk
    assert audit_verify().ok


def test_sealing_is_one_batch_per_transaction_and_the_tip_follows(chain, personas):
    for i in range(5):
        organization_create(actor=personas.admin, name=f"Batch {i}")
    assert audit_seal(batch=2) == 5
    head = AuditHead.objects.get()
    assert head.seq == len(chain) + 5 == AuditSeal.objects.count()
    assert audit_verify().ok


def test_writers_never_touch_the_chain_tip(personas):
    """No audited write waits for another: a service writes its event and its queue row, and
    nothing of the chain (the tip is the sealer's alone)."""
    with CaptureQueriesContext(connection) as ctx:
        organization_create(actor=personas.admin, name="No Lock Ltd")
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "audit_auditevent" in sql and "audit_auditpending" in sql
    assert "audit_audithead" not in sql and "audit_auditseal" not in sql


# --- the hash format --------------------------------------------------------------------------


def format1_event(**values):
    base = {
        "at": dt.datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=dt.UTC),
        "actor_id": 7,
        "actor_repr": "Zoë <zoe@acme.example>",
        "action": "ticket.updated",
        "object_type": "tickets.ticket",
        "object_id": "42",
        "object_repr": 'INC-000042 Printer "on fire"',
        "changes": {"title": ["a", "b"], "priority": [4, 2]},
        "request_id": "req-1",
        "client_ip": "10.0.0.7",
        "format": 1,
    }
    return AuditEvent(**{**base, **values})


def test_format_1_events_hash_as_they_were_written():
    """Vectors computed with the format-1 code of decision 14, before format 2 existed."""
    first = format1_event()
    h1 = hashing.link_hash(first, seq=1, prev_hash=hashing.GENESIS)
    assert h1 == "79222d6d021357b1b759a9044314fa8ed87363a3c1ce6f34941fa946b056f21e"
    second = format1_event(actor_id=None, client_ip=None, changes={}, request_id="")
    assert (
        hashing.link_hash(second, seq=2, prev_hash=h1)
        == "75ddafa6da896b3ed0ecd98211fd259b57e631b3c23c06c1e5af66f952d085bc"
    )


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="format 9"):
        hashing.link_hash(format1_event(format=9), seq=1, prev_hash=hashing.GENESIS)


def test_a_chain_of_both_formats_verifies(chain):
    """Events of format 1 (before the sealer) and 2 (after) in one chain."""
    old = format1_event()
    old.save()
    AuditPending.objects.create(event=old)
    audit_seal()
    assert AuditSeal.objects.get(event=old).seq == chain[-1].seq + 1
    assert audit_verify().ok


def test_personal_values_can_be_erased_without_breaking_the_chain(personas):
    with context.bind(request_id="r", client_ip="192.0.2.9"):
        user = user_create(
            actor=personas.admin, email="gone@acme.example", organization=personas.acme
        )
    audit_seal()
    event = AuditEvent.objects.get(action="user.created", object_id=str(user.pk))
    update = hashing.redact(event, ["object_repr", "client_ip", "changes.email"])
    raw(
        f"UPDATE {EVENTS} SET object_repr = %s, client_ip = NULL, changes = %s, redacted = %s "
        "WHERE id = %s",
        [
            update["object_repr"],
            json.dumps(update["changes"]),
            json.dumps(update["redacted"]),
            event.pk,
        ],
    )
    erased = AuditEvent.objects.get(pk=event.pk)
    assert "gone@acme.example" not in json.dumps(
        [erased.object_repr, erased.changes, erased.client_ip]
    )
    assert erased.changes["organization"] == [None, personas.acme.pk]  # not personal: kept
    assert audit_verify().ok
    # Editing an erased value's kept digest is still detected.
    raw(
        f"UPDATE {EVENTS} SET redacted = %s WHERE id = %s",
        [json.dumps({**update["redacted"], "client_ip": "0" * 64}), event.pk],
    )
    assert not audit_verify().ok


def test_only_personal_values_of_new_events_can_be_erased(chain):
    event = chain[0].event
    with pytest.raises(ValueError, match="action"):
        hashing.redact(event, ["action"])
    with pytest.raises(ValueError, match="format 2"):
        hashing.redact(format1_event(), ["actor_repr"])


# --- the command ------------------------------------------------------------------------------


def test_verify_command_reports_the_tail_the_checkpoints_and_the_first_bad_event(
    chain, personas, capsys
):
    call_command("audit", "checkpoint")
    organization_create(actor=personas.admin, name="Unsealed")
    call_command("audit", "verify", "--quiet")
    out = capsys.readouterr().out
    assert f"{len(chain)} events verified" in out
    assert f"newest this database reaches is #{chain[-1].seq}" in out
    assert "1 event(s) wait for the sealer" in out
    call_command("audit", "seal", "--quiet")
    assert "Sealed 1 audit event(s)." in capsys.readouterr().out
    raw(f"UPDATE {EVENTS} SET actor_repr = %s WHERE id = %s", ["mallory", chain[1].event_id])
    with pytest.raises(CommandError, match=f"#{chain[1].seq}"):
        call_command("audit", "verify", "--quiet")


def test_rolled_back_change_leaves_no_audit_event(personas):
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor=personas.admin, action="thing.done", object_type="x", object_id=1)
        raise RuntimeError("boom")
    assert AuditEvent.objects.count() == before
    assert AuditPending.objects.count() == before
    assert audit_verify().ok


# --- one write per block, at its end ------------------------------------------------------------


def record(action: str) -> AuditEvent:
    return audit_record(actor=None, action=action, object_type="x", object_id=1)


def actions_since(pk: int) -> list[str]:
    return list(
        AuditEvent.objects.filter(pk__gt=pk).order_by("pk").values_list("action", flat=True)
    )


def top() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def test_outside_a_block_an_event_is_written_at_once(personas):
    event = record("thing.done")
    assert event.pk and AuditPending.objects.filter(event=event).exists()


def test_a_block_writes_its_events_together_at_its_end_in_order(personas):
    start = top()
    with audit_atomic():
        first, second = record("a.one"), record("a.two")
        assert first.pk is None and actions_since(start) == []  # not yet
        with audit_atomic():  # a nested block joins the outer one
            record("a.three")
        assert actions_since(start) == []
    assert actions_since(start) == ["a.one", "a.two", "a.three"]
    assert first.pk < second.pk
    audit_seal()
    assert audit_verify().ok


def test_events_of_a_rolled_back_savepoint_are_dropped_with_it(personas):
    start = top()
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
    audit_seal()
    assert audit_verify().ok


def test_a_failing_block_writes_nothing(personas):
    start = top()
    with pytest.raises(RuntimeError), audit_atomic():
        record("never")
        raise RuntimeError("boom")
    assert actions_since(start) == []
    record("next")
    assert actions_since(start) == ["next"]
    audit_seal()
    assert audit_verify().ok

"""attachment_add and storage: a file is kept exactly when the row that names it is committed,
and a storage failure is a clear domain error (507 disk full, 503 unavailable)."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from django.db import transaction

from servio.core.errors import InsufficientStorage, PayloadTooLarge, ServiceUnavailable
from servio.tickets import services
from servio.tickets.models import Attachment
from tests.filesystems import files_under
from tests.tickets.helpers import log


class Abandoned(Exception):
    """The caller's transaction fails after the attachment was stored (as mail intake can)."""


def add(personas, ticket, content: bytes = b"hello", name: str = "notes.txt") -> Attachment:
    return services.attachment_add(
        actor=personas.requester_acme, ticket=ticket, filename=name, content=content
    )


@pytest.mark.django_db
def test_a_file_stored_inside_a_transaction_that_rolls_back_is_removed(personas, settings):
    ticket = log(personas.requester_acme)
    paths = []
    with pytest.raises(Abandoned), transaction.atomic():
        paths.append(Path(add(personas, ticket).file.path))
        assert paths[0].read_bytes() == b"hello"
        raise Abandoned
    gc.collect()
    assert not paths[0].exists()
    assert not Attachment.objects.exists()


@pytest.mark.django_db
def test_a_file_in_a_savepoint_that_rolls_back_is_removed_and_the_others_kept(personas):
    ticket = log(personas.requester_acme)
    kept = Path(add(personas, ticket, name="kept.txt").file.path)
    gone = []
    with pytest.raises(Abandoned), transaction.atomic():
        gone.append(Path(add(personas, ticket, name="gone.txt").file.path))
        raise Abandoned
    assert kept.exists() and not gone[0].exists()


@pytest.mark.django_db(transaction=True)
def test_a_committed_file_stays(personas):
    ticket = log(personas.requester_acme)
    path = Path(add(personas, ticket).file.path)
    gc.collect()
    assert path.read_bytes() == b"hello"


@pytest.mark.django_db
def test_a_file_over_the_ticket_limit_is_removed_when_the_row_is_refused(personas, settings):
    settings.SERVIO_TICKET_ATTACHMENTS_MAX_BYTES = 8
    ticket = log(personas.requester_acme)
    add(personas, ticket, b"12345")
    with pytest.raises(PayloadTooLarge):
        add(personas, ticket, b"67890", name="second.txt")
    media = Path(settings.MEDIA_ROOT)
    assert [p.name for p in files_under(media)] == [Path(Attachment.objects.get().file.name).name]


@pytest.mark.django_db
def test_a_full_disk_raises_insufficient_storage_and_leaves_nothing(personas, full_disk):
    ticket = log(personas.requester_acme)
    with pytest.raises(InsufficientStorage) as refused:
        add(personas, ticket, b"\x01" * 200_000, name="dump.bin")
    assert refused.value.status == 507
    assert "disk is full" in refused.value.detail
    assert files_under(full_disk) == []


@pytest.mark.django_db
def test_a_read_only_disk_raises_service_unavailable(personas, read_only_disk):
    ticket = log(personas.requester_acme)
    with pytest.raises(ServiceUnavailable) as refused:
        add(personas, ticket)
    assert refused.value.status == 503 and refused.value.retry_after > 0
    assert "read-only" in refused.value.detail

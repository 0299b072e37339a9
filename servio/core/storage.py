"""Files in storage: written before the row that names them, kept only if that row commits.

A write that fails (disk full, read-only, no permission) leaves no partial file behind and
becomes a domain error saying what happened and what to do: 507 when the storage is full, 503
otherwise. A file whose transaction rolls back is removed (decision 25).
"""

from __future__ import annotations

import errno
import logging
import os
import weakref

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import transaction

from servio.core.errors import DomainError, InsufficientStorage, StorageUnavailable

log = logging.getLogger(__name__)
FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
REASONS = {
    errno.EROFS: "its storage is read-only",
    errno.EACCES: "it is not allowed to use its storage",
    errno.EPERM: "it is not allowed to use its storage",
    errno.EIO: "its storage reports an input/output error",
}


def failure(exc: OSError, *, reading: bool = False) -> DomainError:
    """The domain error for a storage OSError: 507 when the storage is full, 503 otherwise."""
    action = "read the file" if reading else "store the file"
    if exc.errno in FULL and not reading:
        return InsufficientStorage(
            "The server could not store the file: its disk is full. Try again later or tell "
            "an administrator."
        )
    reason = REASONS.get(exc.errno or 0) or (
        f"its storage failed ({os.strerror(exc.errno)})" if exc.errno else "its storage failed"
    )
    return StorageUnavailable(
        f"The server could not {action}: {reason}. Try again in a few minutes; if it keeps "
        "happening, tell an administrator.",
        retry_after=settings.SERVIO_UNAVAILABLE_RETRY_AFTER_SECONDS,
    )


def save_new(storage: Storage, name: str, content: bytes) -> str:
    """Write `content` under `name`, which no file may have yet (give it a random part).

    On any failure whatever was written is removed, and the error becomes `failure(...)`. The
    name must be new because Django's storage saves under another name when it is taken, and
    only under our own name do we know which file a failed write left.
    """
    try:
        return storage.save(name, ContentFile(content))
    except BaseException as exc:
        remove(storage, name)
        if isinstance(exc, OSError):
            raise failure(exc) from exc
        raise


def remove(storage: Storage, name: str) -> None:
    """Delete a stored file if it is there; a failure to delete is logged, not raised."""
    try:
        storage.delete(name)
    except OSError:
        log.exception("Could not remove the stored file %s; remove it by hand", name)


def keep_if_committed(storage: Storage, name: str) -> None:
    """Remove the stored file unless the current transaction commits.

    Django has no rollback hook, but it drops the on_commit callbacks of a transaction (or
    savepoint) that rolls back; the removal runs when this one is dropped without being called.
    Call it inside the transaction that writes the row naming the file.
    """
    state = {"committed": False}

    def committed() -> None:
        state["committed"] = True

    weakref.finalize(committed, _remove_unless_committed, state, storage, name)
    transaction.on_commit(committed)


def _remove_unless_committed(state: dict[str, bool], storage: Storage, name: str) -> None:
    if not state["committed"]:
        remove(storage, name)

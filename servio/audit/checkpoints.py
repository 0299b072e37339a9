"""Signed checkpoints of the chain's tip, kept outside the database (decision 31).

Whoever can write to the database could rewrite the newest events, re-chain them and move the
tip: the chain alone would still verify. So every SERVIO_AUDIT_CHECKPOINT_MINUTES the sealer
writes the tip (sequence number, hash, time) signed with a key the database does not hold, to
each sink of SERVIO_AUDIT_CHECKPOINTS: an append-only file, and/or syslog (another machine's
log keeps it beyond this one's reach). `servio audit verify` reads the file sinks back and
compares: a checkpoint whose event hashes differently means the chain was rewritten after it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import logging.handlers
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import salted_hmac

from servio.audit import chain
from servio.audit.models import AuditHead
from servio.core import network

log = logging.getLogger(__name__)
SYSLOG_TAG = "servio-audit-checkpoint"


@dataclass(frozen=True)
class Checkpoint:
    """One signed statement "the chain's event #seq hashed to `hash` at `at`"."""

    seq: int
    hash: str
    at: datetime
    source: str = ""

    def payload(self) -> dict[str, object]:
        return {"at": chain.utc_iso(self.at), "hash": self.hash, "seq": self.seq, "v": 1}

    def line(self) -> str:
        """The JSON line written to a sink, with its signature."""
        return chain.canonical({**self.payload(), "sig": sign(self.payload())})


class CheckpointError(ValueError):
    """A checkpoint sink holds a line that is not a checkpoint signed with this key."""


def _key() -> bytes:
    if settings.SERVIO_AUDIT_CHECKPOINT_KEY:
        return settings.SERVIO_AUDIT_CHECKPOINT_KEY.encode()
    return salted_hmac("servio.audit.checkpoint", "key", algorithm="sha256").digest()


def sign(payload: dict[str, object]) -> str:
    """HMAC-SHA256 of the checkpoint's canonical JSON."""
    return hmac.new(_key(), chain.canonical(payload).encode(), hashlib.sha256).hexdigest()


def file_sinks() -> list[Path]:
    """The configured sinks that are files (the ones `audit verify` can read back)."""
    return [Path(s) for s in settings.SERVIO_AUDIT_CHECKPOINTS if not s.startswith("syslog")]


def audit_checkpoint(*, force: bool = False, now: datetime | None = None) -> Checkpoint | None:
    """Write the tip to every sink when a checkpoint is due (or `force`) and the tip moved since
    the last one; returns what was written. Runs outside any transaction: a sink may be a
    network service, and a checkpoint must only name committed seals."""
    network.require_no_transaction("writing an audit checkpoint")
    now = now or timezone.now()
    head = AuditHead.objects.filter(pk=1).first()
    if head is None or head.seq == 0:
        return None
    every = timedelta(minutes=settings.SERVIO_AUDIT_CHECKPOINT_MINUTES)
    due = head.checkpoint_at is None or now - head.checkpoint_at >= every
    if not force and (not due or head.seq == head.checkpoint_seq):
        return None
    checkpoint = Checkpoint(seq=head.seq, hash=head.hash, at=now)
    line = checkpoint.line()
    for sink in settings.SERVIO_AUDIT_CHECKPOINTS:
        _write(sink, line)
    AuditHead.objects.filter(pk=1).update(checkpoint_seq=head.seq, checkpoint_at=now)
    return checkpoint


def _write(sink: str, line: str) -> None:
    if sink.startswith("syslog"):
        _write_syslog(sink, line)
        return
    path = Path(sink)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Append and flush to disk: a checkpoint must survive a crash right after it was written.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_syslog(sink: str, line: str) -> None:
    """`syslog` is the local socket (/dev/log); `syslog://host:port` sends UDP."""
    rest = sink.removeprefix("syslog").removeprefix("://")
    if rest:
        host, _, port = rest.partition(":")
        address: str | tuple[str, int] = (host, int(port or 514))
    else:
        address = "/dev/log"
    handler = logging.handlers.SysLogHandler(address=address)
    try:
        record = logging.LogRecord(SYSLOG_TAG, logging.INFO, __file__, 0, "%s", (line,), None)
        handler.setFormatter(logging.Formatter(f"{SYSLOG_TAG}: %(message)s"))
        handler.emit(record)
    finally:
        handler.close()


def read_checkpoints(path: Path) -> list[Checkpoint]:
    """Every checkpoint in a file sink (or a file of lines collected from syslog: anything
    before the JSON on a line is ignored), each checked against its signature."""
    found = []
    with path.open(encoding="utf-8") as lines:
        for number, text in enumerate(lines, start=1):
            text = text.strip()
            if not text:
                continue
            where = f"{path}:{number}"
            try:
                data = json.loads(text[text.index("{") :])
                payload = {k: data[k] for k in ("at", "hash", "seq", "v")}
                signature = str(data["sig"])
            except (ValueError, KeyError, TypeError) as exc:
                raise CheckpointError(f"{where} is not a checkpoint ({exc}).") from exc
            if not hmac.compare_digest(sign(payload), signature):
                raise CheckpointError(
                    f"{where} is not signed with this installation's checkpoint key: the "
                    "checkpoint was altered, or SERVIO_AUDIT_CHECKPOINT_KEY changed."
                )
            at = datetime.fromisoformat(str(payload["at"]))
            found.append(Checkpoint(int(payload["seq"]), str(payload["hash"]), at, where))
    return found

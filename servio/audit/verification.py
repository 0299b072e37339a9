"""`servio audit verify`: walk the sealed chain, compare it with the checkpoints kept outside
the database, and say how old the unsealed tail is (decision 31)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from servio.audit import chain
from servio.audit.checkpoints import Checkpoint, CheckpointError, file_sinks, read_checkpoints
from servio.audit.models import AuditEvent, AuditHead, AuditSeal
from servio.audit.sealing import seal_lag


@dataclass
class VerifyResult:
    """The verdict: `ok`, how many sealed events were checked, the first bad one and why, plus
    what verification could not cover (the unsealed tail, events after the last checkpoint)."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""
    unsealed: int = 0
    unsealed_oldest_seconds: float = 0.0
    checkpoints: int = 0
    last_checkpoint: Checkpoint | None = None
    after_last_checkpoint: int = 0
    notes: list[str] = field(default_factory=list)

    def fail(self, seq: int | None, reason: str) -> VerifyResult:
        self.ok, self.first_bad_seq, self.reason = False, seq, reason
        return self


def audit_verify(
    *,
    progress: Callable[[int], object] | None = None,
    checkpoint_files: Iterable[Path] | None = None,
    restored: bool = False,
) -> VerifyResult:
    """Check every seal in order (contiguous, each linked to the one before, each hash matching
    its event), the tip, that no event lost its place in the sealer's queue, and every
    checkpoint in `checkpoint_files` (default: the file sinks of SERVIO_AUDIT_CHECKPOINTS).

    `restored`: this database is a restored backup, so checkpoints newer than its tip are
    expected; it is verified against the newest checkpoint it reaches (the one that was current
    when the backup was taken).
    """
    lag = seal_lag()
    result = VerifyResult(
        ok=True, checked=0, unsealed=lag.unsealed, unsealed_oldest_seconds=lag.oldest_seconds
    )
    try:
        checkpoints = _checkpoints(checkpoint_files)
    except CheckpointError as exc:
        return result.fail(None, str(exc))
    result.checkpoints = len(checkpoints)
    wanted = {c.seq: c for c in checkpoints}
    expected, prev = 1, chain.GENESIS
    seals = AuditSeal.objects.select_related("event").order_by("seq")
    for seal in seals.iterator(chunk_size=2000):
        if seal.seq != expected:
            where = min(expected, seal.seq)
            return result.fail(
                where,
                f"expected event #{expected} but found #{seal.seq}: an event or its seal was "
                "deleted, or the order was changed",
            )
        if seal.prev_hash != prev:
            return result.fail(
                seal.seq,
                f"event #{seal.seq} does not follow event #{seal.seq - 1}: the previous event "
                "was removed, replaced or reordered",
            )
        if chain.link_hash(seal.event, seq=seal.seq, prev_hash=prev) != seal.hash:
            return result.fail(seal.seq, f"event #{seal.seq} was edited after it was written")
        mark = wanted.get(seal.seq)
        if mark is not None and mark.hash != seal.hash:
            return result.fail(
                seal.seq,
                f"event #{seal.seq} differs from the checkpoint written at {_when(mark)} "
                f"({mark.source}): the chain was rewritten inside the database",
            )
        prev = seal.hash
        expected += 1
        result.checked += 1
        if progress is not None:
            progress(1)
    tip = result.checked
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and (head.seq != tip or head.hash != prev):
        return result.fail(
            tip + 1 if head.seq > tip else head.seq,
            f"the chain ends at event #{tip} but its recorded tip is #{head.seq}: the newest "
            "events were deleted or the tip was altered",
        )
    lost = AuditEvent.objects.filter(seal__isnull=True, auditpending__isnull=True).count()
    if lost:
        return result.fail(
            None,
            f"{lost} event(s) were never sealed and are not waiting for the sealer: their "
            "place in the sealer's queue was removed",
        )
    reached = [c for c in checkpoints if c.seq <= tip]
    beyond = [c for c in checkpoints if c.seq > tip]
    if beyond and not restored:
        newest = max(beyond, key=lambda c: c.seq)
        return result.fail(
            tip + 1,
            f"the chain ends at event #{tip}, but the checkpoint written at "
            f"{_when(newest)} ({newest.source}) saw event #{newest.seq}: the "
            "newest events were deleted. If this database was restored from a backup, verify "
            "with --restored",
        )
    if reached:
        result.last_checkpoint = max(reached, key=lambda c: c.seq)
        result.after_last_checkpoint = tip - result.last_checkpoint.seq
    if restored and beyond:
        result.notes.append(
            f"Restored backup: verified against the checkpoint of "
            f"{_when(result.last_checkpoint)}; {len(beyond)} later "
            "checkpoint(s) name events this backup does not hold."
            if result.last_checkpoint
            else "Restored backup: no checkpoint was written before this backup was taken."
        )
    return result


def _checkpoints(paths: Iterable[Path] | None) -> list[Checkpoint]:
    found: list[Checkpoint] = []
    for path in file_sinks() if paths is None else paths:
        if path.exists():
            found.extend(read_checkpoints(path))
    return found


def _when(checkpoint: Checkpoint) -> str:
    return checkpoint.at.strftime("%Y-%m-%d %H:%M:%S UTC")

"""No network call while this thread holds a database transaction (decision 24).

A transaction holds SQLite's one write lock (Servio begins them IMMEDIATE) or PostgreSQL row
locks and a connection. A slow or hung server at the other end of a call made inside one would
hold them as long as it takes, and every other writer would wait. Code that talks to the network
(mail, webhooks) calls `require_no_transaction` first: a caller that breaks the rule fails at
once, in the tests and in production, with a message that says what to do, instead of slowing
down everyone else only under load.
"""

from __future__ import annotations

from django.db import connections


class TransactionHeld(RuntimeError):
    """A network call was about to run inside a database transaction."""


def in_transaction() -> bool:
    """Whether this thread has a transaction open (a test case's wrapping block aside)."""
    for conn in connections.all(initialized_only=True):
        # Django marks the blocks its test cases wrap around each test (`_from_testcase`).
        if any(not getattr(block, "_from_testcase", False) for block in conn.atomic_blocks):
            return True
    return False


def require_no_transaction(what: str) -> None:
    """Raise `TransactionHeld` if this thread holds a transaction; `what` names the call."""
    if in_transaction():
        raise TransactionHeld(
            f"{what} inside a database transaction would hold the database's locks for as "
            "long as the other server takes. Run it after the commit: from an outbox handler "
            "declared external=True (see docs/background-work.md)."
        )

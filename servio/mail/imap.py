"""Poll a mailbox over IMAP (imaplib): fetch unseen messages by UID, store each raw message,
mark it seen only once it is stored, then process what was stored.

A crash after storing loses nothing: the message is in the database (a periodic job processes
messages left unprocessed), and an unseen copy fetched again is a duplicate that changes nothing.
"""

from __future__ import annotations

import imaplib
import logging
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field

from servio.core import sealed
from servio.mail import intake
from servio.mail.models import InboundMessage, Mailbox

log = logging.getLogger(__name__)

FETCH_BATCH = 50
DEFAULT_TIMEOUT = 30
_UID = re.compile(rb"UID (\d+)")


class ImapError(Exception):
    """The server refused a command (login, select, fetch); the message says which."""


@dataclass
class PollResult:
    """What one poll did: messages seen on the server, newly stored, and their outcomes."""

    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


def connect(mailbox: Mailbox, *, timeout: float = DEFAULT_TIMEOUT) -> imaplib.IMAP4:
    """A logged-in connection with the mailbox's transport security."""
    host, port = mailbox.imap_host, mailbox.imap_port
    conn: imaplib.IMAP4
    if mailbox.security == Mailbox.Security.SSL:
        conn = imaplib.IMAP4_SSL(
            host, port, ssl_context=ssl.create_default_context(), timeout=timeout
        )
    else:
        conn = imaplib.IMAP4(host, port, timeout=timeout)
        if mailbox.security == Mailbox.Security.STARTTLS:
            conn.starttls(ssl_context=ssl.create_default_context())
    try:
        conn.login(mailbox.username or mailbox.address, mailbox.imap_password())
    except sealed.UnreadableSecret as exc:
        _logout(conn)
        raise ImapError(str(exc)) from exc
    except imaplib.IMAP4.error as exc:
        _logout(conn)
        raise ImapError(f"login to {host}:{port} as {mailbox.username} failed: {exc}") from exc
    return conn


def quote_mailbox_name(name: str) -> str:
    """An IMAP quoted string (imaplib sends arguments as given)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check(result: tuple[str, list], what: str) -> list:
    typ, data = result
    if typ != "OK":
        raise ImapError(f"{what} failed: {data!r}"[:500])
    return data


def _chunks(items: list[bytes], size: int) -> Iterator[list[bytes]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def parse_fetch(data: list) -> list[tuple[str, bytes]]:
    """(uid, raw message) pairs from a `UID FETCH ... (BODY.PEEK[])` response."""
    found: list[tuple[str, bytes]] = []
    items = list(data)
    for index, item in enumerate(items):
        if not isinstance(item, tuple) or len(item) < 2:
            continue
        prefix, raw = item[0], item[1]
        match = _UID.search(prefix)
        if match is None and index + 1 < len(items) and isinstance(items[index + 1], bytes):
            match = _UID.search(items[index + 1])  # some servers put UID after the literal
        if match is not None and isinstance(raw, bytes):
            found.append((match.group(1).decode(), raw))
    return found


def poll(
    mailbox: Mailbox,
    *,
    limit: int | None = None,
    batch: int = FETCH_BATCH,
    timeout: float = DEFAULT_TIMEOUT,
) -> PollResult:
    """Fetch, store, mark seen and process the mailbox's unseen messages; `timeout` bounds each
    wait on the server."""
    result = PollResult()
    conn = connect(mailbox, timeout=timeout)
    try:
        _check(conn.select(quote_mailbox_name(mailbox.folder)), f"SELECT {mailbox.folder}")
        data = _check(conn.uid("SEARCH", "UNSEEN"), "UID SEARCH UNSEEN")
        uids = data[0].split() if data and data[0] else []
        if limit is not None:
            uids = uids[:limit]
        for chunk in _chunks(uids, batch):
            fetched = parse_fetch(
                _check(conn.uid("FETCH", b",".join(chunk).decode(), "(BODY.PEEK[])"), "UID FETCH")
            )
            result.fetched += len(fetched)
            to_process: list[InboundMessage] = []
            for uid, raw in fetched:
                stored = intake.store(raw=raw, mailbox=mailbox, via="imap", imap_uid=uid)
                if stored.created:
                    result.stored += 1
                else:
                    result.duplicates += 1
                to_process.append(stored.message)
            if fetched:  # stored (committed) first, only then seen
                seen = ",".join(uid for uid, _ in fetched)
                _check(conn.uid("STORE", seen, "+FLAGS.SILENT", r"(\Seen)"), "UID STORE")
            for message in to_process:
                done = intake.process(message)
                result.outcomes[done.status] = result.outcomes.get(done.status, 0) + 1
    finally:
        _logout(conn)
    return result


def _logout(conn: imaplib.IMAP4) -> None:
    try:
        conn.logout()
    except Exception:  # the connection may already be gone
        log.debug("IMAP logout failed", exc_info=True)

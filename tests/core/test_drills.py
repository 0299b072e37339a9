"""Reliability drills of issue 13 replayed against real servers: `servio run` (gunicorn with its
in-process runner) on the live database, a real slow SMTP server, and concurrent API writes."""

from __future__ import annotations

import http.client
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.core.conftest import Live
from tests.mail.servers import SlowSmtp, free_port, smtp_running

SMTP_DELAY = 4.0  # seconds the mail server takes to accept each message
CLIENTS = 8
CREATES = 40


def _post(port: int, token: str, n: int) -> tuple[int, float, str]:
    """One ticket creation through the API: (status, seconds, body on failure)."""
    body = json.dumps({"title": f"Drill ticket {n}", "description": "Created during the drill."})
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(
            "POST",
            "/api/v1/tickets",
            body=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        text = response.read().decode(errors="replace")
    finally:
        conn.close()
    return response.status, time.monotonic() - started, "" if response.status == 201 else text


def _healthy(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/api/v1/health")
        return conn.getresponse().status == 200
    except OSError:
        return False


@pytest.mark.slow
def test_a_slow_mail_server_does_not_hold_up_api_writes(live: Live):
    """Issue 13, item 5: every creation sends an acknowledgement by mail, and the mail server
    takes 4 s per message. Delivery once held SQLite's write lock for the whole SMTP exchange, so
    creations queued behind it (10 of 40 answered 500 `database is locked`). Now the SMTP
    conversation runs with no transaction open: every creation answers 201, none waits for the
    mail server, and the mail goes out meanwhile."""
    desk = live.probe("desk")
    server = SlowSmtp(delay=SMTP_DELAY)
    with smtp_running(server) as smtp_port:
        port = free_port()
        web = live.start(
            "run", "--host", "127.0.0.1", "--port", str(port), "--no-migrate",
            env={"SERVIO_EMAIL_HOST": "127.0.0.1", "SERVIO_EMAIL_PORT": str(smtp_port),
                 "SERVIO_OUTBOX_LEASE_SECONDS": "60"},
        )  # fmt: skip
        live.wait_for(lambda: _healthy(port), running=web, timeout=60, what="servio run")
        # The first acknowledgement is on its way: the server is busy from here on.
        _post(port, desk["token"], 0)
        live.wait_for(lambda: server.began, running=web, timeout=20, what="the first mail")

        started = time.monotonic()
        with ThreadPoolExecutor(CLIENTS) as pool:
            results = list(pool.map(lambda n: _post(port, desk["token"], n), range(1, CREATES)))
        finished = time.monotonic()
        live.stop(web)
    # The first message's DATA began before the load and was still being accepted when it began.
    mid_conversation = server.began[0] < started and (not server.ended or server.ended[0] > started)

    failures = [(status, text[:200]) for status, _, text in results if status != 201]
    slowest = max(seconds for _, seconds, _ in results)
    assert not failures, f"{len(failures)} of {len(results)} creations failed: {failures[:3]}"
    assert mid_conversation, "the drill needs the mail server busy while tickets are created"
    assert slowest < SMTP_DELAY / 2, (
        f"a creation took {slowest:.1f} s while the mail server took {SMTP_DELAY} s per "
        f"message (load ran {finished - started:.1f} s)"
    )

"""`servio mail ingest < message.eml`: the MTA pipe path, its output and exit codes."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from servio.mail.models import InboundMessage
from tests.mail.messages import make_email

REPO = Path(__file__).resolve().parents[2]


def _ingest(raw: bytes, *args: str) -> str:
    out = io.StringIO()
    call_command("mail", "ingest", *args, stdin=io.BytesIO(raw), stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_ingest_from_stdin(personas, mailbox):
    raw = make_email(sender="rita@acme.example", subject="Phone broken")
    out = _ingest(raw)
    assert out.startswith(f"{mailbox.address}: message #") and "ticket_created INC-" in out
    assert "ticket_created" in _ingest(raw)  # a second delivery: the same result, nothing new
    assert InboundMessage.objects.count() == 1
    garbage = _ingest(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    assert "quarantined" in garbage


@pytest.mark.django_db
def test_mailbox_chosen_by_option_or_recipient(personas, mailbox):
    from servio.mail.models import Mailbox

    other = Mailbox.objects.create(address="hr@provider.example", default_team=personas.team_desk)
    raw = make_email(sender="rita@acme.example", subject="Payslip", to="hr@provider.example")
    assert _ingest(raw).startswith("hr@provider.example")
    raw2 = make_email(sender="rita@acme.example", subject="Other", to="x@elsewhere.example")
    assert _ingest(raw2, "--mailbox", other.address).startswith("hr@provider.example")
    with pytest.raises(CommandError) as unknown:
        _ingest(raw2, "--mailbox", "nope@provider.example")
    assert unknown.value.returncode == 75 and "No active mailbox" in str(unknown.value)


@pytest.mark.django_db
def test_no_mailbox_configured_defers(personas):
    with pytest.raises(CommandError) as failed:
        _ingest(make_email(sender="rita@acme.example", subject="x"))
    assert failed.value.returncode == 75 and "No active mailbox is configured" in str(failed.value)


def test_empty_input_is_refused_by_the_real_command():
    done = subprocess.run(
        [sys.executable, "-m", "servio.cli", "mail", "ingest"],
        input=b"",
        capture_output=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )
    assert done.returncode == 65
    assert b"No message on standard input" in done.stderr

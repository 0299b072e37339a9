"""The self-service portal: report, follow the public conversation, reply, attach, cancel,
confirm or reopen, rate."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from servio.surveys.models import SurveyResponse
from servio.surveys.services import survey_invite
from servio.tickets import services
from servio.tickets.models import Attachment, Ticket
from tests.filesystems import files_under
from tests.ui import XSS, make_ticket, told


@pytest.fixture
def rita(client, personas):
    client.force_login(personas.requester_acme)
    return client


def test_report_an_incident_with_a_file(rita, personas):
    shot = SimpleUploadedFile("screen.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    response = rita.post(
        "/portal/new/?kind=incident",
        {
            "title": "Wi-Fi drops",
            "description": "In room 4",
            "how_bad": "slows_down",
            "affected": "just_me",
            "files": [shot],
        },
    )
    ticket = Ticket.objects.get(title="Wi-Fi drops")
    assert response["Location"] == f"/portal/t/{ticket.reference}/"
    assert ticket.kind == "incident" and ticket.urgency == 2 and ticket.source == "portal"
    assert ticket.requester == personas.requester_acme
    assert Attachment.objects.get(ticket=ticket).filename == "screen.png"
    rita.post(
        "/portal/new/?kind=request",
        {"title": "New laptop", "how_bad": "can_wait", "affected": "just_me"},
    )
    assert Ticket.objects.get(title="New laptop").kind == "request"


def test_a_full_disk_logs_the_ticket_and_says_the_file_was_not_stored(rita, full_disk):
    dump = SimpleUploadedFile("dump.bin", b"\x01" * 200_000)
    response = rita.post(
        "/portal/new/?kind=incident",
        {"title": "Crash", "how_bad": "slows_down", "affected": "just_me", "files": [dump]},
        follow=True,
    )
    ticket = Ticket.objects.get(title="Crash")
    assert not ticket.attachments.exists()
    page = response.content.decode()
    assert "dump.bin: The server could not store the file: its disk is full." in page
    assert files_under(full_disk) == []


def test_form_errors_are_beside_the_field_and_keep_what_was_typed(rita):
    response = rita.post(
        "/portal/new/",
        {"title": "", "description": "my long story", "how_bad": "7", "affected": "just_me"},
    )
    # 200, the refusal named in a header: browsers log every 4xx page as a console error.
    assert response.status_code == 200 and told(response) == 422
    page = response.content.decode()
    assert 'id="id_title-errors"' in page and 'id="id_how_bad-errors"' in page
    assert 'id="id_affected-errors"' not in page
    assert 'value="just_me" id="id_affected_0" checked' in page  # what was chosen stays
    assert "my long story</textarea>" in page
    assert 'aria-describedby="id_title-errors"' in page
    assert not Ticket.objects.exists()


def test_the_requester_sees_the_public_conversation_only(rita, personas):
    ticket = make_ticket(personas)
    dana = personas.agent_desk
    services.comment_add(actor=dana, ticket=ticket, body="Internal: user is VIP", internal=True)
    services.comment_add(actor=dana, ticket=ticket, body="Try restarting, please.")
    services.attachment_add(
        actor=dana, ticket=ticket, filename="notes.txt", content=b"x", internal=True
    )
    services.ticket_assign(actor=dana, ticket=ticket, team=personas.team_desk, assignee=dana)
    page = rita.get(f"/portal/t/{ticket.reference}/").content.decode()
    assert "Try restarting, please." in page
    assert "VIP" not in page and "notes.txt" not in page
    assert "Assignee" not in page  # field history is the desk's business


def test_user_text_is_escaped_in_the_portal(rita, personas):
    ticket = make_ticket(personas, title=f"T {XSS}", description=XSS)
    services.comment_add(actor=personas.agent_desk, ticket=ticket, body=XSS)
    for url in ("/portal/", f"/portal/t/{ticket.reference}/"):
        page = rita.get(url).content.decode()
        assert "<script>alert" not in page and "<img src=x" not in page


def test_reply_and_attach(rita, personas):
    ticket = make_ticket(personas)
    url = f"/portal/t/{ticket.reference}/reply/"
    response = rita.post(url, {"body": ""})
    assert told(response) == 422 and "Write a reply or attach a file." in response.content.decode()
    log = SimpleUploadedFile("log.txt", b"error 42")
    rita.post(url, {"body": "Here is the log", "files": [log]})
    comment = ticket.comments.get()
    assert comment.body == "Here is the log" and not comment.is_internal
    assert Attachment.objects.get(ticket=ticket).comment == comment


def test_cancel_your_own_ticket(rita, personas):
    ticket = make_ticket(personas)
    page = rita.get(f"/portal/t/{ticket.reference}/").content.decode()
    assert 'data-action="cancel"' in page and 'data-action="close"' not in page
    refused = rita.post(f"/portal/t/{ticket.reference}/cancel/", {"reason": "  "})
    assert told(refused) == 409 and "reason" in refused.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == "new"
    rita.post(f"/portal/t/{ticket.reference}/cancel/", {"reason": "It works again"})
    ticket.refresh_from_db()
    assert ticket.status == "cancelled"
    assert rita.post(f"/portal/t/{ticket.reference}/bogus/").status_code == 404
    response = rita.post(f"/portal/t/{ticket.reference}/close/")
    assert told(response) == 409


def _resolve(personas, ticket):
    services.ticket_transition(
        actor=personas.agent_desk,
        ticket=ticket,
        transition="resolve",
        values={"resolution_code": "fixed", "resolution_notes": "Swapped the **cable**."},
    )


def test_confirm_a_resolution_and_rate_it(rita, personas):
    ticket = make_ticket(personas)
    _resolve(personas, ticket)
    survey_invite(ticket=ticket, event_id=uuid.uuid4())
    page = rita.get(f"/portal/t/{ticket.reference}/").content.decode()
    assert "We think this is solved" in page and "<strong>cable</strong>" in page
    assert 'data-action="close"' in page and 'data-action="reopen"' in page
    assert 'id="rate"' in page
    rita.post(f"/portal/t/{ticket.reference}/close/")
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    response = rita.post(f"/portal/t/{ticket.reference}/rate/", {"rating": "9"})
    assert told(response) == 422 and 'id="rating-errors"' in response.content.decode()
    rita.post(f"/portal/t/{ticket.reference}/rate/", {"rating": "4", "comment": "Good"})
    answer = SurveyResponse.objects.get(ticket=ticket)
    assert (answer.rating, answer.comment) == (4, "Good")
    page = rita.get(f"/portal/t/{ticket.reference}/").content.decode()
    assert "You rated this 4/5" in page and 'id="rate"' not in page
    assert "report a new ticket" in page  # closed: no more replies


def test_reopen_a_resolution(rita, personas):
    ticket = make_ticket(personas)
    _resolve(personas, ticket)
    rita.post(f"/portal/t/{ticket.reference}/reopen/", {"reason": "Still broken"})
    ticket.refresh_from_db()
    assert ticket.status == "in_progress" and ticket.reopen_count == 1


def test_only_the_requester_rates(client, personas):
    personas.acme.requesters_see_org_tickets = True
    personas.acme.save()
    ticket = make_ticket(personas)
    _resolve(personas, ticket)
    survey_invite(ticket=ticket, event_id=uuid.uuid4())
    client.force_login(personas.colleague_acme)
    assert 'id="rate"' not in client.get(f"/portal/t/{ticket.reference}/").content.decode()
    client.post(f"/portal/t/{ticket.reference}/rate/", {"rating": "1"})
    assert not SurveyResponse.objects.exists()


def test_the_organisation_tab_appears_only_where_it_is_allowed(rita, personas):
    make_ticket(personas, requester=personas.colleague_acme, title="Carl's")
    assert "Carl&#x27;s" not in rita.get("/portal/?scope=organization").content.decode()
    personas.acme.requesters_see_org_tickets = True
    personas.acme.save()
    assert "Carl&#x27;s" not in rita.get("/portal/").content.decode()
    assert "Carl&#x27;s" in rita.get("/portal/?scope=organization").content.decode()

"""Refused requests leave a row in the security log (issue 12, item 9), without telling the
caller anything the 404 hides: missing and hidden records answer alike and cost alike."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from servio.security.models import SecurityEvent
from servio.tickets.services import ticket_create
from tests.api.helpers import assert_problem, without_request_details

pytestmark = pytest.mark.django_db
Kind = SecurityEvent.Kind
# A number no ticket has (the tests create a handful).
MISSING = "INC-999999"


@pytest.fixture
def acme_ticket(personas):
    return ticket_create(actor=personas.requester_acme, title="VPN drops every hour")


def events(**filters) -> list[SecurityEvent]:
    return list(SecurityEvent.objects.filter(**filters).order_by("id"))


def without_reference(body: dict, reference: str) -> dict:
    return {**without_request_details(body), "detail": body["detail"].replace(reference, "<ref>")}


# --- lookups answered 404 ---------------------------------------------------------------------


def test_api_hidden_and_missing_tickets_answer_alike_and_are_both_logged(
    personas, api_as, acme_ticket
):
    api = api_as(personas.requester_globex)
    hidden = api.get(f"tickets/{acme_ticket.reference}")
    missing = api.get(f"tickets/{MISSING}")
    assert without_reference(assert_problem(hidden, 404), acme_ticket.reference) == (
        without_reference(assert_problem(missing, 404), MISSING)
    )
    assert sorted(k for k, _ in hidden.items()) == sorted(k for k, _ in missing.items())

    first, second = events()
    assert first.kind == Kind.NOT_FOUND_HIDDEN and second.kind == Kind.NOT_FOUND_MISSING
    assert (first.object_type, first.object_id) == ("tickets.ticket", acme_ticket.reference)
    assert first.user_id == personas.requester_globex.pk
    assert first.user_repr == "gina@globex.example"
    assert (first.method, first.path, first.status) == (
        "GET",
        f"/api/v1/tickets/{acme_ticket.reference}",
        404,
    )
    assert first.client_ip == "127.0.0.1" and first.request_id == hidden["X-Request-ID"]
    assert second.object_id == MISSING


def test_hidden_and_missing_lookups_run_the_same_statements(personas, api_as):
    """`get_visible` asks whether the record exists for both, and the log is written for both,
    so a hidden record is not slower to refuse than a missing one (only the kind differs)."""
    api = api_as(personas.requester_acme)
    api.get("organizations/999998")  # warm what is cached per token (configuration, throttle)
    statements = []
    for org_id in (personas.globex.pk, 999999):
        with CaptureQueriesContext(connection) as queries:
            assert api.get(f"organizations/{org_id}").status_code == 404
        statements.append([q["sql"].split()[0] for q in queries.captured_queries])
    assert statements[0] == statements[1]
    assert statements[0].count("INSERT") == 1  # the log row, for either


def test_hidden_and_missing_tickets_run_the_same_statements(personas, api_as, acme_ticket):
    """The detail read decides a hidden ticket after a look-up of the reader's watching; a
    missing one makes the same look-up, so neither the statements nor their time differ."""
    api = api_as(personas.requester_globex)
    api.get("tickets/INC-999998")  # warm what is cached per token (configuration, throttle)
    statements = []
    for reference in (acme_ticket.reference, "INC-999999"):
        with CaptureQueriesContext(connection) as queries:
            assert api.get(f"tickets/{reference}").status_code == 404
        statements.append([q["sql"].split()[0] for q in queries.captured_queries])
    assert statements[0] == statements[1]


def test_get_visible_lookups_flag_hidden_records(personas, api_as):
    """Records read through `get_visible` (here another tenant's organisation)."""
    api = api_as(personas.requester_acme)
    hidden = api.get(f"organizations/{personas.globex.pk}")
    missing = api.get("organizations/999999")
    assert without_request_details(assert_problem(hidden, 404)) == without_request_details(
        assert_problem(missing, 404)
    )
    assert [(e.kind, e.object_type, e.object_id) for e in events()] == [
        (Kind.NOT_FOUND_HIDDEN, "accounts.organization", str(personas.globex.pk)),
        (Kind.NOT_FOUND_MISSING, "accounts.organization", "999999"),
    ]


@pytest.mark.parametrize("prefix", ["/portal/t/", "/desk/t/"])
def test_ui_hidden_ticket_pages_are_logged(personas, acme_ticket, prefix):
    client = Client()
    client.force_login(
        personas.agent_network if prefix == "/desk/t/" else personas.requester_globex
    )
    assert client.get(f"{prefix}{acme_ticket.reference}/").status_code == 404
    (event,) = events()
    assert event.kind == Kind.NOT_FOUND_HIDDEN and event.status == 404
    assert event.path == f"{prefix}{acme_ticket.reference}/"


def test_internal_attachments_are_hidden_from_requesters_and_logged(
    personas, api_as, acme_ticket, settings, tmp_path
):
    from servio.tickets.services import attachment_add

    settings.MEDIA_ROOT = tmp_path
    secret = attachment_add(
        actor=personas.agent_desk,
        ticket=acme_ticket,
        filename="notes.txt",
        content=b"internal",
        internal=True,
    )
    api = api_as(personas.requester_acme)
    base = f"tickets/{acme_ticket.reference}/attachments"
    hidden, missing = api.get(f"{base}/{secret.pk}"), api.get(f"{base}/{secret.pk + 1000}")
    assert without_request_details(assert_problem(hidden, 404)) == without_request_details(
        assert_problem(missing, 404)
    )
    assert [(e.kind, e.object_type) for e in events()] == [
        (Kind.NOT_FOUND_HIDDEN, "tickets.attachment"),
        (Kind.NOT_FOUND_MISSING, "tickets.attachment"),
    ]


def test_stored_email_of_other_tenants_tickets_is_hidden_and_logged(personas, api_as, acme_ticket):
    from servio.mail.models import InboundMessage, Mailbox

    mailbox = Mailbox.objects.create(name="Desk", address="desk@provider.example")
    message = InboundMessage.objects.create(
        mailbox=mailbox, message_id="<a@acme.example>", raw=b"x", ticket=acme_ticket
    )
    api = api_as(personas.agent_network)  # serves Globex only
    hidden, missing = api.get(f"mail/inbound/{message.pk}"), api.get("mail/inbound/999999")
    assert without_request_details(assert_problem(hidden, 404)) == without_request_details(
        assert_problem(missing, 404)
    )
    assert [(e.kind, e.object_type, e.object_id) for e in events()] == [
        (Kind.NOT_FOUND_HIDDEN, "mail.inboundmessage", str(message.pk)),
        (Kind.NOT_FOUND_MISSING, "mail.inboundmessage", "999999"),
    ]
    assert api_as(personas.agent_desk).get(f"mail/inbound/{message.pk}").status_code == 200


def test_requesters_opening_the_workspace_are_logged(personas):
    client = Client()
    client.force_login(personas.requester_acme)
    assert client.get("/desk/").status_code == 404
    (event,) = events()
    assert (event.kind, event.status, event.path) == (Kind.FORBIDDEN, 404, "/desk/")


def test_agents_opening_the_dashboard_are_logged(personas):
    """The dashboard answers 404 to agents like a page that does not exist; the refusal comes
    from the reporting selector's rule, so it is logged with that rule's reason."""
    client = Client()
    client.force_login(personas.agent_desk)
    assert client.get("/desk/dashboard/").status_code == 404
    (event,) = events()
    assert (event.kind, event.status, event.path) == (Kind.FORBIDDEN, 404, "/desk/dashboard/")
    assert "team leads" in event.detail["reason"]


def test_visible_lookups_log_nothing(personas, api_as, acme_ticket):
    assert (
        api_as(personas.requester_acme).get(f"tickets/{acme_ticket.reference}").status_code == 200
    )
    assert events() == []


# --- 403 --------------------------------------------------------------------------------------


def test_api_403_is_logged_with_its_reason(personas, api_as):
    response = api_as(personas.agent_desk).get("audit-events")
    assert_problem(response, 403)
    (event,) = events()
    assert event.kind == Kind.FORBIDDEN and event.status == 403
    assert event.user_id == personas.agent_desk.pk
    assert event.detail == {"reason": "Only administrators may read the audit trail."}


def test_read_only_token_writing_is_logged(personas, api_as):
    response = api_as(personas.requester_acme, scope="read").post(
        "tickets", json={"title": "x", "kind": "incident"}
    )
    assert_problem(response, 403)
    assert [e.kind for e in events()] == [Kind.FORBIDDEN]


def test_csrf_refusal_is_logged(personas):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.requester_acme)
    assert client.post("/settings/tokens/", {"name": "x"}).status_code == 403
    (event,) = events()
    assert event.kind == Kind.FORBIDDEN and event.detail == {"by": "framework"}


# --- writing the log --------------------------------------------------------------------------


def test_a_failing_log_write_does_not_change_the_answer(personas, api_as, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(type(SecurityEvent.objects.none()), "bulk_create", broken)
    response = api_as(personas.agent_desk).get("audit-events")
    assert_problem(response, 403)


def test_one_request_writes_a_bounded_number_of_rows(personas, rf):
    from servio.core import refusals
    from servio.core.errors import PermissionDenied
    from servio.security import log

    request = rf.get("/desk/bulk/")
    request.user = personas.agent_desk
    with refusals.collecting() as noted:
        for n in range(50):
            PermissionDenied(f"refused {n}")
    log.record(request, 422, noted)
    rows = events()
    assert len(rows) == log.MAX_PER_REQUEST
    assert rows[-1].detail == {"reason": f"refused {log.MAX_PER_REQUEST - 1}", "more": 30}


def test_refusals_outside_a_request_are_not_kept():
    from servio.core import refusals
    from servio.core.errors import PermissionDenied

    PermissionDenied("a job was refused")  # no request: nothing collects it, nothing breaks
    with refusals.collecting() as noted:
        pass
    assert noted == []


@pytest.mark.django_db(transaction=True)
def test_the_log_outlives_the_refused_requests_rollback(settings, personas):
    from servio.accounts.models import Organization

    settings.ROOT_URLCONF = "tests.security.urls"
    client = Client()
    client.force_login(personas.agent_desk)
    assert client.get("/refused-in-a-transaction/").status_code == 403
    assert not Organization.objects.filter(slug="doomed").exists()
    (event,) = events()
    assert event.kind == Kind.FORBIDDEN and event.user_id == personas.agent_desk.pk

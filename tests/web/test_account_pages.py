"""Sign-in, password reset by email, personal settings (notifications, API tokens) and the
notifications page."""

from __future__ import annotations

import re
import sqlite3
import uuid

from django.core import mail
from django.test import Client

from servio.accounts.models import ApiToken
from servio.accounts.services import token_authenticate
from servio.core import outbox
from servio.mail.models import MailPreference
from servio.notifications.models import Notification
from servio.notifications.services import notify
from tests.drills import queries_fail_with, sqlite_locked, wrapped
from tests.factories import PASSWORD
from tests.ui import XSS, make_ticket, told


def test_sign_in_errors_keep_the_address_typed(client, personas):
    response = client.post("/login/", {"username": "Rita@Acme.example", "password": "wrong"})
    page = response.content.decode()
    assert response.status_code == 200 and "do not match an account" in page
    assert 'value="Rita@Acme.example"' in page  # what was typed
    response = client.post("/login/", {"username": "rita@acme.example", "password": PASSWORD})
    assert response["Location"] == "/"


def test_password_reset_by_email(client, personas):
    assert client.get("/login/").content.decode().count('href="/password/reset/"') == 1
    response = client.post("/password/reset/", {"email": "RITA@acme.example"})
    assert response["Location"] == "/password/reset/sent/"
    outbox.drain()  # the email goes out in the background, after the answer
    (message,) = mail.outbox
    assert message.to == ["rita@acme.example"]
    link = re.search(r"https?://[^/]+(/password/reset/[^\s]+/)", message.body).group(1)
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    url = form.redirect_chain[-1][0]
    response = client.post(url, {"new_password1": "short", "new_password2": "short"})
    assert 'id="id_new_password2-errors"' in response.content.decode()
    response = client.post(
        url, {"new_password1": "a much better one 42", "new_password2": "a much better one 42"}
    )
    assert response["Location"] == "/password/reset/done/"
    personas.requester_acme.refresh_from_db()
    assert personas.requester_acme.check_password("a much better one 42")
    # Unknown addresses get the same answer and no email.
    client.post("/password/reset/", {"email": "nobody@nowhere.example"})
    outbox.drain()
    assert len(mail.outbox) == 1


def test_api_tokens_create_show_once_last_use_revoke(client, personas):
    client.force_login(personas.agent_desk)
    response = client.post(
        "/settings/tokens/", {"name": "", "scope": "read", "expires_in_days": "30"}
    )
    assert told(response) == 422 and 'id="id_name-errors"' in response.content.decode()
    response = client.post(
        "/settings/tokens/", {"name": "CI script", "scope": "write", "expires_in_days": "30"}
    )
    assert response.status_code == 201 and response["Cache-Control"] == "no-store"
    secret = re.search(r'value="(svo_[^"]+)"', response.content.decode()).group(1)
    token = ApiToken.objects.get(name="CI script")
    assert token.scope == "write" and token.expires_at is not None
    page = client.get("/settings/").content.decode()
    assert secret not in page and "never" in page
    token_authenticate(plaintext=secret, client_ip="127.0.0.1")
    page = client.get("/settings/").content.decode()
    assert "from 127.0.0.1" in page
    client.post(f"/settings/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "revoked" in client.get("/settings/").content.decode()
    # Someone else's token is not found.
    other = ApiToken.objects.create(user=personas.lead_desk, name="x", prefix="abc", key_hash="0")
    assert client.post(f"/settings/tokens/{other.pk}/revoke/").status_code == 404


def test_notification_preferences(client, personas):
    client.force_login(personas.requester_acme)
    page = client.get("/settings/").content.decode()
    assert 'name="email_agent_reply"' in page and 'name="email_sla_warning"' not in page
    client.post("/settings/notifications/", {"email_ticket_created": "on"})
    off = set(MailPreference.objects.filter(email=False).values_list("event", flat=True))
    assert "agent_reply" in off and "ticket_created" not in off


def test_notifications_page_escapes_and_opens_the_ticket(client, personas):
    ticket = make_ticket(personas)
    note = notify(
        recipient_id=personas.requester_acme.pk,
        event_id=uuid.uuid4(),
        kind="test",
        subject=f"[{ticket.reference}] {XSS}",
        body=XSS,
        ticket_id=ticket.pk,
    )
    client.force_login(personas.requester_acme)
    page = client.get("/portal/").content.decode()
    assert '1<span class="visually-hidden"> unread</span>' in page
    page = client.get("/notifications/").content.decode()
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    response = client.post(f"/notifications/{note.pk}/open/")
    assert response["Location"] == f"/portal/t/{ticket.reference}/"
    assert Notification.objects.get(pk=note.pk).read_at is not None
    client.force_login(personas.colleague_acme)
    assert client.post(f"/notifications/{note.pk}/open/").status_code == 404


def test_not_found_pages_use_the_layout(client, personas, settings):
    settings.DEBUG = False
    client.force_login(personas.requester_acme)
    response = client.get("/portal/t/INC-424242/")
    assert response.status_code == 404 and "Not found" in response.content.decode()


def test_a_database_outage_is_a_503_page_not_a_500(personas, tmp_path):
    client = Client(raise_request_exception=False)  # as a server answers, not re-raised
    client.force_login(personas.agent_desk)
    with queries_fail_with(wrapped(sqlite3, lambda: sqlite_locked(tmp_path))):
        response = client.get("/desk/")
    assert response.status_code == 503
    assert response["Retry-After"]
    page = response.content.decode()
    assert "unavailable for a moment" in page and "locked by another write" in page

"""The admin screens of the email channel: quarantine with retry, outbound log, templates."""

from __future__ import annotations

import pytest
from django.test import Client

from servio.mail.models import InboundMessage, MailTemplate
from tests.mail.messages import make_email

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_browser(personas) -> Client:
    client = Client()
    client.force_login(personas.admin)
    return client


def test_quarantine_list_and_retry_action(personas, mailbox, ingest, admin_browser, drain):
    mailbox.unknown_sender_policy = "quarantine"
    mailbox.save()
    message = ingest(make_email(sender="temp@contractor.example", subject="Badge"))
    listing = admin_browser.get("/admin/mail/inboundmessage/?status__exact=quarantined")
    assert listing.status_code == 200 and b"temp@contractor.example" in listing.content
    assert admin_browser.get(f"/admin/mail/inboundmessage/{message.pk}/change/").status_code == 200
    mailbox.unknown_sender_policy = "create"
    mailbox.save()
    done = admin_browser.post(
        "/admin/mail/inboundmessage/",
        {"action": "retry", "_selected_action": [message.pk]},
        follow=True,
    )
    assert done.status_code == 200
    assert InboundMessage.objects.get(pk=message.pk).status == "ticket_created"
    drain()
    outbound = admin_browser.get("/admin/mail/outboundmessage/")
    assert outbound.status_code == 200 and b"ticket_created" in outbound.content


def test_template_form_refuses_broken_templates(admin_browser):
    template = MailTemplate.objects.get(key="agent_reply")
    url = f"/admin/mail/mailtemplate/{template.pk}/change/"
    assert admin_browser.get(url).status_code == 200
    response = admin_browser.post(
        url,
        {
            "key": "agent_reply",
            "subject": "{% if %}",
            "text": "{{ comment.body }}",
            "html": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 200 and b"errorlist" in response.content
    template.refresh_from_db()
    assert template.subject != "{% if %}"


def test_mailbox_password_is_write_only(admin_browser, mailbox):
    mailbox.password = "s3cret-app-password"
    mailbox.save()
    page = admin_browser.get(f"/admin/mail/mailbox/{mailbox.pk}/change/")
    assert page.status_code == 200 and b"s3cret-app-password" not in page.content


def test_mailbox_password_is_stored_encrypted_and_read_back(mailbox):
    from django.db import connection

    from servio.mail.models import Mailbox

    mailbox.password = "s3cret-app-password"
    mailbox.save()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT password FROM {Mailbox._meta.db_table} WHERE id = %s", [mailbox.pk])
        stored = cursor.fetchone()[0]
    assert "s3cret" not in stored and stored.startswith("sealed:v1:")
    fresh = Mailbox.objects.get(pk=mailbox.pk)
    assert fresh.imap_password() == "s3cret-app-password"
    fresh.save()  # saving again does not seal twice
    assert Mailbox.objects.get(pk=mailbox.pk).imap_password() == "s3cret-app-password"


def test_the_migration_seals_passwords_stored_as_given(mailbox):
    import importlib

    from django.apps import apps

    from servio.mail.models import Mailbox

    step = importlib.import_module("servio.mail.migrations.0003_sealed_mailbox_passwords")
    Mailbox.objects.filter(pk=mailbox.pk).update(password="stored-as-given")
    step.seal_existing(apps, None)
    stored = Mailbox.objects.filter(pk=mailbox.pk).values_list("password", flat=True).get()
    assert stored.startswith("sealed:v1:")
    assert Mailbox.objects.get(pk=mailbox.pk).imap_password() == "stored-as-given"
    step.unseal_existing(apps, None)
    assert Mailbox.objects.filter(pk=mailbox.pk).values_list("password", flat=True).get() == (
        "stored-as-given"
    )


# --- mailbox policies as controls (issue 14, item 11) -----------------------------------------


def test_mailbox_policies_are_choices_not_codes(admin_browser, mailbox, personas):
    from servio.accounts.models import Team

    old = Team.objects.create(name="Old desk", slug="old-desk", is_active=False)
    page = admin_browser.get(f"/admin/mail/mailbox/{mailbox.pk}/change/").content.decode()
    for policy in ("create", "reject", "quarantine"):
        assert f'type="radio" name="unknown_sender_policy" value="{policy}"' in page
    assert "Quarantine for an administrator" in page
    assert '<textarea name="trusted_authserv_ids"' in page
    teams = page.split('name="default_team"')[1].split("</select>")[0]
    assert personas.team_desk.name in teams and old.name not in teams


def test_mailbox_trusted_hosts_one_a_line_and_errors_beside_the_field(admin_browser, mailbox):
    data = {
        "name": mailbox.name,
        "address": mailbox.address,
        "is_active": "on",
        "imap_host": "",
        "imap_port": "993",
        "security": "ssl",
        "folder": "INBOX",
        "username": "",
        "password": "",
        "default_kind": "incident",
        "default_team": str(mailbox.default_team_id),
        "default_organization": str(mailbox.default_organization_id),
        "unknown_sender_policy": "quarantine",
        "trusted_authserv_ids": "mx1.provider.example\nmx2.provider.example",
    }
    url = f"/admin/mail/mailbox/{mailbox.pk}/change/"
    assert admin_browser.post(url, data).status_code == 302
    mailbox.refresh_from_db()
    assert mailbox.unknown_sender_policy == "quarantine"
    assert mailbox.trusted_hosts() == {"mx1.provider.example", "mx2.provider.example"}
    bad = admin_browser.post(url, {**data, "trusted_authserv_ids": "mx1.provider.example\n<x>"})
    assert bad.status_code == 200
    errors = bad.context["adminform"].form.errors
    assert (
        set(errors) == {"trusted_authserv_ids"}
        and "Not a host name" in errors["trusted_authserv_ids"][0]
    )

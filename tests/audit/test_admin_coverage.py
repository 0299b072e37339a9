"""Every registered Django admin audits each write it offers, or offers none (issue 12, item 9).

The first test walks `admin.site._registry`, so an admin added later cannot forget; the others
do the deletions that were seen unaudited (survey responses, stored inbound and outbound mail)
through the admin's own pages and actions.
"""

from __future__ import annotations

import uuid

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django.utils import timezone

from servio.audit.admin_base import AuditedAdmin
from servio.audit.models import AuditEvent
from servio.mail.models import InboundMessage, Mailbox, OutboundMessage
from servio.surveys.models import SurveyInvitation, SurveyResponse
from servio.tickets.services import ticket_create

pytestmark = pytest.mark.django_db

# The methods through which the admin writes; AuditedAdmin's own must be the ones that run.
WRITE_METHODS = ("save_model", "delete_model", "delete_queryset", "save_formset")
REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def offered_writes(model_admin: admin.ModelAdmin, request) -> list[str]:
    """What an administrator (superuser) may do to the rows through this admin."""
    offered = []
    if model_admin.has_add_permission(request):
        offered.append("add")
    if model_admin.has_change_permission(request):
        offered.append("change")
    if model_admin.has_delete_permission(request):
        offered.append("delete")
    if "delete_selected" in model_admin.get_actions(request):
        offered.append("delete selected")
    for inline in model_admin.get_inline_instances(request):
        name = inline.model._meta.model_name
        if inline.has_add_permission(request, None):
            offered.append(f"add {name}")
        if inline.has_change_permission(request):
            offered.append(f"change {name}")
        if inline.has_delete_permission(request):
            offered.append(f"delete {name}")
    return offered


@pytest.fixture
def admin_request(personas):
    request = RequestFactory().get("/admin/")
    request.user = personas.admin
    return request


@pytest.mark.parametrize(
    ("model", "model_admin"), REGISTERED, ids=[m._meta.label for m, _ in REGISTERED]
)
def test_every_admin_audits_the_writes_it_offers(model, model_admin, admin_request):
    offered = offered_writes(model_admin, admin_request)
    if not offered:
        assert not model_admin.get_actions(admin_request).get("delete_selected")
        return
    assert isinstance(model_admin, AuditedAdmin), (
        f"The admin of {model._meta.label} offers {offered} but does not derive from "
        "servio.audit.admin_base.AuditedAdmin: derive from it, or offer no add/change/delete "
        "(ReadOnlyAdmin)."
    )
    for name in WRITE_METHODS:
        assert getattr(type(model_admin), name) is getattr(AuditedAdmin, name), (
            f"{type(model_admin).__name__}.{name} replaces AuditedAdmin's: customise the write "
            "in a base class listed after AuditedAdmin, so the audit still wraps it."
        )


def test_the_registry_holds_the_admins_this_test_was_written_for():
    """A guard against walking an empty or partial registry."""
    labels = {model._meta.label for model, _ in REGISTERED}
    assert {"mail.InboundMessage", "mail.OutboundMessage", "surveys.SurveyResponse"} <= labels
    assert "auth.Group" not in labels  # roles, not groups: the page edited data nothing reads


# --- the deletions that were seen unaudited ---------------------------------------------------


@pytest.fixture
def admin_client(personas) -> Client:
    client = Client()
    client.force_login(personas.admin)
    return client


@pytest.fixture
def ticket(personas):
    return ticket_create(actor=personas.requester_acme, title="Printer jammed")


def deleted_events(model_name: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=f"{model_name}.deleted_in_admin"))


def test_deleting_a_survey_response_is_audited(personas, admin_client, ticket):
    invitation = SurveyInvitation.objects.create(
        ticket=ticket,
        requester=personas.requester_acme,
        event_id=uuid.uuid4(),
        expires_at=timezone.now(),
    )
    response = SurveyResponse.objects.create(
        invitation=invitation, ticket=ticket, rating=1, comment="rude"
    )
    page = admin_client.post(
        f"/admin/surveys/surveyresponse/{response.pk}/delete/", {"post": "yes"}
    )
    assert page.status_code == 302
    assert not SurveyResponse.objects.filter(pk=response.pk).exists()
    (event,) = deleted_events("surveyresponse")
    assert event.actor_id == personas.admin.pk
    assert (event.object_type, event.object_id) == ("surveys.surveyresponse", str(response.pk))


def test_bulk_deleting_stored_inbound_mail_audits_each_message(personas, admin_client):
    mailbox = Mailbox.objects.create(name="Desk", address="desk@provider.example")
    messages = [
        InboundMessage.objects.create(mailbox=mailbox, message_id=f"<m{n}@x>", raw=b"x")
        for n in range(3)
    ]
    page = admin_client.post(
        "/admin/mail/inboundmessage/",
        {
            "action": "delete_selected",
            "_selected_action": [m.pk for m in messages],
            "post": "yes",
        },
    )
    assert page.status_code == 302
    assert not InboundMessage.objects.exists()
    events = deleted_events("inboundmessage")
    assert sorted(e.object_id for e in events) == sorted(str(m.pk) for m in messages)
    assert {e.object_repr for e in events} == {f"<m{n}@x> (received)" for n in range(3)}


def test_deleting_stored_outbound_mail_is_audited(personas, admin_client, ticket):
    message = OutboundMessage.objects.create(
        event_id=uuid.uuid4(),
        template="ticket_created",
        recipient="rita@acme.example",
        ticket=ticket,
        from_email="desk@provider.example",
        subject="Your ticket",
        text="Hello",
        message_id="<out-1@provider.example>",
    )
    page = admin_client.post(f"/admin/mail/outboundmessage/{message.pk}/delete/", {"post": "yes"})
    assert page.status_code == 302
    (event,) = deleted_events("outboundmessage")
    assert event.object_id == str(message.pk)


def test_stored_mail_and_survey_answers_cannot_be_edited_in_the_admin(personas, admin_client):
    mailbox = Mailbox.objects.create(name="Desk", address="desk@provider.example")
    message = InboundMessage.objects.create(mailbox=mailbox, message_id="<a@x>", raw=b"x")
    page = admin_client.post(
        f"/admin/mail/inboundmessage/{message.pk}/change/", {"subject": "forged"}
    )
    assert page.status_code == 403
    message.refresh_from_db()
    assert message.subject == ""

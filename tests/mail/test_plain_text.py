"""Outgoing mail: plain-text parts and subjects carry the text as written (no HTML escaping),
HTML parts stay escaped; every shipped template is checked, not one."""

from __future__ import annotations

import pytest

from servio.mail import outbound
from servio.mail.models import MailTemplate, TemplateKey
from servio.tickets.services import comment_add, ticket_create

pytestmark = pytest.mark.django_db

TITLE = 'Can\'t print & <script>alert(1)</script> "quotes"'
BODY = "Tom & Jerry's <b>report</b>"


def _context() -> dict:
    return {
        **outbound.base_context("O'Brien & Sons", "ob@acme.example"),
        "ticket": {
            "reference": "INC-000042",
            "title": TITLE,
            "status": "resolved",
            "status_label": "Resolved",
            "priority_label": "High",
            "team": "R&D <team>",
            "assignee_name": "Dana O'Neil",
            "requester_name": "Rita & Co",
            "resolution_notes": BODY,
            "url": "https://desk.example/t?a=1&b=2",
        },
        "comment": outbound.comment_context(BODY, _Author()),
        "original_subject": TITLE,
        "parent_reference": "INC-000001",
        "survey_url": "https://desk.example/s?x=1&y=2",
        "survey_days": 14,
        "sla": {"metric": "resolution", "percent": 80, "policy": "Gold & Co", "due_at": ""},
    }


class _Author:
    def get_full_name(self) -> str:
        return "Dana O'Neil"


@pytest.mark.parametrize("key", TemplateKey.values)
def test_plain_text_and_subject_are_not_html_escaped(key):
    rendered = outbound.render(key, _context())
    assert rendered is not None
    for part in (rendered.subject, rendered.text):
        assert "&#x27;" not in part and "&amp;" not in part and "&lt;" not in part
        assert "&quot;" not in part
    if "ticket.title" in outbound.default_template(key).subject:
        assert TITLE in rendered.subject
    # The HTML part keeps escaping whatever the user wrote.
    assert "<script>" not in rendered.html
    if "ticket.title" in outbound.default_template(key).html:
        assert "Can&#x27;t print &amp; &lt;script&gt;" in rendered.html


def test_admin_edited_templates_render_plain_text_as_written(personas):
    template = MailTemplate.objects.get(key="ticket_created")
    template.subject = "{{ ticket.title }} & more"
    template.text = "Hello {{ recipient.name }}: {{ ticket.title }}"
    template.html = "<p>{{ ticket.title }}</p>"
    template.save()
    rendered = outbound.render("ticket_created", _context())
    assert rendered.subject == f"{TITLE} & more"
    assert rendered.text == f"Hello O'Brien & Sons: {TITLE}"
    assert rendered.html == (
        "<p>Can&#x27;t print &amp; &lt;script&gt;alert(1)&lt;/script&gt; &quot;quotes&quot;</p>"
    )


def test_notification_emails_through_smtp_keep_the_text(personas, smtp_server, drain):
    ticket = ticket_create(actor=personas.requester_acme, title=TITLE)
    comment_add(actor=personas.agent_desk, ticket=ticket, body=BODY)
    drain()
    sent = smtp_server.to("rita@acme.example")
    assert len(sent) == 2
    for mail in sent:
        subject = str(mail.message["Subject"])
        assert TITLE in subject, subject
        assert "&amp;" not in mail.text and "&#x27;" not in mail.text
    reply = next(m for m in sent if m.message["Subject"].startswith("Re:"))
    assert BODY in reply.text
    html = reply.message.get_body(preferencelist=("html",)).get_content()
    assert "<b>report</b>" not in html and "<script>" not in html

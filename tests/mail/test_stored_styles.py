"""HTML bodies of inbound mail are stored without CSS that calls url() or expression() (or
hides code behind escapes and comments), both as they arrive and for bodies stored before."""

from __future__ import annotations

import importlib
from email.message import EmailMessage

from django.apps import apps

from servio.mail.models import InboundMessage

HOSTILE_HTML = (
    '<p style="color: expression(alert(1)); font-size: 12pt">Printer</p>'
    '<p style="background-color: url(https://tracker.example/open.png)">is</p>'
    '<p style="col\\6f r: expr\\65ssion(alert(2))">on</p>'
    '<p style="color: ex/**/pression(alert(3))">fire</p>'
    '<div style="-moz-binding: url(x.xml#x); behavior: url(x.htc); color: #c00">now</div>'
    "<style>p { background: url(https://tracker.example/css.png) }</style>"
)
LEFT_OVER = ("expression", "url(", "tracker", "binding", "behavior", "\\", "<style")


def html_email(sender: str, html: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "servicedesk@provider.example"
    msg["Subject"] = "Printer on fire"
    msg["Message-ID"] = "<styled-1@client.example>"
    msg.set_content("Printer on fire now")
    msg.add_alternative(html, subtype="html")
    return msg.as_bytes()


def test_arriving_html_is_stored_without_hostile_css(personas, ingest):
    message = ingest(html_email(personas.requester_acme.email, HOSTILE_HTML))
    stored = InboundMessage.objects.get(pk=message.pk).html_body
    assert "Printer" in stored and "font-size:12pt" in stored and "color:#c00" in stored
    for word in LEFT_OVER:
        assert word not in stored.lower(), (word, stored)


def test_the_migration_cleans_bodies_stored_before(personas, ingest):
    message = ingest(html_email(personas.requester_acme.email, "<p>Hello</p>"))
    InboundMessage.objects.filter(pk=message.pk).update(html_body=HOSTILE_HTML)
    step = importlib.import_module("servio.mail.migrations.0006_clean_stored_styles")
    step.clean_stored_bodies(apps, None)
    stored = InboundMessage.objects.get(pk=message.pk).html_body
    assert "Printer" in stored and "font-size:12pt" in stored
    for word in LEFT_OVER:
        assert word not in stored.lower(), (word, stored)
    untouched = InboundMessage.objects.filter(pk=message.pk).values_list("html_body", flat=True)
    step.clean_stored_bodies(apps, None)  # a second run changes nothing
    assert untouched.get() == stored

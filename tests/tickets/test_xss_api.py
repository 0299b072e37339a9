"""Script in user text is inert: every `*_html` the API renders is free of scripts, event
handlers and javascript:/data: URLs, and raw text comes back exactly as sent (JSON strings;
escaping them is the client's job)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.tickets.xss import PAYLOADS, assert_inert

pytestmark = pytest.mark.django_db


def test_the_payloads_are_many_and_varied():
    assert len(PAYLOADS) >= 15
    assert len(set(PAYLOADS)) == len(PAYLOADS)


def test_payloads_are_inert_in_every_field(personas, api_as):
    p = personas
    rita, dana = api_as(p.requester_acme), api_as(p.agent_desk)
    refs = {payload: submit(rita, dana, payload) for payload in PAYLOADS}
    # Read back: the list (raw titles), each detail and conversation as the requester sees it.
    listed = {
        t["reference"]: t["title"] for t in rita.get("tickets", data={"limit": 100}).json()["items"]
    }
    for payload, ref in refs.items():
        assert listed[ref] == payload[:200]
        detail = rita.get(f"tickets/{ref}").json()
        assert detail["title"] == payload[:200]
        assert detail["description"] == f"Before\n\n{payload}\n\nafter"
        assert_inert(detail["description_html"])
        [comment] = rita.get(f"tickets/{ref}/comments").json()["items"]
        assert comment["body"] == payload
        assert_inert(comment["body_html"])


def submit(rita, dana, payload: str) -> str:
    """The payload as title, description, an agent's reply and a file name; checks each echo."""
    created = rita.post(
        "tickets", json={"title": payload[:200], "description": f"Before\n\n{payload}\n\nafter"}
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["title"] == payload[:200]  # raw text, verbatim
    assert_inert(body["description_html"])
    ref = body["reference"]

    reply = dana.post(f"tickets/{ref}/comments", json={"body": payload})
    assert reply.status_code == 201
    assert reply.json()["body"] == payload
    assert_inert(reply.json()["body_html"])

    file = SimpleUploadedFile(f"{payload[:100]}.txt", b"hello", content_type="text/html")
    uploaded = rita.post(f"tickets/{ref}/attachments", data={"file": file})
    assert uploaded.status_code == 201, uploaded.content
    name = uploaded.json()["filename"]
    assert name and not set(name) & set('<>"/\\\x00')
    served = rita.get(uploaded.json()["download_url"])
    assert served["Content-Disposition"].startswith("attachment;")
    assert "<" not in served["Content-Disposition"]
    assert served["Content-Type"] == "text/plain"
    return ref

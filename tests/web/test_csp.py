"""Content-Security-Policy: every HTML page (workspace, portal, settings, sign-in, dashboard,
surveys, error pages, the admin, the API docs) carries the page policy and serves nothing it
refuses; everything else (JSON, files) carries the closed policy."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from servio.accounts.services import token_create
from servio.notifications.models import Notification
from servio.surveys import services as survey_services
from servio.tickets import services as ticket_services
from servio.web.csp import HEADER, PAGE_DIRECTIVES, is_page
from servio.workspace import services as desk_services
from servio.workspace.views.ticket import EDITABLE, PARTS
from tests.ui import make_ticket
from tests.web.pages import admin_urls, inline_code, policy, reset_link_values, site_urls

pytestmark = pytest.mark.django_db

# What issue 12 requires of every page, directive by directive.
REQUIRED = {
    "default-src": "'self'",
    "script-src": "'self'",
    "img-src": "'self' data:",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'none'",
    "object-src": "'none'",
}
# Pages the walk must reach with a 200 (each as someone who may see it).
MUST_SEE = {
    "web:login", "web:settings", "web:notifications", "web:password_reset",
    "web:password_reset_confirm", "workspace:queue", "workspace:dashboard", "workspace:ticket",
    "workspace:ticket_new", "workspace:canned_list", "workspace:ticket_part",
    "workspace:ticket_edit", "portal:home", "portal:ticket", "portal:ticket_new",
    "surveys:respond", "api:openapi-view", "admin:index", "admin:tickets_ticket_changelist",
    "admin:tickets_ticket_change", "admin:accounts_user_add",
}  # fmt: skip


@pytest.fixture
def site(personas):
    """A ticket with a link, a watcher, a comment, a saved view, a canned response, a token,
    a notification and a survey invitation: something behind every kind of page."""
    p = personas
    ticket = make_ticket(p, title="Printer on fire")
    other = make_ticket(p, title="Second printer")
    ticket_services.comment_add(actor=p.agent_desk, ticket=ticket, body="**Looking** at it")
    link = ticket_services.link_add(
        actor=p.agent_desk, source=ticket, target=other, type="related_to"
    )
    ticket_services.watcher_add(actor=p.agent_desk, ticket=ticket, user=p.lead_desk)
    view = desk_services.saved_view_create(
        actor=p.agent_desk, name="Mine", queue="mine", filters={}
    )
    canned = desk_services.canned_response_create(actor=p.agent_desk, title="Hi", body="Hello")
    token = token_create(actor=p.agent_desk, name="cli")
    notification = Notification.objects.create(  # the outbox makes these after commit
        recipient=p.agent_desk,
        event_id=uuid.uuid4(),
        kind="ticket.assigned",
        ticket=ticket,
        subject=f"{ticket.reference} is yours",
    )
    invitation = survey_services.survey_invite(ticket=ticket, event_id=uuid.uuid4())
    values = {
        "reference": ticket.reference,
        "part": list(PARTS),
        "field": list(EDITABLE),
        "name": "cancel",
        "workspace:ticket_transition/name": "start",
        "view_id": view.pk,
        "response_id": canned.pk,
        "link_id": link.pk,
        "user_id": p.lead_desk.pk,
        "notification_id": notification.pk,
        "token_id": token.token.pk,
        "surveys:respond/token": invitation.token,
        **reset_link_values(p.requester_acme),
        # The API's own paths (JSON; they carry the closed policy).
        "org_id": p.acme.pk,
        "team_id": p.team_desk.pk,
        "message_id": 1,
        "attachment_id": 1,
        "kind": "incident",
        "calendar_id": 1,
    }
    return values


def _as(personas, who: str) -> Client:
    client = Client()
    if who != "anonymous":
        client.force_login(getattr(personas, who))
    return client


PEOPLE = ("anonymous", "requester_acme", "agent_desk", "lead_desk", "admin")


def _check(response, where: str, problems: list[str]) -> None:
    header = response.get(HEADER)
    if header is None:
        problems.append(f"{where}: no {HEADER} header")
        return
    directives = policy(header)
    if is_page(response):
        for name, value in REQUIRED.items():
            if directives.get(name) != value:
                problems.append(f"{where}: {name} is {directives.get(name)!r}, not {value!r}")
        assert "'unsafe-inline'" not in header and "'unsafe-eval'" not in header, where
        body = response.content.decode(errors="replace")
        problems.extend(f"{where}: {found}" for found in inline_code(body))
    elif directives.get("default-src") != "'none'":  # ours, or the download's own (stricter)
        problems.append(f"{where}: {response['Content-Type']} carries {header!r}")


def test_every_page_carries_the_policy_and_no_inline_code(personas, site):
    problems: list[str] = []
    reached: set[str] = set()
    # The API's JSON operations are left to the test below; its docs page is a page.
    pages = [(n, p) for n, p in site_urls(site) if not n.startswith("api:") or n.endswith("view")]
    walks = [(who, pages) for who in PEOPLE] + [("admin", admin_urls())]
    for who, paths in walks:
        client = _as(personas, who)
        for name, path in paths:
            response = client.get(path)
            _check(response, f"GET {path} as {who}", problems)
            if response.status_code == 200 and is_page(response):
                reached.add(name)
    # Forms sent empty, by those who fill them in: the pages answer with their errors (or a
    # redirect). Signing out comes last.
    for who in ("anonymous", "requester_acme", "agent_desk"):
        client = _as(personas, who)
        for _name, path in sorted(pages, key=lambda page: page[0] == "web:logout"):
            _check(client.post(path), f"POST {path} as {who}", problems)
    assert not problems, "\n".join(sorted(set(problems)))
    assert reached >= MUST_SEE, sorted(MUST_SEE - reached)


def test_what_is_not_a_page_carries_the_closed_policy(personas, site, api_as):
    problems: list[str] = []
    api = api_as(personas.admin)
    ticket = site["reference"]
    attachment = api.post(
        f"tickets/{ticket}/attachments",
        data={"file": SimpleUploadedFile("page.html", b"<script>alert(1)</script>", "text/html")},
    )
    assert attachment.status_code == 201, attachment.content
    for path in (
        "openapi.json",
        "tickets",
        f"tickets/{ticket}",
        "tickets/INC-999999",  # a problem document
        attachment.json()["download_url"],
    ):
        response = api.get(path)
        assert not is_page(response), path
        _check(response, f"GET {path}", problems)
    assert not problems, "\n".join(problems)


def test_error_pages_carry_the_policy(personas):
    problems: list[str] = []
    response = Client().get("/no/such/page/")
    assert response.status_code == 404
    _check(response, "404", problems)
    csrf = Client(enforce_csrf_checks=True).post("/login/", {"username": "x", "password": "y"})
    assert csrf.status_code == 403 and is_page(csrf)
    _check(csrf, "403 (CSRF)", problems)
    assert not problems, "\n".join(problems)


def test_the_page_policy_says_what_issue_12_asks():
    assert {k: PAGE_DIRECTIVES[k] for k in REQUIRED} == REQUIRED
    assert PAGE_DIRECTIVES["style-src"] == "'self'"


def test_the_finder_sees_each_kind_of_inline_code():
    html = (
        '<script>alert(1)</script><script src="/a.js"></script>'
        '<script type="application/json">{"a": 1}</script>'
        '<a href="javascript:alert(1)" onclick="x()">x</a><div style="color:red" hx-on:click="y">'
        "<style>p{}</style><div hx-vals='js:{a: b()}'></div>"
    )
    found = inline_code(html)
    assert len(found) == 7, found

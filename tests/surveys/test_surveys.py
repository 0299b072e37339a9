"""Satisfaction surveys: signed single-use expiring links, the public page, the report."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from servio.surveys import services
from servio.surveys.models import SurveyResponse
from servio.tickets.services import ticket_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def invitation(personas):
    ticket = ticket_create(
        actor=personas.agent_desk,
        title="Printer",
        requester=personas.requester_acme,
        team=personas.team_desk,
        assignee=personas.agent_desk,
    )
    return services.survey_invite(ticket=ticket, event_id=uuid.uuid4())


def _path(invitation) -> str:
    return "/" + invitation.url.split("://", 1)[1].split("/", 1)[1]


def test_one_invitation_per_resolution_event(personas, invitation):
    again = services.survey_invite(
        ticket=invitation.invitation.ticket, event_id=invitation.invitation.event_id
    )
    assert again.invitation.pk == invitation.invitation.pk


def test_answer_once(invitation):
    response = services.survey_answer(token=invitation.token, rating=4, comment=" ok ")
    assert (response.rating, response.comment, response.team.name) == (4, "ok", "Service Desk")
    with pytest.raises(services.SurveyLinkUnusable) as used:
        services.survey_answer(token=invitation.token, rating=5)
    assert used.value.kind == "used"


@pytest.mark.parametrize("rating", [0, 6, "5", True, None])
def test_rating_must_be_1_to_5(invitation, rating):
    with pytest.raises(services.ValidationFailed):
        services.survey_answer(token=invitation.token, rating=rating)
    assert not SurveyResponse.objects.exists()


def test_forged_and_tampered_tokens_are_refused(invitation):
    from django.core import signing

    forged = signing.dumps({"i": invitation.invitation.pk}, salt="another-salt")
    for token in (forged, invitation.token[:-2] + "xx", "nonsense"):
        with pytest.raises(services.SurveyLinkUnusable) as refused:
            services.survey_open(token=token)
        assert refused.value.kind == "invalid"


def test_links_expire(invitation, settings):
    with (
        time_machine.travel(timezone.now() + timedelta(days=15)),
        pytest.raises(services.SurveyLinkUnusable) as expired,
    ):
        services.survey_open(token=invitation.token)
    assert expired.value.kind == "expired"


def test_public_page_without_login_and_with_csrf(invitation):
    browser = Client(enforce_csrf_checks=True)
    path = _path(invitation)
    page = browser.get(path + "?rating=5")
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store" and page["Referrer-Policy"] == "no-referrer"
    assert b'value="5" required checked' in page.content or b"checked" in page.content
    assert browser.post(path, {"rating": "5"}).status_code == 403  # no CSRF token
    token = browser.cookies["csrftoken"].value
    invalid = browser.post(path, {"rating": "9", "csrfmiddlewaretoken": token})
    assert invalid.status_code == 200 and b"errorlist" in invalid.content
    done = browser.post(path, {"rating": "2", "comment": "slow", "csrfmiddlewaretoken": token})
    assert done.status_code == 200 and b"Thank you" in done.content
    used = browser.get(path)
    assert used.status_code == 410 and b"Already answered" in used.content
    assert Client().get("/survey/broken-token/").status_code == 410


def test_report_per_team_agent_and_month(personas, api_as):
    p = personas
    ratings = [(p.team_desk, p.agent_desk, p.requester_acme, 5),
               (p.team_desk, p.agent_desk, p.requester_acme, 3),
               (p.team_network, p.agent_network, p.requester_globex, 4)]  # fmt: skip
    for team, agent, requester, rating in ratings:
        ticket = ticket_create(
            actor=p.admin, title="x", requester=requester, team=team, assignee=agent
        )
        invitation = services.survey_invite(ticket=ticket, event_id=uuid.uuid4())
        services.survey_answer(token=invitation.token, rating=rating)

    admin = api_as(p.admin)
    teams = admin.get("surveys/report?group_by=team").json()
    assert [
        (r["label"], r["responses"], r["average_rating"], r["csat_percent"]) for r in teams
    ] == [
        ("Network", 1, 4.0, 100.0),
        ("Service Desk", 2, 4.0, 50.0),
    ]
    agents = admin.get("surveys/report?group_by=agent").json()
    assert [(r["label"], r["responses"]) for r in agents] == [("Dana Desk", 2), ("Nick Network", 1)]
    # A team lead reads the answers of what they may see: the desk serves Acme, not Globex.
    lead = api_as(p.lead_desk)
    own = lead.get("surveys/report?group_by=team").json()
    assert [(r["label"], r["responses"]) for r in own] == [("Service Desk", 2)]
    months = api_as(p.admin).get("surveys/report?group_by=month").json()
    assert months[0]["key"] == timezone.now().strftime("%Y-%m") and months[0]["responses"] == 3
    assert api_as(p.agent_desk).get("surveys/report").status_code == 403
    assert api_as(p.requester_acme).get("surveys/report").status_code == 403
    assert lead.get("surveys/report?group_by=planet").status_code == 422
    responses = api_as(p.agent_desk).get("surveys/responses").json()["items"]
    assert {r["rating"] for r in responses} == {5, 3}  # agents: tickets they may see

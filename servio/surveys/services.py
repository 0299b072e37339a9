"""Satisfaction surveys: invite the requester when a ticket is resolved, take their answer once.

The link carries a token signed with the secret key (django.core.signing) that names the
invitation; it expires after SERVIO_SURVEY_VALID_DAYS and works once. No sign-in is needed: the
link itself is the proof, and it can only rate, never read the ticket.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from servio.audit.services import audit_record
from servio.core import outbox
from servio.core.errors import DomainError, ValidationFailed
from servio.surveys.models import SurveyInvitation, SurveyResponse
from servio.tickets.models import Ticket

SALT = "servio.surveys.invitation"
MAX_COMMENT = 5000


def valid_days() -> int:
    return int(getattr(settings, "SERVIO_SURVEY_VALID_DAYS", 14))


class SurveyLinkUnusable(DomainError):
    """The survey link is forged or broken, has expired, or was already used."""

    status = 410
    title = "Survey link unusable"
    code = "survey_link_unusable"

    def __init__(self, detail: str, *, kind: str) -> None:
        super().__init__(detail, kind=kind)
        self.kind = kind


@dataclass(frozen=True)
class Invitation:
    """An invitation with the link to put in the email."""

    invitation: SurveyInvitation
    token: str
    url: str
    valid_days: int


def make_token(invitation: SurveyInvitation) -> str:
    return signing.dumps({"i": invitation.pk}, salt=SALT)


def survey_url(token: str) -> str:
    try:
        path = reverse("surveys:respond", args=[token])
    except NoReverseMatch:  # the public page is not mounted in this deployment's URLconf
        path = f"/survey/{token}/"
    return f"{settings.SERVIO_BASE_URL}{path}"


def survey_invite(*, ticket: Ticket, event_id: uuid.UUID) -> Invitation | None:
    """Invite the requester to rate this resolution; once per resolution event."""
    if not getattr(settings, "SERVIO_SURVEYS_ENABLED", True):
        return None
    days = valid_days()
    now = timezone.now()
    try:
        with transaction.atomic():
            invitation, _ = SurveyInvitation.objects.get_or_create(
                event_id=event_id,
                defaults={
                    "ticket": ticket,
                    "requester_id": ticket.requester_id,
                    "team_id": ticket.team_id,
                    "agent_id": ticket.assignee_id,
                    "created_at": now,
                    "expires_at": now + timedelta(days=days),
                },
            )
    except IntegrityError:  # created concurrently by a redelivery of the same event
        invitation = SurveyInvitation.objects.get(event_id=event_id)
    token = make_token(invitation)
    return Invitation(invitation, token, survey_url(token), days)


def _invitation(token: str, *, lock: bool = False) -> SurveyInvitation:
    invalid = SurveyLinkUnusable(
        "This survey link is not valid. Please use the link from your email as it is.",
        kind="invalid",
    )
    expired = SurveyLinkUnusable(
        "This survey link has expired. Thank you all the same!", kind="expired"
    )
    try:
        data = signing.loads(token, salt=SALT, max_age=timedelta(days=valid_days()))
    except signing.SignatureExpired as exc:
        raise expired from exc
    except signing.BadSignature as exc:
        raise invalid from exc
    pk = data.get("i") if isinstance(data, dict) else None
    if not isinstance(pk, int):
        raise invalid
    qs = SurveyInvitation.objects.select_related("ticket")
    if lock:
        qs = qs.select_for_update(of=("self",))
    invitation = qs.filter(pk=pk).first()
    if invitation is None:
        raise invalid
    if invitation.used_at is not None:
        raise SurveyLinkUnusable("You have already answered this survey. Thank you!", kind="used")
    if invitation.expires_at <= timezone.now():
        raise expired
    return invitation


def survey_open(*, token: str) -> SurveyInvitation:
    """The invitation behind a link that may still be answered; SurveyLinkUnusable otherwise."""
    return _invitation(token)


def survey_answer(*, token: str, rating: object, comment: str = "") -> SurveyResponse:
    """Store the requester's rating (1-5) and optional comment; the link is then used up."""
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationFailed.field("rating", "Choose a rating from 1 (poor) to 5 (excellent).")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise ValidationFailed.field("comment", f"must be at most {MAX_COMMENT} characters.")
    with transaction.atomic():
        invitation = _invitation(token, lock=True)
        now = timezone.now()
        response = SurveyResponse.objects.create(
            invitation=invitation,
            ticket=invitation.ticket,
            team_id=invitation.team_id,
            agent_id=invitation.agent_id,
            rating=rating,
            comment=comment,
            created_at=now,
        )
        invitation.used_at = now
        invitation.save(update_fields=["used_at"])
        audit_record(
            actor=invitation.requester,
            action="survey.answered",
            target=invitation.ticket,
            object_repr=invitation.ticket.reference,
            changes={"rating": [None, rating], "survey_response": [None, response.pk]},
        )
        outbox.publish(
            "survey.answered",
            {
                "ticket_id": invitation.ticket_id,
                "reference": invitation.ticket.reference,
                "rating": rating,
                "team_id": invitation.team_id,
                "agent_id": invitation.agent_id,
            },
        )
    return response

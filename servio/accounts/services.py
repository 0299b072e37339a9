"""Every write to users, organisations, teams and API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template import loader
from django.utils import timezone
from django.utils.text import slugify

from servio.accounts.models import ApiToken, Organization, Team, User
from servio.accounts.roles import Role
from servio.accounts.timezones import clean_zone_name
from servio.audit.services import audit_atomic, audit_record, diff, snapshot
from servio.core import network, outbox
from servio.core.errors import NotFound, PermissionDenied, Unauthorized, ValidationFailed
from servio.security.resets import reset_refused

TOKEN_PREFIX = "svo_"  # noqa: S105 - a marker, not a secret
USER_FIELDS = ("email", "full_name", "organization", "role", "is_active", "time_zone")


def _require(actor, capability: str, what: str) -> None:
    if actor is not None and not actor.has_capability(capability):
        raise PermissionDenied(f"You may not {what}. Ask an administrator.")


def organization_create(
    *,
    actor,
    name: str,
    kind: str = Organization.Kind.CUSTOMER,
    email_domains: list[str] | None = None,
    requesters_see_org_tickets: bool = False,
    time_zone: str = "",
) -> Organization:
    """Create a tenant; only one provider organisation may exist."""
    _require(actor, "admin.configure", "create organisations")
    time_zone = clean_zone_name(time_zone)
    name = name.strip()
    if not name:
        raise ValidationFailed.field("name", "An organisation needs a name.")
    if Organization.objects.filter(name__iexact=name).exists():
        raise ValidationFailed.field("name", f"An organisation named '{name}' already exists.")
    if kind == Organization.Kind.PROVIDER and Organization.objects.filter(kind=kind).exists():
        raise ValidationFailed.field("kind", "There is already a provider organisation.")
    domains = sorted({d.strip().lower().lstrip("@") for d in (email_domains or []) if d.strip()})
    with audit_atomic():
        org = Organization.objects.create(
            name=name,
            slug=_unique_slug(Organization, name),
            kind=kind,
            email_domains=domains,
            requesters_see_org_tickets=requesters_see_org_tickets,
            time_zone=time_zone,
        )
        audit_record(actor=actor, action="organization.created", target=org)
    return org


def organization_set_time_zone(
    *, actor, organization: Organization, time_zone: str
) -> Organization:
    """Set the zone an organisation's people read times in ('' for the installation's)."""
    _require(actor, "admin.configure", "change an organisation's time zone")
    time_zone = clean_zone_name(time_zone)
    with audit_atomic():
        locked = Organization.objects.select_for_update().get(pk=organization.pk)
        before = locked.time_zone
        if before != time_zone:
            locked.time_zone = time_zone
            locked.save(update_fields=["time_zone"])
            audit_record(
                actor=actor,
                action="organization.updated",
                target=locked,
                changes={"time_zone": [before, time_zone]},
            )
    organization.time_zone = time_zone
    return organization


def _unique_slug(model, name: str) -> str:
    base = slugify(name)[:50] or "item"
    slug, n = base, 2
    while model.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def user_create(
    *,
    actor,
    email: str,
    full_name: str = "",
    role: str = Role.REQUESTER,
    organization: Organization | None = None,
    password: str | None = None,
    time_zone: str = "",
) -> User:
    """Create a person; staff roles belong to the provider organisation."""
    _require(actor, "admin.configure", "create users")
    time_zone = clean_zone_name(time_zone)
    email = _new_address(email)
    # Addresses are stored in lower case (User.save), so the unique index answers this.
    if User.objects.filter(email=email).exists():
        raise ValidationFailed.field("email", f"A user with the address {email} already exists.")
    if role not in Role.values:
        raise ValidationFailed.field("role", f"Unknown role '{role}'. Use one of {Role.values}.")
    # No savepoint of its own: a caller that recovers from a concurrent creation of the same
    # address (the email intake) wraps the call in its own atomic().
    with audit_atomic(savepoint=False):
        user = User.objects.create_user(
            email=email,
            password=password,
            full_name=full_name,
            role=role,
            organization=organization,
            time_zone=time_zone,
        )
        _audit_created(actor, user)
    return user


def _new_address(email: str) -> str:
    """The address of a new account as stored (lower case), or 422 naming `email`."""
    email = (email or "").strip().lower()
    if "@" not in email:
        raise ValidationFailed.field("email", "Enter a valid email address.")
    return email


def _audit_created(actor, user: User) -> None:
    after = snapshot(user, USER_FIELDS)
    audit_record(
        actor=actor,
        action="user.created",
        target=user,
        changes={k: [None, v] for k, v in after.items()},
    )


def requester_create(*, email: str, full_name: str, organization: Organization) -> User:
    """Register an unknown sender as a requester of `organization` (the email intake), as
    `user_create` by the system would, without its look-up: the caller has just looked the
    address up, and the unique index refuses a concurrent duplicate (IntegrityError). The
    account has no usable password; the person sets one through a password reset."""
    email = _new_address(email)
    user = User(email=email, full_name=full_name, role=Role.REQUESTER, organization=organization)
    user.set_unusable_password()
    with audit_atomic(savepoint=False):
        user.save(force_insert=True)
        _audit_created(None, user)
    return user


def user_update(*, actor, user: User, **fields) -> User:
    """Change profile fields of a user; role and activation need an administrator."""
    allowed = set(USER_FIELDS)
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationFailed({f: "This field cannot be changed." for f in sorted(unknown)})
    if actor is not None and actor.pk != user.pk:
        _require(actor, "admin.configure", "change other users")
    if actor is not None and {"role", "is_active", "organization"} & set(fields):
        _require(actor, "admin.configure", "change roles, activation or organisation")
    if "time_zone" in fields:
        fields["time_zone"] = clean_zone_name(fields["time_zone"])
    before = snapshot(user, USER_FIELDS)
    for name, value in fields.items():
        setattr(user, name, value)
    with audit_atomic():
        user.save()
        changes = diff(before, snapshot(user, USER_FIELDS))
        if changes:
            audit_record(actor=actor, action="user.updated", target=user, changes=changes)
    return user


def team_create(
    *,
    actor,
    name: str,
    lead: User | None = None,
    members: list[User] | None = None,
    serves: list[Organization] | None = None,
    email: str = "",
) -> Team:
    """Create an assignment group; its members and lead must be service desk staff."""
    _require(actor, "admin.configure", "create teams")
    name = name.strip()
    if not name:
        raise ValidationFailed.field("name", "A team needs a name.")
    if Team.objects.filter(name__iexact=name).exists():
        raise ValidationFailed.field("name", f"A team named '{name}' already exists.")
    people = list(members or [])
    if lead is not None and lead not in people:
        people.append(lead)
    non_staff = [p.email for p in people if not p.is_staff_member]
    if non_staff:
        raise ValidationFailed.field(
            "members", f"Only service desk staff can be team members: {', '.join(non_staff)}."
        )
    with audit_atomic():
        team = Team.objects.create(name=name, slug=_unique_slug(Team, name), lead=lead, email=email)
        team.members.set(people)
        team.serves.set(serves or [])
        audit_record(
            actor=actor,
            action="team.created",
            target=team,
            changes={
                "lead": [None, lead.pk if lead else None],
                "members": [None, sorted(p.pk for p in people)],
                "serves": [None, sorted(o.pk for o in serves or [])],
            },
        )
    return team


def team_set_members(*, actor, team: Team, members: list[User], lead: User | None) -> Team:
    """Replace a team's members and lead (admins and the team's own lead)."""
    if actor is not None and not (
        actor.has_capability("admin.configure")
        or (actor.has_capability("team.manage") and team.lead_id == actor.pk)
    ):
        raise PermissionDenied("Only an administrator or this team's lead may change its members.")
    people = list(members)
    if lead is not None and lead not in people:
        people.append(lead)
    non_staff = [p.email for p in people if not p.is_staff_member]
    if non_staff:
        raise ValidationFailed.field(
            "members", f"Only service desk staff can be team members: {', '.join(non_staff)}."
        )
    before = sorted(team.members.values_list("pk", flat=True))
    with audit_atomic():
        old_lead = team.lead_id
        team.lead = lead
        team.save(update_fields=["lead"])
        team.members.set(people)
        audit_record(
            actor=actor,
            action="team.members_changed",
            target=team,
            changes={
                "members": [before, sorted(p.pk for p in people)],
                "lead": [old_lead, lead.pk if lead else None],
            },
        )
    return team


# --- password reset ---------------------------------------------------------------------------

PASSWORD_RESET_TOPIC = "accounts.password_reset_requested"  # noqa: S105 - a topic name
RESET_EMAIL_TEMPLATE = "web/password/reset_email.txt"
RESET_SUBJECT_TEMPLATE = "web/password/reset_subject.txt"


def password_reset_request(*, email: str, client_ip: str | None) -> bool:
    """Queue a reset link for the account with this address, unless the account or the client's
    address asked too often (then nothing is sent); True when queued.

    The request does the same work whether or not the account exists (count, queue): the
    account is looked up and the email sent in the background (`password_reset_send`), so
    neither the answer nor its timing tells the caller whether the address has an account.
    """
    email = (email or "").strip().lower()
    if reset_refused(email=email, address=client_ip or ""):
        return False
    with transaction.atomic():
        outbox.publish(PASSWORD_RESET_TOPIC, {"email": email})
    return True


def password_reset_send(*, email: str, event_id: uuid.UUID) -> None:
    """Email a one-time reset link to the active account with this address, if there is one.
    Links point at SERVIO_BASE_URL, not at whatever host the request named.

    Called by an external outbox handler (no transaction open, decision 24): a failure to send
    raises, so the outbox retries it, and the Message-ID comes from the event, so a redelivered
    event's mail is the same message to the reader's client.
    """
    form = _ResetMail({"email": email}, event_id=event_id)
    if not form.is_valid():
        return
    base = urlsplit(settings.SERVIO_BASE_URL)
    form.save(
        domain_override=base.netloc + base.path.rstrip("/"),
        use_https=base.scheme == "https",
        subject_template_name=RESET_SUBJECT_TEMPLATE,
        email_template_name=RESET_EMAIL_TEMPLATE,
    )


class _ResetMail(PasswordResetForm):
    """Django's reset form, sending with a Message-ID per event and account, and raising when
    sending fails (Django's own form logs the failure and drops the email)."""

    def __init__(self, data: dict[str, str], *, event_id: uuid.UUID) -> None:
        super().__init__(data)
        self.event_id = event_id

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        network.require_no_transaction("Sending the password-reset email")
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        sender = from_email or settings.DEFAULT_FROM_EMAIL
        domain = parseaddr(sender)[1].rpartition("@")[2] or "servio.invalid"
        message_id = f"<reset.{self.event_id}.{context['user'].pk}@{domain}>"
        message = EmailMultiAlternatives(
            subject, body, sender, [to_email], headers={"Message-ID": message_id}
        )
        message.send(fail_silently=False)


# --- API tokens -------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    plaintext: str  # shown to the user once, never stored


def hash_token_secret(secret: str) -> str:
    # Tokens carry 256 bits of randomness, so a fast hash is safe (no dictionary to attack).
    return hashlib.sha256(secret.encode()).hexdigest()


def token_create(
    *,
    actor: User,
    name: str,
    scope: str = ApiToken.Scope.READ,
    expires_at: dt.datetime | None = None,
    user: User | None = None,
) -> IssuedToken:
    """Issue a personal token; the plaintext is returned once and only its hash is kept."""
    owner = user or actor
    if owner.pk != actor.pk:
        _require(actor, "admin.configure", "create tokens for other users")
    name = (name or "").strip()
    if not name:
        raise ValidationFailed.field("name", "Give the token a name so you can recognise it.")
    if scope not in ApiToken.Scope.values:
        raise ValidationFailed.field("scope", "Scope must be 'read' or 'write'.")
    if expires_at is not None and timezone.is_naive(expires_at):
        raise ValidationFailed.field("expires_at", "Give the expiry with a time zone (e.g. Z).")
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed.field("expires_at", "The expiry must be in the future.")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    plaintext = f"{TOKEN_PREFIX}{prefix}_{secret}"
    with audit_atomic():
        token = ApiToken.objects.create(
            user=owner,
            name=name[:100],
            prefix=prefix,
            key_hash=hash_token_secret(plaintext),
            scope=scope,
            expires_at=expires_at,
        )
        audit_record(
            actor=actor,
            action="api_token.created",
            target=token,
            changes={"scope": [None, scope], "expires_at": [None, expires_at]},
        )
    return IssuedToken(token=token, plaintext=plaintext)


def token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    """Revoke a token at once; revoking twice is harmless."""
    if token.user_id != actor.pk:
        _require(actor, "admin.configure", "revoke other users' tokens")
    if token.revoked_at is None:
        with audit_atomic():
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit_record(actor=actor, action="api_token.revoked", target=token)
    return token


TOKEN_TOUCH_INTERVAL = dt.timedelta(seconds=60)


def token_authenticate(*, plaintext: str, client_ip: str | None = None) -> ApiToken:
    """Resolve a bearer token to a usable token or raise Unauthorized (same reason for all)."""
    invalid = Unauthorized(
        "The API token is missing, unknown, expired or revoked. Create a new one in your settings."
    )
    if not plaintext.startswith(TOKEN_PREFIX):
        raise invalid
    prefix = plaintext[len(TOKEN_PREFIX) :].split("_", 1)[0]
    # The user's organisation comes along: what the request writes or shows usually names it.
    try:
        token = ApiToken.objects.select_related("user__organization").get(prefix=prefix)
    except ApiToken.DoesNotExist:
        raise invalid from None
    if not secrets.compare_digest(token.key_hash, hash_token_secret(plaintext)):
        raise invalid
    now = timezone.now()
    if not token.is_usable(now) or not token.user.is_active:
        raise invalid
    # Last use is kept to the minute, so a busy token does not write on every request.
    if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_INTERVAL:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_ip=client_ip)
        token.last_used_at = now
    return token


def get_visible(queryset, user, *, missing: str = "", **lookup):
    """Fetch one record the user may see, or NotFound (missing and hidden look the same).

    `missing`: the 404's message (default: "No <model> matches that identifier."). Whether the
    record exists is then asked for missing and hidden alike, so both answers cost the same; the
    answer goes to the security log with the NotFound, never to the caller (decision 19).
    """
    obj = queryset.visible_to(user).filter(**lookup).first()
    if obj is None:
        model = queryset.model._meta
        raise NotFound(
            missing or f"No {model.verbose_name} matches that identifier.",
            hidden=queryset.filter(**lookup).exists(),
            object_type=model.label_lower,
            object_id=",".join(str(value) for value in lookup.values()),
        )
    return obj

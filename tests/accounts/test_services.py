"""Account services: creating people."""

from __future__ import annotations

import pytest
from django.db import IntegrityError

from servio.accounts.roles import Role
from servio.accounts.services import requester_create, user_create
from servio.audit.models import AuditEvent
from servio.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db


def test_an_unknown_sender_becomes_a_requester_as_user_create_would_make_one(personas):
    made = requester_create(
        email="New.Person@Acme.example", full_name="New Person", organization=personas.acme
    )
    other = user_create(
        actor=None,
        email="other.person@acme.example",
        full_name="Other Person",
        organization=personas.acme,
    )
    made.refresh_from_db()
    assert made.email == "new.person@acme.example"
    assert (made.role, made.organization, made.is_active) == (Role.REQUESTER, personas.acme, True)
    assert not made.has_usable_password() and not other.has_usable_password()
    assert (made.is_staff, made.is_superuser) == (other.is_staff, other.is_superuser)
    created = AuditEvent.objects.get(action="user.created", object_id=str(made.pk))
    compared = AuditEvent.objects.get(action="user.created", object_id=str(other.pk))
    assert created.actor is None and created.changes.keys() == compared.changes.keys()
    assert created.changes["email"] == [None, "new.person@acme.example"]


def test_a_duplicate_address_is_refused_by_the_database(personas):
    requester_create(email="twice@acme.example", full_name="", organization=personas.acme)
    with pytest.raises(IntegrityError):
        requester_create(email="TWICE@acme.example", full_name="", organization=personas.acme)


def test_an_address_needs_an_at_sign(personas):
    with pytest.raises(ValidationFailed):
        requester_create(email="nobody", full_name="", organization=personas.acme)


def test_user_create_still_names_an_existing_address(personas):
    with pytest.raises(ValidationFailed, match="already exists"):
        user_create(actor=None, email=personas.requester_acme.email.upper())

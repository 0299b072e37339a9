"""visible_to(user) for organisations, users, teams and tokens."""

import pytest

from servio.accounts.models import ApiToken, Organization, Team, User
from servio.accounts.services import token_create

pytestmark = pytest.mark.django_db


def names(qs):
    return sorted(str(o) for o in qs)


def test_requester_sees_only_own_organization(personas):
    p = personas
    assert list(Organization.objects.visible_to(p.requester_acme)) == [p.acme]


def test_agent_sees_provider_and_served_organizations(personas):
    p = personas
    assert set(Organization.objects.visible_to(p.agent_desk)) == {p.provider, p.acme}
    assert set(Organization.objects.visible_to(p.agent_network)) == {p.provider, p.globex}


def test_admin_sees_everything(personas):
    assert Organization.objects.visible_to(personas.admin).count() == 3


def test_requester_sees_only_themselves_in_directory(personas):
    p = personas
    assert list(User.objects.visible_to(p.requester_acme)) == [p.requester_acme]


def test_agent_sees_people_of_served_organizations_only(personas):
    p = personas
    visible = set(User.objects.visible_to(p.agent_desk))
    assert p.requester_acme in visible and p.colleague_acme in visible
    assert p.requester_globex not in visible
    assert p.agent_network in visible  # provider staff are colleagues


def test_teams_hidden_from_requesters(personas):
    p = personas
    assert not Team.objects.visible_to(p.requester_acme).exists()
    assert Team.objects.visible_to(p.agent_desk).count() == 2


def test_tokens_visible_to_owner_and_admin(personas):
    p = personas
    mine = token_create(actor=p.agent_desk, name="mine").token
    assert list(ApiToken.objects.visible_to(p.agent_desk)) == [mine]
    assert not ApiToken.objects.visible_to(p.agent_network).exists()
    assert list(ApiToken.objects.visible_to(p.admin)) == [mine]


def test_inactive_user_sees_nothing(personas):
    p = personas
    p.admin.is_active = False
    p.admin.save()
    assert not Organization.objects.visible_to(p.admin).exists()

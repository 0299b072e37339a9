"""The visibility rule exists twice: as a query (`Ticket.objects.visible_to`, for lists) and in
Python for one ticket already read (`is_visible_to`, for the detail read). They must agree for
every kind of person on every kind of ticket."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from servio.accounts.roles import Role
from servio.tickets import services
from servio.tickets.models import Ticket, is_visible_to, visible_parts
from tests.factories import UserFactory
from tests.tickets.helpers import log

pytestmark = pytest.mark.django_db


@contextmanager
def _while_serving(team, organization):
    """Attach work across organisations as it was possible before the team stopped serving
    that organisation: the branches of the rule that follow an attachment must still hold
    for such tickets, though no service attaches them any more (decision 16)."""
    team.serves.add(organization)
    yield
    team.serves.remove(organization)


def _tickets(p, former) -> dict[str, Ticket]:
    colleague = log(p.colleague_acme, title="Colleague's own")
    watched = log(p.colleague_acme, title="Carl's, watched by Rita")
    services.watcher_add(actor=p.agent_desk, ticket=watched, user=p.requester_acme)
    with _while_serving(p.team_network, p.acme):
        acme_by_network = log(
            p.admin,
            title="Acme ticket worked by the network team",
            requester=p.requester_acme.pk,
            team=p.team_network.pk,
            assignee=p.agent_network.pk,
        )
    with _while_serving(p.team_desk, p.globex):
        globex_on_desk = log(
            p.admin,
            title="Globex ticket with the desk",
            requester=p.requester_globex.pk,
            team=p.team_desk.pk,
        )
        globex_assigned = log(
            p.admin,
            title="Globex ticket assigned to Dana",
            requester=p.requester_globex.pk,
            team=p.team_desk.pk,
            assignee=p.agent_desk.pk,
        )
        globex_watched_by_lead = log(p.requester_globex, title="Globex, watched by Lena")
        services.watcher_add(actor=p.agent_network, ticket=globex_watched_by_lead, user=p.lead_desk)
    provider_own = log(p.agent_network, title="Internal: the provider's own")
    # Assigned while in the network team, then moved out of every team: sees it as assignee.
    p.team_network.members.add(former)
    left_behind = log(
        p.admin,
        title="Globex ticket of an agent who left the team",
        requester=p.requester_globex.pk,
        team=p.team_network.pk,
        assignee=former.pk,
    )
    p.team_network.members.remove(former)
    return {
        "acme_own": log(p.requester_acme, title="Rita's own"),
        "acme_colleague": colleague,
        "globex_own": log(p.requester_globex, title="Gina's own"),
        "acme_watched": watched,
        "acme_by_network": acme_by_network,
        "globex_on_desk": globex_on_desk,
        "globex_assigned": globex_assigned,
        "globex_watched_by_lead": globex_watched_by_lead,
        "provider_own": provider_own,
        "left_behind": left_behind,
    }


@pytest.mark.parametrize("org_shares", [False, True])
def test_the_query_and_the_python_rule_agree_on_every_branch(personas, org_shares):
    p = personas
    p.acme.requesters_see_org_tickets = org_shares
    p.acme.save()
    former = UserFactory(email="fred@provider.example", role=Role.AGENT, organization=p.provider)
    tickets = _tickets(p, former)
    gone = UserFactory(email="gone@provider.example", organization=p.provider, is_active=False)
    people = {
        "requester_acme": p.requester_acme,
        "colleague_acme": p.colleague_acme,
        "requester_globex": p.requester_globex,
        "agent_desk": p.agent_desk,
        "agent_network": p.agent_network,
        "lead_desk": p.lead_desk,
        "change_manager": p.change_manager,
        "admin": p.admin,
        "inactive": gone,
        "former": former,
    }
    seen: dict[tuple[str, str], bool] = {}
    for who, user in people.items():
        user.refresh_from_db()  # as a request would read them
        listed = set(Ticket.objects.visible_to(user).values_list("pk", flat=True))
        in_one = Ticket.objects.visible_to(user, in_one_query=True).values_list("pk", flat=True)
        assert set(in_one) == listed, who
        for name, ticket in tickets.items():
            fresh = Ticket.objects.get(pk=ticket.pk)
            verdict = is_visible_to(fresh, user)
            assert verdict == (ticket.pk in listed), f"{who} on {name}"
            seen[who, name] = verdict
    # The cases are not vacuous: each branch decides something.
    assert seen["requester_acme", "acme_own"] and not seen["requester_acme", "globex_own"]
    assert seen["requester_acme", "acme_colleague"] is org_shares
    assert seen["requester_acme", "acme_watched"]
    assert seen["colleague_acme", "acme_own"] is org_shares
    assert seen["agent_network", "acme_by_network"] and not seen["agent_network", "acme_own"]
    assert seen["agent_desk", "globex_on_desk"] and not seen["agent_desk", "globex_own"]
    assert seen["agent_desk", "globex_assigned"]
    assert seen["lead_desk", "globex_watched_by_lead"]
    assert seen["agent_network", "provider_own"] and seen["agent_desk", "provider_own"]
    assert seen["former", "left_behind"] and not seen["former", "globex_own"]
    assert all(seen["admin", name] for name in tickets)
    assert not any(seen["inactive", name] for name in tickets)


@pytest.mark.parametrize("org_shares", [False, True])
def test_the_whole_parts_and_the_personal_tickets_make_up_the_rule(personas, org_shares):
    """`visible_parts` (what reports pre-aggregate) splits what `visible_to` lists: the whole
    organisations and teams, and the rest, seen personally; none of it beyond the rule."""
    p = personas
    p.acme.requesters_see_org_tickets = org_shares
    p.acme.save()
    former = UserFactory(email="fred@provider.example", role=Role.AGENT, organization=p.provider)
    tickets = _tickets(p, former)
    everyone = Ticket.objects.filter(pk__in=[t.pk for t in tickets.values()])
    for user in (p.requester_acme, p.agent_desk, p.lead_desk, p.change_manager, former, p.admin):
        user.refresh_from_db()
        parts = visible_parts(user)
        listed = set(everyone.visible_to(user).values_list("pk", flat=True))
        whole = parts.whole()
        in_whole = (
            set() if whole is None else set(everyone.filter(whole).values_list("pk", flat=True))
        )
        personal = (
            set()
            if parts.personal is None
            else set(everyone.filter(parts.personal).values_list("pk", flat=True))
        )
        assert in_whole | personal == listed, user.email
        if whole is not None and not parts.everything:
            for ticket in everyone.filter(pk__in=in_whole):
                assert (
                    ticket.organization_id in parts.organizations or ticket.team_id in parts.teams
                )
    lead = visible_parts(p.lead_desk)
    assert set(lead.organizations) == {p.provider.pk, p.acme.pk} and lead.teams == (p.team_desk.pk,)
    assert everyone.filter(lead.personal).filter(pk=tickets["globex_watched_by_lead"].pk).exists()
    assert visible_parts(p.admin).everything
    assert visible_parts(p.requester_acme).organizations == ((p.acme.pk,) if org_shares else ())

"""Who may read and change the SLA configuration is decided by the services and selectors
themselves, whoever calls them: the API, the admin, demo data and commands get the same answer."""

from __future__ import annotations

import pytest

from servio.audit.models import AuditEvent
from servio.core.errors import NotFound, PermissionDenied
from servio.sla import selectors, services
from servio.sla.models import Calendar, SlaClock, SlaPolicy
from tests.sla.conftest import WEEKDAYS, at

pytestmark = pytest.mark.django_db

NOT_ADMINS = ("requester_acme", "agent_desk", "lead_desk", "change_manager")
NOT_STAFF = ("requester_acme", "requester_globex")


def _calendar(name: str = "Lisbon") -> Calendar:
    return Calendar(name=name, time_zone="Europe/Lisbon", hours=WEEKDAYS)


def _policy(name: str = "Gold") -> SlaPolicy:
    return SlaPolicy(name=name, warning_thresholds=[75], pause_on=[])


# --- writes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", NOT_ADMINS)
def test_only_administrators_create_calendars_and_policies(personas, who):
    actor = getattr(personas, who)
    for call in (
        lambda: services.calendar_save(actor=actor, calendar=_calendar()),
        lambda: services.calendar_store(actor=actor, calendar=_calendar()),
        lambda: services.policy_save(actor=actor, policy=_policy()),
        lambda: services.policy_store(actor=actor, policy=_policy()),
    ):
        with pytest.raises(PermissionDenied) as refused:
            call()
        assert "administrator" in refused.value.detail
    assert not Calendar.objects.exists()
    assert not SlaPolicy.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="sla.").exists()


@pytest.mark.parametrize("who", NOT_ADMINS)
def test_a_refused_change_leaves_the_calendar_and_its_clocks_alone(desk, standard, personas, who):
    """The refusal comes before anything is validated, saved or rescheduled."""
    ticket = desk.create(at(2026, 11, 23, 9, 0))
    calendar = Calendar.objects.get(name="Berlin office")
    due = {c.pk: c.due_at for c in SlaClock.objects.filter(ticket=ticket)}
    calendar.hours = {"mon": [["10:00", "11:00"]]}
    standard.warning_thresholds = [50]
    actor = getattr(personas, who)
    with pytest.raises(PermissionDenied):
        services.calendar_save(actor=actor, calendar=calendar)
    with pytest.raises(PermissionDenied):
        services.calendar_store(actor=actor, calendar=calendar)
    with pytest.raises(PermissionDenied):
        services.policy_store(actor=actor, policy=standard)
    assert Calendar.objects.get(pk=calendar.pk).hours == WEEKDAYS
    assert SlaPolicy.objects.get(pk=standard.pk).warning_thresholds == [75, 90]
    assert {c.pk: c.due_at for c in SlaClock.objects.filter(ticket=ticket)} == due


def test_administrators_and_the_system_change_the_configuration(personas):
    """`actor=None` is the system (demo data, commands), as in every other service."""
    by_admin = services.calendar_save(actor=personas.admin, calendar=_calendar("Lisbon"))
    by_system = services.calendar_save(actor=None, calendar=_calendar("Porto"))
    policy = services.policy_save(actor=personas.admin, policy=_policy("Gold"))
    services.policy_store(actor=None, policy=_policy("Silver"))
    assert {c.name for c in Calendar.objects.all()} == {by_admin.name, by_system.name}
    assert {p.name for p in SlaPolicy.objects.all()} == {policy.name, "Silver"}
    created = AuditEvent.objects.filter(action="sla.calendar_created")
    actors = list(created.values_list("actor_id", flat=True))
    assert len(actors) == 2 and set(actors) == {personas.admin.pk, None}


def test_an_administrator_who_was_deactivated_is_refused(personas):
    admin = personas.admin
    admin.is_active = False
    admin.save()
    with pytest.raises(PermissionDenied):
        services.calendar_save(actor=admin, calendar=_calendar())


# --- reads ------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", NOT_STAFF)
def test_requesters_may_not_read_the_configuration_or_the_report(
    berlin, make_policy, personas, who
):
    make_policy("General")
    user = getattr(personas, who)
    for read in (
        lambda: selectors.calendars(user=user),
        lambda: selectors.calendar_get(user=user, calendar_id=berlin.pk),
        lambda: selectors.calendar_get(user=user, calendar_id=999_999),
        lambda: selectors.policies(user=user),
        lambda: selectors.policy_overlaps(user=user),
        lambda: selectors.compliance(user=user, group_by="policy", start=None, end=None),
    ):
        with pytest.raises(PermissionDenied) as refused:
            read()
        assert "service desk staff" in refused.value.detail


@pytest.mark.parametrize("who", ["agent_desk", "lead_desk", "change_manager", "admin"])
def test_staff_read_the_configuration(berlin, make_policy, personas, who):
    make_policy("General", order=50)
    make_policy("Acme VIP", order=20, organizations=[personas.acme])
    user = getattr(personas, who)
    assert [c.name for c in selectors.calendars(user=user)] == ["Berlin office"]
    assert selectors.calendar_get(user=user, calendar_id=berlin.pk) == berlin
    assert [p.name for p in selectors.policies(user=user)] == ["Acme VIP", "General"]
    pairs = [(a.name, b.name) for a, b in selectors.policy_overlaps(user=user)]
    assert pairs == [("Acme VIP", "General")]
    assert selectors.compliance(user=user, group_by="policy", start=None, end=None) == []


def test_a_missing_calendar_is_not_found_for_staff(personas):
    with pytest.raises(NotFound):
        selectors.calendar_get(user=personas.agent_desk, calendar_id=999_999)


def test_the_report_is_scoped_by_the_selector(desk, standard, personas):
    """The organisations a reader may see are chosen inside `compliance`, not by its caller."""
    acme = desk.create(at(2026, 11, 23, 9, 0))
    desk.resolve(at(2026, 11, 23, 10, 0), acme)
    globex = desk.create(at(2026, 11, 23, 9, 0), requester=personas.requester_globex)
    desk.resolve(at(2026, 11, 23, 10, 0), globex)

    def organisations(user) -> set[str]:
        rows = selectors.compliance(user=user, group_by="organization", start=None, end=None)
        return {row["label"] for row in rows}

    assert organisations(personas.admin) == {"Acme", "Globex"}
    assert organisations(personas.agent_desk) == {"Acme"}  # the desk does not serve Globex
    assert organisations(personas.agent_network) == {"Globex"}

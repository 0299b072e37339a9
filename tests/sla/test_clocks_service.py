"""SLA clocks on real tickets: when they start, pause, stop, retarget, reopen and cancel.

Calendar: Berlin office, Monday to Friday 09:00-17:00, German public holidays for Berlin (DE-BE).
Policy "Standard": first response 2 business hours; resolution P1 4h, P2 8h, P3 16h, P4 24h,
P5 40h; paused while on hold awaiting the requester. Tickets a requester logs are P5.
"""

import datetime as dt

import pytest

from servio.sla import clocks
from servio.sla.models import ClockState, SlaClock
from tests.sla.conftest import HOUR, at, clock, local

pytestmark = pytest.mark.django_db


def iso(when: dt.datetime) -> str:
    """Pauses are stored as UTC ISO timestamps."""
    return when.astimezone(dt.UTC).isoformat()


def elapsed(c: SlaClock, when: dt.datetime) -> float:
    return clocks.elapsed_at(c, when)


# --- when a clock starts ----------------------------------------------------------------------


def test_ticket_logged_outside_business_hours_counts_from_the_next_opening(desk, standard):
    ticket = desk.create(at(2026, 11, 24, 20, 30))  # Tuesday evening
    first = clock(ticket, "first_response")
    assert first.state == ClockState.RUNNING and first.policy == standard
    assert local(first.started_at) == at(2026, 11, 24, 20, 30)
    assert local(first.due_at) == at(2026, 11, 25, 11, 0)  # Wednesday 09:00 + 2h
    assert elapsed(first, at(2026, 11, 25, 9, 0)) == 0
    assert elapsed(first, at(2026, 11, 25, 10, 0)) == HOUR
    # P5, 40 business hours: Wed, Thu, Fri, Mon, Tue.
    assert local(clock(ticket, "resolution").due_at) == at(2026, 12, 1, 17, 0)


def test_friday_evening_ticket_is_due_on_monday(desk, standard):
    ticket = desk.create(at(2026, 11, 27, 16, 0))  # Friday 16:00: one business hour left
    assert local(clock(ticket, "first_response").due_at) == at(2026, 11, 30, 10, 0)
    assert local(clock(ticket, "resolution").due_at) == at(2026, 12, 4, 16, 0)


def test_ticket_logged_on_public_holidays_counts_from_the_next_working_day(desk, standard):
    good_friday = desk.create(at(2026, 4, 3, 10, 0))  # Easter Monday is a holiday too
    assert local(clock(good_friday, "first_response").due_at) == at(2026, 4, 7, 11, 0)
    womens_day = desk.create(at(2027, 3, 8, 10, 0))  # a Monday; a holiday in Berlin only
    assert local(clock(womens_day, "first_response").due_at) == at(2027, 3, 9, 11, 0)


def test_clock_across_new_year(desk, standard, personas):
    # Thursday 31 Dec 15:00, P1 (4h): 2h on New Year's Eve, New Year's Day is a holiday,
    # then the weekend; the remaining 2h on Monday 4 January.
    ticket = desk.create(at(2026, 12, 31, 15, 0), priority=1)
    assert local(clock(ticket, "first_response").due_at) == at(2026, 12, 31, 17, 0)
    resolution = clock(ticket, "resolution")
    assert resolution.priority == 1 and resolution.target_seconds == 4 * HOUR
    assert local(resolution.due_at) == at(2027, 1, 4, 11, 0)
    assert elapsed(resolution, at(2027, 1, 4, 9, 0)) == 2 * HOUR


def test_no_matching_policy_no_clock(desk, make_policy):
    make_policy("Requests only", kinds=["request"])
    ticket = desk.create(at(2026, 11, 23, 9, 0))  # an incident
    assert not SlaClock.objects.filter(ticket=ticket).exists()


# --- pauses -----------------------------------------------------------------------------------


def test_pause_spanning_a_weekend_costs_nothing_and_is_recorded(desk, standard):
    ticket = desk.create(at(2026, 11, 26, 9, 0))  # Thursday, P5 (40h)
    desk.reply(at(2026, 11, 26, 9, 30), ticket)
    ticket = desk.hold(at(2026, 11, 27, 13, 0), ticket)  # Friday 13:00: 12h used
    res = clock(ticket, "resolution")
    assert res.state == ClockState.PAUSED and res.due_at is None
    assert res.next_threshold_at is None
    assert res.elapsed_seconds == 12 * HOUR
    assert elapsed(res, at(2026, 11, 30, 10, 0)) == 12 * HOUR  # nothing counts while paused

    desk.resume(at(2026, 11, 30, 11, 0), ticket)  # Monday 11:00
    res = clock(ticket, "resolution")
    assert res.state == ClockState.RUNNING
    assert res.elapsed_seconds == 12 * HOUR
    assert elapsed(res, at(2026, 11, 30, 12, 0)) == 13 * HOUR
    # 28h left from Monday 11:00: Mon 6h, Tue 8h, Wed 8h, Thu 6h -> Thursday 15:00.
    assert local(res.due_at) == at(2026, 12, 3, 15, 0)
    assert res.pauses == [[iso(at(2026, 11, 27, 13, 0)), iso(at(2026, 11, 30, 11, 0))]]


def test_only_the_configured_hold_reason_pauses(desk, standard):
    ticket = desk.create(at(2026, 11, 23, 9, 0))
    desk.hold(at(2026, 11, 23, 10, 0), ticket, reason="awaiting_change")
    res = clock(ticket, "resolution")
    assert res.state == ClockState.RUNNING and res.pauses == []


def test_a_breached_clock_pauses_too(desk, standard):
    ticket = desk.create(at(2026, 11, 23, 9, 0))
    from tests.sla.conftest import scan

    scan(at(2026, 11, 23, 11, 30))  # first response breached at 11:00
    ticket = desk.hold(at(2026, 11, 23, 12, 0), ticket)
    first = clock(ticket, "first_response")
    assert first.state == ClockState.PAUSED and first.breached
    assert local(first.due_at) == at(2026, 11, 23, 11, 0)  # an overdue clock keeps its due time
    assert elapsed(first, at(2026, 11, 24, 12, 0)) == 3 * HOUR
    desk.resume(at(2026, 11, 24, 9, 0), ticket)
    first = clock(ticket, "first_response")
    assert first.state == ClockState.BREACHED and first.breached
    assert local(first.due_at) == at(2026, 11, 23, 11, 0)


# --- first response ---------------------------------------------------------------------------


def test_first_response_is_met_by_the_first_public_agent_reply_only(desk, standard, personas):
    ticket = desk.create(at(2026, 11, 23, 9, 0))
    desk.reply(at(2026, 11, 23, 9, 10), ticket, internal=True)  # an internal note
    desk.reply(at(2026, 11, 23, 9, 20), ticket, by=personas.requester_acme)  # the requester
    assert clock(ticket, "first_response").state == ClockState.RUNNING
    desk.reply(at(2026, 11, 23, 9, 30), ticket)  # the agent's first public reply
    first = clock(ticket, "first_response")
    assert first.state == ClockState.MET and not first.breached
    assert local(first.stopped_at) == at(2026, 11, 23, 9, 30)
    assert first.elapsed_seconds == 30 * 60
    desk.reply(at(2026, 11, 23, 10, 30), ticket, by=personas.lead_desk)
    assert clock(ticket, "first_response").stopped_at == first.stopped_at
    assert clock(ticket, "resolution").state == ClockState.RUNNING


def test_late_first_reply_is_a_breach(desk, standard):
    ticket = desk.create(at(2026, 11, 23, 9, 0))
    desk.reply(at(2026, 11, 23, 11, 1), ticket)
    first = clock(ticket, "first_response")
    assert first.state == ClockState.BREACHED and first.breached


def test_resolution_before_any_reply_ends_the_first_response_clock(desk, standard):
    ticket = desk.create(at(2026, 11, 23, 9, 0))
    desk.resolve(at(2026, 11, 23, 9, 45), ticket)
    first, res = clock(ticket, "first_response"), clock(ticket, "resolution")
    assert first.state == ClockState.MET and local(first.stopped_at) == at(2026, 11, 23, 9, 45)
    assert res.state == ClockState.MET and res.elapsed_seconds == 45 * 60


# --- priority changes -------------------------------------------------------------------------


def test_priority_change_keeps_elapsed_time_and_recomputes_the_due_time(desk, standard):
    ticket = desk.create(at(2026, 11, 23, 9, 0))  # Monday, P5: 40h
    desk.reply(at(2026, 11, 23, 9, 30), ticket)
    assert local(clock(ticket, "resolution").due_at) == at(2026, 11, 27, 17, 0)
    ticket = desk.set_priority(at(2026, 11, 23, 13, 0), ticket, 2)  # P2: 8h, 4h used
    res = clock(ticket, "resolution")
    assert res.priority == 2 and res.target_seconds == 8 * HOUR
    assert res.elapsed_seconds == 4 * HOUR
    assert local(res.due_at) == at(2026, 11, 23, 17, 0)
    ticket = desk.set_priority(at(2026, 11, 23, 14, 0), ticket, 3)  # P3: 16h, 5h used
    res = clock(ticket, "resolution")
    assert res.target_seconds == 16 * HOUR and res.elapsed_seconds == 5 * HOUR
    assert local(res.due_at) == at(2026, 11, 24, 17, 0)
    assert SlaClock.objects.filter(ticket=ticket, metric="resolution").count() == 1


def test_priority_change_of_a_paused_clock_applies_on_resume(desk, standard):
    ticket = desk.create(at(2026, 11, 23, 9, 0))
    desk.reply(at(2026, 11, 23, 9, 30), ticket)
    ticket = desk.hold(at(2026, 11, 23, 11, 0), ticket)  # 2h used
    ticket = desk.set_priority(at(2026, 11, 23, 12, 0), ticket, 1)  # P1: 4h
    res = clock(ticket, "resolution")
    assert res.state == ClockState.PAUSED and res.target_seconds == 4 * HOUR
    desk.resume(at(2026, 11, 24, 9, 0), ticket)
    assert local(clock(ticket, "resolution").due_at) == at(2026, 11, 24, 11, 0)


def test_raising_priority_past_the_target_dates_the_breach_when_it_happened(desk, standard):
    ticket = desk.create(at(2026, 11, 23, 9, 0))  # P5
    desk.set_priority(at(2026, 11, 23, 13, 30), ticket, 1)  # P1 (4h) with 4.5h used
    res = clock(ticket, "resolution")
    assert res.elapsed_seconds == 4.5 * HOUR
    assert local(res.due_at) == at(2026, 11, 23, 13, 0)
    # 75% of 4h was passed at 12:00: in the past, so the next scan announces it.
    assert local(res.next_threshold_at) == at(2026, 11, 23, 12, 0)


def test_first_response_target_unchanged_by_priority_keeps_its_due_time(desk, standard):
    ticket = desk.create(at(2026, 11, 23, 9, 0))
    desk.set_priority(at(2026, 11, 23, 13, 0), ticket, 2)
    first = clock(ticket, "first_response")
    assert first.priority == 2 and local(first.due_at) == at(2026, 11, 23, 11, 0)


# --- reopening --------------------------------------------------------------------------------


def test_reopen_continues_the_clock_from_the_reopened_moment(desk, standard):
    ticket = desk.create(at(2026, 11, 23, 9, 0))  # Monday, P5 (40h)
    desk.reply(at(2026, 11, 23, 9, 30), ticket)
    ticket = desk.resolve(at(2026, 11, 23, 13, 0), ticket)  # 4h used
    res = clock(ticket, "resolution")
    assert res.state == ClockState.MET and res.elapsed_seconds == 4 * HOUR
    ticket = desk.reopen(at(2026, 11, 25, 10, 0), ticket)  # Wednesday 10:00
    again = clock(ticket, "resolution")
    assert again.pk == res.pk and again.cycle == 2
    assert again.state == ClockState.RUNNING and again.stopped_at is None
    assert again.elapsed_seconds == 4 * HOUR  # Monday afternoon to Wednesday did not count
    # 36h left from Wednesday 10:00: Wed 7h, Thu 8h, Fri 8h, Mon 8h, Tue 5h -> Tuesday 14:00.
    assert local(again.due_at) == at(2026, 12, 1, 14, 0)
    assert clock(ticket, "first_response").state == ClockState.MET  # stays met
    ticket = desk.resolve(at(2026, 11, 25, 12, 0), ticket)
    done = clock(ticket, "resolution")
    assert done.state == ClockState.MET and done.elapsed_seconds == 6 * HOUR
    desk.reopen(at(2026, 11, 26, 9, 0), ticket)
    assert SlaClock.objects.filter(ticket=ticket, metric="resolution").count() == 1
    assert clock(ticket, "resolution").cycle == 3


def test_reopen_restarts_from_zero_and_keeps_the_finished_cycle(desk, make_policy):
    make_policy("Restarting", restart_on_reopen=True)
    ticket = desk.create(at(2026, 11, 23, 9, 0))
    ticket = desk.resolve(at(2026, 11, 23, 13, 0), ticket)
    first_cycle = clock(ticket, "resolution")
    ticket = desk.reopen(at(2026, 11, 25, 10, 0), ticket)
    second = clock(ticket, "resolution")
    assert second.pk != first_cycle.pk and second.cycle == 2
    assert second.elapsed_seconds == 0 and local(second.started_at) == at(2026, 11, 25, 10, 0)
    # 40h from Wednesday 10:00: Wed 7h, Thu, Fri, Mon, Tue 8h each -> Wednesday 10:00.
    assert local(second.due_at) == at(2026, 12, 2, 10, 0)
    first_cycle.refresh_from_db()
    assert first_cycle.cycle == 1 and first_cycle.state == ClockState.MET
    assert first_cycle.elapsed_seconds == 4 * HOUR
    assert local(first_cycle.stopped_at) == at(2026, 11, 23, 13, 0)
    ticket = desk.resolve(at(2026, 11, 25, 11, 0), ticket)
    ticket = desk.reopen(at(2026, 11, 26, 9, 0), ticket)
    cycles = SlaClock.objects.filter(ticket=ticket, metric="resolution").order_by("pk")
    assert [c.cycle for c in cycles] == [1, 2, 3]
    assert [c.state for c in cycles] == ["met", "met", "running"]


# --- cancellation -----------------------------------------------------------------------------


def test_cancellation_cancels_every_running_and_paused_clock(desk, standard, events):
    from tests.sla.conftest import scan

    ticket = desk.create(at(2026, 11, 23, 9, 0))
    desk.reply(at(2026, 11, 23, 9, 30), ticket)
    ticket = desk.hold(at(2026, 11, 23, 10, 0), ticket)
    desk.cancel(at(2026, 11, 23, 11, 0), ticket)
    res = clock(ticket, "resolution")
    assert res.state == ClockState.CANCELLED
    assert local(res.stopped_at) == at(2026, 11, 23, 11, 0)
    assert res.due_at is None and res.next_threshold_at is None
    assert res.elapsed_seconds == HOUR
    assert res.pauses[-1][1] == iso(at(2026, 11, 23, 11, 0))  # the pause is closed
    assert clock(ticket, "first_response").state == ClockState.MET  # already met: stays
    assert scan(at(2026, 12, 31, 9, 0)).clocks_read == 0
    assert events.count() == 0


# --- several clocks, OLAs and underpinning contracts ------------------------------------------


@pytest.fixture
def ola_desk(make_policy, personas):
    return make_policy(
        "Desk OLA", type="ola", team=personas.team_desk, order=10, resolution={p: 2 for p in (5,)}
    )


@pytest.fixture
def vendor_uc(make_policy):
    return make_policy(
        "Mail vendor", type="uc", vendor="MailCo", first_response=None, resolution={5: 4}
    )


def test_several_clocks_at_once_each_records_its_policy(
    desk, standard, ola_desk, vendor_uc, personas
):
    ticket = desk.create(at(2026, 11, 23, 9, 0), team=personas.team_desk, priority=5)
    desk.reply(at(2026, 11, 23, 9, 10), ticket)
    ticket = desk.hold(at(2026, 11, 23, 10, 0), ticket, reason="awaiting_vendor")
    rows = {
        (c.policy_type, c.metric): c
        for c in SlaClock.objects.filter(ticket=ticket).select_related("policy")
    }
    assert set(rows) == {
        ("sla", "first_response"),
        ("sla", "resolution"),
        ("ola", "first_response"),
        ("ola", "resolution"),
        ("uc", "resolution"),
    }
    assert {k: c.policy for k, c in rows.items()} == {
        ("sla", "first_response"): standard,
        ("sla", "resolution"): standard,
        ("ola", "first_response"): ola_desk,
        ("ola", "resolution"): ola_desk,
        ("uc", "resolution"): vendor_uc,
    }
    assert rows["ola", "resolution"].team == personas.team_desk
    assert rows["uc", "resolution"].state == ClockState.RUNNING
    assert rows["sla", "resolution"].state == ClockState.RUNNING  # vendors do not pause the SLA


def test_ola_clocks_follow_the_team_that_holds_the_ticket(desk, make_policy, personas):
    make_policy("Standard")
    make_policy("Desk OLA", type="ola", team=personas.team_desk, order=10, resolution={5: 4})
    generic = make_policy("Any team OLA", type="ola", order=20, resolution={5: 8})
    ticket = desk.create(at(2026, 11, 23, 9, 0))
    assert not SlaClock.objects.filter(ticket=ticket, policy_type="ola").exists()

    ticket = desk.assign(at(2026, 11, 23, 10, 0), ticket, personas.team_desk)
    desk_clock = clock(ticket, "resolution", "ola")
    assert desk_clock.team == personas.team_desk and desk_clock.policy.name == "Desk OLA"
    assert local(desk_clock.started_at) == at(2026, 11, 23, 10, 0)
    assert local(desk_clock.due_at) == at(2026, 11, 23, 14, 0)

    personas.team_network.serves.add(personas.acme)  # may take Acme's tickets (decision 16)
    ticket = desk.assign(at(2026, 11, 23, 12, 0), ticket, personas.team_network)
    desk_clock.refresh_from_db()
    assert desk_clock.state == ClockState.MET
    assert local(desk_clock.stopped_at) == at(2026, 11, 23, 12, 0)
    assert desk_clock.elapsed_seconds == 2 * HOUR and desk_clock.team == personas.team_desk
    network_clock = clock(ticket, "resolution", "ola")
    assert network_clock.pk != desk_clock.pk and network_clock.policy == generic
    assert network_clock.team == personas.team_network
    assert local(network_clock.started_at) == at(2026, 11, 23, 12, 0)

    desk.resolve(at(2026, 11, 23, 13, 0), ticket)
    network_clock.refresh_from_db()
    assert network_clock.state == ClockState.MET and network_clock.elapsed_seconds == HOUR


def test_handover_to_a_team_without_an_ola_starts_no_clock(desk, make_policy, personas):
    make_policy("Desk OLA", type="ola", team=personas.team_desk, resolution={5: 4})
    ticket = desk.create(at(2026, 11, 23, 9, 0), team=personas.team_desk)
    personas.team_network.serves.add(personas.acme)  # may take Acme's tickets (decision 16)
    ticket = desk.assign(at(2026, 11, 23, 11, 0), ticket, personas.team_network)
    assert list(SlaClock.objects.filter(ticket=ticket).values_list("state", "team")) == [
        ("met", personas.team_desk.pk),
        ("met", personas.team_desk.pk),
    ]


def test_ola_resolution_clock_continues_after_reopen(desk, make_policy, personas):
    make_policy("Desk OLA", type="ola", team=personas.team_desk, resolution={5: 8})
    ticket = desk.create(at(2026, 11, 23, 9, 0), team=personas.team_desk)
    ticket = desk.resolve(at(2026, 11, 23, 10, 0), ticket)
    ticket = desk.reopen(at(2026, 11, 24, 9, 0), ticket)
    ola = SlaClock.objects.filter(ticket=ticket, policy_type="ola", metric="resolution")
    assert ola.count() == 1
    assert ola.get().state == ClockState.RUNNING and ola.get().elapsed_seconds == HOUR


def test_underpinning_contract_runs_only_while_awaiting_the_vendor(desk, standard, vendor_uc):
    ticket = desk.create(at(2026, 11, 23, 9, 0))
    assert clock(ticket, "resolution", "uc") is None
    ticket = desk.hold(at(2026, 11, 23, 10, 0), ticket, reason="awaiting_requester")
    assert clock(ticket, "resolution", "uc") is None
    ticket = desk.resume(at(2026, 11, 23, 10, 30), ticket)
    ticket = desk.hold(at(2026, 11, 23, 11, 0), ticket, reason="awaiting_vendor")
    uc = clock(ticket, "resolution", "uc")
    assert uc.state == ClockState.RUNNING and uc.policy == vendor_uc
    assert local(uc.started_at) == at(2026, 11, 23, 11, 0)
    assert local(uc.due_at) == at(2026, 11, 23, 15, 0)
    ticket = desk.resume(at(2026, 11, 23, 13, 0), ticket)  # the vendor delivered
    uc.refresh_from_db()
    assert uc.state == ClockState.MET and uc.elapsed_seconds == 2 * HOUR
    assert local(uc.stopped_at) == at(2026, 11, 23, 13, 0)

    ticket = desk.hold(at(2026, 11, 24, 9, 0), ticket, reason="awaiting_vendor")
    second = clock(ticket, "resolution", "uc")
    assert second.pk != uc.pk and second.state == ClockState.RUNNING
    desk.cancel(at(2026, 11, 24, 10, 0), ticket)
    second.refresh_from_db()
    assert second.state == ClockState.CANCELLED  # a cancelled ticket is no vendor success


# --- which policy applies ---------------------------------------------------------------------


def test_precedence_lowest_order_then_oldest(desk, make_policy, personas):
    newer = make_policy("Newer", order=50)
    older = make_policy("Older", order=50)
    older.created_at = newer.created_at - dt.timedelta(days=30)  # created later, yet older
    older.save()
    make_policy("First but for requests", order=10, kinds=["request"])
    ticket = desk.create(at(2026, 11, 23, 9, 0))
    assert clock(ticket, "resolution").policy == older

    vip = make_policy("Acme VIP", order=20, organizations=[personas.acme], resolution={5: 8})
    ticket = desk.create(at(2026, 11, 23, 9, 0))
    res = clock(ticket, "resolution")
    assert res.policy == vip and res.target_seconds == 8 * HOUR
    globex = desk.create(at(2026, 11, 23, 9, 0), requester=personas.requester_globex)
    assert clock(globex, "resolution").policy == older


def test_inactive_policies_do_not_apply(desk, make_policy):
    make_policy("Retired", order=1, is_active=False)
    current = make_policy("Current", order=50)
    ticket = desk.create(at(2026, 11, 23, 9, 0))
    assert clock(ticket, "resolution").policy == current


def test_policy_overlaps_name_the_pairs_and_the_one_that_applies(make_policy, personas):
    from servio.sla.selectors import policy_overlaps

    general = make_policy("General", order=50)
    vip = make_policy("Acme VIP", order=20, organizations=[personas.acme])
    requests = make_policy("Requests", order=30, kinds=["request"], priorities=[1, 2])
    make_policy("Incidents P3", order=40, kinds=["incident"], priorities=[3])
    make_policy("Desk OLA", type="ola", team=personas.team_desk)
    make_policy("Network OLA", type="ola", team=personas.team_network)
    pairs = {(a.name, b.name) for a, b in policy_overlaps(user=personas.agent_desk)}
    assert pairs == {
        ("Acme VIP", "Requests"),
        ("Acme VIP", "Incidents P3"),
        ("Acme VIP", "General"),
        ("Requests", "General"),
        ("Incidents P3", "General"),
    }
    assert general.pk and vip.pk and requests.pk


# --- the policies are read once per change of them ----------------------------------------------


def test_policies_are_read_again_only_after_they_change(desk, standard):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from servio.sla.models import SlaTarget

    desk.create(at(2026, 11, 24, 10, 0))  # reads the policies
    with CaptureQueriesContext(connection) as ctx:
        ticket = desk.create(at(2026, 11, 24, 10, 5))
    assert not [q for q in ctx.captured_queries if "sla_slapolicy" in q["sql"]]
    assert clock(ticket, "resolution").target_seconds == 40 * HOUR
    SlaTarget.objects.filter(policy=standard, metric="resolution", priority=5).update(minutes=60)
    ticket = desk.create(at(2026, 11, 24, 10, 10))
    assert clock(ticket, "resolution").target_seconds == HOUR
    assert clock(ticket, "first_response").policy == standard

"""SLA admin: calendars and policies are validated beside each field, changes are audited, and
clocks can be looked at but not changed."""

import pytest
from django.test import Client
from django.urls import reverse

from servio.audit.models import AuditEvent
from servio.sla.models import Calendar, ClockState, SlaClock, SlaPolicy, SlaTarget
from tests.sla.conftest import WEEKDAYS, at, clock, local

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(personas) -> Client:
    client = Client()
    client.force_login(personas.admin)
    return client


def hour_rows(hours: dict) -> dict:
    """The calendar form's rows for weekly hours given as the stored JSON."""
    data, row = {}, 0
    for day, pairs in hours.items():
        for start, end in pairs:
            data |= {f"hours-{row}-day": day, f"hours-{row}-start": start, f"hours-{row}-end": end}
            row += 1
    return data


def calendar_form(hours: dict | None = None, **change) -> dict:
    data = {
        "name": "Berlin",
        "time_zone": "Europe/Berlin",
        **hour_rows(WEEKDAYS if hours is None else hours),
        "holiday_country": "DE",
        "holiday_subdivision": "",
        "closed_dates-0-date": "",
        "extra_working_days-0-date": "",
    }
    data.update(change)
    return data


def form_errors(response) -> dict:
    assert response.status_code == 200, "the form was accepted"
    return {
        name: list(errors) for name, errors in response.context["adminform"].form.errors.items()
    }


def test_admin_creates_a_calendar_and_audits_it(admin_client):
    response = admin_client.post(reverse("admin:sla_calendar_add"), calendar_form())
    assert response.status_code == 302
    calendar = Calendar.objects.get()
    assert calendar.holiday_country == "DE" and calendar.hours["mon"] == [["09:00", "17:00"]]
    event = AuditEvent.objects.get(action="calendar.created_in_admin")
    assert event.object_id == str(calendar.pk) and "time_zone" in event.changes


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone", "Unknown time zone"),
        ({"holiday_country": "XX"}, "holiday_country", "Unknown holiday country"),
        ({"hours": {}}, "hours", "no working time"),
        ({"hours": {"mon": [["09:00", "13:00"], ["12:00", "17:00"]]}}, "hours", "overlaps"),
        ({"hours": {"mon": [["9am", "17:00"]]}}, "hours", "Row 1: '9am' is not a time"),
        ({"hours": {"": [["09:00", "17:00"]]}}, "hours", "Row 1: choose the day."),
        ({"hours": {"mon": [["09:00", "25:00"]]}}, "hours", "'25:00' is not a time"),
        ({"closed_dates-0-date": "someday"}, "closed_dates", "Row 1: 'someday' is not a date"),
        (
            {"extra_working_days-0-date": "2026-12-19", "extra_working_days-0-start": "09:00"},
            "extra_working_days",
            "Row 1: a time is missing",
        ),
    ],
)
def test_admin_shows_calendar_errors_beside_the_field(admin_client, change, field, words):
    hours = change.pop("hours", None)
    form = calendar_form(hours, **change)
    response = admin_client.post(reverse("admin:sla_calendar_add"), form)
    errors = form_errors(response)
    assert set(errors) == {field}
    assert words in " ".join(errors[field])
    assert not Calendar.objects.exists()


def test_admin_calendar_change_keeps_business_time_already_used(admin_client, desk, standard):
    ticket = desk.create(at(2026, 11, 23, 9, 0))  # P5: 40h on Mon-Fri 09:00-17:00
    desk.reply(at(2026, 11, 23, 9, 5), ticket)
    calendar = standard.targets.first().calendar
    from tests.sla.conftest import travel

    longer = {d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
    with travel(at(2026, 11, 23, 13, 0)):  # 4h used on the old hours
        response = admin_client.post(
            reverse("admin:sla_calendar_change", args=[calendar.pk]),
            calendar_form(longer, name=calendar.name, holiday_subdivision="BE"),
        )
    assert response.status_code == 302
    res = clock(ticket, "resolution")
    assert res.elapsed_seconds == 4 * 3600
    # 36h left from Monday 13:00 at 10h a day: Mon 5h, Tue-Thu 30h, Fri 08:00 + 1h.
    assert local(res.due_at) == at(2026, 11, 27, 9, 0)
    assert AuditEvent.objects.filter(action="calendar.updated_in_admin").count() == 1


def policy_form(calendar: Calendar, **change) -> dict:
    data = {
        "name": "Gold",
        "type": "sla",
        "is_active": "on",
        "order": "10",
        "vendor": "",
        "pause_on": ["on_hold:awaiting_requester"],
        "warning_thresholds-0": "75",
        "warning_thresholds-1": "90",
        "warning_thresholds-2": "",
        "escalations-0-at": "100",
        "escalations-0-action": "notify_team_lead",
        "escalations-0-team": "",
        "escalations-1-at": "",
        "escalations-1-action": "",
        "escalations-1-team": "",
        "targets-TOTAL_FORMS": "1",
        "targets-INITIAL_FORMS": "0",
        "targets-MIN_NUM_FORMS": "0",
        "targets-MAX_NUM_FORMS": "1000",
        "targets-0-metric": "resolution",
        "targets-0-priority": "3",
        "targets-0-minutes": "480",
        "targets-0-calendar": str(calendar.pk),
    }
    data.update(change)
    return data


def test_admin_creates_a_policy_with_targets_audited(admin_client, berlin):
    response = admin_client.post(reverse("admin:sla_slapolicy_add"), policy_form(berlin))
    assert response.status_code == 302, form_errors(response)
    policy = SlaPolicy.objects.get()
    target = SlaTarget.objects.get()
    assert target.policy == policy and target.minutes == 480 and target.calendar == berlin
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"slapolicy.created_in_admin", "slatarget.created_in_admin"} <= actions


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"warning_thresholds-1": "120"}, "warning_thresholds", "change 120"),
        ({"warning_thresholds-1": "soon"}, "warning_thresholds", "'soon' is not a number"),
        ({"pause_on": ["sleeping"]}, "pause_on", "'sleeping' cannot pause a clock"),
        ({"pause_on": ["resolved"]}, "pause_on", "'resolved' cannot pause a clock"),
        ({"escalations-1-at": "90", "escalations-1-action": "page_the_ceo"}, "escalations",
         "Row 2: choose what happens"),
        ({"escalations-1-at": "90", "escalations-1-action": "reassign"}, "escalations",
         "Row 2: reassigning needs a team: choose the team in this row."),
        ({"escalations-1-at": "-5", "escalations-1-action": "notify_team"}, "escalations",
         "Row 2: give the level as a percentage"),
        ({"escalations-1-at": "150", "escalations-1-action": "reassign",
          "escalations-1-team": "999999"}, "escalations", "not an active team"),
        ({"kinds": ["invoice"]}, "kinds", "invoice is not one of the available choices"),
        ({"priorities": ["0", "9"]}, "priorities", "0 is not one of the available choices"),
    ],
)  # fmt: skip
def test_admin_shows_policy_errors_beside_the_field(admin_client, berlin, change, field, words):
    response = admin_client.post(reverse("admin:sla_slapolicy_add"), policy_form(berlin, **change))
    errors = form_errors(response)
    assert set(errors) == {field}
    assert words in " ".join(errors[field])
    assert not SlaPolicy.objects.exists()


def test_admin_policy_change_reschedules_running_clocks(admin_client, desk, standard, personas):
    ticket = desk.create(at(2026, 11, 23, 9, 0))
    first = clock(ticket, "first_response")
    assert local(first.next_threshold_at) == at(2026, 11, 23, 10, 30)
    data = policy_form(
        standard.targets.first().calendar,
        name="Standard",
        order="100",
        **{
            "warning_thresholds-0": "50",
            "warning_thresholds-1": "",
            "escalations-0-at": "",
            "escalations-0-action": "",
            "targets-TOTAL_FORMS": "0",
        },
    )
    response = admin_client.post(reverse("admin:sla_slapolicy_change", args=[standard.pk]), data)
    assert response.status_code == 302, form_errors(response)
    assert local(clock(ticket, "first_response").next_threshold_at) == at(2026, 11, 23, 10, 0)
    assert AuditEvent.objects.filter(action="slapolicy.updated_in_admin").exists()


def test_admin_clocks_are_read_only(admin_client, desk, standard):
    ticket = desk.create(at(2026, 11, 23, 9, 0))
    item = clock(ticket, "resolution")
    url = reverse("admin:sla_slaclock_change", args=[item.pk])
    assert admin_client.get(reverse("admin:sla_slaclock_changelist")).status_code == 200
    assert admin_client.get(url).status_code == 200
    admin_client.post(url, {"state": "met", "breached": "on"})
    item.refresh_from_db()
    assert item.state == ClockState.RUNNING and not item.breached
    assert admin_client.get(reverse("admin:sla_slaclock_add")).status_code == 403
    assert SlaClock.objects.count() == 2


def test_admin_target_rows_changed_and_deleted_inline_are_audited(admin_client, berlin):
    response = admin_client.post(reverse("admin:sla_slapolicy_add"), policy_form(berlin))
    assert response.status_code == 302, form_errors(response)
    policy, target = SlaPolicy.objects.get(), SlaTarget.objects.get()
    data = policy_form(
        berlin,
        **{
            "targets-INITIAL_FORMS": "1",
            "targets-0-id": str(target.pk),
            "targets-0-policy": str(policy.pk),
            "targets-0-minutes": "240",
        },
    )
    url = reverse("admin:sla_slapolicy_change", args=[policy.pk])
    assert admin_client.post(url, data).status_code == 302
    event = AuditEvent.objects.get(action="slatarget.updated_in_admin")
    assert event.object_id == str(target.pk) and event.changes == {"minutes": [480, 240]}
    assert admin_client.post(url, {**data, "targets-0-DELETE": "on"}).status_code == 302
    assert not SlaTarget.objects.exists()
    event = AuditEvent.objects.get(action="slatarget.deleted_in_admin")
    assert event.object_id == str(target.pk)


# --- configuration without JSON (issue 14, item 11) -------------------------------------------


def test_policy_form_offers_controls_not_json_boxes(admin_client, standard):
    page = admin_client.get(reverse("admin:sla_slapolicy_change", args=[standard.pk]))
    html = page.content.decode()
    for name in ("kinds", "priorities", "pause_on", "warning_thresholds", "escalations"):
        assert f'<textarea name="{name}"' not in html, name
    # Pausing statuses: a checkbox per open status of the workflows, none of the closed ones.
    from servio.tickets import workflows

    for status in workflows.open_statuses():
        assert f'type="checkbox" name="pause_on" value="{status}"' in html, status
    for status in workflows.closed_statuses():
        assert f'name="pause_on" value="{status}"' not in html, status
    assert 'name="pause_on" value="on_hold:awaiting_requester"' in html
    assert 'type="checkbox" name="priorities" value="1"' in html
    assert 'type="number" name="warning_thresholds-0"' in html
    assert 'type="number" name="escalations-0-at"' in html
    assert '<select name="escalations-0-action"' in html
    assert '<select name="escalations-0-team"' in html


def test_policy_form_saves_the_controls_as_the_stored_structure(admin_client, berlin, personas):
    team = personas.agent_desk.teams.first()
    data = policy_form(
        berlin,
        kinds=["incident"],
        priorities=["1", "2"],
        pause_on=["on_hold:awaiting_requester", "on_hold:awaiting_vendor"],
        **{
            "warning_thresholds-0": "90",
            "warning_thresholds-1": "75",
            "warning_thresholds-2": "75",  # twice: kept once
            "escalations-1-at": "150",
            "escalations-1-action": "reassign",
            "escalations-1-team": str(team.pk),
            "escalations-2-at": "87.5",
            "escalations-2-action": "notify_team",
            "escalations-2-team": "",
        },
    )
    response = admin_client.post(reverse("admin:sla_slapolicy_add"), data)
    assert response.status_code == 302, form_errors(response)
    policy = SlaPolicy.objects.get()
    assert policy.kinds == ["incident"] and policy.priorities == [1, 2]
    assert policy.pause_on == ["on_hold:awaiting_requester", "on_hold:awaiting_vendor"]
    assert policy.warning_thresholds == [75, 90]
    assert policy.escalations == [
        {"at": 87.5, "action": "notify_team"},
        {"at": 100, "action": "notify_team_lead"},
        {"at": 150, "action": "reassign", "team": team.pk},
    ]
    event = AuditEvent.objects.get(action="slapolicy.created_in_admin")
    assert event.changes["warning_thresholds"] == [None, [75, 90]]
    # Shown again as it was stored, with spare rows to add more.
    page = admin_client.get(reverse("admin:sla_slapolicy_change", args=[policy.pk])).content
    assert b'name="warning_thresholds-1" id="id_warning_thresholds-1" value="90"' in page
    assert b'name="escalations-4-at"' in page  # three stored rows, two spare
    # Saving it unchanged changes nothing.
    unchanged = {
        **data,
        "warning_thresholds-0": "75",
        "warning_thresholds-1": "90",
        "warning_thresholds-2": "",
        "targets-TOTAL_FORMS": "0",
    }
    url = reverse("admin:sla_slapolicy_change", args=[policy.pk])
    assert admin_client.post(url, unchanged).status_code == 302
    updated = AuditEvent.objects.get(action="slapolicy.updated_in_admin")
    assert "warning_thresholds" not in updated.changes and "escalations" not in updated.changes


def test_a_stored_escalation_to_a_team_gone_inactive_is_shown_and_refused(admin_client, berlin):
    from servio.accounts.models import Team

    old = Team.objects.create(name="Old desk", slug="old-desk")
    policy = SlaPolicy.objects.create(
        name="Gold", escalations=[{"at": 150, "action": "reassign", "team": old.pk}]
    )
    Team.objects.filter(pk=old.pk).update(is_active=False)
    url = reverse("admin:sla_slapolicy_change", args=[policy.pk])
    html = admin_client.get(url).content.decode()
    assert f'<option value="{old.pk}" selected>Old desk (inactive)</option>' in html
    data = policy_form(
        berlin,
        **{
            "escalations-0-at": "150",
            "escalations-0-action": "reassign",
            "escalations-0-team": str(old.pk),
            "targets-TOTAL_FORMS": "0",
        },
    )
    errors = form_errors(admin_client.post(url, data))
    assert errors == {
        "escalations": ["Row 1: the team chosen is not an active team; choose another."]
    }


def test_calendar_form_rows_save_as_the_stored_structure(admin_client):
    form = calendar_form(
        {"tue": [["13:00", "17:00"], ["8:00", "12:00"]], "mon": [["22:00", "06:00"]]},
        **{
            "closed_dates-0-date": "2026-12-24",
            "closed_dates-1-date": "2026-12-24",
            "closed_dates-2-date": "2026-12-31",
            "extra_working_days-0-date": "2026-12-19",
            "extra_working_days-0-start": "09:00",
            "extra_working_days-0-end": "13:00",
        },
    )
    response = admin_client.post(reverse("admin:sla_calendar_add"), form)
    assert response.status_code == 302, form_errors(response)
    calendar = Calendar.objects.get()
    assert calendar.hours == {
        "mon": [["22:00", "06:00"]],
        "tue": [["08:00", "12:00"], ["13:00", "17:00"]],
    }
    assert calendar.closed_dates == ["2026-12-24", "2026-12-31"]
    assert calendar.extra_working_days == {"2026-12-19": [["09:00", "13:00"]]}
    page = admin_client.get(reverse("admin:sla_calendar_change", args=[calendar.pk]))
    html = page.content.decode()
    for name in ("hours", "closed_dates", "extra_working_days"):
        assert f'<textarea name="{name}"' not in html
    assert '<option value="tue" selected>Tuesday</option>' in html
    assert 'name="hours-1-start" id="id_hours-1-start" value="08:00"' in html
    assert (
        'type="date" name="closed_dates-1-date" id="id_closed_dates-1-date" value="2026-12-31"'
        in (html)
    )


def test_calendar_hours_stored_in_other_spellings_are_shown_as_rows(admin_client):
    calendar = Calendar.objects.create(
        name="API made",
        time_zone="UTC",
        hours={"Monday": [["9:00:00", "17:00:00"]], "FRI": [["08:00:30", "12:00"]]},
    )
    page = admin_client.get(reverse("admin:sla_calendar_change", args=[calendar.pk]))
    html = page.content.decode()
    assert '<option value="mon" selected>Monday</option>' in html
    assert '<option value="fri" selected>Friday</option>' in html
    field = page.context["adminform"].form.fields["hours"]
    assert field.to_python(calendar.hours) == {
        "mon": [["09:00", "17:00"]],
        "fri": [["08:00:30", "12:00"]],
    }
    seven = [[["09:00", "17:00"]]] * 5 + [[], []]
    assert field.to_python(seven) == {d: [["09:00", "17:00"]] for d in WEEKDAYS}

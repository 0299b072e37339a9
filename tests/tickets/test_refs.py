"""Organisations, teams, services and categories by id (servio.tickets.refs): current after any
change, and what one caller loads through a record never reaches another caller."""

from __future__ import annotations

import pytest

from servio.tickets import refs

pytestmark = pytest.mark.django_db


def test_a_renamed_team_is_seen_at_once(personas):
    team = personas.team_desk
    assert refs.get("team", team.pk).name == "Service Desk"
    team.name = "Front Desk"
    team.save()
    assert refs.get("team", team.pk).name == "Front Desk"
    assert refs.get("team", 10**9) is None


def test_related_records_loaded_by_one_caller_are_not_shared(personas):
    team = personas.team_desk
    first = refs.get("team", team.pk)
    assert first.lead.full_name == "Lena Lead"  # loads the lead onto this copy
    lead = personas.lead_desk
    lead.full_name = "Lena Renamed"
    lead.save()  # users are not cached: no configuration change
    second = refs.get("team", team.pk)
    assert second is not first
    assert second.lead.full_name == "Lena Renamed"

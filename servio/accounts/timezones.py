"""Whose time zone applies: the one place that answers it (decision 37).

A person's zone is their own choice, else their organisation's, else the installation's
(`settings.TIME_ZONE`, set by `SERVIO_TIME_ZONE`). A blank `time_zone` means "not chosen here:
ask the next one". Pages, emails and canned responses all ask `effective_zone(user)`; the API
answers in UTC whatever the caller's zone.
"""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError

from servio.core.errors import ValidationFailed

FIELD = "time_zone"


@cache
def zone_names() -> frozenset[str]:
    """The IANA names of the installed time zone database (`Europe/Berlin`, `UTC`, ...)."""
    from zoneinfo import available_timezones

    # `localtime` and `posixrules` are files of the database, not zones a person lives in.
    return frozenset(n for n in available_timezones() if n not in {"localtime", "posixrules"})


@cache
def zone_choices() -> list[str]:
    """Every zone name, sorted, for a searchable select."""
    return sorted(zone_names())


def reason(name: str) -> str:
    return (
        f"'{name}' is not a time zone name. Use an IANA name such as Europe/Berlin, "
        "America/New_York or UTC, or leave it empty to use the default."
    )


def clean_zone_name(name: str | None, field: str = FIELD) -> str:
    """The name as stored ('' for "use the default"), or 422 naming `field`."""
    name = (name or "").strip()
    if name and name not in zone_names():
        raise ValidationFailed.field(field, reason(name))
    return name


def validate_zone_name(value: str) -> None:
    """Model-field validator: the admin's forms show the error beside the field."""
    if value and value not in zone_names():
        raise ValidationError(reason(value), code="invalid_time_zone")


def installation_zone_name() -> str:
    return settings.TIME_ZONE or "UTC"


def organization_zone_name(organization) -> str:
    """An organisation's zone, else the installation's."""
    own = getattr(organization, "time_zone", "") if organization is not None else ""
    return _known(own) or installation_zone_name()


def effective_zone_name(user) -> str:
    """The zone `user` reads times in: their own, else their organisation's, else the
    installation's. Anonymous visitors and the system get the installation's."""
    if user is None or not getattr(user, "is_authenticated", False):
        return installation_zone_name()
    own = _known(getattr(user, "time_zone", ""))
    if own:
        return own
    if getattr(user, "organization_id", None) is None:
        return installation_zone_name()
    return organization_zone_name(user.organization)


def effective_zone(user) -> ZoneInfo:
    return zone(effective_zone_name(user))


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # a stored name the database no longer has
        return ZoneInfo("UTC")


def _known(name: str | None) -> str:
    """A stored name if the zone database still knows it, else '' (fall through)."""
    return name if name and name in zone_names() else ""

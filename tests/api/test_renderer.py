"""The orjson renderer writes what ninja's standard renderer wrote, value for value."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json
import uuid

from django.utils.translation import gettext_lazy
from ninja.renderers import JSONRenderer
from pydantic import BaseModel

from servio.api.renderer import JsonRenderer


class Colour(enum.Enum):  # a plain Enum, not a str one
    RED = "red"


class Item(BaseModel):
    at: dt.datetime
    size: int


def test_the_output_is_the_standard_encoders():
    data = {
        "at": dt.datetime(2026, 12, 7, 17, 1, 2, 345678, tzinfo=dt.UTC),
        "local": dt.datetime(2026, 12, 7, 18, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        "day": dt.date(2026, 1, 2),
        "time": dt.time(9, 30),
        "span": dt.timedelta(hours=1, minutes=5),
        "amount": decimal.Decimal("1.50"),
        "id": uuid.UUID("0c1ea349-90a6-4505-b471-063f4d22172a"),
        "text": gettext_lazy("Hello"),
        "html": "<script>alert(1)</script> & é",
        "list": [1, None, True, 2.5],
        "model": Item(at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), size=3),
        7: "a number as a key",
    }
    ours = JsonRenderer().render(None, data, response_status=200)  # type: ignore[arg-type]
    standard = JSONRenderer().render(None, data, response_status=200)  # type: ignore[arg-type]
    assert json.loads(ours) == json.loads(standard)
    assert b'"at":"2026-12-07T17:01:02.345Z"' in ours  # Django's format, not orjson's own


def test_a_plain_enum_is_written_as_its_value():
    # The standard encoder wrote str(member), "Colour.RED", which no client could use.
    assert JsonRenderer().render(None, {"c": Colour.RED}, response_status=200) == b'{"c":"red"}'  # type: ignore[arg-type]

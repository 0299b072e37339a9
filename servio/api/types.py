"""Field types shared by API schemas."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator


def _to_utc(value: dt.datetime) -> dt.datetime:
    """Any offset the client sends becomes UTC (databases refuse some legal ISO offsets);
    a time without an offset is taken as UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=dt.UTC)
    try:
        return value.astimezone(dt.UTC)
    except (OverflowError, ValueError) as exc:
        raise ValueError("is outside the range of dates Servio can store") from exc


UtcDateTime = Annotated[dt.datetime, AfterValidator(_to_utc)]

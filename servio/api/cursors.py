"""Page cursors: signed per list (model and order), read back only as the values the sort
columns hold, so a forged, damaged or outdated cursor is a clear error, never a 500."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from django.core import signing
from django.db import connection, models
from django.utils.dateparse import parse_date, parse_datetime

from servio.api.parser import storable_text_error
from servio.audit.services import json_safe
from servio.core.errors import ValidationFailed

# Far longer than any cursor we issue (about 100 characters); refused before any work.
MAX_CURSOR_LENGTH = 1000
_SALT = "servio.api.cursors"


class InvalidCursor(ValidationFailed):
    """A cursor this list did not issue, or one that no longer fits its order."""

    def __init__(self) -> None:
        super().__init__(
            {
                "cursor": "The cursor is not valid for this list. Use the next_cursor value of "
                "the previous page, or leave cursor out to start at the first page."
            }
        )


def cursor_scope(model: type[models.Model], order: Sequence[str]) -> str:
    """What a cursor is bound to: the list's model and its order (a cursor of another list, or
    of this list under another sort, fails the signature check)."""
    return f"{model._meta.label_lower}:{','.join(order)}"


def _signer(scope: str) -> signing.Signer:
    return signing.Signer(salt=f"{_SALT}:{scope}")


def encode_cursor(values: Sequence[Any], *, scope: str) -> str:
    """The signed cursor of the position after a row whose sort values are `values`."""
    return _signer(scope).sign_object(json_safe(list(values)))


def decode_cursor(cursor: str, *, scope: str, fields: Sequence[models.Field]) -> list[Any]:
    """The sort values a cursor carries, each as its column holds it; InvalidCursor otherwise."""
    if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursor
    try:
        values = _signer(scope).unsign_object(cursor)
    except (signing.BadSignature, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor from exc
    if not isinstance(values, list) or len(values) != len(fields):
        raise InvalidCursor
    return [column_value(field, value) for field, value in zip(fields, values, strict=True)]


def column_value(field: models.Field, value: Any) -> Any:
    """`value` (as JSON carried it) as a value of `field`'s column, or InvalidCursor.

    Sort columns are never null, so None is refused; each type takes only the JSON type we
    write for it, within what the database stores (a cursor from an older version of a sort
    whose column changed type fails here, not in the database)."""
    while isinstance(field, models.ForeignKey):  # a foreign key: the key it points to
        field = field.target_field
    for kinds, reader in _READERS:
        if isinstance(field, kinds):
            try:
                result = reader(field, value)
            except (ValueError, TypeError, OverflowError, ArithmeticError) as exc:
                raise InvalidCursor from exc
            if result is None:
                raise InvalidCursor
            return result
    raise InvalidCursor  # a column type we do not sort by: refuse rather than guess


def _datetime(field: models.Field, value: Any) -> dt.datetime | None:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None or parsed.tzinfo is None:
        return None
    return parsed.astimezone(dt.UTC)  # OverflowError at the edges of the calendar


def _date(field: models.Field, value: Any) -> dt.date | None:
    return parse_date(value) if isinstance(value, str) else None


def _integer(field: models.Field, value: Any) -> int | None:
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    low, high = connection.ops.integer_field_range(field.get_internal_type())
    if (low is not None and value < low) or (high is not None and value > high):
        return None
    return value


def _text(field: models.Field, value: Any) -> str | None:
    if not isinstance(value, str) or storable_text_error(value):
        return None
    return value


def _boolean(field: models.Field, value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _decimal(field: models.Field, value: Any) -> decimal.Decimal | None:
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    number = decimal.Decimal(value)  # InvalidOperation is an ArithmeticError
    return number if number.is_finite() else None


def _float(field: models.Field, value: Any) -> float | None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    return float(value) if math.isfinite(value) else None


def _uuid(field: models.Field, value: Any) -> uuid.UUID | None:
    return uuid.UUID(value) if isinstance(value, str) else None


# Most specific first: a DateTimeField is a DateField, a BooleanField is not an IntegerField.
_READERS: list[tuple[type | tuple[type, ...], Callable[[models.Field, Any], Any]]] = [
    (models.DateTimeField, _datetime),
    (models.DateField, _date),
    (models.BooleanField, _boolean),
    ((models.IntegerField, models.AutoField), _integer),
    ((models.CharField, models.TextField), _text),
    (models.DecimalField, _decimal),
    (models.FloatField, _float),
    (models.UUIDField, _uuid),
]

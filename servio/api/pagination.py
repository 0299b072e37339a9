"""Cursor (keyset) pagination for every list endpoint: stable under inserts, O(page) cost."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model, Q, QuerySet
from ninja import Field, Schema

from servio.api.parser import storable_text_error
from servio.audit.services import json_safe
from servio.core.errors import ValidationFailed

T = TypeVar("T", bound=Model)


class PageQuery(Schema):
    """The query parameters of every list endpoint (absent means "first page, default size")."""

    # Typed without "| None" so the document says "integer" / "string" (a nullable query
    # parameter invites clients, and schemathesis, to send the text "null"); absent is None.
    cursor: str = Field(None, max_length=2000, description="The `next_cursor` of a previous page.")
    limit: int = Field(
        None,
        ge=1,
        le=settings.SERVIO_API_MAX_PAGE_SIZE,
        description=f"Page size (default {settings.SERVIO_API_PAGE_SIZE}).",
    )


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(json_safe(values), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, expected: int) -> list[Any]:
    invalid = ValidationFailed.field(
        "cursor", "The cursor is not valid. Use the next_cursor value of a previous page."
    )
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise invalid from exc
    if not isinstance(values, list) or len(values) != expected:
        raise invalid
    for value in values:  # a forged cursor: refuse what no column holds or a database rejects
        if isinstance(value, str) and storable_text_error(value):
            raise invalid
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            raise invalid
    return values


def _attr(obj: Any, path: str) -> Any:
    if isinstance(obj, dict):  # a row of QuerySet.values()
        return obj[path]
    for part in path.split("__"):
        obj = getattr(obj, part)
    return obj


def page_limit(limit: int | None) -> int:
    if limit is None:
        return settings.SERVIO_API_PAGE_SIZE
    if limit < 1 or limit > settings.SERVIO_API_MAX_PAGE_SIZE:
        raise ValidationFailed.field(
            "limit", f"limit must be between 1 and {settings.SERVIO_API_MAX_PAGE_SIZE}."
        )
    return limit


def paginate(
    queryset: QuerySet[T], *, order: list[str], cursor: str | None, limit: int | None
) -> Page[T]:
    """Order by `order` (its last field must be unique and no field may be null) and cut a page."""
    size = page_limit(limit)
    fields = [(name.lstrip("-"), name.startswith("-")) for name in order]
    qs = queryset.order_by(*order)
    if cursor:
        values = decode_cursor(cursor, len(fields))
        model = queryset.model
        converted = []
        for (name, _), value in zip(fields, values, strict=True):
            field = _model_field(model, name) or _annotation_field(queryset, name)
            try:
                converted.append(field.to_python(value) if field is not None else value)
            except Exception as exc:  # any bad value is a bad cursor, never a 500
                raise ValidationFailed.field("cursor", "The cursor is not valid.") from exc
        condition = Q()
        for i, (name, descending) in enumerate(fields):
            step = Q(**{f"{name}__{'lt' if descending else 'gt'}": converted[i]})
            for j in range(i):
                step &= Q(**{fields[j][0]: converted[j]})
            condition |= step
        qs = qs.filter(condition)
    items = list(qs[: size + 1])
    next_cursor = None
    if len(items) > size:
        items = items[:size]
        last = items[-1]
        next_cursor = encode_cursor([_attr(last, name) for name, _ in fields])
    return Page(items=items, next_cursor=next_cursor)


def _annotation_field(queryset: QuerySet, name: str):
    """The output field of an annotation we sort by (e.g. an SLA due time), for cursor values."""
    annotation = queryset.query.annotations.get(name)
    if annotation is None:
        raise ValidationFailed.field("cursor", "The cursor is not valid.")
    return annotation.output_field


def _model_field(model, path: str):
    parts = path.split("__")
    field = None
    for part in parts:
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        if field.is_relation and field.related_model is not None and part != parts[-1]:
            model = field.related_model
    return field

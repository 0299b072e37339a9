"""Cursor (keyset) pagination for every list endpoint: stable under inserts, O(page) cost."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Field as ModelField
from django.db.models import Model, Q, QuerySet
from ninja import Field, Schema

from servio.api.cursors import (
    MAX_CURSOR_LENGTH,
    InvalidCursor,
    cursor_scope,
    decode_cursor,
    encode_cursor,
)
from servio.core.errors import ValidationFailed

__all__ = ["InvalidCursor", "Page", "PageQuery", "encode_cursor", "page_limit", "paginate"]

T = TypeVar("T", bound=Model)


class PageQuery(Schema):
    """The query parameters of every list endpoint (absent means "first page, default size")."""

    # Typed without "| None" so the document says "integer" / "string" (a nullable query
    # parameter invites clients, and schemathesis, to send the text "null"); absent is None.
    cursor: str = Field(
        None, max_length=MAX_CURSOR_LENGTH, description="The `next_cursor` of a previous page."
    )
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
    """Order by `order` (its last field must be unique and no field may be null) and cut a page.

    A cursor this list did not issue raises InvalidCursor (a ValidationFailed naming `cursor`:
    422 in the API; pages catch it and show the first page)."""
    size = page_limit(limit)
    fields = [(name.lstrip("-"), name.startswith("-")) for name in order]
    scope = cursor_scope(queryset.model, order)
    qs = queryset.order_by(*order)
    if cursor:
        columns = [_sort_field(queryset, name) for name, _ in fields]
        values = decode_cursor(cursor, scope=scope, fields=columns)
        condition = Q()
        for i, (name, descending) in enumerate(fields):
            step = Q(**{f"{name}__{'lt' if descending else 'gt'}": values[i]})
            for j in range(i):
                step &= Q(**{fields[j][0]: values[j]})
            condition |= step
        qs = qs.filter(condition)
    items = list(qs[: size + 1])
    next_cursor = None
    if len(items) > size:
        items = items[:size]
        last = items[-1]
        next_cursor = encode_cursor([_attr(last, name) for name, _ in fields], scope=scope)
    return Page(items=items, next_cursor=next_cursor)


def _sort_field(queryset: QuerySet, name: str) -> ModelField:
    """The column (or annotation output) a sort key reads, to type the cursor's values."""
    field = _model_field(queryset.model, name)
    if field is None:
        annotation = queryset.query.annotations.get(name)
        if annotation is None:
            raise ValueError(f"cannot paginate by {name!r}: not a field or annotation")
        field = annotation.output_field
    return field


def _model_field(model, path: str) -> ModelField | None:
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

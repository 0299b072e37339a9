"""Cursor (keyset) pagination for every list endpoint: stable under inserts, O(page) cost."""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter
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
    # parameter invites clients, and schemathesis, to send the text "null"); absent is None
    # (hence the ignores: mypy reads this module through the ticket selectors).
    cursor: str = Field(  # type: ignore[assignment]
        None, max_length=MAX_CURSOR_LENGTH, description="The `next_cursor` of a previous page."
    )
    limit: int = Field(  # type: ignore[assignment]
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
    queryset: QuerySet[T],
    *,
    order: list[str],
    cursor: str | None,
    limit: int | None,
    window: int | None = None,
) -> Page[T]:
    """Order by `order` (its last field must be unique and no field may be null) and cut a page.

    `window` (a number of rows) is for a filter that the database finds through an index of
    its own, one that does not give `order` (text search): see `_windowed`. The first field
    of `order` must then be a column with an index in that order.

    A cursor this list did not issue raises InvalidCursor (a ValidationFailed naming `cursor`:
    422 in the API; pages catch it and show the first page)."""
    size = page_limit(limit)
    fields = [(name.lstrip("-"), name.startswith("-")) for name in order]
    scope = cursor_scope(queryset.model, order)
    qs = queryset.order_by(*order)
    after = Q()
    if cursor:
        columns = [_sort_field(queryset, name) for name, _ in fields]
        values = decode_cursor(cursor, scope=scope, fields=columns)
        for i, (name, descending) in enumerate(fields):
            step = Q(**{f"{name}__{'lt' if descending else 'gt'}": values[i]})
            for j in range(i):
                step &= Q(**{fields[j][0]: values[j]})
            after |= step
        qs = qs.filter(after)
    items = list(qs[: size + 1]) if window is None else _windowed(qs, order, after, window, size)
    next_cursor = None
    if len(items) > size:
        items = items[:size]
        last = items[-1]
        next_cursor = encode_cursor([_attr(last, name) for name, _ in fields], scope=scope)
    return Page(items=items, next_cursor=next_cursor)


def _windowed(qs: QuerySet[T], order: list[str], after: Q, window: int, size: int) -> list[T]:
    """The page (size + 1 rows) of a filter whose matches the database finds through an index
    of their own (text search), without a read that could walk the whole table.

    An ordered read with LIMIT stops after the page, but the database must guess how many rows
    it walks to find the matches, and a word rarer than it guessed made it walk the whole table
    (28 s for a word in 34 of a million tickets, decision 28). So the page is looked for first
    among the next `window` rows of the whole table in this order (after the cursor): a range
    of the first sort key, whose index gives its bound, so an ordered walk reads at most the
    window (the database may also combine the range with the filter's index, or, when it
    believes the matches rare, read them all through that index). A page found there is the
    page of the whole list, since every row outside the window sorts after every row inside.
    Otherwise the matches are sparse here, and the keys of all remaining matches are read
    without an order (through the filter's index, as many rows as there are matches), sorted
    here, and the page is read by its unique keys."""
    first, descending = order[0].lstrip("-"), order[0].startswith("-")
    table = qs.model._base_manager.filter(after).order_by(*order)
    bound = next(iter(table.values_list(first, flat=True)[window : window + 1]), None)
    if bound is None:  # fewer rows than the window remain: reading them in order is bounded
        return list(qs[: size + 1])
    items = list(qs.filter(**{f"{first}__{'gte' if descending else 'lte'}": bound})[: size + 1])
    if len(items) > size:
        return items
    names = [name.lstrip("-") for name in order]
    keys = list(qs.order_by().values_list(*names))
    for position in reversed(range(len(names))):  # stable sorts, last key first
        keys.sort(key=itemgetter(position), reverse=order[position].startswith("-"))
    chosen = [key[-1] for key in keys[: size + 1]]
    return list(qs.filter(**{f"{names[-1]}__in": chosen})) if chosen else []


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

"""Form controls for configuration the admin used to take as JSON: lists of percentages as
number inputs, lists of records as rows of inputs (one row per item), each cleaned into the
JSON the model stores, with messages that say what to change.

A widget names its inputs `<field>-<row>` (or `<field>-<row>-<column>`) and always offers a
few empty rows beyond the stored ones; rows left empty are ignored. Without JavaScript there is
no "add a row" button: save, and the page offers more empty rows.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

SPARE_ROWS = 2
MIN_ROWS = 3


def _rows(value: Any) -> int:
    return max(MIN_ROWS, len(value or ()) + SPARE_ROWS)


def _posted_rows(data: Mapping[str, Any], name: str) -> int:
    count = 0
    while any(key.startswith(f"{name}-{count}") for key in data):
        count += 1
    return count


def number(value: Any) -> int | float | None:
    """A posted or stored number as the JSON keeps it (75, not 75.0); None when blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    parsed = float(str(value).strip().replace(",", "."))
    if parsed != parsed or parsed in (float("inf"), float("-inf")):
        raise ValueError(value)
    return int(parsed) if parsed.is_integer() else parsed


class PercentsWidget(forms.Widget):
    """A column of number inputs, one per percentage."""

    template_name = "admin/servio/percents_widget.html"

    def __init__(self, *, row_label: str = "Level", attrs: dict | None = None) -> None:
        super().__init__(attrs)
        self.row_label = row_label

    def get_context(self, name: str, value: Any, attrs: dict | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        values = list(value) if isinstance(value, list | tuple) else []
        values += [""] * (_rows(values) - len(values))
        base_id = context["widget"]["attrs"].get("id") or f"id_{name}"
        context["rows"] = [
            {
                "name": f"{name}-{i}",
                "id": f"{base_id}-{i}",
                "value": "" if v is None else v,
                "label": f"{self.row_label} {i + 1}",
            }
            for i, v in enumerate(values)
        ]
        return context

    def value_from_datadict(self, data, files, name):
        return [data.get(f"{name}-{i}", "") for i in range(_posted_rows(data, name))]

    def value_omitted_from_data(self, data, files, name):
        return f"{name}-0" not in data

    def id_for_label(self, id_: str) -> str:
        return f"{id_}-0" if id_ else id_


class PercentListField(forms.Field):
    """Percentages strictly between `above` and `below`, sorted, each once."""

    widget = PercentsWidget

    def __init__(
        self,
        *,
        above: float = 0,
        below: float = 100,
        what: str = "A level",
        row_label: str = "Level",
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.above, self.below, self.what = above, below, what
        if isinstance(self.widget, PercentsWidget):
            self.widget.row_label = row_label
        self.widget.attrs.update({"min": "1", "max": str(int(below) - 1), "step": "any"})

    def to_python(self, value: Any) -> list[int | float]:
        found: list[int | float] = []
        for raw in value or ():
            try:
                parsed = number(raw)
            except ValueError:
                raise ValidationError(
                    f"'{raw}' is not a number: give a percentage of the target, such as 75.",
                    code="invalid",
                ) from None
            if parsed is not None and parsed not in found:
                found.append(parsed)
        return sorted(found)

    def validate(self, value: list[int | float]) -> None:
        super().validate(value)
        wrong = [v for v in value if not self.above < v < self.below]
        if wrong:
            shown = ", ".join(f"{v:g}" for v in wrong)
            raise ValidationError(
                f"{self.what} is a percentage of the target between {self.above:g} and "
                f"{self.below:g} ({self.below:g} % is the breach, always announced): "
                f"change {shown}.",
                code="out_of_range",
            )

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return self.to_python(initial) != self.to_python(data)
        except ValidationError:
            return True


@dataclass(frozen=True)
class Column:
    """One input of a row: a select when it has choices, else an input of `input_type`."""

    key: str
    label: str
    choices: Sequence[tuple[Any, str]] | None = None
    attrs: Mapping[str, str] | None = None
    input_type: str = "number"


class RowsWidget(forms.Widget):
    """A table: one row per item, one input per column, named `<field>-<row>-<column>`."""

    template_name = "admin/servio/rows_widget.html"

    def __init__(
        self, *, columns: Sequence[Column] = (), caption: str = "", attrs: dict | None = None
    ) -> None:
        super().__init__(attrs)
        self.columns = list(columns)
        self.caption = caption  # names the rows in each input's label: "From (hours, row 2)"

    def get_context(self, name: str, value: Any, attrs: dict | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        items = [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []
        items += [{}] * (_rows(items) - len(items))
        base_id = context["widget"]["attrs"].get("id") or f"id_{name}"
        context["columns"] = self.columns
        caption = f"{self.caption}, " if self.caption else ""
        context["rows"] = [
            {
                "number": i + 1,
                "cells": [
                    {
                        "column": column,
                        "name": f"{name}-{i}-{column.key}",
                        "id": f"{base_id}-{i}-{column.key}",
                        "value": "" if item.get(column.key) is None else str(item[column.key]),
                        "label": f"{column.label} ({caption}row {i + 1})",
                    }
                    for column in self.columns
                ],
            }
            for i, item in enumerate(items)
        ]
        return context

    def value_from_datadict(self, data, files, name):
        return [
            {column.key: data.get(f"{name}-{i}-{column.key}", "") for column in self.columns}
            for i in range(_posted_rows(data, name))
        ]

    def value_omitted_from_data(self, data, files, name):
        return not any(key.startswith(f"{name}-0-") for key in data)

    def id_for_label(self, id_: str) -> str:
        return f"{id_}-0-{self.columns[0].key}" if id_ and self.columns else id_


DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$")


class DomainListField(forms.Field):
    """Mail domains typed one a line (or separated by commas) -> a sorted list without '@'."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3, "cols": 40}))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return "\n".join(str(v) for v in value)
        return value

    def to_python(self, value: Any) -> list[str]:
        text = value.strip() if isinstance(value, str) else ""
        if text.startswith("[") and text.endswith("]"):  # the JSON list this box used to take
            with contextlib.suppress(ValueError):
                value = json.loads(text)
        if isinstance(value, list | tuple):
            words = [str(v) for v in value]
        else:
            words = re.split(r"[\s,;]+", str(value or ""))
        return sorted({w.strip().lower().lstrip("@") for w in words if w.strip()})

    def validate(self, value: list[str]) -> None:
        super().validate(value)
        wrong = [d for d in value if not DOMAIN.match(d)]
        if wrong:
            raise ValidationError(
                f"Not a mail domain: {', '.join(wrong)}. Give the part after the @ of the "
                "senders' addresses, e.g. acme.example, one a line.",
                code="invalid",
            )

    def has_changed(self, initial: Any, data: Any) -> bool:
        return self.to_python(initial) != self.to_python(data)


TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def clock_time(value: Any) -> str | None:
    """'9:00' -> '09:00' (seconds kept only when not zero); '24:00' (midnight at the end of a
    day) stays; None if not a time."""
    match = TIME.match(str(value or "").strip())
    if match is None:
        return None
    hour, minute, second = (int(part or 0) for part in match.groups())
    if (hour, minute, second) != (24, 0, 0) and (hour > 23 or minute > 59 or second > 59):
        return None
    return f"{hour:02d}:{minute:02d}" + (f":{second:02d}" if second else "")


def iso_date(value: Any) -> str | None:
    """A date written YYYY-MM-DD, as stored; None if it is not one."""
    try:
        return date.fromisoformat(str(value or "").strip()).isoformat()
    except ValueError:
        return None


TIME_ATTRS = {"placeholder": "09:00", "size": "5", "maxlength": "5", "inputmode": "numeric"}
TIME_HINT = "write it as HH:MM, e.g. 09:00 (24:00 is midnight at the end of the day)"


class _RowsField(forms.Field):
    """Rows of a RowsWidget, cleaned one by one; problems are reported as "Row 2: ..."."""

    def __init__(self, *, columns: Sequence[Column], caption: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", RowsWidget(columns=columns, caption=caption))
        super().__init__(**kwargs)

    def rows_of(self, value: Any) -> list[dict[str, Any]]:
        """The stored value as rows (posted rows pass through)."""
        return list(value) if isinstance(value, list) else []

    def clean_row(self, row: Mapping[str, Any]) -> tuple[Any, str | None]:
        """(what the row stands for, or the problem with it)."""
        raise NotImplementedError

    def gather(self, items: list[Any]) -> Any:
        return items

    def prepare_value(self, value: Any) -> Any:
        return self.rows_of(value)

    def to_python(self, value: Any) -> Any:
        items, problems = [], []
        for number_, row in enumerate(self.rows_of(value), start=1):
            if not isinstance(row, Mapping) or not any(str(v or "").strip() for v in row.values()):
                continue  # an empty row
            item, problem = self.clean_row(row)
            if problem:
                problems.append(f"Row {number_}: {problem}")
            else:
                items.append(item)
        if problems:
            raise ValidationError(problems, code="invalid")
        return self.gather(items)

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return self.to_python(initial) != self.to_python(data)
        except ValidationError:
            return True


class DateListField(_RowsField):
    """Dates one a row -> a sorted list of "YYYY-MM-DD"."""

    def __init__(self, **kwargs: Any) -> None:
        columns = [Column("date", "Date", input_type="date")]
        super().__init__(columns=columns, **kwargs)

    def rows_of(self, value: Any) -> list[dict[str, Any]]:
        if isinstance(value, list) and all(isinstance(v, Mapping) for v in value):
            return list(value)
        return [{"date": v} for v in value] if isinstance(value, list) else []

    def clean_row(self, row: Mapping[str, Any]) -> tuple[Any, str | None]:
        day = iso_date(row.get("date"))
        if day is None:
            return None, f"'{row.get('date')}' is not a date; write it as YYYY-MM-DD."
        return day, None

    def gather(self, items: list[Any]) -> list[str]:
        return sorted(set(items))


class IntervalsField(_RowsField):
    """Rows of (key, from, to) -> `{key: [["09:00", "17:00"], ...]}`, keys in `key_order`.

    The key is a weekday (a select) or a date; `to` at or before `from` runs overnight, as the
    calendar engine reads it.
    """

    def __init__(self, *, key: Column, what: str, **kwargs: Any) -> None:
        self.key, self.what = key, what
        columns = [
            key,
            Column("start", "From", attrs=TIME_ATTRS, input_type="text"),
            Column("end", "To", attrs={**TIME_ATTRS, "placeholder": "17:00"}, input_type="text"),
        ]
        super().__init__(columns=columns, **kwargs)

    def rows_of(self, value: Any) -> list[dict[str, Any]]:
        keys = [v for v, _ in self.key.choices or () if v]
        plain = isinstance(value, list) and not any(isinstance(v, Mapping) for v in value)
        if plain and keys and len(value) == len(keys):
            value = dict(zip(keys, value, strict=True))  # the engine's list form, Monday first
        if isinstance(value, Mapping):
            stored = {self.stored_key(key): pairs for key, pairs in value.items()}
            return [
                {self.key.key: key, "start": pair[0], "end": pair[1]}
                for key in self.ordered(stored)
                for pair in (stored[key] or ())
                if isinstance(pair, list | tuple) and len(pair) == 2
            ]
        return super().rows_of(value)

    def stored_key(self, key: Any) -> Any:
        """A stored key as the select offers it ("Monday", "MON" -> "mon")."""
        for value, label in self.key.choices or ():
            if value and str(key).strip().lower() in (str(value).lower(), str(label).lower()):
                return value
        return key

    def ordered(self, keys: Any) -> list[Any]:
        if self.key.choices:
            order = [value for value, _ in self.key.choices if value]
            return [k for k in order if k in keys] + sorted(k for k in keys if k not in order)
        return sorted(keys)

    def clean_key(self, value: Any) -> str | None:
        if self.key.choices:
            return value if value in {v for v, _ in self.key.choices if v} else None
        return iso_date(value)

    def clean_row(self, row: Mapping[str, Any]) -> tuple[Any, str | None]:
        key = self.clean_key(row.get(self.key.key))
        if key is None:
            return None, self.what
        start, end = clock_time(row.get("start")), clock_time(row.get("end"))
        for given, parsed in ((row.get("start"), start), (row.get("end"), end)):
            if parsed is None:
                shown = str(given or "").strip()
                return None, (f"'{shown}' is not a time; " if shown else "a time is missing; ") + (
                    TIME_HINT + "."
                )
        return (key, [start, end]), None

    def gather(self, items: list[Any]) -> dict[str, list[list[str]]]:
        found: dict[str, list[list[str]]] = {}
        for key, pair in items:
            found.setdefault(key, []).append(pair)
        return {key: sorted(found[key]) for key in self.ordered(found)}

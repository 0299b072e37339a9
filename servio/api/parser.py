"""Request parsing: JSON object bodies only (415 otherwise), and only text a database stores."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from ninja.parser import Parser

from servio.core.errors import UnsupportedMediaType, ValidationFailed


class MalformedBody(ValidationFailed):
    """The body is not JSON at all: a syntax error (400), not an invalid value (422)."""

    status = 400
    title = "Bad request"
    code = "malformed_body"


def storable_text_error(value: str) -> str | None:
    """Why `value` cannot be stored as text, or None.

    PostgreSQL rejects NUL characters and neither database takes lone surrogates (JSON may
    carry both), so they are refused here, with the field named, instead of failing as a 500.
    """
    if "\x00" in value:
        return "Text must not contain NUL (\\u0000) characters."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Text must be valid Unicode (no unpaired surrogates)."
    return None


def unstorable_fields(data: Any) -> dict[str, str]:
    """Field path -> reason for every string (key or value) in parsed JSON that cannot be stored."""
    errors: dict[str, str] = {}
    stack: list[tuple[str, Any]] = [("", data)]  # iterative: deep nesting cannot overflow
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if reason := storable_text_error(value):
                errors.setdefault(path or "body", reason)
        elif isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{key}" if path else str(key)
                if reason := storable_text_error(str(key)):
                    errors.setdefault(child, reason)
                stack.append((child, item))
        elif isinstance(value, list):
            stack.extend((f"{path}.{i}" if path else str(i), item) for i, item in enumerate(value))
    return errors


class StrictJsonParser(Parser):
    def parse_body(self, request: HttpRequest) -> Any:
        content_type = (request.content_type or "").lower()
        if (
            content_type
            and content_type != "application/json"
            and not content_type.endswith("+json")
        ):
            raise UnsupportedMediaType(
                f"Request bodies must be JSON (Content-Type: application/json), not "
                f"'{content_type}'."
            )
        try:
            data = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise MalformedBody.field("body", f"The body is not valid JSON: {exc}.") from exc
        if not isinstance(data, dict):
            # Every body is an object (a list goes in a named member), so it can grow new fields.
            raise ValidationFailed.field("body", "Send a JSON object as the request body.")
        if errors := unstorable_fields(data):
            raise ValidationFailed(errors)
        return data

    def parse_querydict(
        self, data: MultiValueDict, list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        errors = {
            key: reason
            for key, values in data.lists()
            for value in [key, *values]
            if isinstance(value, str) and (reason := storable_text_error(value))
        }
        if errors:
            raise ValidationFailed(errors)
        return super().parse_querydict(data, list_fields, request)

"""Request body parsing: JSON only, with a 415 for any other declared type."""

from __future__ import annotations

import json

from django.http import HttpRequest
from ninja.parser import Parser

from servio.core.errors import UnsupportedMediaType, ValidationFailed


class StrictJsonParser(Parser):
    def parse_body(self, request: HttpRequest):
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
            return json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValidationFailed.field("body", f"The body is not valid JSON: {exc}.") from exc

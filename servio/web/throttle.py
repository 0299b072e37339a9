"""Login throttling keys (django-axes): one per account, whatever the case of the address."""

from __future__ import annotations

from django.http import HttpRequest


def axes_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """AXES_USERNAME_CALLABLE: the submitted email, trimmed and lower-cased.

    Addresses match case-insensitively, so without this "Ada@" and "ada@" would each get their
    own allowance of failed attempts on the admin login (whose form we do not control).
    """
    source = credentials or getattr(request, "POST", {})
    value = source.get("username")
    return value.strip().lower() if isinstance(value, str) else value

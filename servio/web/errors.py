"""Turning domain errors into messages beside the form fields they name."""

from __future__ import annotations

from django import forms

from servio.core.errors import DomainError, ValidationFailed


def add_errors(form: forms.Form, exc: DomainError, aliases: dict[str, str] | None = None) -> None:
    """Put each reason of `exc` beside its field (or above the form when no field matches)."""
    aliases = aliases or {}
    if isinstance(exc, ValidationFailed):
        for name, reasons in exc.errors.items():
            target = aliases.get(name, name)
            for reason in reasons:
                form.add_error(target if target in form.fields else None, _sentence(name, reason))
        return
    fields = [aliases.get(f, f) for f in exc.extra.get("fields") or []]
    named = [f for f in fields if f in form.fields]
    if named:
        for name in named:
            form.add_error(name, exc.detail)
    else:
        form.add_error(None, exc.detail)


def _sentence(name: str, reason: str) -> str:
    """ "is required." -> "This field is required."; whole sentences stay as they are."""
    if reason[:1].islower():
        return f"This field {reason}" if reason.startswith(("is ", "must ")) else reason
    return reason

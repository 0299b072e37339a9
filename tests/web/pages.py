"""Every page of the site, found from the URL resolver and the admin's registry (so a new page is
covered without editing a list), and what in served HTML the Content-Security-Policy refuses."""

from __future__ import annotations

import itertools
import re
from html.parser import HTMLParser
from typing import Any

from django.contrib import admin
from django.contrib.auth.tokens import default_token_generator
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

# Script types a browser does not execute: data blocks (json_script, swagger's settings).
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json", "text/template"}
_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


class _InlineFinder(HTMLParser):
    """Collects what a page policy of script-src/style-src 'self' (no inline) refuses."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...> (an inline event handler)")
            elif name.startswith("hx-on") or name.startswith("data-hx-on"):
                self.problems.append(f"<{tag} {name}=...> (htmx evaluates it as code)")
            elif name == "style":
                self.problems.append(f"<{tag} style=...> (an inline style)")
            elif value and value.strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}={value[:40]!r}> (a javascript: URL)")
            elif name in ("hx-vals", "hx-vars", "data-hx-vals") and value and "js:" in value:
                self.problems.append(f"<{tag} {name}=js:...> (htmx evaluates it as code)")
        if tag == "script":
            kind = (values.get("type") or "").strip().lower()
            if not values.get("src") and kind not in DATA_SCRIPT_TYPES:
                self._in_inline_script = True
                self.problems.append("<script> without src (an inline script)")
        elif tag == "style":
            self.problems.append("<style> element (an inline style sheet)")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_inline_script = False


def inline_code(html: str) -> list[str]:
    """What in `html` a policy without 'unsafe-inline' (scripts and styles) refuses."""
    finder = _InlineFinder()
    finder.feed(html)
    finder.close()
    return finder.problems


def policy(header: str) -> dict[str, str]:
    """A Content-Security-Policy header as {directive: sources}."""
    directives = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            directives[name.lower()] = value.strip()
    return directives


# --- the site's pages ----------------------------------------------------------------------


def _patterns(resolvers, prefix: str = "", namespace: str = ""):
    for entry in resolvers:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":  # walked from the admin's registry instead
                continue
            space = entry.namespace or namespace
            yield from _patterns(entry.url_patterns, prefix + str(entry.pattern), space)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield prefix + str(entry.pattern), name or ""


def site_urls(values: dict[str, Any]) -> list[tuple[str, str]]:
    """(url name, path) of every URL pattern outside the admin, its parameters filled from
    `values` (a name -> value or list of values; `url name/param` overrides a plain `param`).
    A parameter without a value fails loudly, naming what to add."""
    found = []
    for route, name in _patterns(get_resolver().url_patterns):
        params = [m.group("name") for m in _PARAM.finditer(route)]
        choices = []
        for param in params:
            value = values.get(f"{name}/{param}", values.get(param))
            if value is None:
                raise AssertionError(f"{route}: give the page walk a value for <{param}>")
            choices.append(value if isinstance(value, list) else [value])
        for combination in itertools.product(*choices):
            path = route
            for value in combination:
                path = _PARAM.sub(str(value), path, count=1)
            found.append((name, "/" + path.lstrip("^").rstrip("$")))
    return found


def admin_urls() -> list[tuple[str, str]]:
    """The admin's index, each app's index, and each registered model's list, add form,
    and (for its first row) change form, history and delete confirmation."""
    found = [("admin:index", reverse("admin:index"))]
    labels = sorted({model._meta.app_label for model in admin.site._registry})
    found += [("admin:app_list", reverse("admin:app_list", args=[label])) for label in labels]
    for model in admin.site._registry:
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        found.append((f"{info}_changelist", reverse(f"{info}_changelist")))
        found.append((f"{info}_add", reverse(f"{info}_add")))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            for view in ("change", "history", "delete"):
                found.append((f"{info}_{view}", reverse(f"{info}_{view}", args=[first.pk])))
    return found


def reset_link_values(user) -> dict[str, str]:
    return {
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
    }

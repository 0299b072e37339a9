"""Servio's icon on every page: each page of ours names it (the admin's too), and pages that
name none (the API docs') get it from /favicon.ico, where browsers then look."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

from servio.web.csp import is_page
from tests.ui import ui_settings  # noqa: F401 - fixture
from tests.web.pages import admin_urls, site_urls
from tests.web.test_csp import PEOPLE, _as, site  # noqa: F401 - `site` is a fixture

pytestmark = pytest.mark.django_db
ICON = re.compile(r'<link rel="(?:shortcut )?icon"[^>]*href="([^"]*)"')


def test_every_page_names_servio_s_icon_or_none(personas, site):  # noqa: F811
    problems, named, unnamed, admin_unnamed = [], set(), set(), set()
    pages = [(n, p) for n, p in site_urls(site) if not n.startswith("api:") or n.endswith("view")]
    for who, paths in [(who, pages) for who in PEOPLE] + [("admin", admin_urls())]:
        client = _as(personas, who)
        for name, path in paths:
            response = client.get(path)
            if not is_page(response):
                continue
            icons = ICON.findall(response.content.decode(errors="replace"))
            if name == "api:openapi-view" and icons and icons[0] == "/static/ninja/favicon.svg":
                continue  # the API docs: Django Ninja's own page, with its own icon
            if icons and icons != ["/static/web/favicon.svg"]:
                problems.append(f"{path} as {who}: icon {icons}")
            (named if icons else unnamed).add(name)
            if name.startswith("admin:") and not icons and response.status_code == 200:
                admin_unnamed.add(path)
    assert not problems, "\n".join(problems)
    assert {"workspace:ticket", "portal:home", "web:login", "surveys:respond"} <= named
    assert not admin_unnamed, f"admin pages without the icon: {sorted(admin_unnamed)}"
    assert {"admin:index", "admin:tickets_priorityrule_changelist"} <= named


def test_favicon_ico_is_servio_s_icon(client, ui_settings):  # noqa: F811
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"] == "/static/web/favicon.png"
    png = finders.find("web/favicon.png")
    assert png and Path(png).read_bytes().startswith(b"\x89PNG")
    svg = finders.find("web/favicon.svg")
    assert svg and Path(svg).read_text().startswith("<svg")


def test_error_pages_name_the_icon_too(client):
    assert "/static/web/favicon.svg" in client.get("/no/such/page/").content.decode()

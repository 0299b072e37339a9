"""The admin carries Servio's look (issue 14, item 11): the icon and logo, colours that keep
text readable (4.5:1) in the light and the dark theme, and the way back to the desk and portal.
(`test_favicon.py` checks the icon on every admin page, `test_csp.py` the policy.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

pytestmark = pytest.mark.django_db

# (text, background) pairs of the admin's CSS variables that Django draws text with.
PAIRS = [
    ("header-color", "header-bg"),
    ("header-branding-color", "header-bg"),
    ("header-link-color", "header-bg"),
    ("breadcrumbs-fg", "breadcrumbs-bg"),
    ("breadcrumbs-link-fg", "breadcrumbs-bg"),
    ("primary-fg", "primary"),
    ("body-fg", "body-bg"),
    ("body-quiet-color", "body-bg"),
    ("body-medium-color", "body-bg"),
    ("body-quiet-color", "darkened-bg"),
    ("link-fg", "body-bg"),
    ("link-fg", "darkened-bg"),
    ("link-fg", "selected-row"),
    ("link-hover-color", "body-bg"),
    ("link-selected-fg", "body-bg"),
    ("error-fg", "body-bg"),
    ("body-fg", "message-success-bg"),
    ("body-fg", "message-warning-bg"),
    ("body-fg", "message-error-bg"),
    ("body-fg", "selected-row"),
    ("button-fg", "button-bg"),
    ("button-fg", "button-hover-bg"),
    ("button-fg", "default-button-bg"),
    ("button-fg", "default-button-hover-bg"),
    ("button-fg", "close-button-bg"),
    ("button-fg", "delete-button-bg"),
    ("object-tools-fg", "object-tools-bg"),
    ("object-tools-fg", "object-tools-hover-bg"),
]


def themes() -> dict[str, dict[str, str]]:
    css = Path(finders.find("web/admin.css")).read_text()
    blocks = {
        "light": css.split("@media")[0],
        "dark (system)": css.split("@media")[1].split('html[data-theme="dark"]')[0],
        "dark (chosen)": css.split('html[data-theme="dark"]')[1].split("}")[0],
    }
    return {
        name: dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{6})", block))
        for name, block in blocks.items()
    }


def luminance(colour: str) -> float:
    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("theme", ["light", "dark (system)", "dark (chosen)"])
def test_admin_text_colours_keep_a_contrast_of_4_5(theme):
    colours = themes()[theme]
    problems = []
    for text, background in PAIRS:
        ratio = contrast(colours[text], colours[background])
        if ratio < 4.5:
            problems.append(f"--{text} on --{background}: {ratio:.2f}")
    assert not problems, f"{theme}: " + "; ".join(problems)


def test_both_dark_blocks_say_the_same():
    found = themes()
    assert found["dark (system)"] == found["dark (chosen)"]
    assert set(found["light"]) == set(found["dark (chosen)"])


def test_the_admin_header_has_the_logo_and_links_to_desk_and_portal(personas):
    client = Client()
    client.force_login(personas.admin)
    html = client.get("/admin/").content.decode()
    header = html.split('<header id="header">')[1].split("</header>")[0]
    assert 'class="servio-logo" src="/static/web/favicon.svg"' in header
    assert "Servio administration" in header
    assert '<a href="/desk/">Desk</a>' in header
    assert '<a href="/portal/">Portal</a>' in header
    assert '<link rel="stylesheet" href="/static/web/admin.css">' in html
    assert '<script src="/static/web/admin-theme.js"></script>' in html


def test_the_sign_in_page_looks_the_same(client):
    html = client.get("/admin/login/").content.decode()
    assert '<link rel="icon" href="/static/web/favicon.svg"' in html
    assert "servio-logo" in html and "/static/web/admin.css" in html

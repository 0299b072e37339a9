"""Browser tests: Playwright (sync API) driving Debian's Chromium against pytest-django's
live server. Every page visited is checked for console errors, uncaught exceptions and
Content-Security-Policy violations, and the main screens are saved under
test-artifacts/screenshots/."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from tests.conftest import require_component
from tests.ui import ui_settings  # noqa: F401

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(django_settings.BASE_DIR) / "test-artifacts" / "screenshots"
AXE = Path(django_settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
# Reports every Content-Security-Policy violation of a page as a console error (Chromium logs
# most of them itself; this also catches those it reports only to listeners).
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error("CSP violation: " + e.effectiveDirective + " blocked " + (e.blockedURI || "inline")
    + " at " + e.sourceFile + ":" + e.lineNumber + " " + (e.sample || ""));
});
"""
# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between browser steps are synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    require_component(Path(CHROMIUM).exists(), "Chromium", "apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the dev extras install it
        require_component(False, "Playwright for Python", "pip install -e '.[dev]'")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


class Session:
    """One signed-in person in their own browser context, with console-error collection."""

    def __init__(self, browser, base_url: str, errors: list[str]) -> None:
        self.context = browser.new_context(viewport={"width": 1366, "height": 900})
        self.context.set_default_timeout(8000)
        self.context.add_init_script(CSP_LISTENER)
        self.base_url = base_url
        self.errors = errors
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"{self.page.url}: {exc}"))

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"{self.page.url}: {message.text}")

    def go(self, path: str):
        self.page.goto(self.base_url + path)
        return self.page

    def login_as(self, user) -> Session:
        """Sign in without the form (the form itself is tested once, in the main story)."""
        from django.test import Client

        client = Client()
        client.force_login(user)
        cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
        self.context.add_cookies(
            [{"name": cookie.key, "value": cookie.value, "url": self.base_url}]
        )
        return self

    def accessibility_problems(self) -> list[str]:
        """Serious and critical WCAG 2 A/AA violations axe-core finds on the current page."""
        require_component(AXE.exists(), "axe-core", "npm ci (a devDependency in package.json)")
        # Evaluated through the DevTools protocol: a <script> tag added to the page would be
        # refused by the page's Content-Security-Policy, as it should be.
        self.page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
        result = self.page.evaluate(
            "() => axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']})"
        )
        return [
            f"{self.page.url}: {v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(
                f"{node['target'][0]} [{node.get('any', [{}])[0].get('message', '')[:90]}]"
                for node in v["nodes"][:4]
            )
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]

    def shot(self, name: str, full_page: bool = False) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


@pytest.fixture
def ui(browser, live_server, ui_settings, personas):  # noqa: F811
    """`ui(user=None)` opens a browser session (signed in as `user` when given)."""
    errors: list[str] = []
    sessions: list[Session] = []

    def open_session(user=None) -> Session:
        session = Session(browser, live_server.url, errors)
        sessions.append(session)
        return session.login_as(user) if user is not None else session

    yield open_session
    for session in sessions:
        session.context.close()
    # Every page visited in the test must be free of console errors and uncaught exceptions.
    assert not errors, "\n".join(errors)


THEMES = ["light", "dark"]
WIDE = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def themed(session, theme: str, path: str):
    """Open `path` in `theme` (remembered in the browser as the desk's toggle does; the admin
    follows it too)."""
    from playwright.sync_api import expect

    session.go(path)
    session.page.evaluate(f"() => localStorage.setItem('servio-theme', '{theme}')")
    page = session.go(path)
    chosen = f"html[data-bs-theme='{theme}'], html[data-theme='{theme}']"
    expect(page.locator(chosen)).to_have_count(1)
    return page


def fits_a_phone(page) -> None:
    """The page at hand does not scroll sideways at the phone's width."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} scrolls sideways on a phone ({width}px)"


def number_in(text: str) -> str:
    match = re.search(r"(INC|REQ)-[0-9]{6}", text)
    assert match, text
    return match.group(0)

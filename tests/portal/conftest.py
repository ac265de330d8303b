"""The portal in a real browser: Playwright for Python driving Debian's Chromium (/usr/bin/chromium,
installed by `make test`; Playwright never downloads a browser here) against the app served over
HTTP by the `live_server` fixture, with localstripe, the local pharmacy and the local Twilio.

The package shares one world: the demo data (`flask seed-demo`) committed once when the first test
here starts, every row deleted when the last one ends. A test that changes someone's state uses a
person of its own (a new patient it signs up, or a stage patient no other test changes).

`check_page(page, name)` runs axe-core on the page (no serious or critical violation) and writes
screenshots at 390 and 1280 px wide to artifacts/screenshots/<name>-390.png / -1280.png.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from telehealth.extensions import db as _db
from telehealth.extensions import limiter
from tests.conftest import _post_form, free_port

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
DEMO_PASSWORD = "demo-password-2026"
# Chromium's own network chatter is refused on this machine's closed network: keep it quiet.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/portal/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is missing (run `make chromium`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="package")
def world(app, live_server, localstripe_url, pharmacy_url):
    """The demo world, committed, with localstripe's and the pharmacy's webhooks reaching the live app."""
    import json
    import urllib.request

    from telehealth.demo import seed_demo

    _post_form(f"{localstripe_url}/_config/webhooks/telehealth",
               {"url": f"{live_server}/webhooks/stripe", "secret": app.config["STRIPE_WEBHOOK_SECRET"]})
    body = json.dumps({"webhook_url": f"{live_server}/webhooks/pharmacy",
                       "secret": app.config["PHARMACY_WEBHOOK_SECRET"]}).encode()
    urllib.request.urlopen(urllib.request.Request(f"{pharmacy_url}/_config", data=body, method="POST",
                                                  headers={"Content-Type": "application/json"}), timeout=5)
    with app.app_context():
        logins = seed_demo()
        _db.session.commit()
        _db.session.remove()
    yield {login.email: login for login in logins}
    _post_form(f"{localstripe_url}/_config/webhooks/telehealth",
               {"url": f"http://127.0.0.1:{free_port()}/", "secret": "unused"})
    with app.app_context():
        _db.session.remove()
        with _db.engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
            for table in reversed(_db.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def page(browser, world, live_server, app):
    """A fresh browser profile (no cookies) on a 390 px phone, its base URL the live app."""
    with app.app_context():
        limiter.reset()
    context = browser.new_context(base_url=live_server, viewport=PHONE, locale="en-US",
                                  timezone_id="America/New_York")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    tab.console_errors = errors  # CSP refusals and script errors show up here
    yield tab
    context.close()


_SERIOUS = {"serious", "critical"}
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
CLINICAL_WORDS = re.compile(r"ketamine|depress|anxiety|ptsd|suicid|crisis|psych|prescri|medication", re.I)


def axe_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    # the rules of the standard we hold to (WCAG 2.1 A and AA), not axe's best-practice extras: the
    # same failures, in less of the browser tests' time
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": list(AXE_TAGS)},
                                       "resultTypes": ["violations"]})
    found = []
    for violation in results.response["violations"]:
        if violation.get("impact") in _SERIOUS:
            targets = [", ".join(node["target"]) for node in violation["nodes"]][:3]
            found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    return found


def _screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    for label, viewport in (("390", PHONE), ("1280", DESKTOP)):
        page.set_viewport_size(viewport)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(size)


def check_page(page, name: str) -> None:
    """axe-core finds no serious or critical violation; screenshots at both widths; no script or
    CSP error in the console; and the help control is on the page."""
    assert re.fullmatch(r"[a-z0-9-]+", name), name
    assert page.locator("#help-now").count() == 1, "every page offers 'Get help now'"
    # tabs, history and bookmarks are seen by others: a title says nothing clinical, no one's name
    assert not CLINICAL_WORDS.search(page.title()), page.title()
    violations = axe_violations(page)
    assert not violations, "\n".join(violations)
    _screenshot(page, name)
    csp = [e for e in page.console_errors if "Content Security Policy" in e or "Refused" in e]
    assert not csp, csp


def sign_in(page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


@pytest.fixture(scope="session", autouse=True)
def _fresh_screenshots():
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
    yield


@pytest.fixture
def adams_secret(app, world):
    """Dr. Adams enrolled in a second factor (the demo leaves him to enrol on the page, as a newcomer
    does); his factor is removed afterwards so the next test finds the demo as it was. Yields his secret."""
    import pyotp
    from sqlalchemy import delete, select

    from telehealth.extensions import db as _db
    from telehealth.models import User
    from telehealth.models.accounts.two_factor import StaffRecoveryCode, StaffTwoFactor
    from telehealth.services.accounts import two_factor

    with app.app_context():
        adams = _db.session.scalar(select(User).where(User.email == "dr.adams@demo.telehealth"))
        enrolment = two_factor.begin_enrolment(adams)
        two_factor.confirm_enrolment(adams, pyotp.TOTP(enrolment.secret).now())
        _db.session.commit()
        adams_id = adams.id
        _db.session.remove()
    yield enrolment.secret
    with app.app_context():
        _db.session.execute(delete(StaffRecoveryCode).where(StaffRecoveryCode.user_id == adams_id))
        _db.session.execute(delete(StaffTwoFactor).where(StaffTwoFactor.user_id == adams_id))
        _db.session.commit()
        _db.session.remove()


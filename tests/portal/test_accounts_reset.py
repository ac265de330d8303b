"""Password reset in the browser: ask for the link (the same answer for anyone), open the emailed
link, choose a new password, sign in with it; a used link is refused in words."""
from __future__ import annotations

from urllib.parse import urlparse

from sqlalchemy import select

from telehealth.extensions import db as _db
from telehealth.models import OutboxMail
from telehealth.schemas.accounts.accounts import PatientSignupIn
from telehealth.services.accounts import accounts
from tests.portal.conftest import check_page, sign_in

EMAIL = "reset.browser@example.org"


def _patient(app) -> None:
    with app.app_context():
        accounts.sign_up_patient(PatientSignupIn.model_validate({
            "email": EMAIL, "password": "the first passphrase", "legal_first_name": "Robin",
            "legal_last_name": "Reset", "date_of_birth": "1982-02-02", "state_of_residence": "NY",
            "time_zone": "America/New_York", "phone": "+12125550161",
            "shipping_address": {"line1": "1 Reset Road", "city": "Albany", "state": "NY", "postal_code": "12207"},
            "emergency_contact": {"name": "Kim Reset", "relationship": "sister", "phone": "+12125550162"}}))
        _db.session.remove()


def _link(app) -> str:
    with app.app_context():
        mail = _db.session.scalar(select(OutboxMail).where(OutboxMail.to_address == EMAIL)
                                  .order_by(OutboxMail.id.desc()))
        _db.session.remove()
    link = urlparse(next(line for line in mail.body.splitlines() if "/reset-password?token=" in line))
    return f"{link.path}?{link.query}"


def test_reset_by_the_emailed_link(page, world, app):
    _patient(app)
    page.goto("/reset-password")
    check_page(page, "accounts-reset-request")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_role("button", name="Email me a link").click()
    assert "If an account exists for this email" in page.get_by_role("status").first.inner_text()

    link = _link(app)
    page.goto(link)
    assert page.get_by_role("heading", level=1).inner_text() == "Choose a new password"
    page.get_by_label("New password").fill("short")
    page.get_by_role("button", name="Save my new password").click()
    assert "at least 10 characters" in page.get_by_role("alert").inner_text()
    check_page(page, "accounts-reset-confirm")
    page.get_by_label("New password").fill("the second passphrase")
    page.get_by_role("button", name="Save my new password").click()
    page.wait_for_url("**/login")
    assert "new password is set" in page.get_by_role("status").first.inner_text()
    sign_in(page, EMAIL, "the second passphrase")
    assert "/login" not in page.url

    page.goto(link)  # used once: refused in words, with the way to ask again
    assert "expired or was already used" in page.get_by_role("alert").inner_text()
    check_page(page, "accounts-reset-expired")

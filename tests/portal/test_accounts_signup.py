"""Sign-up in the browser: the screening comes first; with a screening just taken, the form claims
it, refuses a wrong ZIP code in words beside the field, then signs the new patient in at home."""
from __future__ import annotations

from telehealth.extensions import db as _db
from telehealth.services.screening import assessments
from tests.portal.conftest import check_page
from tests.screening_data import valid_screening_answers


def _claim_in_browser(page, app, live_server) -> None:
    """What the screening pages leave behind after an anonymous screening: its claim token in the
    signed session cookie (never in a URL)."""
    with app.app_context():
        _, token = assessments.submit(None, "screening", 1, valid_screening_answers())
        _db.session.commit()
        cookie = app.session_interface.get_signing_serializer(app).dumps({"screening_claim": token})
        _db.session.remove()
    page.context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": live_server}])


def fill_sign_up(page, *, email: str, first: str, last: str, phone: str, zip_code: str,
                 password: str = "a calm long passphrase") -> None:
    """Every field of the sign-up form, for a New York patient (as a person types them)."""
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Choose a password").fill(password)
    page.get_by_label("First name").fill(first)
    page.get_by_label("Last name").fill(last)
    page.get_by_label("Date of birth").fill("1987-06-15")
    page.get_by_label("State where you live").select_option("NY")
    page.get_by_label("Your time zone").select_option("America/New_York")
    page.get_by_label("Phone number", exact=True).fill(phone)
    page.get_by_label("Address line 1").fill("5 Quiet Lane")
    page.get_by_label("City").fill("Brooklyn")
    page.get_by_label("State", exact=True).select_option("NY")
    page.get_by_label("ZIP code").fill(zip_code)
    page.get_by_label("Their name").first.fill(f"Alex {last}")
    page.get_by_label("How they are related to you").fill("partner")
    page.get_by_label("Their phone number").first.fill("(646) 555-0199")


def test_signup_claims_the_screening_refuses_in_words_and_signs_in(page, world, app, live_server):
    page.goto("/signup")
    assert page.get_by_role("heading", level=1).inner_text() == "Start with the free screening"
    check_page(page, "accounts-signup-first")

    _claim_in_browser(page, app, live_server)
    page.goto("/signup")
    assert page.get_by_role("heading", level=1).inner_text() == "Create your account"
    fill_sign_up(page, email="new.patient.signup@example.org", first="Sam", last="Newpatient",
                 phone="(212) 555-0166", zip_code="112")  # a ZIP code too short: refused
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    check_page(page, "accounts-signup")
    page.get_by_role("button", name="Create my account").click()

    zip_field = page.get_by_label("ZIP code")
    assert zip_field.get_attribute("aria-invalid") == "true"
    assert "5-digit ZIP code" in page.locator("#field-shipping_address\\.postal_code-error").inner_text()
    assert "5-digit ZIP code" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("First name").input_value() == "Sam"  # what was typed is kept
    check_page(page, "accounts-signup-refused")
    zip_field.fill("11201")
    page.get_by_label("Choose a password").fill("a calm long passphrase")
    page.get_by_role("button", name="Create my account").click()

    page.wait_for_url("**/home")
    assert "Your account is ready" in page.get_by_role("status").first.inner_text()
    assert "Waiting for a physician" in page.locator("main").inner_text()

"""The texts page in the browser: a patient of our own reads the exact words, agrees, and stops texts in one step."""
from __future__ import annotations

from sqlalchemy import select

from telehealth.extensions import db as _db
from telehealth.models import SmsConsent
from telehealth.services.messaging import sms_consent
from tests.conftest import PASSWORD, _make_user
from tests.portal.conftest import check_page, sign_in

PHONE = "+16465550192"


def _consent(app) -> SmsConsent | None:
    with app.app_context():
        row = _db.session.scalar(select(SmsConsent).where(SmsConsent.phone_e164 == PHONE))
        _db.session.remove()
        return row


def test_a_patient_agrees_to_texts_then_stops_them(page, world, app):
    with app.app_context():
        _make_user(_db, "patient", email="texts.patient@example.org", phone=PHONE)
        words = sms_consent.wording(PHONE)
        _db.session.remove()
    sign_in(page, "texts.patient@example.org", PASSWORD)
    page.goto("/texts")
    assert page.locator("blockquote").inner_text().strip() == words  # the exact words
    check_page(page, "messaging-texts")
    page.get_by_role("button", name="Turn on texts").click()  # the box not ticked: refused in words
    assert "tick the box" in page.get_by_role("alert").inner_text()
    assert _consent(app) is None
    page.get_by_label("I agree to these words").check()
    page.get_by_role("button", name="Turn on texts").click()
    assert page.get_by_text("Texts are on").is_visible()
    consent = _consent(app)
    assert consent.is_active and consent.wording == words
    check_page(page, "messaging-texts-on")
    page.get_by_role("button", name="Stop texts").click()
    assert page.get_by_text("Texts are off. We will not text you").is_visible()
    assert _consent(app).opted_out_at is not None

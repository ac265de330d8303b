"""The texts page with Flask's test client: the consent's exact words from the service, agreeing
(recorded with those words), refusals in words with nothing written, stopping texts in one step,
and who may open it."""
from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from telehealth.models import OutboundMessage, SmsConsent
from telehealth.services.messaging import sms_consent
from tests.pages_support import submit, text_of

PHONE = "+12125550147"


def _consent(db) -> SmsConsent | None:
    db.session.expire_all()
    return db.session.scalar(select(SmsConsent).where(SmsConsent.phone_e164 == PHONE))


@pytest.fixture
def patient(auth):
    return auth.as_role("patient", phone=PHONE)


def test_the_page_shows_the_exact_words_and_the_current_state(client, db, patient):
    r = client.get("/texts")
    assert r.status_code == 200
    words = sms_consent.wording(PHONE)
    assert words in html.unescape(r.get_data(as_text=True))
    page = text_of(r)
    assert "Texts are off. You have not signed up for texts." in page and "(212) 555-0147" in page
    assert "Turn on texts" in page and "Stop texts" not in page


def test_agreeing_records_the_words_shown_and_sends_the_confirmation(client, db, patient):
    shown = sms_consent.wording(PHONE)
    r = submit(client, "/texts", {"agree": "true"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/texts")
    consent = _consent(db)
    assert consent.user_id == patient.id and consent.is_active
    assert consent.wording == shown and consent.wording_version == sms_consent.WORDING_VERSION
    assert db.session.scalar(select(OutboundMessage.purpose).where(OutboundMessage.to_phone == PHONE)) \
        == "opt_in_confirmation"
    page = text_of(client.get("/texts"))
    assert "You are signed up for texts" in page and "Texts are on for (212) 555-0147" in page
    assert "The words you agreed to" in page and "Turn on texts" not in page


def test_agreeing_without_ticking_the_box_is_refused_in_words_and_records_nothing(client, db, patient):
    for data in ({}, {"agree": "no"}):
        r = submit(client, "/texts", data)
        assert r.status_code == 422
        assert "tick the box to say you agree" in text_of(r)
        assert 'aria-invalid="true"' in r.get_data(as_text=True)
    r = client.post("/texts", data={"agree": "true"})  # no CSRF token
    assert r.status_code == 400
    assert _consent(db) is None


def test_stopping_texts_is_one_step(client, db, patient):
    submit(client, "/texts", {"agree": "true"})
    r = submit(client, "/texts/withdraw", {}, token_from="/texts")
    assert r.status_code == 302
    consent = _consent(db)
    assert consent.opted_out_at is not None and consent.opt_out_keyword == "app" and not consent.is_active
    page = text_of(client.get("/texts"))
    assert "Texts are off. We will not text you" in page and "You stopped them on" in page
    assert "Turn on texts" in page  # and they can agree again


def test_a_number_another_account_signed_up_is_refused_in_words(client, db, patient, create_user):
    other = create_user("patient", phone=PHONE)
    sms_consent.agree(other)
    r = submit(client, "/texts", {"agree": "true"})
    assert r.status_code == 409 and "signed up for texts by another account" in text_of(r)
    assert _consent(db).user_id == other.id


def test_anonymous_visitors_sign_in_first_and_staff_are_refused(client, auth):
    r = client.get("/texts")
    assert r.status_code == 302 and r.headers["Location"].endswith("/login?next=/texts")
    auth.as_role("coach")
    r = client.get("/texts")
    assert r.status_code == 403 and "not part of your account" in text_of(r)

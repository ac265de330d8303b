"""SMS consent: the exact words a patient agrees to, recorded with the time and version, for the
phone number on their profile; the confirmation text; withdrawal. Carrier keywords (STOP, START)
arrive by text and are handled in services/home_care/inbound.py, on the same rows."""
from __future__ import annotations

from telehealth.clock import now
from telehealth.errors import Conflict
from telehealth.extensions import db
from telehealth.models.accounts.accounts import User
from telehealth.models.messaging.messaging import MessagePriority, SmsConsent
from telehealth.services.messaging import outbox
from telehealth.services.platform import audit

WORDING_VERSION = "2026-11"
FREQUENCY = "Up to 10 msgs/week"


def wording(phone: str) -> str:
    clinic = outbox.program_name()
    return (f"I agree to receive automated text messages from {clinic} at {phone} about appointments, "
            f"shipments and session check-ins. {FREQUENCY}. Msg & data rates may apply. Consent is not a "
            "condition of purchase. Reply STOP to stop, HELP for help.")


def confirmation_text() -> str:
    clinic = outbox.program_name()
    return (f"{clinic}: you are signed up for texts about appointments, shipments and check-ins. "
            f"{FREQUENCY}. Msg & data rates may apply. Reply HELP for help, STOP to opt out.")


def _phone(user: User) -> str:
    if user.patient_profile is None:
        raise Conflict("Only patients can sign up for texts.")
    return user.patient_profile.phone_e164


def state(user: User) -> dict:
    phone = _phone(user)
    consent = outbox.consent_for(phone)
    mine = consent if consent is not None and consent.user_id in (None, user.id) else None
    return {"phone": phone, "wording": wording(phone), "wording_version": WORDING_VERSION,
            "opted_in": bool(mine and mine.is_active), "opted_in_at": mine.opted_in_at if mine else None,
            "opted_out_at": mine.opted_out_at if mine else None,
            "agreed_wording_version": mine.wording_version if mine and mine.opted_in_at else None}


def agree(user: User) -> dict:
    """Record the opt-in (time, exact wording, version) and send the confirmation text."""
    phone = _phone(user)
    consent = outbox.consent_for(phone)
    if consent is not None and consent.user_id not in (None, user.id):
        raise Conflict("This phone number is signed up for texts by another account.")
    if consent is None:
        consent = SmsConsent(phone_e164=phone)
        db.session.add(consent)
    consent.user_id = user.id
    consent.opted_in_at, consent.wording, consent.wording_version = now(), wording(phone), WORDING_VERSION
    consent.opted_out_at = consent.opt_out_keyword = None
    db.session.flush()
    outbox.enqueue(phone, confirmation_text(), "opt_in_confirmation", priority=MessagePriority.REPLY,
                   patient_id=user.id)
    audit.record(user, "update", "sms_consent", consent.id, patient_id=user.id,
                 fields=["opted_in_at", "wording", "wording_version"])
    db.session.commit()
    return state(user)


def withdraw(user: User) -> dict:
    phone = _phone(user)
    consent = outbox.consent_for(phone)
    if consent is not None and consent.user_id in (None, user.id) and consent.opted_out_at is None:
        consent.opted_out_at, consent.opt_out_keyword = now(), "app"
        outbox.cancel_pending_to(phone)
        audit.record(user, "update", "sms_consent", consent.id, patient_id=user.id, fields=["opted_out_at"])
        db.session.commit()
    return state(user)

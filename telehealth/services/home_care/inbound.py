"""Texts received through Twilio's webhook: carrier keywords, and everything else.

`receive(path, form, signature)` is the webhook without its HTTP: it checks Twilio's signature over
`public_url(path)` (PUBLIC_BASE_URL + the path Twilio posted to) and the form, requires MessageSid
and From, and hands the text to `handle`.

`handle(message_sid, from_phone, body)` stores the text once per MessageSid (a redelivery does
nothing), then: a STOP word (the whole message, case and spaces ignored) opts the number out at
once, cancels its pending texts except crisis ones, and confirms once; START, UNSTOP or YES resume
a recorded opt-in; HELP answers with the program, message frequency, rates and the support
contact, and 988 and 911 (HELP may be a cry for help: within a day of a patient's session it also
pages the on-call physician). Crisis language in any other text (from anyone; by intent:
`crisis_language.detect_crisis`) gets 988 and 911 at once and pages the on-call physician; it is
never recorded as a check-in answer (a reading, a sitter's yes), except that a physical emergency
("3 chest pain") still answers a post-session check-in, so the side effect pauses treatment. Any other
text from a patient's number goes to `check_in_messages.route_reply(user, inbound)` (their check-in
answer; fail safe: what it cannot read in full gets 988 and 911 too and reaches a person, even after
STOP); an unknown number gets a polite
generic answer that names 988 and 911. Every answer goes
through the outbox with priority `reply`.
"""
from __future__ import annotations

import re

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from telehealth.clock import now
from telehealth.errors import Forbidden, ValidationFailed
from telehealth.extensions import db
from telehealth.models.accounts.accounts import PatientProfile, Role, User
from telehealth.models.messaging.messaging import InboundMessage, MessagePriority, SmsConsent
from telehealth.services.home_care import check_in_messages
from telehealth.services.messaging import outbox
from telehealth.services.platform import audit
from telehealth.services.screening import crisis_language
from telehealth.services.messaging.sms_consent import FREQUENCY

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
START_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})
WEBHOOK_PATH = "/webhooks/twilio/sms"


def public_url(path: str = WEBHOOK_PATH) -> str:
    """The URL Twilio posts to, and signs: PUBLIC_BASE_URL (this app as the internet reaches it)
    and the path."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def receive(path: str, form, signature: str) -> str:
    """One delivery of Twilio's webhook at `path` (its form fields and X-Twilio-Signature): 403
    unless signed, 422 without MessageSid and From; what `handle` made of it."""
    verify_signature(public_url(path), form, signature)
    sid, sender = form.get("MessageSid", ""), form.get("From", "")
    if not sid or not sender.startswith("+"):
        raise ValidationFailed("MessageSid and From are required.",
                               fields={k: ["This field is required."] for k in ("MessageSid", "From")
                                       if not form.get(k)})
    return handle(sid[:64], sender[:16], form.get("Body", ""))


def verify_signature(url: str, params, signature: str) -> None:
    """Twilio signs the public URL it posts to and the form fields with the account's auth token."""
    from twilio.request_validator import RequestValidator

    if not signature or not RequestValidator(current_app.config["TWILIO_AUTH_TOKEN"]).validate(url, params, signature):
        raise Forbidden("The Twilio signature is missing or wrong.", code="bad_signature")


def keyword(body: str) -> str:
    """The whole message as a keyword: upper case, without spaces or trailing punctuation."""
    return re.sub(r"\s+", "", body or "").upper().strip(".!")


def handle(message_sid: str, from_phone: str, body: str) -> str:
    """Store and act on one received text; what it was handled as ("duplicate" for a redelivery)."""
    if db.session.scalar(select(InboundMessage.id).where(InboundMessage.message_sid == message_sid)):
        return "duplicate"
    consent = outbox.consent_for(from_phone)  # once per text: the sender, and the keywords, read it
    user = _sender(from_phone, consent)
    inbound = InboundMessage(message_sid=message_sid, from_phone=from_phone, body=body, received_at=now(),
                             user_id=user.id if user else None, handled_as="unknown")
    try:
        with db.session.begin_nested():
            db.session.add(inbound)
    except IntegrityError:  # the same delivery, racing
        return "duplicate"
    word = keyword(body)
    if word == "YES" and (consent is None or consent.opted_out_at is None):
        word = ""  # YES resumes texts only after a STOP; otherwise it answers a check-in ("sitter here")
    if word in STOP_WORDS:
        inbound.handled_as = "keyword"
        _opt_out(from_phone, word, user, consent)
    elif word in START_WORDS:
        inbound.handled_as = "keyword"
        _opt_back_in(from_phone, user, consent)
    elif word in HELP_WORDS:
        inbound.handled_as = "keyword"
        outbox.enqueue(from_phone, help_text(), "help", priority=MessagePriority.REPLY,
                       patient_id=user.id if user else None)
        if user is not None and word == "HELP" and check_in_messages.in_session_day(user):
            # a carrier keyword, and also a possible cry for help: around a session a person reads it
            check_in_messages.alert_unclear(user, inbound, "HELP texted within a day of a session")
    elif crisis_language.detect_crisis(body):
        inbound.handled_as = "crisis"
        check_in_messages.answer_crisis(from_phone, user, inbound)
        if user is not None:  # still an answer to an open check-in ("chest pain" pauses treatment)
            check_in_messages.route_reply(user, inbound, answer=False)
    elif user is not None:
        inbound.handled_as = "reply"
        check_in_messages.route_reply(user, inbound)
    else:
        outbox.enqueue(from_phone, unknown_sender_text(), "unknown_sender", priority=MessagePriority.REPLY)
    db.session.commit()
    return inbound.handled_as


def help_text() -> str:
    return (f"{outbox.program_name()}: appointment, shipment and check-in texts. {FREQUENCY}. Msg & data rates may "
            f"apply. Support: {current_app.config['SMS_SUPPORT_CONTACT']}. Reply STOP to opt out. "
            f"{check_in_messages.CRISIS_LINE}")


def unknown_sender_text() -> str:
    return (f"{outbox.program_name()}: thanks for your message. We could not match this number to "
            f"an account. Support: {current_app.config['SMS_SUPPORT_CONTACT']}. Reply STOP to opt out. "
            f"{check_in_messages.CRISIS_LINE}")


def _sender(phone: str, consent: SmsConsent | None) -> User | None:
    """The patient who texts from `phone` (`consent`: its row): the one who agreed to texts at that
    number while it is still their number; else the patient whose profile has it (the oldest, if shared)."""
    if consent is not None and consent.user_id is not None:
        owner = db.session.get(User, consent.user_id)
        if owner is not None and owner.patient_profile is not None and owner.patient_profile.phone_e164 == phone:
            return owner
    return db.session.scalar(select(User).join(PatientProfile, PatientProfile.user_id == User.id)
                             .where(PatientProfile.phone_e164 == phone, User.role == Role.PATIENT)
                             .order_by(User.id).limit(1))


def _opt_out(phone: str, word: str, user: User | None, consent: SmsConsent | None) -> None:
    if consent is None:
        consent = SmsConsent(phone_e164=phone, user_id=user.id if user else None)
        db.session.add(consent)
    already = consent.opted_out_at is not None
    if not already:
        consent.opted_out_at, consent.opt_out_keyword = now(), word[:20]
    outbox.cancel_pending_to(phone)
    db.session.flush()
    audit.record(None, "update", "sms_consent", consent.id, patient_id=consent.user_id, fields=["opted_out_at"])
    if not already:  # one confirmation, not one per STOP
        outbox.enqueue(phone, f"{outbox.program_name()}: you are unsubscribed and will get no more "
                              "texts. Reply START to resubscribe.", "opt_out_confirmation",
                       priority=MessagePriority.REPLY, patient_id=consent.user_id)


def _opt_back_in(phone: str, user: User | None, consent: SmsConsent | None) -> None:
    clinic = outbox.program_name()
    if consent is None or consent.opted_in_at is None:
        outbox.enqueue(phone, f"{clinic}: to get texts from us, turn them on in your account settings.",
                       "opt_in_help", priority=MessagePriority.REPLY, patient_id=user.id if user else None)
        return
    if consent.opted_out_at is not None:
        consent.opted_out_at = consent.opt_out_keyword = None
        audit.record(None, "update", "sms_consent", consent.id, patient_id=consent.user_id, fields=["opted_out_at"])
    outbox.enqueue(phone, f"{clinic}: you are resubscribed to texts. {FREQUENCY}. Msg & data rates may apply. "
                          "Reply HELP for help, STOP to opt out.", "opt_in_confirmation",
                   priority=MessagePriority.REPLY, patient_id=consent.user_id)

"""The SMS outbox: every text is a durable row first, then sent by a dispatcher, exactly once.

`enqueue(...)` is the one way to send a text. It is written in the caller's transaction (the caller
commits), idempotent on `dedupe_key`, suppressed when opt-out applies, and a routine text is held
until 8:00 in the patient's own zone when it is due outside 8:00-21:00. Priorities:

- `routine`: quiet hours and opt-out (and opt-in) apply;
- `reply`: a direct answer to a text the person just sent (who asked for it), or the one request
  to a silent patient's sitter or emergency contact to check on them (`check_in_contact`): no quiet
  hours and no prior opt-in needed; suppressed if the number said STOP;
- `crisis`: neither applies (STOP ends every other kind of text);
- `staff`: to staff (on-call alerts): no quiet hours, no patient opt-out.

The confirmation of a STOP and the answer to HELP are sent even to a number that opted out (what
carriers require); see OPT_OUT_EXEMPT.

`dispatch_due(worker, limit)` claims due rows under a lease (PostgreSQL: `FOR UPDATE SKIP LOCKED`
inside one UPDATE ... RETURNING; SQLite: a compare-and-set UPDATE per row), commits the claim,
re-checks consent and quiet hours, records the attempt, sends, and records Twilio's SID. A row
whose attempt may have reached Twilio (a timeout, a 5xx, a dispatcher that died holding the lease:
`uncertain`) is first looked up in Twilio's log (`find_sent`, every page back to the text's
creation) and only sent if it is not there (a lookup that fails leaves the state unknown: the
row is retried later, never sent blindly nor failed as refused; a last attempt that still cannot ask
fails as uncertain with an ops alert, `text_state_unknown`), so a message is never sent twice even when a
dispatcher is killed between Twilio's 201 and our commit; a last attempt that may have reached
Twilio is looked up the same way before the row fails. Transient errors retry with capped exponential backoff and jitter; after
OUTBOX_MAX_ATTEMPTS, or at once on a permanent error, the row fails and a routine clinical alert
tells staff that a text to the patient could not be delivered. `drain(worker, limit, deadline_seconds)`
dispatches batch after batch (the scheduler's job, `flask outbox dispatch`).

`program_name()` (SMS_PROGRAM_NAME) is the name texts give the program.
"""
from __future__ import annotations

import logging
import os
import random
import re
import socket
from time import monotonic
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError

from telehealth.adapters import sms
from telehealth.clock import UTC, now
from telehealth.extensions import db
from telehealth.models.accounts.accounts import User
from telehealth.models.messaging.messaging import MessagePriority, MessageStatus, OutboundMessage, SmsConsent
from telehealth.models.platform.alerts import OPS, ClinicalAlert
from telehealth.services.messaging.message_content import check_sms_body
from telehealth.services.platform.alerts import raise_once

log = logging.getLogger(__name__)

MAX_BODY_LENGTH = 320
DAY_STARTS, QUIET_STARTS = time(8, 0), time(21, 0)
DEFAULT_ZONE = "America/New_York"  # a text with no patient and no known number: judged on Eastern time
OPT_OUT_EXEMPT = frozenset({"opt_out_confirmation", "help"})
# Routine texts that are not held to 8:00-21:00: the check-ins around an at-home session, at a time
# the patient chose for it, whose silence must reach the care team within hours (still opt-in only).
QUIET_HOURS_EXEMPT = frozenset({"check_in_prompt_pre", "check_in_remind_pre", "check_in_prompt_post",
                                "check_in_remind_post"})
UNDELIVERABLE_SUMMARY = "A text to the patient could not be delivered."
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")


# ----------------------------------------------------------------------------- enqueue


def program_name() -> str:
    """The program's name that starts every text (SMS_PROGRAM_NAME, checked at start-up to say
    nothing clinical)."""
    return current_app.config["SMS_PROGRAM_NAME"]


def _check_body(body: str, priority: MessagePriority) -> None:
    """Every body passes here before it is stored: short, and nothing clinical (no drug names, no
    diagnoses; message_content). The official crisis lines may be named in answers to a person."""
    if not body or len(body) > MAX_BODY_LENGTH:
        raise ValueError(f"a text body must be 1 to {MAX_BODY_LENGTH} characters")
    check_sms_body(body, allow_crisis_resources=priority in (MessagePriority.CRISIS, MessagePriority.REPLY))


def enqueue(to: str, body: str, purpose: str, *, priority: MessagePriority | str, patient_id: int | None = None,
            not_before: datetime | None = None, dedupe_key: str | None = None) -> OutboundMessage:
    """Add a text to the outbox in the current transaction (the caller commits) and return its row.
    With `dedupe_key`, a second call returns the first row and adds nothing."""
    priority = MessagePriority(priority)
    _check_body(body, priority)
    if not _E164.match(to or ""):
        raise ValueError("a text goes to an E.164 number")
    if dedupe_key is not None:
        existing = _by_dedupe_key(dedupe_key)
        if existing is not None:
            return existing
    at = now()
    message = OutboundMessage(to_phone=to, body=body, purpose=purpose[:40], priority=priority,
                              patient_id=patient_id, not_before=not_before or at, status=MessageStatus.PENDING,
                              attempts=0, uncertain=False, dedupe_key=dedupe_key, created_at=at)
    consent = _consent(message)
    blocked = _blocked(message, consent)
    if blocked:
        message.status, message.last_error = MessageStatus.SUPPRESSED, blocked
    elif priority is MessagePriority.ROUTINE and message.purpose not in QUIET_HOURS_EXEMPT:
        message.not_before = (_held_until(max(message.not_before, at), _zone_of(message, consent))
                              or message.not_before)
    if dedupe_key is None:
        db.session.add(message)
        return message
    try:
        with db.session.begin_nested():
            db.session.add(message)
    except IntegrityError:  # another process enqueued the same key first
        existing = _by_dedupe_key(dedupe_key)
        if existing is None:
            raise
        return existing
    return message


def _by_dedupe_key(key: str) -> OutboundMessage | None:
    return db.session.scalar(select(OutboundMessage).where(OutboundMessage.dedupe_key == key))


def consent_for(phone: str) -> SmsConsent | None:
    return db.session.scalar(select(SmsConsent).where(SmsConsent.phone_e164 == phone))


def _consent(message: OutboundMessage) -> SmsConsent | None:
    """The consent of the text's number, looked up once for `_blocked` and `_zone_of`; not at all
    for a text neither reads it for (crisis, staff, STOP's confirmation and HELP's answer)."""
    if message.priority in (MessagePriority.CRISIS, MessagePriority.STAFF) or (
            message.purpose in OPT_OUT_EXEMPT and message.priority is not MessagePriority.ROUTINE):
        return None
    return consent_for(message.to_phone)


def _blocked(message: OutboundMessage, consent: SmsConsent | None) -> str | None:
    """Why this text may not be sent now (opt-out, no opt-in), or None; `consent` from `_consent`."""
    if message.priority in (MessagePriority.CRISIS, MessagePriority.STAFF) or message.purpose in OPT_OUT_EXEMPT:
        return None
    if consent is not None and consent.opted_out_at is not None:
        return "opted out"
    if message.priority is MessagePriority.ROUTINE and (consent is None or consent.opted_in_at is None):
        return "not opted in"
    if (message.priority is MessagePriority.ROUTINE and message.patient_id is not None
            and consent.user_id != message.patient_id):
        return "not opted in"  # a shared number: its owner agreed, this patient did not
    return None


def _zone_of(message: OutboundMessage, consent: SmsConsent | None) -> str:
    """The time zone the text is judged in: its patient's, else its number's owner's."""
    user_id = message.patient_id
    if user_id is None:
        user_id = consent.user_id if consent is not None else None
    user = db.session.get(User, user_id) if user_id is not None else None
    return user.time_zone if user is not None else DEFAULT_ZONE


def _held_until(moment: datetime, zone: str) -> datetime | None:
    """None when `moment` is within 8:00-21:00 in `zone`; otherwise the next 8:00 there (UTC)."""
    tz = ZoneInfo(zone)
    local = moment.astimezone(tz)
    if DAY_STARTS <= local.time() < QUIET_STARTS:
        return None
    day = local.date() if local.time() < DAY_STARTS else local.date() + timedelta(days=1)
    return datetime.combine(day, DAY_STARTS, tzinfo=tz).astimezone(UTC)


def cancel_pending(dedupe_keys: list[str]) -> int:
    """Withdraw texts not yet sent (a check-in answered before its prompt or reminder went out)."""
    result = db.session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.dedupe_key.in_(dedupe_keys), OutboundMessage.status == MessageStatus.PENDING)
        .values(status=MessageStatus.CANCELLED, last_error="no longer needed")
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


def cancel_pending_to(phone: str) -> int:
    """Cancel every pending routine or reply text to `phone` (STOP); crisis and staff texts stay."""
    result = db.session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.to_phone == phone, OutboundMessage.status == MessageStatus.PENDING,
               OutboundMessage.priority.in_([MessagePriority.ROUTINE, MessagePriority.REPLY]),
               OutboundMessage.purpose.not_in(OPT_OUT_EXEMPT))
        .values(status=MessageStatus.CANCELLED, last_error="opted out")
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


# ----------------------------------------------------------------------------- dispatch


def worker_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def release_expired_leases() -> int:
    """Rows left `sending` past their lease (their dispatcher died or hung) go back to pending,
    marked uncertain: the next attempt first asks Twilio whether it already has the message."""
    result = db.session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.status == MessageStatus.SENDING, OutboundMessage.lease_until < now())
        .values(status=MessageStatus.PENDING, uncertain=True, lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False))
    db.session.commit()
    released = result.rowcount or 0
    if released:
        log.warning("outbox leases expired", extra={"released": released})
    return released


def _lease() -> timedelta:
    return timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])


PRIORITY_RANK = {MessagePriority.CRISIS: 0, MessagePriority.STAFF: 1, MessagePriority.REPLY: 2,
                 MessagePriority.ROUTINE: 3}


def _claim(worker: str, limit: int) -> list[int]:
    at = now()
    values = {"status": MessageStatus.SENDING, "lease_owner": worker, "lease_until": at + _lease()}
    # Crisis and staff texts first: at 8:00 a zone's held routine texts all fall due at once, and a
    # crisis answer must not wait behind them.
    rank = case(PRIORITY_RANK, value=OutboundMessage.priority, else_=len(PRIORITY_RANK))
    due = (select(OutboundMessage.id)
           .where(OutboundMessage.status == MessageStatus.PENDING, OutboundMessage.not_before <= at)
           .order_by(rank, OutboundMessage.not_before, OutboundMessage.id).limit(limit))
    if db.session.get_bind().dialect.name == "postgresql":
        # A materialized CTE, run once: as `id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)` the
        # planner may rescan the subquery for each row it updates, each rescan skipping the rows
        # already claimed, and so claim every due row however small `limit`.
        batch = due.with_for_update(skip_locked=True).cte("due").prefix_with("MATERIALIZED")
        rows = db.session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == batch.c.id, OutboundMessage.status == MessageStatus.PENDING)
            .values(**values).returning(OutboundMessage.id)
            .execution_options(synchronize_session=False))
        claimed = sorted(rows.scalars())
    else:
        claimed = []
        for message_id in db.session.scalars(due).all():
            result = db.session.execute(
                update(OutboundMessage)
                .where(OutboundMessage.id == message_id, OutboundMessage.status == MessageStatus.PENDING)
                .values(**values).execution_options(synchronize_session=False))
            if result.rowcount == 1:
                claimed.append(message_id)
    db.session.commit()
    return claimed


def _mine(message_id: int, worker: str):
    """A guarded UPDATE of a row this worker holds under its lease."""
    return (update(OutboundMessage)
            .where(OutboundMessage.id == message_id, OutboundMessage.lease_owner == worker,
                   OutboundMessage.status == MessageStatus.SENDING)
            .execution_options(synchronize_session=False))


_RELEASE = {"lease_owner": None, "lease_until": None}


def dispatch_due(worker: str | None = None, limit: int = 100) -> dict[str, int]:
    """Claim up to `limit` due texts and send them; counts of what happened."""
    worker = worker or worker_name()
    release_expired_leases()
    counts = {"claimed": 0, "sent": 0, "retried": 0, "failed": 0, "held": 0, "suppressed": 0}
    claimed = _claim(worker, limit)
    counts["claimed"] = len(claimed)
    for message_id in claimed:
        try:
            outcome = _dispatch_one(message_id, worker)
        except Exception as exc:  # noqa: BLE001 - the row stays leased; it is recovered when the lease ends
            db.session.rollback()
            log.error("outbox dispatch error", extra={"message_id": message_id, "exception": type(exc).__name__})
            continue
        if outcome:
            counts[outcome] += 1
    return counts


def drain(worker: str | None = None, limit: int = 100, deadline_seconds: float = 60) -> dict[str, int]:
    """Dispatch batch after batch until one claims fewer than `limit` texts (nothing more is due)
    or `deadline_seconds` have passed; the counts summed over the batches."""
    worker = worker or worker_name()
    deadline = monotonic() + deadline_seconds
    total: dict[str, int] = {}
    while True:
        counts = dispatch_due(worker, limit)
        for key, value in counts.items():
            total[key] = total.get(key, 0) + value
        if counts["claimed"] < limit or monotonic() > deadline:
            return total


def _dispatch_one(message_id: int, worker: str) -> str | None:
    message = db.session.get(OutboundMessage, message_id, populate_existing=True)
    if message is None or message.status is not MessageStatus.SENDING or message.lease_owner != worker:
        return None
    at = now()
    consent = _consent(message)
    blocked = _blocked(message, consent)
    if blocked:
        db.session.execute(_mine(message_id, worker).values(status=MessageStatus.SUPPRESSED, last_error=blocked,
                                                            **_RELEASE))
        db.session.commit()
        return "suppressed"
    if message.priority is MessagePriority.ROUTINE and message.purpose not in QUIET_HOURS_EXEMPT:
        held = _held_until(at, _zone_of(message, consent))
        if held is not None:
            db.session.execute(_mine(message_id, worker).values(status=MessageStatus.PENDING, not_before=held,
                                                                **_RELEASE))
            db.session.commit()
            return "held"
    # The attempt is on record (and the lease renewed) before anything goes out.
    started = db.session.execute(_mine(message_id, worker).values(
        attempts=OutboundMessage.attempts + 1, attempt_started_at=at, lease_until=at + _lease()))
    db.session.commit()
    if started.rowcount != 1:
        return None
    attempts = message.attempts + 1
    sid = None
    if message.uncertain:
        # Asked apart from the send: a lookup that fails (any error of Twilio's list endpoint, a 4xx
        # or a 429 too) says nothing about the text, which Twilio may hold. Its state is unknown: never
        # sent blindly, never failed as refused; asked again later (backoff), and at the last attempt
        # the row fails as uncertain and ops are told to look in Twilio's log, no clinical alert.
        try:
            sid = _already_sent(message)
        except sms.SmsError as exc:
            return _lookup_failed(message, worker, attempts, exc)
    try:
        if sid is None:
            sid = sms.send(message.to_phone, message.body)
    except sms.SmsPermanent as exc:
        _fail(message, worker, exc.reason)
        return "failed"
    except sms.SmsTransient as exc:
        if attempts < current_app.config["OUTBOX_MAX_ATTEMPTS"]:
            retry_at = now() + backoff(attempts)
            db.session.execute(_mine(message_id, worker).values(
                status=MessageStatus.PENDING, not_before=retry_at, uncertain=message.uncertain or exc.maybe_sent,
                last_error=exc.reason, **_RELEASE))
            db.session.commit()
            return "retried"
        # The last attempt: if Twilio may have taken the text (a timeout, a 5xx), ask it before
        # giving up, so a text that went out is recorded sent, not failed with a false alert.
        sid = _found_after_all(message) if exc.maybe_sent else None
        if sid is None:
            _fail(message, worker, f"gave up after {attempts} attempts: {exc.reason}", uncertain=exc.maybe_sent)
            return "failed"
    try:
        recorded = db.session.execute(_mine(message_id, worker).values(
            status=MessageStatus.SENT, provider_sid=sid, sent_at=now(), uncertain=False, last_error=None,
            **_RELEASE))
        db.session.commit()
    except IntegrityError:  # another dispatcher recorded this SID first
        db.session.rollback()
        return None
    if recorded.rowcount != 1:
        log.warning("outbox lease lost while sending", extra={"message_id": message_id})
        return None
    return "sent"


def _already_sent(message: OutboundMessage) -> str | None:
    """Twilio's SID for this text if an earlier attempt reached it (never a SID already recorded
    for another row: two identical texts to one number are two messages)."""
    since = message.created_at - timedelta(minutes=5)
    taken = set(db.session.scalars(select(OutboundMessage.provider_sid).where(
        OutboundMessage.to_phone == message.to_phone, OutboundMessage.provider_sid.is_not(None),
        OutboundMessage.sent_at >= since)))
    return sms.find_sent(message.to_phone, message.body, since, exclude=taken)


def _lookup_failed(message: OutboundMessage, worker: str, attempts: int, exc: sms.SmsError) -> str:
    reason = f"lookup failed, state unknown: {exc.reason}"[:200]
    if attempts < current_app.config["OUTBOX_MAX_ATTEMPTS"]:
        db.session.execute(_mine(message.id, worker).values(
            status=MessageStatus.PENDING, not_before=now() + backoff(attempts), uncertain=True, last_error=reason,
            **_RELEASE))
        db.session.commit()
        return "retried"
    db.session.execute(_mine(message.id, worker).values(status=MessageStatus.FAILED, uncertain=True,
                                                        last_error=reason, **_RELEASE))
    raise_once(f"text_state_unknown:{message.id}", kind="text_state_unknown", urgency="routine", recipient=OPS,
               summary=f"Outbound text #{message.id}: Twilio could not be asked whether it went out. "
                       "Check Twilio's log before sending it again.")
    log.error("the state of a text is unknown", extra={"message_id": message.id, "purpose": message.purpose})
    db.session.commit()
    return "failed"


def _found_after_all(message: OutboundMessage) -> str | None:
    """`_already_sent`, or None when Twilio cannot say (the text then fails as uncertain)."""
    try:
        return _already_sent(message)
    except sms.SmsError as exc:
        log.warning("could not ask Twilio about an uncertain text", extra={"message_id": message.id,
                                                                           "reason": exc.reason})
        return None


def backoff(attempts: int) -> timedelta:
    """Wait before attempt `attempts + 1`: base * 2^(attempts-1), capped, plus up to 10% jitter."""
    cfg = current_app.config
    delay = min(float(cfg["OUTBOX_BACKOFF_MAX_SECONDS"]), float(cfg["OUTBOX_BACKOFF_SECONDS"]) * 2 ** (attempts - 1))
    return timedelta(seconds=delay * (1 + random.uniform(0, 0.1)))


def _fail(message: OutboundMessage, worker: str, reason: str, *, uncertain: bool = False) -> None:
    db.session.execute(_mine(message.id, worker).values(status=MessageStatus.FAILED, last_error=reason[:200],
                                                        uncertain=message.uncertain or uncertain, **_RELEASE))
    if message.patient_id is not None and message.priority is not MessagePriority.STAFF:
        db.session.add(ClinicalAlert(kind="message_undeliverable", urgency="routine", recipient="on_call_physician",
                                     patient_id=message.patient_id, summary=UNDELIVERABLE_SUMMARY))
    else:
        log.error("a text could not be delivered", extra={"message_id": message.id, "purpose": message.purpose})
    db.session.commit()

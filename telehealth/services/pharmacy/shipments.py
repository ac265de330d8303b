"""Shipments as their patient and ops see them, and ops moving one by hand (audited); the ops
board (listing, deadlines missed, CSV) is `shipment_board.py`.

Ops see names, addresses and shipment data only: nothing here returns prescription fields."""
from __future__ import annotations

import contextlib
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from telehealth.adapters import pharmacy
from telehealth.clock import now, today_in
from telehealth.errors import Conflict, NotFound, ValidationFailed
from telehealth.extensions import db
from telehealth.models.accounts.accounts import Role, User
from telehealth.models.platform.alerts import OPS
from telehealth.models.billing.billing import CreditKind
from telehealth.models.care.care_notes import PatientTreatmentPhase, TreatmentPhase
from telehealth.models.home_care.home_sessions import TreatmentPause
from telehealth.models.pharmacy.prescriptions import Prescription, PrescriptionStatus
from telehealth.models.pharmacy.shipments import RANK, SIDE_MOVES, Move, Shipment, ShipmentStatus, by_hand, judge
from telehealth.services.billing import ledger
from telehealth.services.platform import audit
from telehealth.services.platform.alerts import raise_once
from telehealth.services.platform.authz import Scope, authorize_patient
from telehealth.services.pharmacy.prescriptions import prescriber_refusals, versions_of
from telehealth.services.pharmacy.shipping_sla import deadlines

MAX_SESSIONS_PER_SHIPMENT = 3


def create_next_stage(physician: User, prescription_id: int, sessions: int) -> Shipment:
    """Send the next stage of a prescription to the pharmacy: 1 to 3 sessions, one medication
    credit each; a stage after the first needs the previous one delivered and released by a
    physician's review of its sessions, and the acting physician licensed in the prescription's
    state with a valid DEA registration today.

    The stage is committed (`created`, credits debited) before the pharmacy hears of it, then sent
    with its reference as the pharmacy's idempotency key: an answer lost on the way leaves a
    `created` stage that `reconcile_pharmacy` sends again and the pharmacy answers with the same
    order, never a second one."""
    prescription = db.session.get(Prescription, prescription_id, with_for_update=True)
    if prescription is None:
        raise NotFound("No such prescription.")
    authorize_patient(physician, prescription.patient_id, Scope.CLINICAL)
    if not 1 <= sessions <= MAX_SESSIONS_PER_SHIPMENT:
        raise ValidationFailed("A shipment holds 1 to 3 sessions.", fields={"sessions": ["From 1 to 3."]})
    refused = next_stage_refusal(physician, prescription, sessions)
    if refused is not None:
        raise refused
    patient = db.session.get(User, prescription.patient_id)
    previous, _ = stages_so_far(prescription)
    ship_by, deliver_by = deadlines(prescription.signed_at if previous is None else now())
    shipment = Shipment(prescription_id=prescription.id, patient_id=patient.id, stage=(previous.stage + 1)
                        if previous else 1, sessions=sessions, status=ShipmentStatus.CREATED,
                        shipping_address=patient.patient_profile.shipping_address, ship_by=ship_by,
                        deliver_by=deliver_by)
    db.session.add(shipment)
    db.session.flush()
    for n in range(1, sessions + 1):
        ledger.debit(patient.id, CreditKind.MEDICATION_SESSION, key=f"shipment:{shipment.id}:{n}",
                     note="Medication for one session")
    audit.record(physician, "create", "shipment", shipment.id, patient_id=patient.id)
    db.session.commit()
    return send_stage(shipment.id)


def stages_so_far(prescription: Prescription) -> tuple[Shipment | None, int]:
    """The last live stage of the prescription's lineage and the sessions sent in live stages.
    Stages count across every version (a new version does not start over), and a cancelled or
    returned stage neither counts nor blocks the next."""
    versions = versions_of(prescription.lineage)
    live = Shipment.status.not_in((ShipmentStatus.CANCELLED, ShipmentStatus.RETURNED))
    previous = db.session.scalar(select(Shipment).where(Shipment.prescription_id.in_(versions), live)
                                 .order_by(Shipment.stage.desc(), Shipment.id.desc()).limit(1))
    sent = db.session.scalar(select(func.coalesce(func.sum(Shipment.sessions), 0)).where(
        Shipment.prescription_id.in_(versions), live))
    return previous, sent


def next_stage_refusal(physician: User, prescription: Prescription, sessions: int = 1) -> Conflict | None:
    """Why the next stage of `sessions` sessions cannot be sent now, as the refusal `create_next_stage`
    raises (the stage page shows its words in place of the Send button); None when it may be sent.
    The caller has authorized the physician for the patient."""
    if prescription.status is not PrescriptionStatus.ACTIVE:
        return Conflict("Only the current version of a prescription is filled.")
    patient = db.session.get(User, prescription.patient_id)
    stopped = treatment_stopped(patient.id, pause_counts=True)
    if stopped:
        return Conflict(stopped, code="treatment_stopped")
    problems = prescriber_refusals(physician, prescription.license_state, today_in(patient.time_zone))
    if problems:
        return Conflict(" ".join(problems), code="prescriber_not_allowed")
    previous, sent = stages_so_far(prescription)
    if previous is not None and previous.next_stage_released_at is None:
        n = previous.stage
        if previous.status is not ShipmentStatus.DELIVERED:
            why = f"The next stage waits until stage {n} is delivered and released after its sessions."
        elif previous.sessions_completed_at is None:
            why = (f"The next stage waits until stage {n}'s sessions are completed with their check-ins answered "
                   "and a physician releases it.")
        else:
            why = f"The next stage waits until a physician reviews stage {n}'s sessions and releases it."
        return Conflict(why, code="stage_not_released")
    # The first fill, then up to `refills` more, each of `sessions`; refills only within 6 months.
    allowed = prescription.total_sessions
    if sent + sessions > prescription.sessions and today_in(physician.time_zone) > prescription.refills_until:
        return Conflict("The prescription's refills ended six months after it was signed; a new one is needed.",
                        code="refills_expired")
    if sent + sessions > allowed:
        return Conflict(f"The prescription, with its refills, has {allowed - sent} sessions left to ship.",
                        code="beyond_prescription")
    return None


def _locked(shipment_id: int) -> Shipment:
    return db.session.get(Shipment, shipment_id, with_for_update=True, populate_existing=True)


def _unsent(shipment: Shipment) -> bool:
    """Still to be sent: `created`, no order id, not being cancelled, not given up."""
    return (shipment.status is ShipmentStatus.CREATED and shipment.pharmacy_order_id is None
            and shipment.cancel_requested_at is None and shipment.send_failed_at is None)


def _send_failed(shipment: Shipment, reason: str) -> None:
    """Tell ops (once) that a stage could not be sent; `reason` is short and says nothing clinical."""
    raise_once(f"pharmacy_send_failed:{shipment.id}", kind="pharmacy_send_failed", urgency="routine", recipient=OPS,
               shipment_id=shipment.id, patient_id=shipment.patient_id,
               summary=f"Shipment #{shipment.id} could not be sent to the pharmacy: {reason}.")


def _failed_attempt(shipment: Shipment, exc: pharmacy.PharmacyUnavailable | pharmacy.PharmacyRejected,
                    what: str = "it") -> None:
    """Note a send attempt that failed (the row is locked). Rejected (sending again changes
    nothing), or the last attempt allowed: given up, no longer retried, and ops are alerted once."""
    shipment.send_attempts += 1
    shipment.last_send_error = str(exc)[:200]
    if not _unsent(shipment):  # sent by someone else meanwhile, or being cancelled: nothing to give up
        return
    if isinstance(exc, pharmacy.PharmacyRejected):
        reason = f"{what} was rejected (HTTP {exc.http_status})"
    elif shipment.send_attempts >= current_app.config["PHARMACY_MAX_SEND_ATTEMPTS"]:
        reason = f"no answer after {shipment.send_attempts} attempts"
    else:
        return
    shipment.send_failed_at = now()
    _send_failed(shipment, reason)


def send_stage(shipment_id: int) -> Shipment:
    """Send a committed `created` stage to the pharmacy (again): safe to repeat, because the
    pharmacy answers a known reference with the order it already has. Unreachable: the stage stays
    `created` with the error noted, for the reconciler, until PHARMACY_MAX_SEND_ATTEMPTS attempts.
    Rejected (a 4xx other than 409: sending again would change nothing), or out of attempts: given
    up (`send_failed_at`), no longer retried, and ops are alerted to cancel it. Refused (its
    reference was cancelled while the order was on its way): the stage is cancelled, its credits
    come back, and ops are alerted."""
    shipment = db.session.get(Shipment, shipment_id)
    if not _unsent(shipment):
        return shipment
    prescription = db.session.get(Prescription, shipment.prescription_id)
    profile = db.session.get(User, shipment.patient_id).patient_profile
    sent_address = dict(shipment.shipping_address)
    try:
        order_id = pharmacy.send_order(
            reference=shipment.pharmacy_reference,
            patient_name=f"{profile.legal_first_name} {profile.legal_last_name}",
            address=sent_address, medication=prescription.medication, form=prescription.form.value,
            strength_mg=prescription.strength_mg,
            units=shipment.sessions * prescription.dose_per_session_mg // prescription.strength_mg,
            directions=prescription.directions)
    except pharmacy.PharmacyRefused:
        shipment = _locked(shipment_id)
        if shipment.status is ShipmentStatus.CREATED:
            shipment.apply(ShipmentStatus.CANCELLED, now(), source="system")
            give_back_credits(shipment)
            if shipment.cancel_requested_at is None:  # voided by no one here: ops must hear of it
                _send_failed(shipment, "its order there had been cancelled, so the stage is cancelled and its "
                                       "credits given back")
        db.session.commit()
        return shipment
    except (pharmacy.PharmacyUnavailable, pharmacy.PharmacyRejected) as exc:
        shipment = _locked(shipment_id)
        _failed_attempt(shipment, exc)
        db.session.commit()
        return shipment
    shipment = _locked(shipment_id)
    if shipment.status is ShipmentStatus.CREATED and shipment.pharmacy_order_id is None:
        shipment.last_send_error = None
        if not _address_reaches(shipment, order_id, sent_address):
            db.session.commit()
            return shipment
        shipment.pharmacy_order_id = order_id
        shipment.send_attempts += 1
        shipment.apply(ShipmentStatus.SENT_TO_PHARMACY, now(), source="system")
    db.session.commit()
    return shipment


def _address_reaches(shipment: Shipment, order_id: str, sent_address: dict) -> bool:
    """The order id is learned for the first time (the row is locked): make sure the pharmacy's
    order goes to the stage's address now. An earlier attempt whose answer was lost may have made
    the order with an address changed since (the pharmacy answers a known reference with the order
    it has, address and all), and the address may have changed while this attempt was on its way;
    so unless this was the first attempt with the current address, the pharmacy is told it. Whether
    the order id may be committed: not while the pharmacy has not taken the address (the stage
    stays `created` and the next attempt learns the id again), nor when it was rejected (given up);
    yes when the order has already left (ops are alerted: it may go to the old address)."""
    if shipment.send_attempts == 0 and shipment.shipping_address == sent_address:
        return True
    try:
        pharmacy.update_address(order_id, shipment.shipping_address)
    except pharmacy.PharmacyRefused:
        shipment.last_send_error = "The pharmacy had shipped or cancelled it before its new address reached it."
        raise_once(f"address_not_updated:{shipment.id}", kind="address_not_updated", urgency="urgent", recipient=OPS,
                   shipment_id=shipment.id, patient_id=shipment.patient_id,
                   summary=f"Shipment #{shipment.id} had shipped or been cancelled at the pharmacy before its new "
                           "address reached it: it may go to the old address.")
        return True
    except (pharmacy.PharmacyUnavailable, pharmacy.PharmacyRejected) as exc:
        _failed_attempt(shipment, exc, what="its new address")
        return False
    return True


def treatment_stopped(patient_id: int, *, pause_counts: bool) -> str | None:
    """Why no more medication goes to this patient now: discharged (services/care/follow_ups.py), or
    (`pause_counts`) a treatment pause still open; None when it may."""
    if PatientTreatmentPhase.phase_of(patient_id) is TreatmentPhase.DISCHARGED:
        return "The patient was discharged: no more medication is sent."
    if pause_counts and TreatmentPause.has_open_pause(patient_id):
        return "Treatment is paused: the next stage waits until a physician resumes it."
    return None


def cancel_unshipped_stages(actor: User, patient_id: int) -> list[Shipment]:
    """A discharged patient's stages that have not left the pharmacy are cancelled (through the
    pharmacy, as ops would; one the pharmacy has already shipped is left to arrive)."""
    pending = list(db.session.scalars(select(Shipment.id).where(
        Shipment.patient_id == patient_id, Shipment.status.in_(SIDE_MOVES[ShipmentStatus.CANCELLED]),
        Shipment.shipped_at.is_(None)).order_by(Shipment.id)))
    db.session.commit()
    cancelled = []
    for shipment_id in pending:
        with contextlib.suppress(Conflict):
            cancelled.append(request_cancellation(actor, shipment_id))
    return cancelled


def give_back_credits(shipment: Shipment) -> None:
    """A cancelled stage's medication credits return to the patient (once)."""
    for n in range(1, shipment.sessions + 1):
        ledger.restore(shipment.patient_id, CreditKind.MEDICATION_SESSION, key=f"shipment:{shipment.id}:{n}:back",
                       note="Shipment cancelled")


def release_refusal(shipment: Shipment) -> Conflict | None:
    """Why the next stage cannot be released after this one now, as the refusal `release_next_stage`
    raises (the stage page shows its words in place of the Release button); None when it may."""
    n = shipment.stage
    if shipment.status is not ShipmentStatus.DELIVERED:
        return Conflict(f"Release waits until stage {n} is delivered: a stage is reviewed after its medication "
                        "arrived.")
    if shipment.next_stage_released_at is not None:
        return Conflict(f"Stage {n} was already reviewed and released.")
    if shipment.sessions_completed_at is None:
        return Conflict(f"Release waits until stage {n}'s sessions are completed with their check-ins answered.",
                        code="sessions_not_done")
    stopped = treatment_stopped(shipment.patient_id, pause_counts=False)
    if stopped:
        return Conflict(stopped, code="treatment_stopped")
    return None


def release_next_stage(physician: User, shipment_id: int, *, commit: bool = True) -> Shipment:
    """The physician has reviewed this stage's sessions: the next stage may ship (commit=False:
    only flush, for a follow-up decision that commits the release with its record)."""
    shipment = db.session.get(Shipment, shipment_id, with_for_update=True)
    if shipment is None:
        raise NotFound("No such shipment.")
    authorize_patient(physician, shipment.patient_id, Scope.CLINICAL)
    refused = release_refusal(shipment)
    if refused is not None:
        raise refused
    shipment.next_stage_released_at, shipment.next_stage_released_by = now(), physician.id
    audit.record(physician, "update", "shipment", shipment.id, patient_id=shipment.patient_id,
                 fields=["next_stage_released_at"])
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return shipment


def for_patient(patient: User) -> list[Shipment]:
    return list(db.session.scalars(select(Shipment).where(Shipment.patient_id == patient.id)
                                   .order_by(Shipment.created_at.desc())))


def move(actor: User, shipment_id: int, target: str, details: dict) -> Shipment:
    """A person's transition, kept in the history: one step along the path at a time, or to
    exception or returned, and never out of `created` (see `by_hand`; else 409). A cancellation
    goes through the pharmacy first (see `request_cancellation`)."""
    if ShipmentStatus(target) is ShipmentStatus.CANCELLED:
        return request_cancellation(actor, shipment_id)
    shipment = db.session.get(Shipment, shipment_id, with_for_update=True)
    if shipment is None:
        raise NotFound("No such shipment.")
    # A stage with a pharmacy order was sent, whatever its history says (an exception forgets nothing).
    reached = max(shipment.reached(), RANK[ShipmentStatus.SENT_TO_PHARMACY] if shipment.pharmacy_order_id else 0)
    if not by_hand(shipment.status, ShipmentStatus(target), reached):
        raise Conflict(f"A shipment that is {shipment.status} cannot be moved to {target} by hand: one step "
                       "at a time, or to exception or returned; sending a stage to the pharmacy is the system's job.",
                       code="move_not_allowed")
    shipment.apply(ShipmentStatus(target), now(), source="ops", details=details)
    audit.record(actor, "update", "shipment", shipment.id, patient_id=shipment.patient_id, fields=["status"])
    db.session.commit()
    return shipment


def request_cancellation(actor: User, shipment_id: int) -> Shipment:
    """Cancel a stage that has not shipped. The request is committed first, then the pharmacy is
    told by reference (which also voids an order still on its way); if its answer is lost, the
    reconciler asks again, so a cancellation is never half done. Once the pharmacy has shipped, 409,
    even from an exception afterwards: its credits do not come back while the package is with the
    carrier (a package that comes back is returned, not cancelled)."""
    shipment = db.session.get(Shipment, shipment_id, with_for_update=True)
    if shipment is None:
        raise NotFound("No such shipment.")
    if judge(shipment.status, ShipmentStatus.CANCELLED) is not Move.APPLIED:
        raise Conflict(f"A shipment that is {shipment.status} cannot become cancelled.")
    if shipment.shipped_at is not None:
        raise Conflict(LEFT_THE_PHARMACY, code="already_shipped")
    if shipment.cancel_requested_at is None:
        shipment.cancel_requested_at = now()
        audit.record(actor, "update", "shipment", shipment.id, patient_id=shipment.patient_id,
                     fields=["cancel_requested_at"])
    db.session.commit()
    return complete_cancellation(shipment_id)


LEFT_THE_PHARMACY = ("This shipment has left the pharmacy and cannot be cancelled; a package that comes back "
                     "is marked returned.")


def complete_cancellation(shipment_id: int) -> Shipment:
    shipment = _locked(shipment_id)
    if shipment.shipped_at is not None:  # it shipped after the cancellation was asked
        shipment.cancel_requested_at = None
        shipment.last_send_error = "It had left the pharmacy; not cancelled."
        db.session.commit()
        raise Conflict(LEFT_THE_PHARMACY, code="already_shipped")
    reference = shipment.pharmacy_reference
    db.session.commit()
    try:
        pharmacy.cancel_order(reference)
    except pharmacy.PharmacyRefused:
        shipment = _locked(shipment_id)
        shipment.cancel_requested_at = None
        shipment.last_send_error = "The pharmacy had already shipped it; not cancelled."
        db.session.commit()
        raise Conflict("The pharmacy has already shipped this order; it cannot be cancelled.",
                       code="already_shipped") from None
    except (pharmacy.PharmacyUnavailable, pharmacy.PharmacyRejected) as exc:
        shipment = _locked(shipment_id)
        shipment.last_send_error = str(exc)[:200]
        db.session.commit()
        return shipment  # still asked: the reconciler finishes it
    shipment = _locked(shipment_id)
    if judge(shipment.status, ShipmentStatus.CANCELLED) is Move.APPLIED and shipment.shipped_at is None:
        shipment.apply(ShipmentStatus.CANCELLED, now(), source="ops")
        give_back_credits(shipment)
    shipment.cancel_requested_at = None
    db.session.commit()
    return shipment


def reconcile_pharmacy(grace_seconds: int = 30) -> dict[str, int]:
    """Finish what a lost answer left undone: stages still `created` (sent again under the same
    reference) unless sending them was given up, and cancellations asked but not confirmed. Run by
    the scheduler."""
    cutoff = now() - timedelta(seconds=grace_seconds)
    unsent = list(db.session.scalars(select(Shipment.id).where(
        Shipment.status == ShipmentStatus.CREATED, Shipment.pharmacy_order_id.is_(None),
        Shipment.cancel_requested_at.is_(None), Shipment.send_failed_at.is_(None), Shipment.created_at <= cutoff)
        .order_by(Shipment.id)))
    cancelling = list(db.session.scalars(select(Shipment.id).where(
        Shipment.status.in_(SIDE_MOVES[ShipmentStatus.CANCELLED]), Shipment.cancel_requested_at.is_not(None),
        Shipment.cancel_requested_at <= cutoff).order_by(Shipment.id)))
    db.session.commit()
    counts = {"sent": 0, "cancelled": 0}
    for shipment_id in unsent:
        counts["sent"] += send_stage(shipment_id).status is not ShipmentStatus.CREATED
    for shipment_id in cancelling:
        with contextlib.suppress(Conflict):
            counts["cancelled"] += complete_cancellation(shipment_id).status is ShipmentStatus.CANCELLED
    return counts


# ------------------------------------------------------------------ status groups (the ops board's too)

NOT_YET_SHIPPED = (ShipmentStatus.CREATED, ShipmentStatus.SENT_TO_PHARMACY, ShipmentStatus.RECEIVED,
                   ShipmentStatus.FILLED, ShipmentStatus.EXCEPTION)
NOT_YET_DELIVERED = NOT_YET_SHIPPED + (ShipmentStatus.SHIPPED, ShipmentStatus.OUT_FOR_DELIVERY)


# ------------------------------------------------------------------ address changes

CHANGEABLE_BY_PATIENT = (ShipmentStatus.CREATED, ShipmentStatus.SENT_TO_PHARMACY, ShipmentStatus.RECEIVED)


def change_address(actor: User, shipment_id: int, address: dict) -> Shipment:
    """The patient may change where a shipment goes until the pharmacy has filled it; after that,
    only ops (audited), before it has shipped."""
    shipment = db.session.get(Shipment, shipment_id, with_for_update=True)
    if shipment is None or (actor.role is Role.PATIENT and shipment.patient_id != actor.id):
        raise NotFound("No such shipment.")
    if actor.role is Role.PATIENT and shipment.status not in CHANGEABLE_BY_PATIENT:
        raise Conflict("The pharmacy has filled this order: ask our team to change its address.",
                       code="address_locked")
    if shipment.status not in NOT_YET_SHIPPED or shipment.shipped_at is not None:
        raise Conflict("This shipment has left the pharmacy.", code="address_locked")
    prescription = db.session.get(Prescription, shipment.prescription_id)
    if address.get("state") != prescription.license_state:
        # A controlled substance goes only where its prescriber is licensed.
        raise ValidationFailed("The medication can only be sent within the state it was prescribed for.",
                               fields={"address.state": [f"Must be {prescription.license_state}."]})
    if shipment.status is ShipmentStatus.CREATED and shipment.pharmacy_order_id is None:
        # The pharmacy may hold the order already (its answer lost): learn its id first, so the
        # new address reaches it; a stage that still cannot be sent goes out later with the new one.
        db.session.commit()
        send_stage(shipment.id)
        shipment = _locked(shipment.id)
    if shipment.pharmacy_order_id:
        pharmacy.update_address(shipment.pharmacy_order_id, address)  # before commit: refused, nothing changes
    shipment.shipping_address = address
    audit.record(actor, "update", "shipment_address", shipment.id, patient_id=shipment.patient_id,
                 fields=["shipping_address"])
    db.session.commit()
    return shipment

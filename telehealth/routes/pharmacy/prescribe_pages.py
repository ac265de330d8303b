"""The prescriber's pages: sign a prescription, change one with a new version, send and release its
stages. Each form posts to the service the API calls (POST /api/v1/patients/<id>/prescriptions,
/prescriptions/<id>/versions, /prescriptions/<id>/shipments, /shipments/<id>/release-next-stage),
read with the same schemas, and shows its refusals in words.

Before the terms comes the checklist of every Schedule III precondition (`prescriber_views`), the
very list signing refuses from: a cross carries the refusal's words. The Sign button looks inactive
while something fails, but stays a button: the server is what refuses, never the page.
"""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from telehealth.errors import ServiceError
from telehealth.models.accounts.accounts import Role
from telehealth.models.pharmacy.shipments import ShipmentStatus
from telehealth.pages import done, form_body, page, refusal
from telehealth.schemas.pharmacy.prescriptions import PrescriptionIn
from telehealth.schemas.pharmacy.shipments import StageIn
from telehealth.services.pharmacy import prescriber_views, prescriptions, shipments

bp = Blueprint("prescribe_pages", __name__)
PHYSICIAN = (Role.PHYSICIAN,)
TERM_FIELDS = ("form", "strength_mg", "dose_per_session_mg", "sessions", "refills", "directions", "diagnosis_code")
LABELS = {"form": "Form", "strength_mg": "Strength", "dose_per_session_mg": "Dose per session",
          "sessions": "Sessions per fill", "refills": "Refills", "directions": "Directions",
          "diagnosis_code": "Diagnosis code", "second_factor_code": "Authenticator code"}
FORMS = (("sublingual_tablet", "Sublingual tablet"), ("troche", "Troche (lozenge)"))
S = ShipmentStatus
# Each status as the prescriber reads it in the stage list.
STATUS_NAMES = {S.CREATED: "Being sent to the pharmacy", S.SENT_TO_PHARMACY: "Sent to the pharmacy",
                S.RECEIVED: "At the pharmacy", S.FILLED: "Filled", S.SHIPPED: "Shipped",
                S.OUT_FOR_DELIVERY: "Out for delivery", S.DELIVERED: "Delivered", S.EXCEPTION: "Delayed (ops on it)",
                S.RETURNED: "Returned to the pharmacy", S.CANCELLED: "Cancelled"}


def _terms(body: PrescriptionIn) -> prescriptions.PrescriptionTerms:
    return prescriptions.PrescriptionTerms(**body.model_dump())


def _typed() -> dict:
    """What the prescriber typed, to show again beside a refusal (never the code: it is used up)."""
    return {name: request.form.get(name, "") for name in TERM_FIELDS}


def _terms_of(prescription) -> dict:
    return {"form": prescription.form.value, "strength_mg": prescription.strength_mg,
            "dose_per_session_mg": prescription.dose_per_session_mg, "sessions": prescription.sessions,
            "refills": prescription.refills, "directions": prescription.directions,
            "diagnosis_code": prescription.diagnosis_code}


def _second_factor() -> str:
    return request.form.get("second_factor_code", "").strip()


def _render_form(checklist, values: dict, errors=None, status: int = 200):
    return render_template("pharmacy/prescribe.html", checklist=checklist, values=values, errors=errors,
                           labels=LABELS, forms=FORMS), status


@bp.route("/patients/<int:patient_id>/prescribe", methods=["GET", "POST"])
@page(roles=PHYSICIAN)
def prescribe(patient_id: int):
    checklist = prescriber_views.signing_checklist(current_user, patient_id)
    if request.method == "GET":
        return _render_form(checklist, {})
    try:
        body = form_body(PrescriptionIn)
        signed = prescriptions.sign(current_user, patient_id, _terms(body), second_factor_code=_second_factor())
    except ServiceError as exc:
        return _render_form(prescriber_views.signing_checklist(current_user, patient_id), _typed(), refusal(exc),
                            exc.status)
    return done(f"Signed: version {signed.version} of the prescription. Send its first stage below.",
                "prescribe_pages.stages", prescription_id=signed.id)


@bp.route("/prescriptions/<int:prescription_id>/change", methods=["GET", "POST"])
@page(roles=PHYSICIAN)
def change(prescription_id: int):
    checklist = prescriber_views.change_checklist(current_user, prescription_id)
    if request.method == "GET":
        return _render_form(checklist, _terms_of(checklist.changing))
    try:
        body = form_body(PrescriptionIn)
        signed = prescriptions.supersede(current_user, prescription_id, _terms(body),
                                         second_factor_code=_second_factor())
    except ServiceError as exc:
        return _render_form(prescriber_views.change_checklist(current_user, prescription_id), _typed(),
                            refusal(exc), exc.status)
    return done(f"Signed: version {signed.version} replaces version {checklist.changing.version}.",
                "prescribe_pages.stages", prescription_id=signed.id)


# ------------------------------------------------------------------ stages


def _render_stages(prescription_id: int, *, send_errors=None, release_errors=None, status: int = 200):
    view = prescriber_views.stage_list(current_user, prescription_id, request.args.get("page", 1, type=int))
    return render_template("pharmacy/stages.html", view=view, status_names=STATUS_NAMES,
                           send_errors=send_errors, release_errors=release_errors,
                           sessions_typed=request.form.get("sessions", "")), status


@bp.get("/prescriptions/<int:prescription_id>/stages")
@page(roles=PHYSICIAN)
def stages(prescription_id: int):
    return _render_stages(prescription_id)


@bp.post("/prescriptions/<int:prescription_id>/stages/send")
@page(roles=PHYSICIAN)
def send_stage(prescription_id: int):
    try:
        body = form_body(StageIn)
        sent = shipments.create_next_stage(current_user, prescription_id, body.sessions)
    except ServiceError as exc:
        return _render_stages(prescription_id, send_errors=refusal(exc), status=exc.status)
    if sent.status is ShipmentStatus.CREATED:
        message = (f"Stage {sent.stage} is recorded, but the pharmacy could not be reached yet: it is sent again "
                   "automatically, and ops are told if it keeps failing.")
    else:
        message = (f"Stage {sent.stage} ({sent.sessions} session{'' if sent.sessions == 1 else 's'}) is sent to the "
                   "pharmacy.")
    return done(message, "prescribe_pages.stages", prescription_id=prescription_id)


@bp.post("/prescriptions/<int:prescription_id>/stages/<int:shipment_id>/release")
@page(roles=PHYSICIAN)
def release_stage(prescription_id: int, shipment_id: int):
    try:
        released = shipments.release_next_stage(current_user, shipment_id)
    except ServiceError as exc:
        return _render_stages(prescription_id, release_errors=refusal(exc), status=exc.status)
    return done(f"Stage {released.stage} is reviewed: the next stage may be sent.", "prescribe_pages.stages",
                prescription_id=prescription_id)

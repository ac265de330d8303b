"""The physician's pages for their patients: the list of their care team's patients, the patient
chart, and the follow-up (a decision, clearing a side effect, pausing and resuming treatment).

Reads go through services/care/chart.py (one authorization, one audit row per opening); the actions
call the services the API calls (follow_ups.record_decision for POST
/api/v1/patients/<id>/follow-up-decisions, treatment_oversight.clear_adverse_event / pause_treatment /
resume_treatment for the home-care API), with the API's schemas, so the same input gets the same
refusal in the same words, and a refused action writes nothing.
"""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from telehealth.errors import ServiceError, ValidationFailed
from telehealth.models.accounts.accounts import Role
from telehealth.pages import done, form_body, page, refusal, viewer_zone
from telehealth.routes.screening import progress_chart
from telehealth.schemas.care.follow_ups import FollowUpDecisionIn
from telehealth.schemas.home_care.home_sessions import NoteIn, ReasonIn
from telehealth.schemas.pharmacy.prescriptions import PrescriptionIn
from telehealth.services.care import chart, follow_ups
from telehealth.services.care.today import kind_label
from telehealth.services.home_care import treatment_oversight
from telehealth.services.pharmacy import prescriptions
from telehealth.services.screening import scoring

bp = Blueprint("chart_pages", __name__)
PHYSICIAN = (Role.PHYSICIAN,)

INSTRUMENTS = (("phq9", "Depression (PHQ-9)", scoring.PHQ9_BANDS, 27), ("gad7", "Anxiety (GAD-7)", scoring.GAD7_BANDS, 21))
INSTRUMENT_SHORT = {"phq9": "PHQ-9", "gad7": "GAD-7"}
STATUS_WORDS = {"active": "Active treatment", "paused": "Paused", "maintenance": "Maintenance",
                "discharged": "Discharged"}
# What each decision does, in the words of services/care/follow_ups.py.
DECISIONS = (
    ("continue", "Continue", "The plan stands."),
    ("adjust", "Adjust", "Sign a new prescription version with the terms below."),
    ("pause", "Pause", "No session starts until treatment is resumed."),
    ("resume", "Resume", "Lift every pause; bring a discharged or maintenance patient back to active treatment."),
    ("discharge", "Discharge", "Treatment ends: scheduled sessions and unshipped stages are cancelled."),
    ("maintenance", "Maintenance", "Monthly maintenance from now on."),
)
GATE_WORDS = {"prescription": "Prescription", "medication_delivered": "Medication delivered",
              "interval": "Time since last session", "within_prescription": "Within the prescription",
              "consult": "Consult every few sessions", "consult_after_gap": "Consult after a gap",
              "adverse_event": "No open serious side effect", "crisis_alert": "No open crisis alert",
              "pause": "Not paused", "sitter": "Sitter present", "blood_pressure": "Blood pressure"}
FIELD_LABELS = {"decision": "Decision", "note": "Note", "reason": "Reason", "appointment_id": "Follow-up visit",
                "release_shipment_id": "Next stage", "form": "Dosage form", "strength_mg": "Strength",
                "dose_per_session_mg": "Dose a session", "sessions": "Sessions", "refills": "Refills",
                "directions": "Directions", "diagnosis_code": "Diagnosis code", "new_terms": "New terms"}


def band_words(band: str | None) -> str:
    return (band or "").replace("_", " ")


def _status_code(errors: dict) -> int:
    return 422 if errors["code"] == "validation_error" else errors.get("status", 409)


def _refused(exc: ServiceError) -> dict:
    return {**refusal(exc), "status": exc.status}


def _page_number(raw: str | None) -> int:
    try:
        return max(1, min(int(raw or 1), 100_000))
    except ValueError:
        raise ValidationFailed("Some query parameters are invalid.",
                               fields={"page": ["Use a page number from the links."]}) from None


@bp.route("/patients", methods=["GET", "POST"])
@page(roles=PHYSICIAN)
def patients():
    """The list; a search comes by POST (its words never in the address, see macros page_link)."""
    source = request.form if request.method == "POST" else request.args
    listing = chart.my_patients(current_user, search=request.form.get("q") if request.method == "POST" else None,
                                page=_page_number(source.get("page")))
    return render_template("care/patients.html", listing=listing, status_words=STATUS_WORDS, band_words=band_words)


def event_words(event, names: dict[int, str]) -> str:
    """One timeline event's details in a line a physician reads (the title says what happened)."""
    d = event.details
    who = lambda key: names.get(d.get(key), "")  # noqa: E731
    kind = event.kind
    if kind == "measure":
        return f"{INSTRUMENT_SHORT.get(d['instrument'], d['instrument'])} {d['total']} ({band_words(d['band'])})"
    if kind == "assessment":
        scores = ", ".join(f"{name} {d[key]}" for name, key in (("PHQ-9", "phq9_total"), ("GAD-7", "gad7_total"))
                           if d.get(key) is not None)
        return "; ".join(filter(None, (scores, f"result: {band_words(d['outcome'])}" if d.get("outcome") else "")))
    if kind == "assessment_review":
        return band_words(d["decision"]).capitalize() + (f"; note: {d['private_note']}" if d.get("private_note") else "")
    if kind == "blood_pressure":
        return f"{d['systolic']}/{d['diastolic']} ({band_words(d['band'])}, {band_words(d['source'])})"
    if kind == "appointment":
        return f"With {d['provider_name']}; {band_words(d['status'])}"
    if kind == "prescription":
        return (f"Version {d['version']}, {band_words(d['status'])}: {d['dose_per_session_mg']} mg a session, "
                f"{d['sessions']} sessions, {d['refills']} refills, {d['diagnosis_code']}")
    if kind in ("shipment", "shipment_status"):
        return f"Stage {d['stage']}: {band_words(d['status'])}"
    if kind == "session":
        failed = [g["id"] for g in d.get("gates") or [] if not g["ok"]]
        return band_words(d["status"]).capitalize() + (f"; gates not met: {', '.join(failed)}" if failed else "")
    if kind == "check_in":
        effects = ", ".join(f"{e['name']} (grade {e['grade']})" for e in d.get("side_effects") or [])
        return f"Session {d['session_number']}: mood {d.get('mood')}" + (f"; side effects: {effects}" if effects else "")
    if kind == "adverse_event":
        return f"{d['grade'].capitalize()}: {d['description']}" + ("" if d["open"] else " (cleared)")
    if kind == "adverse_event_cleared":
        return f"By {who('cleared_by')}: {d['note']}"
    if kind == "treatment_pause":
        return f"{d['reason']} ({'by ' + who('started_by') if d['started_by'] else 'by the system'})"
    if kind == "treatment_resumed":
        return f"By {who('cleared_by')}: {d['note']}"
    if kind == "message":
        return f"{band_words(d['purpose'])}: {band_words(d['status'])}"
    if kind == "coaching_summary":
        private = f" (the coach's own note: {d['private_note']})" if d.get("private_note") else ""
        return f"{who('coach_id')}: {d['summary']}{private}"
    if kind == "follow_up_decision":
        return f"{d['decision'].capitalize()} by {who('physician_id')}" + (f": {d['note']}" if d.get("note") else "")
    if kind == "clinical_alert":
        state = ("still open" if d["open"] else
                 f"acknowledged by {who('acknowledged_by') or 'a physician'}")
        return f"{d['summary']} ({band_words(d['urgency'])}; {state})"
    if kind == "clinical_alert_acknowledged":
        return f"By {who('acknowledged_by') or 'a physician'}"
    return ""


def _score_charts(measured) -> list:
    by_name = {o.instrument: o for o in measured}
    return [progress_chart.build(instrument, name, by_name[instrument].series if instrument in by_name else [],
                                 bands, top, viewer_zone())
            for instrument, name, bands, top in INSTRUMENTS]


@bp.get("/patients/<int:patient_id>", endpoint="chart")
@page(roles=PHYSICIAN)
def chart_view(patient_id: int):
    record = chart.patient_chart(current_user, patient_id, before=request.args.get("before") or None)
    return render_template("care/chart.html", chart=record, charts=_score_charts(record.outcomes),
                           older=bool(request.args.get("before")), status_words=STATUS_WORDS,
                           band_words=band_words, gate_words=GATE_WORDS, short=INSTRUMENT_SHORT,
                           event_words=event_words, alert_kind=kind_label)



def _render_follow_up(patient_id: int, *, errors: dict | None = None, form_name: str | None = None,
                      values=None, status: int = 200):
    summary = chart.follow_up_summary(current_user, patient_id)
    return render_template("care/follow_up.html", s=summary, errors=errors or {}, failed=form_name,
                           values=values or {}, decisions=DECISIONS, status_words=STATUS_WORDS,
                           band_words=band_words, short=INSTRUMENT_SHORT, field_labels=FIELD_LABELS), status


@bp.get("/patients/<int:patient_id>/follow-up")
@page(roles=PHYSICIAN)
def follow_up(patient_id: int):
    return _render_follow_up(patient_id)


def _decision_body():
    """The form as the API's FollowUpDecisionIn: new terms only with an adjustment (the other
    decisions' forms leave the terms' inputs as they were); every field's message at once."""
    fields: dict[str, list[str]] = {}
    terms = None
    decision = request.form.get("decision", "")
    if decision == "adjust":
        try:
            terms = form_body(PrescriptionIn)
        except ValidationFailed as exc:
            fields.update(exc.fields)
    try:
        body = form_body(FollowUpDecisionIn, extra={"new_terms": terms.model_dump() if terms else None})
    except ValidationFailed as exc:
        fields = {**exc.fields, **fields}
        body = None
    if fields:
        raise ValidationFailed("Some answers are missing or need a change; see the marked fields.", fields=fields)
    return body


@bp.post("/patients/<int:patient_id>/follow-up")
@page(roles=PHYSICIAN)
def record_decision(patient_id: int):
    try:
        body = _decision_body()
        terms = prescriptions.PrescriptionTerms(**body.new_terms.model_dump()) if body.new_terms else None
        _row, status = follow_ups.record_decision(current_user, patient_id, body.decision, body.note,
                                                  appointment_id=body.appointment_id, new_terms=terms,
                                                  release_shipment_id=body.release_shipment_id,
                                                  second_factor_code=body.second_factor_code,
                                                  seen_latest_id=body.seen_latest_id)
    except ServiceError as exc:
        if exc.status in (403, 404) and "second_factor_code" not in exc.fields:
            raise  # not this physician's patient (a missing or wrong code is the form's refusal)
        errors = _refused(exc)
        return _render_follow_up(patient_id, errors=errors, form_name="decision", values=request.form,
                                 status=_status_code(errors))
    label = dict((k, w) for k, w, _ in DECISIONS)[body.decision]
    return done(f"Decision recorded: {label}. Treatment status: {STATUS_WORDS[status].lower()}.",
                "chart_pages.chart", patient_id=patient_id)


def _oversight(patient_id: int, form_name: str, schema, act, said: str):
    """Pause or resume from the follow-up page: the API's schema and service; a refusal re-renders
    that form with its reasons (not this physician's patient: the 403/404 page)."""
    try:
        act(form_body(schema))
    except ServiceError as exc:
        if exc.status in (403, 404):
            raise
        errors = _refused(exc)
        return _render_follow_up(patient_id, errors=errors, form_name=form_name, values=request.form,
                                 status=_status_code(errors))
    return done(said, "chart_pages.follow_up", patient_id=patient_id)


@bp.post("/patients/<int:patient_id>/pause")
@page(roles=PHYSICIAN)
def pause(patient_id: int):
    return _oversight(patient_id, "pause", ReasonIn,
                      lambda body: treatment_oversight.pause_treatment(current_user, patient_id, body.reason),
                      "Treatment is paused: no session can start until it is resumed.")


@bp.post("/patients/<int:patient_id>/resume")
@page(roles=PHYSICIAN)
def resume(patient_id: int):
    return _oversight(patient_id, "resume", NoteIn,
                      lambda body: treatment_oversight.resume_treatment(current_user, patient_id, body.note),
                      "Treatment is resumed: sessions may start again once their other gates hold.")


@bp.post("/adverse-events/<int:event_id>/clear")
@page(roles=PHYSICIAN)
def clear_event(event_id: int):
    patient_id = chart.event_patient(event_id)
    try:
        body = form_body(NoteIn)
        event = treatment_oversight.clear_adverse_event(current_user, event_id, body.note)
    except ServiceError as exc:
        if exc.status in (403, 404) or patient_id is None:
            raise
        errors = _refused(exc)
        return _render_follow_up(patient_id, errors=errors, form_name=f"clear-{event_id}", values=request.form,
                                 status=_status_code(errors))
    return done("The side effect is cleared, with your note.", "chart_pages.follow_up", patient_id=event.patient_id)


"""Repeated symptom measures: a patient retakes PHQ-9 or GAD-7 whenever they like (or when asked),
and the care team reads the score history that follow-ups and outcomes are built on.

A PHQ-9 with item 9 above 0 takes the crisis path, wherever it is answered.
"""
from __future__ import annotations

from sqlalchemy import select

from telehealth.clock import now
from telehealth.extensions import db
from telehealth.models.accounts.accounts import User
from telehealth.models.screening.assessments import Measure
from telehealth.services.platform import audit
from telehealth.services.screening import crisis, scoring
from telehealth.services.screening.assessments import MEASURED_INSTRUMENTS, load_questionnaire, validated
from telehealth.services.platform.authz import Scope, authorize_patient


def record_retake(patient: User, instrument: str, version: int, answers) -> tuple[Measure, bool]:
    """Score and keep a retaken scale; returns the measure and whether it is a crisis."""
    q = load_questionnaire(instrument, version, allowed=MEASURED_INSTRUMENTS)
    clean = validated(q, answers)
    section = clean[instrument]
    score = getattr(scoring, instrument)(section)
    measure = Measure(patient_id=patient.id, instrument=instrument, questionnaire_version=version,
                      answers=section, total=score.total, band=score.band, taken_at=now(), source="retake")
    db.session.add(measure)
    db.session.flush()
    is_crisis = instrument == "phq9" and scoring.phq9_item9(section) > 0
    if is_crisis:
        crisis.alert_on_call(f"PHQ-9 item 9 positive on a retake (measure {measure.id}).",
                             patient_id=patient.id, measure_id=measure.id)
    audit.record(patient, "create", "measure", measure.id, patient_id=patient.id)
    db.session.commit()
    return measure, is_crisis


def history(actor: User, patient_id: int, instrument: str | None = None) -> list[Measure]:
    """The patient's measures, oldest first (clinical data: the patient and their physicians)."""
    authorize_patient(actor, patient_id, Scope.CLINICAL)
    query = select(Measure).where(Measure.patient_id == patient_id).order_by(Measure.taken_at, Measure.id)
    if instrument:
        query = query.where(Measure.instrument == instrument)
    rows = list(db.session.scalars(query))
    audit.record(actor, "read", "measures", patient_id, patient_id=patient_id)
    db.session.commit()
    return rows

"""The program report on a seeded cohort with known outcomes: exact counts and rates, the CSV, admin
only, no patient in the output, and a number of statements that does not grow with the patients."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select

from telehealth.models import (
    Appointment, AppointmentStatus, Assessment, AssessmentStatus, AuditEvent, ReviewStatus, SessionStatus, Shipment,
    ShipmentStatus,
)
from telehealth.services.care import program_report as reports
from tests.conftest import error_of
from tests.care.test_outcomes import add_measure, add_prescription, add_session

UTC = timezone.utc
NOW = datetime(2026, 6, 1, 16, 0, tzinfo=UTC)
MAY = "start=2026-05-01&end=2026-05-31"


def at(month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def clock(app):
    with time_machine.travel(NOW, tick=False):
        yield


APRIL_1 = at(4, 1)


def treated(db, physician, *, baseline, outcomes, sessions=4, first_session=APRIL_1, pre=(), cancelled=0):
    """A patient with PHQ-9 `baseline` on the eve of their first session, `sessions` sessions three days
    apart, and PHQ-9 `outcomes` as (datetime, total) pairs; `pre` adds earlier PHQ-9 (datetime, total)."""
    from tests.conftest import _make_user

    patient = _make_user(db, "patient")
    rx = add_prescription(db, patient, physician, first_session - timedelta(days=7))
    for taken_at, total in pre:
        add_measure(db, patient, "phq9", total, taken_at, "screening")
    if baseline is not None:
        add_measure(db, patient, "phq9", baseline, first_session - timedelta(hours=12))
    for n in range(sessions):
        add_session(db, rx, n + 1, first_session + timedelta(days=3 * n))
    for n in range(cancelled):
        add_session(db, rx, sessions + n + 1, None, status=SessionStatus.CANCELLED)
    for taken_at, total in outcomes:
        add_measure(db, patient, "phq9", total, taken_at)
    db.session.commit()
    return patient, rx


def screened(db, *, submitted, reviewed_after=None, consults=()):
    """A patient whose screening was submitted at `submitted` (reviewed `reviewed_after` later, or
    still open), with consults as (start, status, recorded, type)."""
    from tests.conftest import _make_user

    patient = _make_user(db, "patient")
    physician = _make_user(db, "physician")
    submissions = submitted if isinstance(submitted, list) else [submitted]
    for when in submissions:
        db.session.add(Assessment(
            questionnaire_id="screening", questionnaire_version=1, status=AssessmentStatus.SUBMITTED,
            patient_id=patient.id, answers={}, submitted_at=when, outcome="likely_candidate", reasons=[],
            review_status=ReviewStatus.PENDING if reviewed_after is None else ReviewStatus.APPROVED,
            review_due_at=when + timedelta(hours=24),
            first_reviewed_at=None if reviewed_after is None else when + reviewed_after))
    for i, (start, status, recorded, type_) in enumerate(consults):
        db.session.add(Appointment(
            patient_id=patient.id, provider_id=physician.id, appointment_type=type_, starts_at=start,
            ends_at=start + timedelta(minutes=30), blocks_from=start, blocks_until=start + timedelta(minutes=30),
            status=status, credit_kind=type_, video_room=f"room-screened-{patient.id}-{i}",
            encounter_started_at=start if recorded else None,
            encounter_ended_at=start + timedelta(minutes=25) if recorded else None,
            encounter_modality="video" if recorded else None))
    db.session.commit()
    return patient


def shipment(db, rx, *, created, deliver_by, delivered=None, status=None):
    status = status or (ShipmentStatus.DELIVERED if delivered else ShipmentStatus.SHIPPED)
    stage = 1 + db.session.query(Shipment).filter_by(prescription_id=rx.id).count()
    db.session.add(Shipment(prescription_id=rx.id, patient_id=rx.patient_id, stage=stage, sessions=1, status=status,
                            shipping_address={"line1": "1 Main St"}, created_at=created, ship_by=created,
                            deliver_by=deliver_by, delivered_at=delivered))
    db.session.commit()


H = timedelta(hours=1)
DONE, BOOKED, NO_SHOW = AppointmentStatus.COMPLETED, AppointmentStatus.BOOKED, AppointmentStatus.NO_SHOW


@pytest.fixture
def cohort(db, create_user, clock):
    physician = create_user("physician")
    # --- the outcome cohort (PHQ-9 after the 4th session, taken in May): 7 patients
    first, rx = treated(db, physician, baseline=20, outcomes=[(at(5, 10), 10), (at(5, 20), 26)])  # 50 %: response;
    # its later 26 is not the outcome (the first PHQ-9 after the 4th session is)
    treated(db, physician, baseline=20, outcomes=[(at(5, 10), 11)], pre=[(at(2, 1), 25)])   # 45 % from the
    # last pre-treatment score (56 % from the older screening's 25): no response
    treated(db, physician, baseline=12, outcomes=[(at(5, 11), 4)])    # response and remission
    treated(db, physician, baseline=12, outcomes=[(at(5, 12), 5)])    # response (58 %), 5 is no remission
    treated(db, physician, baseline=10, outcomes=[(at(5, 13), 15)])   # worsening (+5)
    treated(db, physician, baseline=10, outcomes=[(at(5, 14), 14)], cancelled=1)  # +4: nothing
    treated(db, physician, baseline=0, outcomes=[(at(5, 15), 0)])     # remission; no response from 0
    # --- not in the cohort
    treated(db, physician, baseline=20, sessions=3, cancelled=1, outcomes=[(at(5, 10), 5)])  # 3 sessions taken
    treated(db, physician, baseline=20, first_session=at(5, 1), outcomes=[(at(5, 10, 13), 5)])  # during the 4th
    # session (started 12:00 on May 10, completed at 14:00)
    treated(db, physician, baseline=20, outcomes=[(at(4, 28), 18), (at(5, 10), 5)])  # its outcome is April's
    treated(db, physician, baseline=None, outcomes=[(at(5, 10), 5)])  # no baseline
    treated(db, physician, baseline=20, outcomes=[(at(6, 1, 3), 5)])  # May 31, 23:00 in New York... see below
    treated(db, physician, baseline=20, outcomes=[(at(5, 1, 2), 5)])  # April 30, 22:00 in New York: out

    # --- days from the first screening to the first completed, recorded consult; reviews in 24 h
    screened(db, submitted=at(5, 2), reviewed_after=2 * H, consults=[(at(5, 4), DONE, True, "consult")])  # 2 d
    screened(db, submitted=at(5, 3), reviewed_after=24 * H, consults=[           # 5 d (the first one)
        (at(5, 8), DONE, True, "consult"), (at(5, 20), DONE, True, "consult")])
    screened(db, submitted=at(5, 5, 0), reviewed_after=30 * H, consults=[(at(5, 6), DONE, True, "consult")])  # 1.5 d
    screened(db, submitted=[at(4, 20), at(5, 5)], reviewed_after=1 * H,          # first screened in April: no wait
             consults=[(at(5, 7), DONE, True, "consult")])                       # counted; the May review is
    screened(db, submitted=at(5, 10))                                            # open and overdue
    screened(db, submitted=at(5, 12), reviewed_after=23 * H, consults=[(at(5, 13), DONE, False, "consult")])
    screened(db, submitted=at(5, 14), reviewed_after=25 * H, consults=[
        (at(5, 15), NO_SHOW, True, "consult"), (at(5, 16), DONE, True, "follow_up"), (at(5, 18), BOOKED, False, "consult")])
    screened(db, submitted=at(6, 1, 3))           # May 31 at 23:00 in New York: in the range, open, not yet due
    screened(db, submitted=at(5, 1, 2), reviewed_after=30 * H)   # April 30 in New York: not in the range

    # --- shipments created in May, delivered by their deadline (5 business days)
    shipment(db, rx, created=at(5, 4), deliver_by=at(5, 11), delivered=at(5, 8))       # on time
    shipment(db, rx, created=at(5, 4), deliver_by=at(5, 11), delivered=at(5, 9))       # 5 days to the minute
    # within the ops SLA (5 business days) but not within the 5 days patients are promised
    shipment(db, rx, created=at(5, 4), deliver_by=at(5, 11), delivered=at(5, 11))
    shipment(db, rx, created=at(5, 13), deliver_by=at(5, 20))                          # never came, past due
    shipment(db, rx, created=at(5, 29), deliver_by=at(6, 5))                           # not due yet
    shipment(db, rx, created=at(5, 4), deliver_by=at(5, 11), status=ShipmentStatus.CANCELLED)
    shipment(db, rx, created=at(4, 28), deliver_by=at(5, 5), delivered=at(5, 4))       # April
    return physician


def test_the_report_counts_the_seeded_cohort_exactly(client, auth, cohort):
    auth.as_role("admin")  # America/New_York
    r = client.get(f"/api/v1/admin/reports/outcomes?{MAY}")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["start"], body["end"], body["time_zone"]) == ("2026-05-01", "2026-05-31", "America/New_York")
    # 7 + the one whose PHQ-9 came at 03:00 UTC on June 1, which is May 31 in New York
    assert body["cohort_patients"] == 8
    assert body["phq9_response"] == {"rate": 0.5, "numerator": 4, "n": 8}
    assert body["phq9_remission"] == {"rate": 0.25, "numerator": 2, "n": 8}
    assert body["phq9_worsening"] == {"rate": 0.125, "numerator": 1, "n": 8}
    assert body["days_screening_to_consult"] == {"patients_screened": 7, "patients_consulted": 3, "median_days": 2.0}
    assert body["reviewed_within_sla"] == {"rate": 0.5714, "numerator": 4, "n": 7, "sla_hours": 24}
    assert body["delivered_within_5_business_days"] == {"rate": 0.5, "numerator": 2, "n": 4}
    assert body["thresholds"] == {"response_drop_percent": 50, "remission_below": 5, "worsening_rise": 5}
    assert "4th at-home session" in body["cohort_definition"]


def _keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_the_report_names_no_patient(client, auth, cohort, db):
    auth.as_role("admin")
    body = client.get(f"/api/v1/admin/reports/outcomes?{MAY}").get_json()
    assert not any("patient_id" in k or k in {"id", "ids", "name", "email"} for k in _keys(body))
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.resource_type == "program_report")).all()
    assert event.patient_id is None and event.action == "read" and event.resource_id == "2026-05-01..2026-05-31"


def test_the_report_as_csv(client, auth, cohort):
    auth.as_role("admin")
    r = client.get(f"/api/v1/admin/reports/outcomes?{MAY}&format=csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert 'filename="outcomes-2026-05-01-to-2026-05-31.csv"' in r.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert list(rows[0]) == ["metric", "value", "numerator", "denominator", "start", "end"]
    by_metric = {row["metric"]: (row["value"], row["numerator"], row["denominator"]) for row in rows}
    assert by_metric == {
        "cohort_patients": ("8", "", ""),
        "phq9_response_rate": ("0.5", "4", "8"),
        "phq9_remission_rate": ("0.25", "2", "8"),
        "phq9_worsening_rate": ("0.125", "1", "8"),
        "median_days_screening_to_consult": ("2.0", "", "3"),
        "patients_screened": ("7", "", ""),
        "review_sla_hours": ("24", "", ""),
        "reviewed_within_sla_share": ("0.5714", "4", "7"),
        "delivered_within_5_business_days_share": ("0.5", "2", "4"),
    }
    assert {(row["start"], row["end"]) for row in rows} == {("2026-05-01", "2026-05-31")}


def test_an_empty_range_has_no_rates(client, auth, cohort):
    auth.as_role("admin")
    body = client.get("/api/v1/admin/reports/outcomes?start=2025-01-01&end=2025-01-31").get_json()
    assert body["cohort_patients"] == 0
    for key in ("phq9_response", "phq9_remission", "phq9_worsening", "delivered_within_5_business_days"):
        assert body[key] == {"rate": None, "numerator": 0, "n": 0}
    assert body["days_screening_to_consult"] == {"patients_screened": 0, "patients_consulted": 0, "median_days": None}
    assert body["reviewed_within_sla"]["rate"] is None
    rows = list(csv.DictReader(io.StringIO(client.get(
        "/api/v1/admin/reports/outcomes?start=2025-01-01&end=2025-01-31&format=csv").get_data(as_text=True))))
    assert {row["metric"]: row["value"] for row in rows}["phq9_response_rate"] == ""


def test_the_range_is_read_in_the_viewers_zone(client, auth, cohort):
    auth.as_role("admin", time_zone="UTC")
    body = client.get(f"/api/v1/admin/reports/outcomes?{MAY}").get_json()
    # in UTC the June 1 03:00 outcome is out and the May 1 02:00 one is in; the same count, other patients
    assert body["time_zone"] == "UTC" and body["cohort_patients"] == 8
    # the screening of May 1 02:00 UTC is in (screened), the one of June 1 03:00 out
    assert body["days_screening_to_consult"]["patients_screened"] == 7
    # May 1 02:00 reviewed after 30 h: one more late review; the open one of June 1 is out either way
    assert body["reviewed_within_sla"] == {"rate": 0.5, "numerator": 4, "n": 8, "sla_hours": 24}
    # June 1 in UTC holds the outcome taken on May 31 in New York
    june = client.get("/api/v1/admin/reports/outcomes?start=2026-06-01&end=2026-06-01").get_json()
    assert june["cohort_patients"] == 1 and june["phq9_response"] == {"rate": 1.0, "numerator": 1, "n": 1}


@pytest.mark.parametrize("role", ["coach", "physician", "ops", "patient"])
def test_only_admin_reads_the_report(client, auth, role, cohort):
    auth.as_role(role)
    for fmt in ("json", "csv"):
        r = client.get(f"/api/v1/admin/reports/outcomes?{MAY}&format={fmt}")
        assert r.status_code == 403 and error_of(r)["code"] == "forbidden"


@pytest.mark.parametrize("query, field", [
    ("start=2026-05-31&end=2026-05-01", "end"),
    ("start=2026-05-01", "end"),
    ("end=2026-05-01", "start"),
    ("start=yesterday&end=2026-05-01", "start"),
    ("start=1900-01-01&end=2026-05-01", "start"),
    ("start=2026-05-01&end=2026-05-31&format=pdf", "format"),
    ("start=2026-05-01&end=2026-05-31&patient=4", "patient"),
])
def test_bad_ranges_are_refused_with_field_errors(client, auth, query, field, db):
    auth.as_role("admin")
    r = client.get(f"/api/v1/admin/reports/outcomes?{query}")
    assert r.status_code == 422 and field in error_of(r)["fields"], r.get_json()
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.resource_type == "program_report")).all() == []


def test_the_number_of_statements_does_not_grow_with_the_patients(db, create_user, cohort, count_queries):
    admin = create_user("admin")
    with count_queries() as before:
        first = reports.program_report(admin, date(2026, 5, 1), date(2026, 5, 31), "America/New_York")
    for i in range(6):
        patient, rx = treated(db, cohort, baseline=20, outcomes=[(at(5, 20 + i), 3)])
        screened(db, submitted=at(5, 20 + i), reviewed_after=H, consults=[(at(5, 22 + i), DONE, True, "consult")])
        shipment(db, rx, created=at(5, 6), deliver_by=at(5, 13), delivered=at(5, 9))
    with count_queries() as after:
        second = reports.program_report(admin, date(2026, 5, 1), date(2026, 5, 31), "America/New_York")
    assert (first.cohort_patients, second.cohort_patients) == (8, 14)
    assert second.response.numerator == first.response.numerator + 6
    assert second.patients_consulted == first.patients_consulted + 6
    assert after.count == before.count
    selects = [s for s in after.statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]
    assert len(selects) == 4, selects  # cohort, consult waits, reviews, shipments

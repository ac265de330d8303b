"""Measured outcomes of a patient: the arithmetic at every boundary on constructed histories, who may
read them (audited), and the PHQ-9 chart (well-formed SVG whose points are the data)."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from telehealth.models import (
    Appointment, AppointmentStatus, AuditEvent, CareAssignment, CareRole, HomeSession, Measure, Prescription,
    SessionStatus,
)
from telehealth.policy import ClinicalPolicy
from telehealth.services.care.outcomes import (
    Point, baseline_of, change_of, is_remission, is_response, is_worsening, phq9_svg, summarize, y_of,
)
from telehealth.services.screening.scoring import GAD7_BANDS, PHQ9_BANDS
from tests.conftest import error_of
from tests.pharmacy.test_prescriptions import TERMS

UTC = timezone.utc
POLICY = ClinicalPolicy()
T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def points(*pairs) -> list[Point]:
    """Points from (day, total) pairs, oldest first."""
    return [Point(day(d), total) for d, total in pairs]


# --------------------------------------------------------------------------- the policy


def test_outcome_thresholds_are_policy_fields_with_the_product_defaults():
    assert (POLICY.response_drop_percent, POLICY.remission_below, POLICY.worsening_rise) == (50, 5, 5)


# --------------------------------------------------------------------------- the flags, at each boundary


@pytest.mark.parametrize("baseline, latest, expected", [
    (10, 5, True),       # exactly 50 %
    (20, 10, True),      # exactly 50 %
    (1000, 501, False),  # 49.9 %: just short
    (1000, 500, True),
    (27, 14, False),     # 48.1 %
    (27, 13, True),      # 51.9 %
    (21, 11, False),     # 47.6 %
    (12, 6, True),
    (12, 0, True),
    (12, 12, False),
    (12, 15, False),     # a rise is never a response
])
def test_response_is_a_drop_of_half_the_baseline_or_more(baseline, latest, expected):
    assert is_response(baseline, latest, POLICY) is expected


def test_no_response_can_be_judged_from_a_baseline_of_zero():
    assert is_response(0, 0, POLICY) is None
    assert is_response(0, 7, POLICY) is None


@pytest.mark.parametrize("latest, expected", [(4, True), (5, False), (0, True), (27, False)])
def test_remission_is_a_score_below_five(latest, expected):
    assert is_remission(latest, POLICY) is expected


@pytest.mark.parametrize("baseline, latest, expected", [
    (10, 14, False),  # a rise of 4
    (10, 15, True),   # a rise of 5
    (10, 27, True),
    (0, 4, False),
    (0, 5, True),
    (15, 10, False),  # a drop
    (10, 10, False),
])
def test_worsening_is_a_rise_of_five_points_or_more(baseline, latest, expected):
    assert is_worsening(baseline, latest, POLICY) is expected


def test_the_thresholds_come_from_the_policy():
    strict = ClinicalPolicy(response_drop_percent=60, remission_below=8, worsening_rise=3)
    assert is_response(10, 5, strict) is False and is_response(10, 4, strict) is True
    assert is_remission(7, strict) is True and is_remission(8, strict) is False
    assert is_worsening(10, 12, strict) is False and is_worsening(10, 13, strict) is True


@pytest.mark.parametrize("baseline, latest, expected", [
    (20, 10, (-10, -50.0)),
    (12, 15, (3, 25.0)),
    (18, 11, (-7, -38.9)),
    (10, 10, (0, 0.0)),
    (0, 6, (6, None)),    # no percent of nothing
])
def test_change_in_points_and_percent_of_the_baseline(baseline, latest, expected):
    assert change_of(baseline, latest) == expected


# --------------------------------------------------------------------------- baseline and summaries


def test_baseline_is_the_last_measure_at_or_before_the_first_session():
    history = points((0, 22), (10, 19), (12, 9))  # screening, a retake before treatment, a follow-up
    assert baseline_of(history, day(11)).total == 19
    assert baseline_of(history, day(10)).total == 19     # taken at the very moment the session started
    assert baseline_of(history, day(9)).total == 22
    assert baseline_of(history, day(-1)) is None         # sessions began before any measure
    assert baseline_of(history, None).total == 9         # no session yet: every measure is pre-treatment
    assert baseline_of([], None) is None


def test_a_history_through_treatment():
    history = points((0, 22), (10, 19), (20, 12), (30, 9))
    o = summarize("phq9", history, day(11), POLICY)
    assert (o.baseline.total, o.latest.total, o.has_follow_up) == (19, 9, True)
    assert (o.change, o.change_percent) == (-10, -52.6)
    assert (o.response, o.remission, o.worsening) == (True, False, False)
    assert [p.total for p in o.series] == [22, 19, 12, 9]


def test_latest_is_the_newest_measure_not_the_best():
    o = summarize("phq9", points((0, 20), (10, 4), (20, 26)), day(5), POLICY)
    assert (o.latest.total, o.change, o.response, o.remission, o.worsening) == (26, 6, False, False, True)


def test_a_single_measure_has_a_baseline_and_nothing_to_judge():
    o = summarize("phq9", points((0, 18)), None, POLICY)
    assert o.baseline is o.latest and o.baseline.total == 18
    assert not o.has_follow_up
    assert (o.change, o.change_percent, o.response, o.remission, o.worsening) == (None,) * 5
    # the same once treatment started after it, with nothing measured since
    o = summarize("phq9", points((0, 18)), day(3), POLICY)
    assert o.baseline.total == 18 and not o.has_follow_up and o.response is None


def test_before_treatment_nothing_is_judged_even_with_several_measures():
    o = summarize("phq9", points((0, 20), (5, 8)), None, POLICY)
    assert o.baseline.total == 8 and o.latest is o.baseline and o.response is None


def test_no_baseline_means_no_change_and_no_flags():
    o = summarize("phq9", points((5, 3), (9, 2)), day(1), POLICY)
    assert o.baseline is None and o.latest.total == 2
    assert (o.change, o.response, o.remission, o.worsening) == (None, None, None, None)
    o = summarize("gad7", [], None, POLICY)
    assert (o.baseline, o.latest, o.series, o.has_follow_up) == (None, None, [], False)


def test_a_baseline_of_zero():
    o = summarize("phq9", points((0, 0), (10, 5)), day(1), POLICY)
    assert (o.change, o.change_percent, o.response, o.remission, o.worsening) == (5, None, None, False, True)
    o = summarize("phq9", points((0, 0), (10, 4)), day(1), POLICY)
    assert (o.response, o.remission, o.worsening) == (None, True, False)


# --------------------------------------------------------------------------- the chart, pure


def _circles(svg: str) -> list[ET.Element]:
    return ET.fromstring(svg).findall(f".//{SVG}circle")


def test_the_chart_is_well_formed_and_its_points_are_the_data():
    history = points((0, 22), (10, 19), (20, 12), (45, 4))
    svg = phq9_svg(history, "America/New_York", baseline=history[1])
    root = ET.fromstring(svg)  # well-formed XML
    assert root.tag == f"{SVG}svg"
    circles = _circles(svg)
    assert [int(c.get("data-total")) for c in circles] == [22, 19, 12, 4]
    assert [float(c.get("cy")) for c in circles] == [y_of(t) for t in (22, 19, 12, 4)]
    xs = [float(c.get("cx")) for c in circles]
    assert xs == sorted(xs) and len(set(xs)) == 4
    # x is proportional to time: day 10 of 45 is 10/45 of the way
    assert (xs[1] - xs[0]) / (xs[3] - xs[0]) == pytest.approx(10 / 45, abs=1e-3)
    assert [c.get("data-baseline") for c in circles] == [None, "true", None, None]
    polyline = root.find(f".//{SVG}polyline")
    assert polyline.get("points") == " ".join(f"{c.get('cx')},{c.get('cy')}" for c in circles)
    # the 0-27 scale, the severity lines at 5, 10, 15, 20, and higher scores drawn higher up
    labels = {t.text for t in root.iter(f"{SVG}text")}
    assert {"0", "5", "10", "15", "20", "27"} <= labels
    assert [int(x.get("data-score")) for x in root.iter(f"{SVG}line") if x.get("data-score")] == [5, 10, 15, 20]
    assert y_of(27) < y_of(20) < y_of(0)
    assert [int(r.get("data-from")) for r in root.iter(f"{SVG}rect")] == [0, 5, 10, 15, 20]


def test_the_chart_dates_are_in_the_viewers_zone():
    late_evening = [Point(datetime(2026, 3, 2, 3, 30, tzinfo=UTC), 14), Point(datetime(2026, 3, 20, 3, 30, tzinfo=UTC), 9)]
    def dates(zone):
        root = ET.fromstring(phq9_svg(late_evening, zone))
        return [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "date"]
    assert dates("America/New_York") == ["2026-03-01", "2026-03-19"]
    assert dates("Europe/Paris") == ["2026-03-02", "2026-03-20"]
    first = _circles(phq9_svg(late_evening, "America/Los_Angeles"))[0]
    assert first.get("data-taken-at") == "2026-03-01T19:30:00-08:00"


def test_the_chart_with_one_measure_or_none():
    [only] = _circles(phq9_svg(points((0, 13)), "UTC"))
    assert float(only.get("cy")) == y_of(13)
    empty = ET.fromstring(phq9_svg([], "UTC"))
    assert empty.findall(f".//{SVG}circle") == []
    assert "No PHQ-9 measures yet" in {t.text for t in empty.iter(f"{SVG}text")}


def test_the_chart_has_at_most_six_date_labels():
    many = points(*[(i * 3, 20 - i % 10) for i in range(30)])
    root = ET.fromstring(phq9_svg(many, "UTC"))
    dates = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "date"]
    assert len(dates) == 6 and dates[0] == day(0).date().isoformat() and dates[-1] == day(87).date().isoformat()
    assert len(root.findall(f".//{SVG}circle")) == 30


# --------------------------------------------------------------------------- seeded histories (shared helpers)


def band_of(instrument: str, total: int) -> str:
    bands = PHQ9_BANDS if instrument == "phq9" else GAD7_BANDS
    return next(name for low, name in bands if total >= low)


def add_measure(db, patient, instrument: str, total: int, taken_at: datetime, source: str = "retake") -> Measure:
    row = Measure(patient_id=patient.id, instrument=instrument, questionnaire_version=1, answers={}, total=total,
                  band=band_of(instrument, total), taken_at=taken_at, source=source)
    db.session.add(row)
    return row


def add_prescription(db, patient, physician, at: datetime) -> Prescription:
    appointment = Appointment(
        patient_id=patient.id, provider_id=physician.id, appointment_type="consult", starts_at=at,
        ends_at=at + timedelta(minutes=30), blocks_from=at, blocks_until=at + timedelta(minutes=30),
        status=AppointmentStatus.COMPLETED, credit_kind="consult", video_room=f"room-rx-{patient.id}",
        encounter_started_at=at, encounter_ended_at=at + timedelta(minutes=25), encounter_modality="video")
    db.session.add(appointment)
    db.session.flush()
    rx = Prescription(patient_id=patient.id, physician_id=physician.id, medication="ketamine",
                      form="sublingual_tablet", strength_mg=100, dose_per_session_mg=200, sessions=6, refills=0,
                      directions=TERMS["directions"], diagnosis_code="F33.2",
                      refills_until=(at + timedelta(days=180)).date(), encounter_appointment_id=appointment.id,
                      license_state="NY", license_number="NY1", dea_number="AB1234563", signed_at=at)
    db.session.add(rx)
    db.session.flush()
    return rx


def add_session(db, rx, number: int, started_at: datetime | None, *, status=SessionStatus.COMPLETED,
                hours: float = 2) -> HomeSession:
    row = HomeSession(patient_id=rx.patient_id, prescription_id=rx.id, number=number,
                      scheduled_for=started_at or T0, status=status, sitter_name="Sam", sitter_phone="+12125550123",
                      started_at=started_at,
                      completed_at=started_at + timedelta(hours=hours) if status is SessionStatus.COMPLETED else None,
                      ended_at=None if status is not SessionStatus.CANCELLED else T0)
    db.session.add(row)
    return row


@pytest.fixture
def history(db, create_user):
    """A patient in treatment with their physician on the care team: PHQ-9 22 at screening, 19 on a
    retake before the first session (day 10), then 12 and 8; GAD-7 15 then 9."""
    patient = create_user("patient")
    physician = create_user("physician")
    db.session.add(CareAssignment(patient_id=patient.id, staff_id=physician.id, care_role=CareRole.PHYSICIAN))
    rx = add_prescription(db, patient, physician, day(5))
    add_measure(db, patient, "phq9", 22, day(0), "screening")
    add_measure(db, patient, "gad7", 15, day(0), "screening")
    add_measure(db, patient, "phq9", 19, day(9))
    add_session(db, rx, 1, day(10))
    add_session(db, rx, 2, day(14))
    add_measure(db, patient, "phq9", 12, day(20))
    add_measure(db, patient, "gad7", 9, day(20))
    add_measure(db, patient, "phq9", 8, day(30))
    db.session.commit()
    return patient, physician


def physician_zone(user) -> ZoneInfo:
    return ZoneInfo(user.time_zone)


def _instrument(body, name):
    return next(i for i in body["instruments"] if i["instrument"] == name)


# --------------------------------------------------------------------------- the endpoint


def test_a_physician_on_the_care_team_reads_the_outcomes(client, auth, history, db):
    patient, physician = history
    auth.login(physician)
    r = client.get(f"/api/v1/patients/{patient.id}/outcomes")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["thresholds"] == {"response_drop_percent": 50, "remission_below": 5, "worsening_rise": 5}
    assert body["treatment_started_at"] == day(10).astimezone(physician_zone(physician)).isoformat()
    phq9 = _instrument(body, "phq9")
    assert (phq9["baseline"]["total"], phq9["baseline"]["source"], phq9["latest"]["total"]) == (19, "retake", 8)
    assert (phq9["change"], phq9["change_percent"]) == (-11, -57.9)
    assert (phq9["response"], phq9["remission"], phq9["worsening"]) == (True, False, False)
    assert [p["total"] for p in phq9["series"]] == [22, 19, 12, 8]
    gad7 = _instrument(body, "gad7")
    assert (gad7["baseline"]["total"], gad7["latest"]["total"], gad7["change"], gad7["response"]) == (15, 9, -6, False)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.resource_type == "outcomes")).all()
    assert [(e.actor_id, e.action, e.patient_id) for e in events] == [(physician.id, "read", patient.id)]


def test_the_patient_reads_their_own_and_no_one_elses(client, auth, history, create_user):
    patient, _ = history
    auth.login(patient)
    assert client.get(f"/api/v1/patients/{patient.id}/outcomes").status_code == 200
    other = create_user("patient")
    r = client.get(f"/api/v1/patients/{other.id}/outcomes")
    assert r.status_code == 404 and error_of(r)["code"] == "not_found"
    assert client.get(f"/api/v1/patients/{other.id}/outcomes/phq9.svg").status_code == 404


def test_physicians_off_the_care_team_coaches_ops_and_admin_are_refused(client, auth, history, db):
    patient, _ = history
    auth.as_role("physician")
    r = client.get(f"/api/v1/patients/{patient.id}/outcomes")
    assert r.status_code == 403 and error_of(r)["code"] == "forbidden"
    assert client.get(f"/api/v1/patients/{patient.id}/outcomes/phq9.svg").status_code == 403
    denied = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "denied")).all()
    assert len(denied) == 2 and all(e.patient_id == patient.id for e in denied)
    for role in ("coach", "ops", "admin"):
        user = auth.as_role(role)
        if role == "coach":  # even a coach assigned to the patient sees no scores
            db.session.add(CareAssignment(patient_id=patient.id, staff_id=user.id, care_role=CareRole.COACH))
            db.session.commit()
        for path in ("outcomes", "outcomes/phq9.svg"):
            r = client.get(f"/api/v1/patients/{patient.id}/{path}")
            assert r.status_code == 403, (role, path)
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.resource_type.like("outcomes%"),
                                                       AuditEvent.action == "read")).all() == []


def test_a_patient_with_no_measures(client, auth):
    patient = auth.as_role("patient")
    body = client.get(f"/api/v1/patients/{patient.id}/outcomes").get_json()
    for item in body["instruments"]:
        assert item["baseline"] is None and item["latest"] is None and item["series"] == []
        assert item["response"] is None and not item["has_follow_up"]
    assert body["treatment_started_at"] is None


def test_the_chart_endpoint_draws_the_patients_phq9(client, auth, history, db):
    patient, physician = history
    auth.login(physician)
    r = client.get(f"/api/v1/patients/{patient.id}/outcomes/phq9.svg")
    assert r.status_code == 200
    assert r.mimetype == "image/svg+xml"
    assert r.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
    circles = _circles(r.get_data(as_text=True))
    assert [int(c.get("data-total")) for c in circles] == [22, 19, 12, 8]   # PHQ-9 only, oldest first
    assert [float(c.get("cy")) for c in circles] == [y_of(t) for t in (22, 19, 12, 8)]
    assert [c.get("data-baseline") for c in circles] == [None, "true", None, None]
    assert circles[0].get("data-taken-at") == day(0).astimezone(physician_zone(physician)).isoformat()
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.resource_type == "outcomes_chart")).all()
    assert [(e.actor_id, e.patient_id) for e in events] == [(physician.id, patient.id)]


def test_the_chart_uses_the_viewers_zone(client, auth, history, db):
    patient, physician = history
    physician.time_zone = "Asia/Tokyo"
    db.session.commit()
    auth.login(physician)
    circles = _circles(client.get(f"/api/v1/patients/{patient.id}/outcomes/phq9.svg").get_data(as_text=True))
    assert circles[0].get("data-taken-at") == "2026-01-06T00:00:00+09:00"  # 15:00 UTC on the 5th

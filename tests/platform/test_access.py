"""Minimum-necessary access to a patient's record, by role and care-team membership, every read audited."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from telehealth.models import AuditEvent, CareAssignment, CareRole
from telehealth.services.platform.authz import Scope, authorize_patient
from telehealth.errors import Forbidden, NotFound
from tests.conftest import error_of

IDENTITY = {"email", "date_of_birth", "emergency_contact", "mental_health_provider"}


def _assign(db, patient, staff, care_role):
    db.session.add(CareAssignment(patient_id=patient.id, staff_id=staff.id, care_role=care_role))
    db.session.commit()


def _reads_of(db, patient):
    return db.session.scalars(select(AuditEvent).where(
        AuditEvent.patient_id == patient.id, AuditEvent.action == "read")).all()


def _present(record: dict) -> set[str]:
    return {k for k, v in record.items() if v is not None}


def test_patient_reads_own_record_and_not_anothers(client, auth, create_user, db):
    me = auth.as_role("patient")
    other = create_user("patient")
    r = client.get(f"/api/v1/patients/{me.id}")
    assert r.status_code == 200
    assert set(r.get_json()["scopes"]) == {s.value for s in Scope}
    r = client.get(f"/api/v1/patients/{other.id}")
    assert r.status_code == 404  # not even the existence of another patient is revealed
    assert client.get("/api/v1/patients/987654").status_code == 404
    assert _reads_of(db, other) == []


def test_ops_see_logistics_never_identity_or_clinical(client, auth, create_user, db):
    ops = auth.as_role("ops")
    patient = create_user("patient")
    r = client.get(f"/api/v1/patients/{patient.id}")
    assert r.status_code == 200
    record = r.get_json()
    assert set(record["scopes"]) == {"contact", "logistics"}
    assert record["shipping_address"]["city"] == "Albany"
    assert not (IDENTITY & _present(record))
    [event] = _reads_of(db, patient)
    assert event.actor_id == ops.id and event.actor_role == "ops"
    with pytest.raises(Forbidden):
        authorize_patient(ops, patient.id, Scope.CLINICAL)


def test_coach_sees_only_assigned_patients_and_no_clinical_data(client, auth, create_user, db):
    coach = auth.as_role("coach")
    mine, theirs = create_user("patient"), create_user("patient")
    _assign(db, mine, coach, CareRole.COACH)
    r = client.get(f"/api/v1/patients/{mine.id}")
    assert r.status_code == 200
    record = r.get_json()
    assert set(record["scopes"]) == {"contact", "coaching"}
    assert not ((IDENTITY | {"shipping_address"}) & _present(record))
    r = client.get(f"/api/v1/patients/{theirs.id}")
    assert r.status_code == 403 and error_of(r)["code"] == "forbidden"
    with pytest.raises(Forbidden):
        authorize_patient(coach, mine.id, Scope.CLINICAL)
    assert authorize_patient(coach, mine.id, Scope.COACHING)


def test_coach_access_ends_with_the_assignment(client, auth, create_user, db):
    coach = auth.as_role("coach")
    patient = create_user("patient")
    _assign(db, patient, coach, CareRole.COACH)
    assert client.get(f"/api/v1/patients/{patient.id}").status_code == 200
    from telehealth.clock import now

    assignment = db.session.scalar(select(CareAssignment))
    assignment.end(now())
    db.session.commit()
    assert client.get(f"/api/v1/patients/{patient.id}").status_code == 403


def test_physician_sees_everything_of_their_patients_only(client, auth, create_user, db):
    doc = auth.as_role("physician")
    mine, theirs = create_user("patient"), create_user("patient")
    _assign(db, mine, doc, CareRole.PHYSICIAN)
    record = client.get(f"/api/v1/patients/{mine.id}").get_json()
    assert set(record["scopes"]) == {s.value for s in Scope}
    assert IDENTITY - {"mental_health_provider"} <= _present(record)
    assert client.get(f"/api/v1/patients/{theirs.id}").status_code == 403
    assert authorize_patient(doc, mine.id, Scope.CLINICAL)


def test_a_coach_assignment_gives_a_physician_nothing(create_user, db):
    # Assignments are per care role: a physician listed as coach (impossible via the API) gets no access.
    doc, patient = create_user("physician"), create_user("patient")
    _assign(db, patient, doc, CareRole.COACH)
    with pytest.raises(Forbidden):
        authorize_patient(doc, patient.id, Scope.CONTACT)


def test_admin_sees_identity_but_not_clinical(client, auth, create_user, db):
    admin = auth.as_role("admin")
    patient = create_user("patient")
    record = client.get(f"/api/v1/patients/{patient.id}").get_json()
    assert set(record["scopes"]) == {"contact", "identity", "logistics"}
    assert record["email"] == patient.email
    with pytest.raises(Forbidden):
        authorize_patient(admin, patient.id, Scope.CLINICAL)
    with pytest.raises(NotFound):
        authorize_patient(create_user("patient"), patient.id, Scope.CONTACT)


def test_every_read_is_audited_with_who_and_which_record(client, auth, create_user, db):
    doc = auth.as_role("physician")
    patient = create_user("patient")
    _assign(db, patient, doc, CareRole.PHYSICIAN)
    for _ in range(3):
        client.get(f"/api/v1/patients/{patient.id}")
    events = _reads_of(db, patient)
    assert len(events) == 3
    assert {(e.actor_id, e.resource_type, e.resource_id) for e in events} == {(doc.id, "patient_profile", str(patient.id))}
    assert len({e.request_id for e in events}) == 3


def test_denied_reads_are_audited_as_denied(client, auth, create_user, db):
    coach = auth.as_role("coach")
    patient = create_user("patient")
    assert client.get(f"/api/v1/patients/{patient.id}").status_code == 403
    assert _reads_of(db, patient) == []
    denied = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "denied")).all()
    assert [(e.actor_id, e.resource_id) for e in denied] == [(coach.id, str(patient.id))]


# --------------------------------------------------------------------------- no existence oracle


def test_a_patient_cannot_tell_anothers_record_from_one_that_does_not_exist(app, db, create_user):
    """Another patient's appointment, assessment, session, order, receipt or prescription answers
    exactly like an id that does not exist: same status, code and message."""
    from datetime import timedelta

    from telehealth.clock import now
    from telehealth.models import Assessment, AssessmentStatus, Order, OrderStatus, Product, ProductKind
    from telehealth.services.home_care import home_sessions
    from tests.sessions_support import login, ready

    other = ready(db, create_user)
    session = home_sessions.schedule_session(other.patient, now() + timedelta(hours=2), "Sam", "+12125550123")
    assessment = Assessment(questionnaire_id="screening", questionnaire_version=1, status=AssessmentStatus.SUBMITTED,
                            patient_id=other.patient.id, answers={})
    db.session.add(assessment)
    product = Product(code="oracle", name="Q", kind=ProductKind.ONE_TIME, price_cents=100, grants={})
    db.session.add(product)
    db.session.flush()
    order = Order(patient_id=other.patient.id, product_id=product.id, amount_cents=100, grants={},
                  status=OrderStatus.PAID, paid_at=now())
    db.session.add(order)
    db.session.commit()
    appointment_id = other.prescription.encounter_appointment_id
    me = login(app, create_user("patient"))
    missing = 2**31 - 1
    urls = [("/api/v1/appointments/{}", appointment_id), ("/api/v1/appointments/{}/calendar.ics", appointment_id),
            ("/api/v1/assessments/{}", assessment.id), ("/api/v1/me/sessions/{}", session.id),
            ("/api/v1/patients/{}/prescriptions", other.patient.id), ("/api/v1/patients/{}/sessions", other.patient.id),
            ("/api/v1/patients/{}/timeline", other.patient.id), ("/api/v1/patients/{}", other.patient.id)]
    urls += [("/api/v1/orders/{}", order.id), ("/api/v1/orders/{}/receipt", order.id),
                 ("/api/v1/orders/{}/refund-quote", order.id)]
    answers = {}
    for template, theirs in urls:
        seen = []
        for record_id in (theirs, missing):
            r = me.get(template.format(record_id))
            body = r.get_json(silent=True) or {}
            seen.append((r.status_code, body.get("error", {}).get("code"), body.get("error", {}).get("message")))
        answers[template] = seen
    differ = {t: s for t, s in answers.items() if s[0] != s[1] or s[0][0] not in (403, 404)}
    assert differ == {}, "\n".join(f"{t}: {s}" for t, s in differ.items())

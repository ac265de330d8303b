"""Shipments: the state machine (every allowed and refused move), the pharmacy's signed webhook
(signature, replay window, idempotency, out-of-order events), and who sees what."""
from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from telehealth.clock import now
from telehealth.models import Shipment, ShipmentEvent, ShipmentStatus
from telehealth.models.pharmacy.shipments import PATH, SIDE_MOVES, Move, judge
from telehealth.services.pharmacy.pharmacy_events import signature
from telehealth.models import User
from tests.conftest import PASSWORD, _make_user, error_of

S = ShipmentStatus


def test_forward_moves_apply_and_backward_ones_are_history_only():
    for i, current in enumerate(PATH[:-1]):
        for j, target in enumerate(PATH):
            expected = Move.APPLIED if j > i else Move.STALE
            assert judge(current, target) is expected, (current, target)


@pytest.mark.parametrize("target", [S.EXCEPTION, S.RETURNED, S.CANCELLED])
def test_side_moves_are_allowed_only_from_their_states(target):
    for current in S:
        verdict = judge(current, target)
        if current in SIDE_MOVES[target] and current not in (S.DELIVERED, S.RETURNED, S.CANCELLED):
            assert verdict is Move.APPLIED, (current, target)
        else:
            assert verdict is not Move.APPLIED, (current, target)


def test_final_states_take_late_path_events_as_history_and_refuse_the_rest():
    for final in (S.DELIVERED, S.RETURNED, S.CANCELLED):
        assert judge(final, S.SHIPPED) is Move.STALE
        assert judge(final, S.EXCEPTION) is None
    assert judge(S.EXCEPTION, S.SHIPPED) is Move.APPLIED  # back on the path


@pytest.fixture
def shipment(db, create_user):
    from telehealth.models import Prescription
    from tests.pharmacy.test_prescriptions import TERMS, _approve, _consult

    patient = create_user("patient")
    physician = create_user("physician", states=["NY"])
    _approve(db, patient)
    _consult(db, patient, physician)
    db.session.flush()
    from telehealth.models import Appointment

    encounter = db.session.scalar(select(Appointment))
    prescription = Prescription(patient_id=patient.id, physician_id=physician.id, medication="ketamine",
                                form="sublingual_tablet", strength_mg=100, dose_per_session_mg=200, sessions=3,
                                refills=0, directions=TERMS["directions"], diagnosis_code="F33.2",
                                refills_until=now().date(), encounter_appointment_id=encounter.id,
                                license_state="NY", license_number="NY1", dea_number="AB1234563")
    db.session.add(prescription)
    db.session.flush()
    row = Shipment(prescription_id=prescription.id, patient_id=patient.id, stage=1, sessions=2,
                   status=S.SENT_TO_PHARMACY, pharmacy_order_id="PH-1001",
                   shipping_address=patient.patient_profile.shipping_address,
                   ship_by=now() + timedelta(days=3), deliver_by=now() + timedelta(days=5))
    db.session.add(row)
    db.session.commit()
    return row


def _send(app, client, event: dict, *, offset: int = 0, secret: str | None = None, sig: str | None = None):
    body = json.dumps(event).encode()
    ts = str(int(time.time()) + offset)
    signed = sig or signature(secret or app.config["PHARMACY_WEBHOOK_SECRET"], ts, body)
    return client.post("/webhooks/pharmacy", data=body, content_type="application/json",
                       headers={"X-Pharmacy-Timestamp": ts, "X-Pharmacy-Signature": signed})


def _event(n, status, **extra):
    return {"event_id": f"ev-{n}", "order_id": "PH-1001", "status": status, **extra}


def test_pharmacy_events_move_the_shipment_and_tolerate_late_ones(app, client, db, shipment):
    assert _send(app, client, _event(1, "received")).get_json()["message"] == "applied"
    assert _send(app, client, _event(2, "filled")).get_json()["message"] == "applied"
    r = _send(app, client, _event(4, "delivered", signature_name="J. Smith"))  # "shipped" is late
    assert r.get_json()["message"] == "applied"
    r = _send(app, client, _event(3, "shipped", carrier="UPS", tracking_number="1Z999"))
    assert r.get_json()["message"] == "stale"
    db.session.expire_all()
    row = db.session.get(Shipment, shipment.id)
    assert row.status is S.DELIVERED and row.signature_name == "J. Smith"
    assert row.tracking_number == "1Z999"  # carrier data is kept even from a late event
    history = [(e.status.value, e.applied) for e in row.history]
    assert history == [("received", True), ("filled", True), ("delivered", True), ("shipped", False)]
    assert [n.kind for n in row.notices] == ["delivered"]  # a late "shipped" owes no text


def test_a_replayed_event_changes_nothing(app, client, db, shipment):
    for _ in range(3):
        r = _send(app, client, _event(1, "received"))
    assert r.get_json()["message"] == "duplicate"
    assert len(db.session.scalars(select(ShipmentEvent)).all()) == 1


@pytest.mark.parametrize("kwargs", [
    {"secret": "wrong-secret"},
    {"offset": -310},
    {"offset": 310},
    {"sig": "0" * 64},
])
def test_bad_signatures_and_stale_timestamps_are_refused(app, client, db, shipment, kwargs):
    r = _send(app, client, _event(9, "received"), **kwargs)
    assert r.status_code == 401 and error_of(r)["code"] == "invalid_signature"
    assert db.session.scalar(select(ShipmentEvent)) is None


def test_malformed_or_unknown_events_are_4xx(app, client, db, shipment):
    assert _send(app, client, {"event_id": "x", "order_id": "PH-1001", "status": "teleported"}).status_code == 422
    assert _send(app, client, {"order_id": "PH-1001", "status": "received"}).status_code == 422
    assert _send(app, client, _event(5, "received") | {"order_id": "PH-404"}).status_code == 404
    assert db.session.scalar(select(ShipmentEvent)) is None


def test_ops_moves_only_along_allowed_transitions(client, auth, db, shipment):
    auth.as_role("ops")
    url = f"/api/v1/ops/shipments/{shipment.id}/status"
    r = client.post(url, json={"status": "created"})  # backwards
    assert r.status_code == 409
    for skipped in ("filled", "shipped", "delivered"):  # by hand, one step at a time
        r = client.post(url, json={"status": skipped})
        assert r.status_code == 409 and error_of(r)["code"] == "move_not_allowed", skipped
    r = client.post(url, json={"status": "exception", "reason": "Address unreadable"})
    assert r.status_code == 200 and r.get_json()["status"] == "exception"
    r = client.post(url, json={"status": "filled"})  # from an exception: where it was, or the next step
    assert r.status_code == 409 and error_of(r)["code"] == "move_not_allowed"
    r = client.post(url, json={"status": "received"})
    assert r.status_code == 200
    for step in ("filled", "shipped", "out_for_delivery", "delivered"):
        r = client.post(url, json={"status": step})
        assert r.status_code == 200 and r.get_json()["status"] == step
    r = client.post(url, json={"status": "teleported"})
    assert r.status_code == 422


def test_ops_never_move_a_stage_out_of_created_but_to_cancelled(client, auth, db, shipment):
    shipment.status, shipment.pharmacy_order_id = S.CREATED, None  # not sent to the pharmacy yet
    db.session.commit()
    auth.as_role("ops")
    url = f"/api/v1/ops/shipments/{shipment.id}/status"
    for target in ("sent_to_pharmacy", "received", "delivered", "exception", "returned"):
        r = client.post(url, json={"status": target, "reason": "x"})
        assert r.status_code == 409, target  # sending is the system's job: no order, no way forward
    db.session.expire_all()
    assert db.session.get(Shipment, shipment.id).status is S.CREATED
    r = client.post(url, json={"status": "cancelled"})
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"


def test_the_manual_rule_is_one_step_or_a_side_move():
    from telehealth.models.pharmacy.shipments import RANK, by_hand

    for current in PATH[1:-1]:
        for target in S:
            expected = (target in PATH and RANK[target] == RANK[current] + 1) or (
                target in SIDE_MOVES and current in SIDE_MOVES[target])
            assert by_hand(current, target, RANK[current]) is expected, (current, target)
    for target in S:
        assert by_hand(S.CREATED, target) is (target is S.CANCELLED), target
        assert by_hand(S.EXCEPTION, target, 0) is (target is S.CANCELLED), target  # never got past created
    assert by_hand(S.EXCEPTION, S.SHIPPED, RANK[S.SHIPPED]) and by_hand(S.EXCEPTION, S.OUT_FOR_DELIVERY, RANK[S.SHIPPED])
    assert not by_hand(S.EXCEPTION, S.DELIVERED, RANK[S.SHIPPED])
    assert not by_hand(S.EXCEPTION, S.FILLED, RANK[S.SHIPPED])


def test_who_sees_shipments(client, app, auth, db, shipment, create_user):
    auth.as_role("coach")
    assert client.post(f"/api/v1/ops/shipments/{shipment.id}/status", json={"status": "received"}).status_code == 403
    other = app.test_client()
    patient = db.session.get(User, shipment.patient_id)
    other.post("/api/v1/auth/login", json={"email": patient.email, "password": PASSWORD})
    assert [s["id"] for s in other.get("/api/v1/me/shipments").get_json()["items"]] == [shipment.id]
    stranger = create_user("patient")
    third = app.test_client()
    third.post("/api/v1/auth/login", json={"email": stranger.email, "password": PASSWORD})
    assert third.get("/api/v1/me/shipments").get_json()["items"] == []


# --------------------------------------------------------------------------- stages through the pharmacy


def _drive(pharmacy_url, order_id, status, **extra):
    import urllib.request

    body = json.dumps({"status": status, **extra}).encode()
    request = urllib.request.Request(f"{pharmacy_url}/_drive/{order_id}", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture
def pharmacy(app, pharmacy_url, live_server, committed):
    import urllib.request

    body = json.dumps({"webhook_url": f"{live_server}/webhooks/pharmacy",
                       "secret": app.config["PHARMACY_WEBHOOK_SECRET"]}).encode()
    urllib.request.urlopen(urllib.request.Request(f"{pharmacy_url}/_config", data=body, method="POST",
                                                  headers={"Content-Type": "application/json"}), timeout=5)
    return pharmacy_url


def _prescribed(committed, sessions=3, credits=3):
    from telehealth.models import Appointment, CareAssignment, CareRole, CreditKind, Prescription
    from telehealth.services.billing import ledger
    from tests.conftest import _make_user
    from tests.pharmacy.test_prescriptions import TERMS, _approve, _consult

    patient = _make_user(committed, "patient")
    physician = _make_user(committed, "physician", states=["NY"])
    physician.physician_profile.dea_number = "AB1234563"
    physician.physician_profile.dea_expires_on = now().date() + timedelta(days=365)
    _approve(committed, patient)
    _consult(committed, patient, physician)
    committed.session.add(CareAssignment(patient_id=patient.id, staff_id=physician.id, care_role=CareRole.PHYSICIAN))
    committed.session.flush()
    encounter = committed.session.scalar(select(Appointment).where(Appointment.patient_id == patient.id))
    prescription = Prescription(patient_id=patient.id, physician_id=physician.id, medication="ketamine",
                                form="sublingual_tablet", strength_mg=100, dose_per_session_mg=200, sessions=sessions,
                                refills=0, directions=TERMS["directions"], diagnosis_code="F33.2",
                                refills_until=now().date(), encounter_appointment_id=encounter.id,
                                license_state="NY", license_number="NY1", dea_number="AB1234563")
    committed.session.add(prescription)
    if credits:
        ledger.grant(patient.id, CreditKind.MEDICATION_SESSION, credits, key=f"test:med:{patient.id}")
    committed.session.commit()
    return patient.id, physician, prescription.id


def _sessions_done(committed, shipment_id):
    """The review flag the at-home sessions set (tests/home_care/test_home_sessions.py drives it for real)."""
    committed.session.get(Shipment, shipment_id).sessions_completed_at = now()
    committed.session.commit()


def test_a_stage_goes_to_the_pharmacy_and_comes_back_delivered(app, pharmacy, committed):
    from telehealth.models import CreditKind
    from telehealth.services.billing import ledger

    patient_id, physician, prescription_id = _prescribed(committed)
    doc = app.test_client()
    doc.post("/api/v1/auth/login", json={"email": physician.email, "password": PASSWORD})
    r = doc.post(f"/api/v1/prescriptions/{prescription_id}/shipments", json={"sessions": 2})
    assert r.status_code == 201, r.get_json()
    shipment = r.get_json()
    assert shipment["status"] == "sent_to_pharmacy" and shipment["stage"] == 1
    assert ledger.balances(patient_id)[CreditKind.MEDICATION_SESSION] == 1
    order_id = committed.session.get(Shipment, shipment["id"]).pharmacy_order_id
    assert order_id.startswith("PH-")
    for status, extra in (("filled", {}), ("shipped", {"carrier": "UPS", "tracking_number": "1Z42"}),
                          ("delivered", {"signature_name": "P. Ient"})):
        assert _drive(pharmacy, order_id, status, **extra)["app_status"] == 200
    committed.session.expire_all()
    row = committed.session.get(Shipment, shipment["id"])
    assert row.status is S.DELIVERED and row.tracking_number == "1Z42" and row.signature_name == "P. Ient"
    assert [n.kind for n in row.notices] == ["shipped", "delivered"]  # texts owed to the patient
    patient_client = app.test_client()
    patient = committed.session.get(User, patient_id)
    patient_client.post("/api/v1/auth/login", json={"email": patient.email, "password": PASSWORD})
    [mine] = patient_client.get("/api/v1/me/shipments").get_json()["items"]
    assert mine["tracking_url"] == "https://www.ups.com/track?tracknum=1Z42"
    # the next stage waits for the physician's review of these sessions
    r = doc.post(f"/api/v1/prescriptions/{prescription_id}/shipments", json={"sessions": 1})
    assert r.status_code == 409 and error_of(r)["code"] == "stage_not_released"
    r = doc.post(f"/api/v1/shipments/{shipment['id']}/release-next-stage", json={})
    assert r.status_code == 409 and error_of(r)["code"] == "sessions_not_done"  # its sessions come first
    _sessions_done(committed, shipment["id"])
    assert doc.post(f"/api/v1/shipments/{shipment['id']}/release-next-stage", json={}).status_code == 200
    r = doc.post(f"/api/v1/prescriptions/{prescription_id}/shipments", json={"sessions": 2})
    assert r.status_code == 409 and error_of(r)["code"] == "beyond_prescription"  # 3 prescribed, no refill, 2 sent
    assert committed.session.scalar(select(func.count()).select_from(Shipment)) == 1
    r = doc.post(f"/api/v1/prescriptions/{prescription_id}/shipments", json={"sessions": 1})
    assert r.status_code == 201 and r.get_json()["stage"] == 2
    # ops cancel it: the pharmacy is told, and the shipment is cancelled
    ops = _make_user(committed, "ops")
    ops_client = app.test_client()
    ops_client.post("/api/v1/auth/login", json={"email": ops.email, "password": PASSWORD})
    second = committed.session.get(Shipment, r.get_json()["id"])
    r = ops_client.post(f"/api/v1/ops/shipments/{second.id}/status", json={"status": "cancelled"})
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    assert _order(pharmacy, second.pharmacy_order_id)["status"] == "cancelled"


def _order(pharmacy_url, order_id):
    import urllib.request

    with urllib.request.urlopen(f"{pharmacy_url}/orders/{order_id}", timeout=5) as response:
        return json.loads(response.read())


def test_refills_allow_more_sessions_within_six_months_only(app, pharmacy, committed):
    import time_machine

    from telehealth.models import Prescription

    patient_id, physician, prescription_id = _prescribed(committed, sessions=1, credits=5)
    prescription = committed.session.get(Prescription, prescription_id)
    committed.session.execute(Prescription.__table__.update().where(Prescription.id == prescription_id)
                              .values(refills=2, refills_until=now().date() + timedelta(days=180)))
    committed.session.commit()
    doc = app.test_client()
    doc.post("/api/v1/auth/login", json={"email": physician.email, "password": PASSWORD})

    def fill():
        r = doc.post(f"/api/v1/prescriptions/{prescription_id}/shipments", json={"sessions": 1})
        if r.status_code == 201:
            order = committed.session.get(Shipment, r.get_json()["id"]).pharmacy_order_id
            _drive(pharmacy, order, "delivered")
            _sessions_done(committed, r.get_json()["id"])
            doc.post(f"/api/v1/shipments/{r.get_json()['id']}/release-next-stage", json={})
        return r

    assert fill().status_code == 201  # the first fill
    assert fill().status_code == 201  # refill 1
    with time_machine.travel(now() + timedelta(days=200)):
        doc.post("/api/v1/auth/login", json={"email": physician.email, "password": PASSWORD})
        r = doc.post(f"/api/v1/prescriptions/{prescription_id}/shipments", json={"sessions": 1})
        assert r.status_code == 409 and error_of(r)["code"] == "refills_expired"
    doc.post("/api/v1/auth/login", json={"email": physician.email, "password": PASSWORD})
    assert fill().status_code == 201  # refill 2
    r = fill()
    assert r.status_code == 409 and error_of(r)["code"] == "beyond_prescription"
    assert prescription.id == prescription_id


def test_without_a_medication_credit_nothing_is_sent(app, pharmacy, committed):
    patient_id, physician, prescription_id = _prescribed(committed, credits=0)
    doc = app.test_client()
    doc.post("/api/v1/auth/login", json={"email": physician.email, "password": PASSWORD})
    r = doc.post(f"/api/v1/prescriptions/{prescription_id}/shipments", json={"sessions": 1})
    assert r.status_code == 409 and error_of(r)["code"] == "insufficient_credits"
    assert committed.session.scalar(select(Shipment)) is None


def test_when_the_pharmacy_does_not_answer_the_stage_waits_and_is_sent_once_later(app, pharmacy, committed,
                                                                                  monkeypatch):
    from telehealth.models import CreditKind
    from telehealth.services.billing import ledger
    from telehealth.services.pharmacy.shipments import reconcile_pharmacy
    from tests.conftest import free_port

    patient_id, physician, prescription_id = _prescribed(committed)
    monkeypatch.setitem(app.config, "PHARMACY_API_BASE", f"http://127.0.0.1:{free_port()}")
    doc = app.test_client()
    doc.post("/api/v1/auth/login", json={"email": physician.email, "password": PASSWORD})
    r = doc.post(f"/api/v1/prescriptions/{prescription_id}/shipments", json={"sessions": 1})
    assert r.status_code == 201 and r.get_json()["status"] == "created"  # kept, not lost, not yet sent
    assert ledger.balances(patient_id)[CreditKind.MEDICATION_SESSION] == 2
    row = committed.session.get(Shipment, r.get_json()["id"])
    assert row.send_attempts == 1 and row.pharmacy_order_id is None and row.last_send_error
    with app.test_request_context():
        assert reconcile_pharmacy(grace_seconds=0) == {"sent": 0, "cancelled": 0}  # still down
        monkeypatch.setitem(app.config, "PHARMACY_API_BASE", pharmacy)
        assert reconcile_pharmacy(grace_seconds=0) == {"sent": 1, "cancelled": 0}
        assert reconcile_pharmacy(grace_seconds=0) == {"sent": 0, "cancelled": 0}
    committed.session.expire_all()
    row = committed.session.get(Shipment, row.id)
    assert row.status is S.SENT_TO_PHARMACY and row.send_attempts == 3
    assert _order(pharmacy, row.pharmacy_order_id)["reference"] == row.pharmacy_reference


def _fault(pharmacy_url, **fault):
    import urllib.request

    request = urllib.request.Request(f"{pharmacy_url}/_faults", data=json.dumps(fault).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=5).close()


def test_an_order_whose_answer_was_lost_is_not_orphaned_nor_doubled(app, pharmacy, committed):
    from telehealth.services.pharmacy.shipments import reconcile_pharmacy

    patient_id, physician, prescription_id = _prescribed(committed)
    doc = app.test_client()
    doc.post("/api/v1/auth/login", json={"email": physician.email, "password": PASSWORD})
    _fault(pharmacy, lose_answers=1)  # the pharmacy takes the order, then its answer is lost
    r = doc.post(f"/api/v1/prescriptions/{prescription_id}/shipments", json={"sessions": 1})
    assert r.status_code == 201 and r.get_json()["status"] == "created"
    reference = committed.session.get(Shipment, r.get_json()["id"]).pharmacy_reference
    assert len(_orders_for(pharmacy, reference)) == 1  # the pharmacy has it; we do not know its id yet
    with app.test_request_context():
        assert reconcile_pharmacy(grace_seconds=0)["sent"] == 1
    committed.session.expire_all()
    row = committed.session.get(Shipment, r.get_json()["id"])
    assert row.status is S.SENT_TO_PHARMACY
    assert _orders_for(pharmacy, reference) == [row.pharmacy_order_id]  # the same order, not a second


def _orders_for(pharmacy_url, reference):
    import urllib.request

    with urllib.request.urlopen(f"{pharmacy_url}/_orders?reference={reference}", timeout=5) as response:
        return json.loads(response.read())["order_ids"]


def test_a_cancellation_whose_answer_was_lost_is_finished_by_the_reconciler(app, pharmacy, committed):
    from telehealth.models import CreditKind
    from telehealth.services.billing import ledger
    from telehealth.services.pharmacy.shipments import reconcile_pharmacy

    patient_id, physician, prescription_id = _prescribed(committed)
    doc = app.test_client()
    doc.post("/api/v1/auth/login", json={"email": physician.email, "password": PASSWORD})
    stage = doc.post(f"/api/v1/prescriptions/{prescription_id}/shipments", json={"sessions": 2}).get_json()
    ops = _make_user(committed, "ops")
    ops_client = app.test_client()
    ops_client.post("/api/v1/auth/login", json={"email": ops.email, "password": PASSWORD})
    _fault(pharmacy, lose_answers=1)
    r = ops_client.post(f"/api/v1/ops/shipments/{stage['id']}/status", json={"status": "cancelled"})
    assert r.status_code == 200 and r.get_json()["status"] == "sent_to_pharmacy"
    assert r.get_json()["cancel_requested_at"] is not None  # asked, not yet confirmed
    order_id = committed.session.get(Shipment, stage["id"]).pharmacy_order_id
    assert _order(pharmacy, order_id)["status"] == "cancelled"  # the pharmacy did it
    assert ledger.balances(patient_id)[CreditKind.MEDICATION_SESSION] == 1
    with app.test_request_context():
        assert reconcile_pharmacy(grace_seconds=0) == {"sent": 0, "cancelled": 1}
    committed.session.expire_all()
    row = committed.session.get(Shipment, stage["id"])
    assert row.status is S.CANCELLED and row.cancel_requested_at is None
    assert ledger.balances(patient_id)[CreditKind.MEDICATION_SESSION] == 3  # given back once
    with app.test_request_context():
        assert reconcile_pharmacy(grace_seconds=0) == {"sent": 0, "cancelled": 0}


def test_a_stage_cancelled_before_the_pharmacy_answered_is_refused_when_it_arrives(app, pharmacy, committed,
                                                                                  monkeypatch):
    from telehealth.models import CreditKind
    from telehealth.services.billing import ledger
    from telehealth.services.pharmacy.shipments import reconcile_pharmacy
    from tests.conftest import free_port

    patient_id, physician, prescription_id = _prescribed(committed)
    doc = app.test_client()
    doc.post("/api/v1/auth/login", json={"email": physician.email, "password": PASSWORD})
    monkeypatch.setitem(app.config, "PHARMACY_API_BASE", f"http://127.0.0.1:{free_port()}")
    stage = doc.post(f"/api/v1/prescriptions/{prescription_id}/shipments", json={"sessions": 1}).get_json()
    monkeypatch.setitem(app.config, "PHARMACY_API_BASE", pharmacy)
    ops = _make_user(committed, "ops")
    ops_client = app.test_client()
    ops_client.post("/api/v1/auth/login", json={"email": ops.email, "password": PASSWORD})
    r = ops_client.post(f"/api/v1/ops/shipments/{stage['id']}/status", json={"status": "cancelled"})
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    # an order still on its way under that reference is refused by the pharmacy, and nothing is resent
    with app.test_request_context():
        from telehealth.services.pharmacy.shipments import send_stage

        assert send_stage(stage["id"]).status is S.CANCELLED
        assert reconcile_pharmacy(grace_seconds=0) == {"sent": 0, "cancelled": 0}
    assert _orders_for(pharmacy, committed.session.get(Shipment, stage["id"]).pharmacy_reference) == []
    assert ledger.balances(patient_id)[CreditKind.MEDICATION_SESSION] == 3


def test_a_later_stage_needs_the_acting_physician_licensed_and_registered_today(app, pharmacy, committed):
    from telehealth.models import PhysicianLicense

    patient_id, physician, prescription_id = _prescribed(committed)
    profile = physician.physician_profile
    profile.dea_number, profile.dea_expires_on = "AB1234563", now().date() - timedelta(days=1)
    committed.session.commit()
    doc = app.test_client()
    doc.post("/api/v1/auth/login", json={"email": physician.email, "password": PASSWORD})
    r = doc.post(f"/api/v1/prescriptions/{prescription_id}/shipments", json={"sessions": 1})
    assert r.status_code == 409 and error_of(r)["code"] == "prescriber_not_allowed"
    assert "DEA" in error_of(r)["message"]
    profile.dea_expires_on = now().date() + timedelta(days=30)
    committed.session.execute(PhysicianLicense.__table__.delete().where(
        PhysicianLicense.physician_id == profile.user_id))
    committed.session.commit()
    r = doc.post(f"/api/v1/prescriptions/{prescription_id}/shipments", json={"sessions": 1})
    assert r.status_code == 409 and "license" in error_of(r)["message"]
    assert committed.session.scalar(select(Shipment)) is None


# --------------------------------------------------------------------------- SLA, board, addresses


@pytest.mark.parametrize("start, days, expected", [
    ("2026-03-06T15:00:00-05:00", 3, "2026-03-11T15:00:00-04:00"),  # Friday: Mon, Tue, Wed (and DST)
    ("2026-03-02T09:00:00-05:00", 3, "2026-03-05T09:00:00-05:00"),  # Monday to Thursday
    ("2026-03-07T12:00:00-05:00", 3, "2026-03-12T00:00:00-04:00"),  # Saturday: Mon, Tue, Wed in full
    ("2026-03-04T10:00:00-05:00", 5, "2026-03-11T10:00:00-04:00"),  # Wednesday + 5 = next Wednesday
    ("2026-11-25T10:00:00-05:00", 3, "2026-12-01T10:00:00-05:00"),  # Thanksgiving: Fri, Mon, Tue
    ("2026-11-26T10:00:00-05:00", 1, "2026-11-30T00:00:00-05:00"),  # on Thanksgiving: Friday in full
    ("2026-07-02T09:00:00-04:00", 1, "2026-07-06T09:00:00-04:00"),  # July 4th on a Saturday: Friday off
    ("2026-12-24T09:00:00-05:00", 2, "2026-12-29T09:00:00-05:00"),  # Christmas Friday, weekend, Monday
])
def test_business_days_skip_weekends_and_federal_holidays(start, days, expected):
    from datetime import datetime

    from telehealth.services.pharmacy.shipping_sla import add_business_days

    result = add_business_days(datetime.fromisoformat(start), days)
    assert result == datetime.fromisoformat(expected)


def test_the_board_finds_breaches_across_a_weekend_and_exports_csv(client, auth, db, shipment):
    import time_machine

    from telehealth.services.pharmacy.shipping_sla import deadlines

    signed = datetime_from("2026-03-06T15:00:00-05:00")  # a Friday afternoon
    shipment.ship_by, shipment.deliver_by = deadlines(signed)
    shipment.tracking_number = "1ZTRACK"
    db.session.commit()
    with time_machine.travel(datetime_from("2026-03-10T12:00:00-04:00"), tick=False):  # Tuesday: within 3
        auth.as_role("ops")
        assert client.get("/api/v1/ops/shipments?breach=ship").get_json()["items"] == []
    with time_machine.travel(datetime_from("2026-03-11T16:00:00-04:00"), tick=False):  # Wednesday, after 15:00
        auth.as_role("ops")
        items = client.get("/api/v1/ops/shipments?breach=ship").get_json()["items"]
        assert [i["id"] for i in items] == [shipment.id] and items[0]["breaches"] == ["ship"]
        assert set(items[0]) >= {"patient_name", "address"} and "diagnosis_code" not in items[0]
        assert [i["id"] for i in client.get("/api/v1/ops/shipments?q=1ZTRACK").get_json()["items"]] == [shipment.id]
        assert client.get("/api/v1/ops/shipments?q=nothing").get_json()["items"] == []
        r = client.get("/api/v1/ops/shipments?format=csv")
        assert r.mimetype == "text/csv"
        lines = r.get_data(as_text=True).splitlines()
        assert lines[0].startswith("shipment_id,") and "1ZTRACK" in lines[1] and lines[1].endswith("ship")


def datetime_from(text):
    from datetime import datetime

    return datetime.fromisoformat(text)


def test_ops_board_is_for_ops_and_admin_only(client, auth, db, shipment):
    for role in ("patient", "coach", "physician"):
        auth.as_role(role)
        assert client.get("/api/v1/ops/shipments").status_code == 403, role
        auth.logout()


def test_address_changes_by_the_patient_until_filled_then_by_ops(client, app, auth, db, shipment):
    from telehealth.adapters import pharmacy

    # a real order at the local pharmacy, which must hear about every change
    oid = pharmacy.send_order(reference="fixture", patient_name="P", address=shipment.shipping_address,
                              medication="ketamine", form="troche", strength_mg=100, units=2, directions="x")
    shipment.pharmacy_order_id = oid
    db.session.commit()
    new_address = {"address": {"line1": "9 New Rd", "city": "Buffalo", "state": "NY", "postal_code": "14201"}}
    patient = db.session.get(User, shipment.patient_id)
    owner = app.test_client()
    owner.post("/api/v1/auth/login", json={"email": patient.email, "password": PASSWORD})
    r = owner.put(f"/api/v1/shipments/{shipment.id}/address", json=new_address)
    assert r.status_code == 200
    db.session.expire_all()
    assert db.session.get(Shipment, shipment.id).shipping_address["city"] == "Buffalo"
    _send(app, client, _event(20, "filled", order_id=oid))
    r = owner.put(f"/api/v1/shipments/{shipment.id}/address", json=new_address)
    assert r.status_code == 409 and error_of(r)["code"] == "address_locked"
    auth.as_role("ops")
    assert client.put(f"/api/v1/shipments/{shipment.id}/address", json=new_address).status_code == 200
    _send(app, client, _event(21, "shipped", order_id=oid))
    assert client.put(f"/api/v1/shipments/{shipment.id}/address", json=new_address).status_code == 409
    _send(app, client, _event(22, "exception", reason="Weather", order_id=oid))
    assert client.put(f"/api/v1/shipments/{shipment.id}/address", json=new_address).status_code == 409


def test_an_address_change_reaches_the_pharmacy_and_stays_in_the_licensed_state(app, pharmacy, committed):
    patient_id, physician, prescription_id = _prescribed(committed)
    doc = app.test_client()
    doc.post("/api/v1/auth/login", json={"email": physician.email, "password": PASSWORD})
    stage = doc.post(f"/api/v1/prescriptions/{prescription_id}/shipments", json={"sessions": 1}).get_json()
    owner = app.test_client()
    owner.post("/api/v1/auth/login", json={"email": committed.session.get(User, patient_id).email,
                                           "password": PASSWORD})
    url = f"/api/v1/shipments/{stage['id']}/address"
    r = owner.put(url, json={"address": {"line1": "1 Main", "city": "Newark", "state": "NJ", "postal_code": "07102"}})
    assert r.status_code == 422 and "address.state" in error_of(r)["fields"]
    r = owner.put(url, json={"address": {"line1": "2 Lake St", "city": "Ithaca", "state": "NY", "postal_code": "14850"}})
    assert r.status_code == 200
    order = committed.session.get(Shipment, stage["id"]).pharmacy_order_id
    assert _order(pharmacy, order)["address"]["city"] == "Ithaca"


def test_the_board_costs_the_same_queries_for_a_longer_page(client, auth, db, shipment, count_queries):
    def add(count):
        for _ in range(count):
            db.session.add(Shipment(prescription_id=shipment.prescription_id, patient_id=shipment.patient_id,
                                    stage=1, sessions=1, status=S.DELIVERED, shipping_address=shipment.shipping_address,
                                    ship_by=now(), deliver_by=now()))
        db.session.commit()

    auth.as_role("ops")
    add(2)
    with count_queries() as few:
        assert len(client.get("/api/v1/ops/shipments").get_json()["items"]) == 3
    add(20)
    with count_queries() as many:
        assert len(client.get("/api/v1/ops/shipments").get_json()["items"]) == 23
    assert many.count == few.count


@pytest.mark.parametrize("ts, sig", [("²", "0" * 64), ("9" * 400, "0" * 64), (None, "é" * 64), (None, "Z" * 64)])
def test_crafted_webhook_headers_are_401_not_500(app, client, db, shipment, ts, sig):
    body = json.dumps(_event(30, "received")).encode()
    r = client.post("/webhooks/pharmacy", data=body, content_type="application/json",
                    headers={"X-Pharmacy-Timestamp": ts or str(int(time.time())), "X-Pharmacy-Signature": sig})
    assert r.status_code == 401


def test_a_signed_event_with_a_non_text_status_is_422(app, client, db, shipment):
    assert _send(app, client, {"event_id": "e", "order_id": "PH-1001", "status": ["x"]}).status_code == 422


def test_after_an_exception_a_late_event_does_not_move_it_back(app, client, db, shipment):
    _send(app, client, _event(40, "shipped"))
    _send(app, client, _event(41, "exception", reason="Damaged"))
    assert _send(app, client, _event(42, "received")).get_json()["message"] == "stale"
    assert _send(app, client, _event(43, "delivered")).get_json()["message"] == "applied"


def test_one_active_prescription_and_versions_keep_the_staging(app, pharmacy, committed):
    from tests.pharmacy.test_prescriptions import TERMS

    patient_id, physician, prescription_id = _prescribed(committed)
    doc = app.test_client()
    doc.post("/api/v1/auth/login", json={"email": physician.email, "password": PASSWORD})
    r = doc.post(f"/api/v1/patients/{patient_id}/prescriptions", json=TERMS)
    assert r.status_code == 409 and error_of(r)["code"] in ("prescription_exists", "prescribing_not_allowed")
    stage = doc.post(f"/api/v1/prescriptions/{prescription_id}/shipments", json={"sessions": 1}).get_json()
    from telehealth.models import Prescription

    v1 = committed.session.get(Prescription, prescription_id)
    with pytest.raises(ValueError, match="never edited"):  # the lineage is written once, at insert
        v1.lineage_id = v1.id
        committed.session.flush()
    committed.session.rollback()
    # a new version must not reset the stages: stage 1 is still on its way
    from telehealth.services.pharmacy import prescriptions as rx

    committed.session.execute(Prescription.__table__.update().where(Prescription.id == prescription_id)
                              .values(status="superseded"))
    v2 = Prescription(patient_id=patient_id, physician_id=physician.id, medication="ketamine",
                      form="sublingual_tablet", strength_mg=100, dose_per_session_mg=200, sessions=3, refills=0,
                      directions="New wording of the directions.", diagnosis_code="F33.2",
                      refills_until=v1.refills_until, encounter_appointment_id=v1.encounter_appointment_id,
                      license_state="NY", license_number="NY1", dea_number="AB1234563", lineage_id=v1.lineage, version=2,
                      supersedes_id=v1.id)
    committed.session.add(v2)
    committed.session.commit()
    r = doc.post(f"/api/v1/prescriptions/{v2.id}/shipments", json={"sessions": 1})
    assert r.status_code == 409 and error_of(r)["code"] == "stage_not_released"
    assert rx.REFILL_WINDOW_MONTHS == 6 and stage["stage"] == 1


def test_a_cancelled_stage_gives_its_credits_back_and_release_is_once(app, pharmacy, committed):
    from telehealth.models import CreditKind
    from telehealth.services.billing import ledger

    patient_id, physician, prescription_id = _prescribed(committed)
    doc = app.test_client()
    doc.post("/api/v1/auth/login", json={"email": physician.email, "password": PASSWORD})
    stage = doc.post(f"/api/v1/prescriptions/{prescription_id}/shipments", json={"sessions": 2}).get_json()
    assert ledger.balances(patient_id)[CreditKind.MEDICATION_SESSION] == 1
    ops = _make_user(committed, "ops")
    ops_client = app.test_client()
    ops_client.post("/api/v1/auth/login", json={"email": ops.email, "password": PASSWORD})
    assert ops_client.post(f"/api/v1/ops/shipments/{stage['id']}/status", json={"status": "cancelled"}).status_code == 200
    assert ledger.balances(patient_id)[CreditKind.MEDICATION_SESSION] == 3
    again = doc.post(f"/api/v1/prescriptions/{prescription_id}/shipments", json={"sessions": 1})
    assert again.status_code == 201  # the cancelled stage does not block
    order = committed.session.get(Shipment, again.get_json()["id"]).pharmacy_order_id
    _drive(pharmacy, order, "delivered")
    _sessions_done(committed, again.get_json()["id"])
    url = f"/api/v1/shipments/{again.get_json()['id']}/release-next-stage"
    assert doc.post(url, json={}).status_code == 200
    assert doc.post(url, json={}).status_code == 409


def test_the_reconcile_command_sends_waiting_stages(app, pharmacy, committed, monkeypatch):
    from tests.conftest import free_port

    patient_id, physician, prescription_id = _prescribed(committed)
    monkeypatch.setitem(app.config, "PHARMACY_API_BASE", f"http://127.0.0.1:{free_port()}")
    doc = app.test_client()
    doc.post("/api/v1/auth/login", json={"email": physician.email, "password": PASSWORD})
    stage = doc.post(f"/api/v1/prescriptions/{prescription_id}/shipments", json={"sessions": 1}).get_json()
    monkeypatch.setitem(app.config, "PHARMACY_API_BASE", pharmacy)
    # a stage younger than the grace period may still be in flight: left alone
    assert "Sent 0 waiting stages" in app.test_cli_runner().invoke(args=["pharmacy-reconcile"]).output
    result = app.test_cli_runner().invoke(args=["pharmacy-reconcile", "--grace-seconds", "0"])
    assert "Sent 1 waiting stages; finished 0 cancellations." in result.output
    committed.session.expire_all()
    assert committed.session.get(Shipment, stage["id"]).status is S.SENT_TO_PHARMACY


# --------------------------------------------------------------------------- after it has left the pharmacy


def _ops_client(app, committed):
    ops = _make_user(committed, "ops")
    ops_client = app.test_client()
    ops_client.post("/api/v1/auth/login", json={"email": ops.email, "password": PASSWORD})
    return ops_client


def test_a_stage_that_has_shipped_is_not_cancelled_from_an_exception(app, pharmacy, committed):
    from telehealth.models import CreditKind
    from telehealth.services.billing import ledger

    patient_id, physician, prescription_id = _prescribed(committed)
    doc = app.test_client()
    doc.post("/api/v1/auth/login", json={"email": physician.email, "password": PASSWORD})
    stage = doc.post(f"/api/v1/prescriptions/{prescription_id}/shipments", json={"sessions": 2}).get_json()
    order_id = committed.session.get(Shipment, stage["id"]).pharmacy_order_id
    _drive(pharmacy, order_id, "shipped", carrier="UPS", tracking_number="1ZGONE")
    _drive(pharmacy, order_id, "exception", reason="Damaged in transit")
    r = _ops_client(app, committed).post(f"/api/v1/ops/shipments/{stage['id']}/status", json={"status": "cancelled"})
    assert r.status_code == 409 and error_of(r)["code"] == "already_shipped"
    committed.session.expire_all()
    row = committed.session.get(Shipment, stage["id"])
    assert row.status is S.EXCEPTION and row.cancel_requested_at is None
    assert _order(pharmacy, order_id)["status"] == "exception"  # the pharmacy was not asked to cancel it
    assert ledger.balances(patient_id)[CreditKind.MEDICATION_SESSION] == 1  # the package is with the carrier


def test_the_reconciler_does_not_finish_a_cancellation_of_a_stage_that_shipped_meanwhile(app, db, shipment):
    from telehealth.services.pharmacy.shipments import reconcile_pharmacy

    # asked while it waited at the pharmacy (answer lost), then it shipped and hit an exception
    shipment.status, shipment.shipped_at = S.EXCEPTION, now()
    shipment.cancel_requested_at = now() - timedelta(minutes=5)
    db.session.commit()
    assert reconcile_pharmacy(grace_seconds=0) == {"sent": 0, "cancelled": 0}
    db.session.expire_all()
    row = db.session.get(Shipment, shipment.id)
    assert row.status is S.EXCEPTION and row.cancel_requested_at is None


def test_a_cancelled_shipment_reported_shipped_alerts_ops_once(app, client, auth, db, shipment):
    from telehealth.models import ClinicalAlert

    shipment.apply(S.CANCELLED, now(), source="ops")
    db.session.commit()
    assert _send(app, client, _event(50, "received")).get_json()["message"] == "stale"
    assert db.session.scalar(select(ClinicalAlert)) is None  # a late step before shipping is only history
    assert _send(app, client, _event(51, "shipped", carrier="UPS")).get_json()["message"] == "stale"
    assert _send(app, client, _event(52, "delivered")).get_json()["message"] == "stale"
    [alert] = db.session.scalars(select(ClinicalAlert)).all()
    assert (alert.kind, alert.urgency, alert.recipient) == ("shipped_after_cancel", "urgent", "ops")
    assert (alert.dedupe_key, alert.shipment_id, alert.patient_id) == (
        f"shipped_after_cancel:{shipment.id}", shipment.id, shipment.patient_id)
    assert alert.summary == f"Shipment #{shipment.id} was reported shipped after it was cancelled."
    assert db.session.get(Shipment, shipment.id).status is S.CANCELLED
    auth.as_role("ops")
    assert [i["kind"] for i in client.get("/api/v1/ops/alerts").get_json()["items"]] == ["shipped_after_cancel"]


# --------------------------------------------------------------------------- sends that fail for good


def _reconcile(app):
    """The reconciler as the scheduler runs it: in its own app context, with its own session."""
    from telehealth.services.pharmacy.shipments import reconcile_pharmacy

    with app.app_context():
        return reconcile_pharmacy(grace_seconds=0)


def _ops_alerts(committed, shipment_id):
    from telehealth.models import ClinicalAlert

    return list(committed.session.scalars(select(ClinicalAlert).where(ClinicalAlert.shipment_id == shipment_id)))


@pytest.mark.parametrize("how", ["rejected", "bad_signature"])
def test_a_send_the_pharmacy_rejects_is_not_retried_and_alerts_ops_once(app, pharmacy, committed, monkeypatch,
                                                                         how):
    from telehealth.models import CreditKind
    from telehealth.services.billing import ledger

    patient_id, physician, prescription_id = _prescribed(committed)
    doc = app.test_client()
    doc.post("/api/v1/auth/login", json={"email": physician.email, "password": PASSWORD})
    if how == "rejected":
        _fault(pharmacy, reject_orders=1)  # a 422: the pharmacy will not take this order as it is
    else:
        monkeypatch.setitem(app.config, "PHARMACY_WEBHOOK_SECRET", "not-the-shared-secret")  # a 401
    r = doc.post(f"/api/v1/prescriptions/{prescription_id}/shipments", json={"sessions": 1})
    assert r.status_code == 201 and r.get_json()["status"] == "created"
    monkeypatch.setitem(app.config, "PHARMACY_WEBHOOK_SECRET", "pharmacy-development-secret")
    row = committed.session.get(Shipment, r.get_json()["id"])
    assert row.send_failed_at is not None and row.send_attempts == 1
    code = "422" if how == "rejected" else "401"
    [alert] = _ops_alerts(committed, row.id)
    assert (alert.kind, alert.urgency, alert.recipient, alert.patient_id, alert.dedupe_key) == (
        "pharmacy_send_failed", "routine", "ops", patient_id, f"pharmacy_send_failed:{row.id}")
    assert alert.summary == f"Shipment #{row.id} could not be sent to the pharmacy: it was rejected (HTTP {code})."
    assert _reconcile(app) == {"sent": 0, "cancelled": 0}  # not retried
    committed.session.expire_all()
    assert committed.session.get(Shipment, row.id).send_attempts == 1
    assert _orders_for(pharmacy, row.pharmacy_reference) == [] and len(_ops_alerts(committed, row.id)) == 1
    # ops cancel it (a new stage is the physician's to send): the credit comes back
    r = _ops_client(app, committed).post(f"/api/v1/ops/shipments/{row.id}/status", json={"status": "cancelled"})
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    assert ledger.balances(patient_id)[CreditKind.MEDICATION_SESSION] == 3


def test_a_send_still_failing_after_the_most_attempts_stops_and_alerts_ops_once(app, pharmacy, committed,
                                                                                 monkeypatch):
    from tests.conftest import free_port

    patient_id, physician, prescription_id = _prescribed(committed)
    monkeypatch.setitem(app.config, "PHARMACY_MAX_SEND_ATTEMPTS", 3)
    monkeypatch.setitem(app.config, "PHARMACY_API_BASE", f"http://127.0.0.1:{free_port()}")
    doc = app.test_client()
    doc.post("/api/v1/auth/login", json={"email": physician.email, "password": PASSWORD})
    stage = doc.post(f"/api/v1/prescriptions/{prescription_id}/shipments", json={"sessions": 1}).get_json()
    _reconcile(app)  # attempt 2
    assert _ops_alerts(committed, stage["id"]) == []
    _reconcile(app)  # attempt 3: given up
    [alert] = _ops_alerts(committed, stage["id"])
    assert alert.summary == f"Shipment #{stage['id']} could not be sent to the pharmacy: no answer after 3 attempts."
    monkeypatch.setitem(app.config, "PHARMACY_API_BASE", pharmacy)
    assert _reconcile(app) == {"sent": 0, "cancelled": 0}  # until ops cancel it
    committed.session.expire_all()
    row = committed.session.get(Shipment, stage["id"])
    assert row.status is S.CREATED and row.send_attempts == 3 and row.send_failed_at is not None
    assert len(_ops_alerts(committed, row.id)) == 1
    ops = _make_user(committed, "ops")
    ops_client = app.test_client()
    ops_client.post("/api/v1/auth/login", json={"email": ops.email, "password": PASSWORD})
    [item] = ops_client.get(f"/api/v1/ops/shipments?q={row.id}").get_json()["items"]
    assert item["send_failed_at"] is not None and item["cancel_requested_at"] is None  # ops see it on the board


def test_a_send_refused_because_its_reference_was_voided_cancels_and_alerts_ops_once(app, pharmacy, committed,
                                                                                    monkeypatch):
    from telehealth.adapters import pharmacy as adapter
    from telehealth.models import CreditKind
    from telehealth.services.billing import ledger
    from tests.conftest import free_port

    patient_id, physician, prescription_id = _prescribed(committed)
    monkeypatch.setitem(app.config, "PHARMACY_API_BASE", f"http://127.0.0.1:{free_port()}")
    doc = app.test_client()
    doc.post("/api/v1/auth/login", json={"email": physician.email, "password": PASSWORD})
    stage = doc.post(f"/api/v1/prescriptions/{prescription_id}/shipments", json={"sessions": 1}).get_json()
    monkeypatch.setitem(app.config, "PHARMACY_API_BASE", pharmacy)
    with app.test_request_context():
        adapter.cancel_order(committed.session.get(Shipment, stage["id"]).pharmacy_reference)  # at the pharmacy
    assert _reconcile(app) == {"sent": 1, "cancelled": 0}
    assert _reconcile(app) == {"sent": 0, "cancelled": 0}
    committed.session.expire_all()
    assert committed.session.get(Shipment, stage["id"]).status is S.CANCELLED
    assert ledger.balances(patient_id)[CreditKind.MEDICATION_SESSION] == 3
    [alert] = _ops_alerts(committed, stage["id"])
    assert (alert.kind, alert.recipient) == ("pharmacy_send_failed", "ops")
    assert alert.summary.startswith(f"Shipment #{stage['id']} could not be sent to the pharmacy: ")


@pytest.mark.parametrize("status, error", [
    (400, "PharmacyRejected"), (401, "PharmacyRejected"), (404, "PharmacyRejected"), (422, "PharmacyRejected"),
    (409, "PharmacyRefused"), (408, "PharmacyUnavailable"), (429, "PharmacyUnavailable"),
    (500, "PharmacyUnavailable"), (502, "PharmacyUnavailable"), (503, "PharmacyUnavailable"),
])
def test_the_pharmacy_adapter_tells_a_rejection_from_an_outage(app, monkeypatch, status, error):
    import io
    import urllib.error

    from telehealth.adapters import pharmacy as adapter

    def refuse(request, timeout):
        raise urllib.error.HTTPError(request.full_url, status, "no", {}, io.BytesIO(b"{}"))

    monkeypatch.setattr(adapter.urllib.request, "urlopen", refuse)
    with app.test_request_context(), pytest.raises(getattr(adapter, error, KeyError)):
        adapter.cancel_order("stage-x")


# --------------------------------------------------------------------------- an address the pharmacy never heard of


ITHACA = {"line1": "2 Lake St", "city": "Ithaca", "state": "NY", "postal_code": "14850"}


def _lost_order_then_moved(app, pharmacy, committed, monkeypatch):
    """A stage whose order the pharmacy made but whose answer was lost, then an address change
    while the pharmacy was down: only our copy of the address changed."""
    from tests.conftest import free_port

    patient_id, physician, prescription_id = _prescribed(committed)
    doc = app.test_client()
    doc.post("/api/v1/auth/login", json={"email": physician.email, "password": PASSWORD})
    _fault(pharmacy, lose_answers=1)
    stage = doc.post(f"/api/v1/prescriptions/{prescription_id}/shipments", json={"sessions": 1}).get_json()
    assert stage["status"] == "created"
    [order_id] = _orders_for(pharmacy, committed.session.get(Shipment, stage["id"]).pharmacy_reference)
    assert _order(pharmacy, order_id)["address"]["city"] != "Ithaca"
    owner = app.test_client()
    owner.post("/api/v1/auth/login", json={"email": committed.session.get(User, patient_id).email,
                                           "password": PASSWORD})
    monkeypatch.setitem(app.config, "PHARMACY_API_BASE", f"http://127.0.0.1:{free_port()}")
    r = owner.put(f"/api/v1/shipments/{stage['id']}/address", json={"address": ITHACA})
    assert r.status_code == 200 and r.get_json()["status"] == "created"
    monkeypatch.setitem(app.config, "PHARMACY_API_BASE", pharmacy)
    return stage["id"], order_id


def test_an_address_changed_before_a_lost_order_was_found_reaches_the_pharmacy(app, pharmacy, committed,
                                                                              monkeypatch):
    shipment_id, order_id = _lost_order_then_moved(app, pharmacy, committed, monkeypatch)
    assert _reconcile(app)["sent"] == 1  # the pharmacy answers the order it has, with the old address
    committed.session.expire_all()
    row = committed.session.get(Shipment, shipment_id)
    assert row.status is S.SENT_TO_PHARMACY and row.pharmacy_order_id == order_id
    assert row.shipping_address["city"] == "Ithaca" and _order(pharmacy, order_id)["address"] == row.shipping_address
    assert _ops_alerts(committed, shipment_id) == []


def test_a_lost_order_that_shipped_before_its_new_address_reached_it_alerts_ops(app, pharmacy, committed,
                                                                               monkeypatch):
    shipment_id, order_id = _lost_order_then_moved(app, pharmacy, committed, monkeypatch)
    _drive(pharmacy, order_id, "shipped")  # the pharmacy ships it (its report finds no order id here)
    assert _reconcile(app)["sent"] == 1
    committed.session.expire_all()
    row = committed.session.get(Shipment, shipment_id)
    assert row.pharmacy_order_id == order_id  # kept: the pharmacy's reports must find it
    assert _order(pharmacy, order_id)["address"]["city"] != "Ithaca"
    [alert] = _ops_alerts(committed, shipment_id)
    assert (alert.kind, alert.urgency, alert.recipient) == ("address_not_updated", "urgent", "ops")

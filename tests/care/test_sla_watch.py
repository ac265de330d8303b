"""The SLA watch sweep: overdue reviews alert the clinical team, late shipments alert ops, each once."""
from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from telehealth.clock import now
from telehealth.models import ClinicalAlert
from telehealth.models.pharmacy.shipments import ShipmentStatus as S
from telehealth.services.care.sla_watch import flag_breaches
from tests.pharmacy import test_shipments
from tests.screening import test_assessments
from tests.screening.test_assessments import submit

# the fixtures of the screening and shipment tests, shared
ny_physician = test_assessments.ny_physician
shipment = test_shipments.shipment


def _alerts(db, **where):
    query = select(ClinicalAlert)
    for name, value in where.items():
        query = query.where(getattr(ClinicalAlert, name) == value)
    return list(db.session.scalars(query))


def test_an_unreviewed_screening_past_its_sla_alerts_the_clinical_team_once(client, db, ny_physician):
    assessment_id = submit(client).get_json()["id"]
    assert flag_breaches()["review"] == 0  # within the 24 hours
    with time_machine.travel(now() + timedelta(hours=24, minutes=1)):
        assert flag_breaches()["review"] == 1
        assert flag_breaches()["review"] == 0  # once
    [alert] = _alerts(db, kind="review_overdue")
    assert alert.assessment_id == assessment_id and alert.recipient == "clinical_team"
    assert "reviewed" in alert.summary


def test_a_reviewed_screening_is_not_flagged(client, db, auth, ny_physician):
    assessment_id = submit(client).get_json()["id"]
    auth.login(ny_physician)
    r = client.post(f"/api/v1/reviews/{assessment_id}/decision", json={"decision": "approve"})
    assert r.status_code == 200, r.get_json()
    with time_machine.travel(now() + timedelta(days=3)):
        assert flag_breaches()["review"] == 0


def test_late_shipments_alert_ops_not_physicians_once_per_breach(client, db, auth, shipment):
    with time_machine.travel(shipment.ship_by + timedelta(minutes=1)):
        assert flag_breaches() == {"review": 0, "ship": 1, "deliver": 0}
    shipment.status, shipment.shipped_at = S.SHIPPED, now()
    db.session.commit()
    with time_machine.travel(shipment.deliver_by + timedelta(minutes=1)):
        assert flag_breaches() == {"review": 0, "ship": 0, "deliver": 1}
        assert flag_breaches() == {"review": 0, "ship": 0, "deliver": 0}
    kinds = sorted(a.kind for a in _alerts(db, shipment_id=shipment.id))
    assert kinds == ["shipment_deliver_breach", "shipment_ship_breach"]
    assert {a.recipient for a in _alerts(db, shipment_id=shipment.id)} == {"ops"}
    auth.as_role("ops")
    items = client.get("/api/v1/ops/alerts").get_json()["items"]
    assert {i["kind"] for i in items} == set(kinds) and items[0]["shipment_id"] == shipment.id
    auth.as_role("physician")
    assert client.get("/api/v1/alerts").get_json()["items"] == []  # logistics are not clinical alerts
    assert client.post(f"/api/v1/alerts/{items[0]['id']}/acknowledge").status_code == 404
    auth.as_role("ops")
    assert client.post(f"/api/v1/ops/alerts/{items[0]['id']}/acknowledge").status_code == 200
    assert len(client.get("/api/v1/ops/alerts").get_json()["items"]) == 1


def test_a_delivered_shipment_raises_nothing(db, shipment):
    shipment.status, shipment.delivered_at = S.DELIVERED, now()
    db.session.commit()
    with time_machine.travel(shipment.deliver_by + timedelta(days=1)):
        assert flag_breaches() == {"review": 0, "ship": 0, "deliver": 0}
    assert db.session.scalar(select(func.count()).select_from(ClinicalAlert)) == 0

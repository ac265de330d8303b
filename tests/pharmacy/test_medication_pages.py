"""The medication page with Flask's test client: each shipment of the patient's prescription in words,
with its tracking and the dates to expect in the patient's own zone; only their own; signed in only."""
from __future__ import annotations

import html
from datetime import datetime, timedelta, timezone

import pytest

from telehealth.clock import now
from telehealth.models import ShipmentStatus
from tests.pages_support import text_of as _text_of
from tests.pharmacy.test_prescriptions import TERMS
from tests.sessions_support import deliver, ready

UTC = timezone.utc
S = ShipmentStatus


def text_of(response) -> str:
    return html.unescape(_text_of(response))


@pytest.fixture
def patient(db, create_user, auth):
    ctx = ready(db, create_user, stages=())
    ctx.patient.time_zone = "America/Los_Angeles"
    db.session.commit()
    assert auth.login(ctx.patient).status_code == 200
    return ctx


def _stage(db, rx, status, *, sessions=3, **fields):
    shipment = deliver(db, rx, sessions, status=status)
    for key, value in fields.items():
        setattr(shipment, key, value)
    db.session.commit()
    return shipment


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    r = client.get("/medication")
    assert r.status_code == 302 and r.headers["Location"] == "/login?next=/medication"


def test_staff_are_refused(client, db, auth):
    auth.as_role("ops")
    assert client.get("/medication").status_code == 403


def test_nothing_sent_yet_says_what_happens_next(client, db, auth):
    auth.as_role("patient")
    page = text_of(client.get("/medication"))
    assert "Nothing has been sent yet" in page and "tracking number" in page
    assert "Your prescription" not in page


def test_the_current_prescription_says_what_to_take(client, db, patient):
    page = text_of(client.get("/medication"))
    assert "Medication Ketamine, 100 mg tablets to dissolve under the tongue" in page
    assert "Each session 200 mg: 2 tablets" in page and "Sessions 6 in all" in page
    assert f"How to take it: {TERMS['directions']}" in page
    assert "Nothing has been sent yet" in page


def test_a_shipment_on_its_way_in_words_with_tracking_and_dates_in_the_patients_zone(client, db, patient):
    # 06:00 UTC on Thursday is still Wednesday evening in Los Angeles
    deliver_by = datetime(2026, 3, 5, 6, 0, tzinfo=UTC)
    shipped = datetime(2026, 3, 3, 17, 30, tzinfo=UTC)
    _stage(db, patient.prescription, S.SHIPPED, carrier="UPS", tracking_number="1Z999AA10123456784",
           deliver_by=deliver_by, shipped_at=shipped, delivered_at=None,
           shipping_address={"line1": "5 Oak Ave", "city": "Los Angeles", "state": "CA", "postal_code": "90001"})
    r = client.get("/medication")
    page = text_of(r)
    assert r.status_code == 200
    assert "On its way Your medication has left the pharmacy with the carrier." in page
    assert "Medication for 3 sessions (shipment 1)" in page
    assert "Expected by Wednesday, March 4" in page
    assert "Shipped Tue, Mar 3, 9:30 AM PST" in page and "UTC" not in page
    assert "Tracking number 1Z999AA10123456784" in page and "Carrier UPS" in page
    assert "Going to 5 Oak Ave, Los Angeles, CA 90001" in page
    assert "Sent to the pharmacy Done Filled Done Shipped Now Out for delivery Not yet Delivered Not yet" in page
    body = r.get_data(as_text=True)
    assert 'href="https://www.ups.com/track?tracknum=1Z999AA10123456784"' in body
    assert 'rel="noopener noreferrer"' in body and 'aria-current="step"' in body


def test_delivered_and_held_up_shipments(client, db, patient):
    _stage(db, patient.prescription, S.DELIVERED, delivered_at=datetime(2026, 3, 4, 20, 15, tzinfo=UTC),
           carrier="UPS", tracking_number="1ZA")
    _stage(db, patient.prescription, S.EXCEPTION, sessions=2)
    page = text_of(client.get("/medication"))
    assert "Delivered Tue, Mar 3" not in page
    assert "Delivered Wed, Mar 4, 12:15 PM PST" in page
    assert "Delayed Something held up this shipment. Our team is on it and will contact you" in page
    assert page.index("On its way") < page.index("Delayed") < page.index("Delivered Your medication has arrived")
    assert "Your at-home sessions" in page  # where to go once it has arrived


def test_the_history_lists_what_happened_in_order_newest_first(client, db, patient):
    shipment = _stage(db, patient.prescription, S.CREATED, delivered_at=None)
    start = now() - timedelta(days=2)
    for hours, status in ((0, S.SENT_TO_PHARMACY), (5, S.FILLED), (20, S.SHIPPED)):
        shipment.apply(status, start + timedelta(hours=hours), source="pharmacy",
                       details={"carrier": "USPS", "tracking_number": "9400"} if status is S.SHIPPED else None)
    db.session.commit()
    page = text_of(client.get("/medication"))
    history = page[page.index("What has happened so far"):]
    assert history.index("On its way") < history.index("Filled") < history.index("Sent to the pharmacy")


def test_another_patients_shipments_are_not_shown(client, db, create_user, auth):
    theirs = ready(db, create_user, stages=())
    _stage(db, theirs.prescription, S.SHIPPED, carrier="UPS", tracking_number="1ZTHEIRS")
    auth.as_role("patient")
    page = text_of(client.get("/medication"))
    assert "1ZTHEIRS" not in page and "Nothing has been sent yet" in page

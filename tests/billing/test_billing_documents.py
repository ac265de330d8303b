"""Receipts, superbills (JSON, HTML, PDF) and physician-recorded diagnoses: content, access by role and
care team, date ranges in the patient's zone, and an audit row for every read."""
from __future__ import annotations

import re
import zlib
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from telehealth.clock import today_in
from telehealth.models import (
    AuditEvent, CareAssignment, CareRole, Diagnosis, Order, OrderStatus, Product, ProductKind, Refund,
)
from telehealth.services.platform.documents import format_cents, latin1
from tests.conftest import error_of

UTC = timezone.utc
PAID_AT = datetime(2025, 3, 10, 15, 30, tzinfo=UTC)  # 11:30 EDT on March 10 in New York


# ----------------------------------------------------------------------------- helpers


@pytest.fixture
def product(db):
    p = Product(code="docs-starter", name="Starter", description="1 initial physician consult and coaching",
                kind=ProductKind.ONE_TIME, price_cents=19900, grants={"consult": 1}, refundable=True)
    db.session.add(p)
    db.session.commit()
    return p


_pi = iter(range(1, 10_000))


def make_order(db, patient, product, *, paid_at=PAID_AT, refunds=(), status=OrderStatus.PAID,
               amount_cents=19900) -> Order:
    n = next(_pi)
    order = Order(patient_id=patient.id, product_id=product.id, amount_cents=amount_cents, grants=dict(product.grants), status=status,
                  paid_at=paid_at if status is not OrderStatus.PENDING else None,
                  stripe_payment_intent_id=f"pi_test_docs_{n}", created_at=paid_at or PAID_AT)
    db.session.add(order)
    db.session.flush()
    for i, cents in enumerate(refunds):
        db.session.add(Refund(order_id=order.id, amount_cents=cents, stripe_refund_id=f"re_test_docs_{n}_{i}",
                              reason="requested_by_customer", created_at=paid_at + timedelta(days=2)))
        order.record_refund(cents)
    db.session.commit()
    return order


def assign(db, patient, staff, care_role=CareRole.PHYSICIAN):
    db.session.add(CareAssignment(patient_id=patient.id, staff_id=staff.id, care_role=care_role))
    db.session.commit()


def add_diagnosis(db, patient, physician, code, description, recorded_on) -> Diagnosis:
    d = Diagnosis(patient_id=patient.id, physician_id=physician.id, code=code, description=description,
                  recorded_on=recorded_on)
    db.session.add(d)
    db.session.commit()
    return d


def audit_rows(db, action, resource_type):
    return db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == action, AuditEvent.resource_type == resource_type).order_by(AuditEvent.id)).all()


def pdf_text(data: bytes) -> str:
    """The text drawn by every page content stream of an fpdf2 document (inflated when compressed)."""
    chunks = []
    for match in re.finditer(rb"<<((?:(?!<<).)*?)>>\s*stream\r?\n", data, re.S):
        length = int(re.findall(rb"/Length (\d+)", match.group(1))[-1])  # binary data: slice, never search
        raw = data[match.end():match.end() + length]
        if b"/FlateDecode" in match.group(1):
            raw = zlib.decompress(raw)
        chunks += [m.replace(rb"\(", b"(").replace(rb"\)", b")") for m in re.findall(rb"\((.*?)(?<!\\)\) Tj", raw)]
    return "\n".join(c.decode("latin-1") for c in chunks)


def receipt_url(order, fmt=None):
    return f"/api/v1/orders/{order.id}/receipt" + (f"?format={fmt}" if fmt else "")


def superbill_url(patient, start="2025-03-01", end="2025-03-31", fmt=None):
    return f"/api/v1/patients/{patient.id}/superbill?start={start}&end={end}" + (f"&format={fmt}" if fmt else "")


# ----------------------------------------------------------------------------- formatting


def test_format_cents_is_integer_arithmetic():
    assert format_cents(19900) == "$199.00"
    assert format_cents(14905) == "$149.05"
    assert format_cents(5) == "$0.05"
    assert format_cents(0) == "$0.00"
    assert format_cents(-5000) == "-$50.00"
    assert format_cents(123456789) == "$1,234,567.89"
    assert format_cents(10**20 + 1) == "$1,000,000,000,000,000,000.01"  # no float rounding anywhere


def test_pdf_text_is_made_latin1_safe():
    assert latin1("Zoë “Lee” – 李") == 'Zoë "Lee" - ?'


# ----------------------------------------------------------------------------- receipts


def test_patient_gets_their_receipt_as_json(client, auth, db, product):
    patient = auth.as_role("patient", legal_first_name="Alex", legal_last_name="Rivera")
    order = make_order(db, patient, product)
    r = client.get(receipt_url(order))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["number"] == f"R-{order.id:06d}"
    assert body["patient_name"] == "Alex Rivera"
    assert body["clinic_name"] == "Telehealth Ketamine Program"
    assert (body["product_name"], body["product_description"]) == ("Starter", product.description)
    assert (body["amount_cents"], body["refunded_cents"], body["net_cents"]) == (19900, 0, 19900)
    assert body["refunds"] == []
    assert body["currency"] == "USD" and body["status"] == "paid"
    assert body["payment_reference"] == order.stripe_payment_intent_id
    assert body["paid_at"] == "2025-03-10T11:30:00-04:00"  # the viewer's zone (New York, EDT)
    assert body["time_zone"] == "America/New_York"


def test_partially_refunded_receipt_shows_refunds_and_net(client, auth, db, product):
    patient = auth.as_role("patient")
    order = make_order(db, patient, product, refunds=(5000,))
    assert order.status is OrderStatus.PARTIALLY_REFUNDED
    body = client.get(receipt_url(order)).get_json()
    assert (body["amount_cents"], body["refunded_cents"], body["net_cents"]) == (19900, 5000, 14900)
    assert [x["amount_cents"] for x in body["refunds"]] == [5000]
    assert body["refunds"][0]["refunded_at"].startswith("2025-03-12T")
    assert body["status"] == "partially_refunded"

    html = client.get(receipt_url(order, "html"))
    assert html.status_code == 200 and html.mimetype == "text/html"
    text = html.get_data(as_text=True)
    for expected in ("$199.00", "-$50.00", "$149.00", "Net paid", f"R-{order.id:06d}", "March 12, 2025"):
        assert expected in text, expected

    pdf = client.get(receipt_url(order, "pdf"))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    assert pdf.headers["Content-Disposition"] == f'inline; filename="receipt-R-{order.id:06d}.pdf"'
    drawn = pdf_text(pdf.data)
    for expected in ("$199.00", "-$50.00", "$149.00", f"R-{order.id:06d}", "Starter", "March 10, 2025"):
        assert expected in drawn, (expected, drawn)


def test_receipt_html_is_printable_self_contained_and_escaped(client, auth, db, product, app):
    patient = auth.as_role("patient", legal_first_name="Jo", legal_last_name="<script>alert(1)</script>")
    order = make_order(db, patient, product)
    r = client.get(receipt_url(order, "html"))
    text = r.get_data(as_text=True)
    assert text.lstrip().lower().startswith("<!doctype html>") and text.rstrip().endswith("</html>")
    assert "@media print" in text
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.I)  # no outside fonts, scripts, trackers
    assert "<link" not in text and "@import" not in text and "<img" not in text
    assert "Telehealth Ketamine Program" in text and "$199.00" in text
    assert "no-store" in r.headers["Cache-Control"]
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]


def test_clinic_name_comes_from_config(client, auth, db, product, app, monkeypatch):
    monkeypatch.setitem(app.config, "CLINIC_NAME", "Calm Harbor Clinic")
    patient = auth.as_role("patient")
    order = make_order(db, patient, product)
    assert client.get(receipt_url(order)).get_json()["clinic_name"] == "Calm Harbor Clinic"
    assert "Calm Harbor Clinic" in pdf_text(client.get(receipt_url(order, "pdf")).data)


def test_another_patients_receipt_is_not_found(client, auth, db, product, create_user):
    other = create_user("patient")
    theirs = make_order(db, other, product)
    unpaid = make_order(db, other, product, status=OrderStatus.PENDING)
    me = auth.as_role("patient")
    for fmt in (None, "html", "pdf"):
        r = client.get(receipt_url(theirs, fmt))
        assert r.status_code == 404 and error_of(r)["code"] == "not_found"
    assert client.get(receipt_url(unpaid)).status_code == 404  # not even its state is revealed
    assert client.get("/api/v1/orders/987654/receipt").status_code == 404
    assert audit_rows(db, "read", "receipt") == []
    assert {(e.actor_id, e.patient_id) for e in audit_rows(db, "denied", "receipt")} == {(me.id, other.id)}


@pytest.mark.parametrize("role", ["physician", "coach"])
def test_care_team_cannot_read_receipts(client, auth, db, product, create_user, role):
    patient = create_user("patient")
    order = make_order(db, patient, product)
    staff = auth.as_role(role)
    assign(db, patient, staff, CareRole(role))  # even on the patient's care team
    r = client.get(receipt_url(order))
    assert r.status_code == 403 and error_of(r)["code"] == "forbidden"
    assert audit_rows(db, "read", "receipt") == []
    [denied] = audit_rows(db, "denied", "receipt")
    assert (denied.actor_id, denied.patient_id) == (staff.id, patient.id)


@pytest.mark.parametrize("role", ["ops", "admin"])
def test_ops_and_admin_may_fetch_any_receipt(client, auth, db, product, create_user, role):
    patient = create_user("patient")
    order = make_order(db, patient, product)
    staff = auth.as_role(role)
    r = client.get(receipt_url(order))
    assert r.status_code == 200 and r.get_json()["net_cents"] == 19900
    assert client.get(receipt_url(order, "pdf")).data.startswith(b"%PDF")
    reads = audit_rows(db, "read", "receipt")
    assert [(e.actor_id, e.actor_role, e.resource_id, e.patient_id) for e in reads] == \
        [(staff.id, role, str(order.id), patient.id)] * 2


def test_unpaid_order_has_no_receipt(client, auth, db, product):
    patient = auth.as_role("patient")
    order = make_order(db, patient, product, status=OrderStatus.PENDING)
    for fmt in (None, "html", "pdf"):
        r = client.get(receipt_url(order, fmt))
        assert r.status_code == 409, fmt
        assert error_of(r)["message"] == "Only paid orders have a receipt."
    failed = make_order(db, patient, product, status=OrderStatus.FAILED, paid_at=None)
    assert client.get(receipt_url(failed)).status_code == 409


def test_bad_receipt_format_is_a_field_error(client, auth, db, product):
    patient = auth.as_role("patient")
    order = make_order(db, patient, product)
    r = client.get(receipt_url(order, "docx"))
    assert r.status_code == 422 and "format" in error_of(r)["fields"]


def test_every_receipt_read_is_audited(client, auth, db, product):
    patient = auth.as_role("patient")
    order = make_order(db, patient, product)
    for fmt in (None, "json", "html", "pdf"):
        assert client.get(receipt_url(order, fmt)).status_code == 200
    reads = audit_rows(db, "read", "receipt")
    assert [(e.actor_id, e.resource_id, e.patient_id) for e in reads] == [(patient.id, str(order.id), patient.id)] * 4
    assert len({e.request_id for e in reads}) == 4


# ----------------------------------------------------------------------------- diagnoses


def _diagnosis_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Diagnosis))


def test_care_team_physician_records_a_diagnosis(client, auth, db, create_user):
    patient = create_user("patient")
    doc = auth.as_role("physician", time_zone="America/Los_Angeles")
    assign(db, patient, doc)
    r = client.post(f"/api/v1/patients/{patient.id}/diagnoses",
                    json={"code": "f33.2", "description": "Major depressive disorder, recurrent, severe"})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["code"] == "F33.2" and body["patient_id"] == patient.id and body["physician_id"] == doc.id
    assert body["description"] == "Major depressive disorder, recurrent, severe"
    assert body["recorded_on"] == today_in("America/Los_Angeles").isoformat()
    stored = db.session.get(Diagnosis, body["id"])
    assert stored.code == "F33.2" and stored.recorded_on == today_in("America/Los_Angeles")
    [event] = audit_rows(db, "create", "diagnosis")
    assert (event.actor_id, event.resource_id, event.patient_id) == (doc.id, str(stored.id), patient.id)


def test_physician_off_the_care_team_cannot_record(client, auth, db, create_user):
    patient = create_user("patient")
    assign(db, patient, create_user("physician"))  # someone else's patient
    auth.as_role("physician")
    r = client.post(f"/api/v1/patients/{patient.id}/diagnoses", json={"code": "F33.2", "description": "MDD"})
    assert r.status_code == 403 and error_of(r)["code"] == "forbidden"
    assert _diagnosis_count(db) == 0
    assert len(audit_rows(db, "denied", "patient_clinical")) == 1


@pytest.mark.parametrize("role", ["patient", "coach", "ops", "admin"])
def test_only_physicians_record_diagnoses(client, auth, db, create_user, role):
    user = auth.as_role(role)
    patient = user if role == "patient" else create_user("patient")
    r = client.post(f"/api/v1/patients/{patient.id}/diagnoses", json={"code": "F33.2", "description": "MDD"})
    assert r.status_code == 403
    assert _diagnosis_count(db) == 0


@pytest.mark.parametrize("code", ["33.2", "U07.1", "F3", "F33.", "F33.12345", "F33-2", "FF3.2", "F3C.1", "Z"])
def test_bad_codes_are_refused_and_nothing_is_stored(client, auth, db, create_user, code):
    patient = create_user("patient")
    doc = auth.as_role("physician")
    assign(db, patient, doc)
    r = client.post(f"/api/v1/patients/{patient.id}/diagnoses", json={"code": code, "description": "Something"})
    assert r.status_code == 422, (code, r.get_json())
    assert "code" in error_of(r)["fields"]
    assert _diagnosis_count(db) == 0
    assert audit_rows(db, "create", "diagnosis") == []


@pytest.mark.parametrize("code", ["F32.9", "F41.1", "F43.10", "F32.A", "f33.1", "Z00", "T74.11XA"])
def test_well_formed_codes_are_accepted(client, auth, db, create_user, code):
    patient = create_user("patient")
    doc = auth.as_role("physician")
    assign(db, patient, doc)
    r = client.post(f"/api/v1/patients/{patient.id}/diagnoses", json={"code": code, "description": "Something"})
    assert r.status_code == 201, (code, r.get_json())
    assert r.get_json()["code"] == code.upper()


def test_diagnosis_description_is_required_and_bounded(client, auth, db, create_user):
    patient = create_user("patient")
    doc = auth.as_role("physician")
    assign(db, patient, doc)
    for description in ("", "   ", "x" * 201):
        r = client.post(f"/api/v1/patients/{patient.id}/diagnoses", json={"code": "F33.2", "description": description})
        assert r.status_code == 422 and "description" in error_of(r)["fields"]
    assert _diagnosis_count(db) == 0


# ----------------------------------------------------------------------------- superbills


@pytest.fixture
def claim(db, create_user, product):
    """A New York patient with a physician on their care team, diagnoses and orders around March 2025."""
    patient = create_user("patient", legal_first_name="Alex", legal_last_name="Rivera",
                          date_of_birth=date(1984, 2, 29),
                          shipping_address={"line1": "12 Elm St", "line2": "Apt 4", "city": "Albany", "state": "NY",
                                            "postal_code": "12207"})
    doc = create_user("physician", display_name="Dr. Dana Adams")
    later_doc = create_user("physician", display_name="Dr. Late Comer")
    assign(db, patient, doc)
    add_diagnosis(db, patient, doc, "F33.2", "Major depressive disorder, recurrent, severe", date(2025, 3, 5))
    add_diagnosis(db, patient, later_doc, "F41.1", "Generalized anxiety disorder", date(2025, 4, 2))  # after end
    coaching = Product(code="docs-coaching-30", name="Coaching 30 min", description="", kind=ProductKind.ONE_TIME,
                       price_cents=7900, grants={"coaching_30": 1}, refundable=False)
    db.session.add(coaching)
    db.session.commit()
    orders = {
        # 23:59 EST on Feb 28 (04:59 UTC on March 1): one day outside, though UTC says March
        "before": make_order(db, patient, product, paid_at=datetime(2025, 3, 1, 4, 59, tzinfo=UTC)),
        "first": make_order(db, patient, product, paid_at=PAID_AT, refunds=(5000,)),
        # 23:30 EDT on March 31 (03:30 UTC on April 1): inside, though UTC says April
        "last": make_order(db, patient, coaching, paid_at=datetime(2025, 4, 1, 3, 30, tzinfo=UTC),
                           amount_cents=7900),
        # 00:30 EDT on April 1: one day outside
        "after": make_order(db, patient, product, paid_at=datetime(2025, 4, 1, 4, 30, tzinfo=UTC)),
        "refunded": make_order(db, patient, product, paid_at=datetime(2025, 3, 15, tzinfo=UTC), refunds=(19900,)),
        "unpaid": make_order(db, patient, product, status=OrderStatus.PENDING),
    }
    return patient, doc, orders


def test_superbill_lists_paid_orders_in_the_range_in_the_patients_zone(client, auth, claim, db):
    patient, doc, orders = claim
    auth.login(patient)
    r = client.get(superbill_url(patient))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert [line["order_id"] for line in body["lines"]] == [orders["first"].id, orders["last"].id]
    first, last = body["lines"]
    assert first == {"order_id": orders["first"].id, "receipt_number": f"R-{orders['first'].id:06d}",
                     "service_date": "2025-03-10", "description": "Starter", "charged_cents": 19900,
                     "refunded_cents": 5000, "net_cents": 14900}
    assert (last["service_date"], last["description"], last["net_cents"]) == ("2025-03-31", "Coaching 30 min", 7900)
    assert (body["total_charged_cents"], body["total_refunded_cents"], body["total_net_cents"]) == (27800, 5000, 22800)
    assert (body["start"], body["end"], body["currency"]) == ("2025-03-01", "2025-03-31", "USD")
    assert body["patient"] == {"id": patient.id, "name": "Alex Rivera", "date_of_birth": "1984-02-29",
                               "address": {"line1": "12 Elm St", "line2": "Apt 4", "city": "Albany", "state": "NY",
                                           "postal_code": "12207"}}
    assert body["provider"] == {"name": "Dr. Dana Adams", "npi": doc.physician_profile.npi}
    assert body["notice"] is None
    assert body["diagnoses"] == [{"code": "F33.2", "description": "Major depressive disorder, recurrent, severe",
                                  "recorded_on": "2025-03-05"}]

    # One day wider on each side takes in the neighbours (and a diagnosis recorded by then).
    body = client.get(superbill_url(patient, "2025-02-28", "2025-04-02")).get_json()
    assert [line["order_id"] for line in body["lines"]] == \
        [orders["before"].id, orders["first"].id, orders["last"].id, orders["after"].id]
    assert body["provider"]["name"] == "Dr. Late Comer"  # the most recent diagnosis on or before the end
    assert [d["code"] for d in body["diagnoses"]] == ["F41.1", "F33.2"]


def test_superbill_html_and_pdf(client, auth, claim, db):
    patient, doc, orders = claim
    auth.login(patient)
    r = client.get(superbill_url(patient, fmt="html"))
    assert r.status_code == 200 and r.mimetype == "text/html"
    text = r.get_data(as_text=True)
    for expected in ("Alex Rivera", "February 29, 1984", "12 Elm St", "Albany, NY 12207", "Dr. Dana Adams",
                     doc.physician_profile.npi, "F33.2", "Major depressive disorder, recurrent, severe",
                     "$199.00", "-$50.00", "$149.00", "$79.00", "$228.00", "March 10, 2025", "March 31, 2025",
                     "@media print"):
        assert expected in text, expected
    assert "F41.1" not in text and "Dr. Late Comer" not in text
    assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.I)

    r = client.get(superbill_url(patient, fmt="pdf"))
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")
    assert r.headers["Content-Disposition"].startswith("inline; filename=\"superbill-2025-03-01-to-2025-03-31.pdf")
    drawn = pdf_text(r.data)
    for expected in ("Alex Rivera", "Dr. Dana Adams", doc.physician_profile.npi, "F33.2", "$149.00", "$79.00",
                     "$228.00", "2025-03-10", "2025-03-31"):
        assert expected in drawn, (expected, drawn)
    assert "F41.1" not in drawn


def test_superbill_without_a_diagnosis_says_so(client, auth, db, product):
    patient = auth.as_role("patient")
    make_order(db, patient, product)
    body = client.get(superbill_url(patient)).get_json()
    assert body["provider"] is None and body["diagnoses"] == []
    assert body["notice"] == "A physician has not yet recorded a diagnosis."
    assert [line["net_cents"] for line in body["lines"]] == [19900]
    assert "A physician has not yet recorded a diagnosis." in client.get(superbill_url(patient, fmt="html")).get_data(
        as_text=True)
    assert "A physician has not yet recorded a diagnosis." in pdf_text(client.get(superbill_url(patient, fmt="pdf")).data)


def test_care_team_physician_gets_the_superbill(client, auth, claim, db):
    patient, doc, orders = claim
    auth.login(doc)
    r = client.get(superbill_url(patient))
    assert r.status_code == 200 and r.get_json()["total_net_cents"] == 22800
    assert client.get(superbill_url(patient, fmt="pdf")).data.startswith(b"%PDF")


@pytest.mark.parametrize("role", ["ops", "admin", "coach", "physician"])
def test_superbill_refused_to_everyone_else(client, auth, claim, db, role):
    patient, _, _ = claim
    staff = auth.as_role(role)
    if role == "coach":
        assign(db, patient, staff, CareRole.COACH)  # a coach on the team still sees no diagnoses
    for fmt in (None, "html", "pdf"):
        r = client.get(superbill_url(patient, fmt=fmt))
        assert r.status_code == 403 and error_of(r)["code"] == "forbidden", (role, fmt)
    assert audit_rows(db, "read", "superbill") == []
    assert len(audit_rows(db, "denied", "patient_clinical")) == 3


def test_another_patients_superbill_is_not_found(client, auth, claim, db):
    patient, _, _ = claim
    auth.as_role("patient")
    r = client.get(superbill_url(patient))
    assert r.status_code == 404 and error_of(r)["code"] == "not_found"
    assert audit_rows(db, "read", "superbill") == []


@pytest.mark.parametrize(("start", "end", "field"), [
    ("2025-03-31", "2025-03-01", "end"),
    ("2025-01-01", "2026-01-02", "end"),        # 367 days
    ("1999-12-31", "2000-01-05", "start"),
    ("2025-02-30", "2025-03-31", "start"),
    ("yesterday", "2025-03-31", "start"),
])
def test_superbill_date_range_is_checked(client, auth, claim, db, start, end, field):
    patient, _, _ = claim
    auth.login(patient)
    r = client.get(superbill_url(patient, start, end))
    assert r.status_code == 422, r.get_json()
    assert field in error_of(r)["fields"]
    assert audit_rows(db, "read", "superbill") == []


def test_superbill_needs_both_dates_and_allows_a_leap_year(client, auth, claim, db):
    patient, _, _ = claim
    auth.login(patient)
    r = client.get(f"/api/v1/patients/{patient.id}/superbill?start=2025-03-01")
    assert r.status_code == 422 and "end" in error_of(r)["fields"]
    assert client.get(superbill_url(patient, "2024-01-01", "2024-12-31")).status_code == 200  # 366 days


def test_every_superbill_read_is_audited(client, auth, claim, db):
    patient, doc, _ = claim
    auth.login(patient)
    for fmt in (None, "html", "pdf"):
        assert client.get(superbill_url(patient, fmt=fmt)).status_code == 200
    auth.login(doc)
    assert client.get(superbill_url(patient)).status_code == 200
    reads = audit_rows(db, "read", "superbill")
    assert [(e.actor_id, e.resource_id, e.patient_id) for e in reads] == \
        [(patient.id, str(patient.id), patient.id)] * 3 + [(doc.id, str(patient.id), patient.id)]


def test_documents_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "post" in paths["/api/v1/patients/{patient_id}/diagnoses"]
    receipt = paths["/api/v1/orders/{order_id}/receipt"]["get"]
    assert {p["name"] for p in receipt["parameters"]} == {"order_id", "format"}
    superbill = paths["/api/v1/patients/{patient_id}/superbill"]["get"]
    assert {p["name"] for p in superbill["parameters"]} == {"patient_id", "start", "end", "format"}

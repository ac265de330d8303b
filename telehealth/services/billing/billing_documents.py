"""Billing documents for HSA/FSA reimbursement and out-of-network claims: receipts of paid orders,
superbills over a date range, and the diagnosis codes physicians record for them.

A receipt is billing data: the patient it belongs to, ops and admin may read it; the care team may
not (they have no need). A superbill carries diagnoses, so it is clinical: the patient themself
and the physicians on their care team, never ops, admin or coaches. Every read is audited.

Money is integer cents throughout and is formatted by `format_cents` alone; dates on the documents
are in the patient's time zone. HTML comes from the Jinja templates under `templates/billing/`
(autoescaped), PDF from fpdf2 through the printing helpers of `services/platform/documents.py`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from flask import render_template
from sqlalchemy import select

from telehealth.clock import day_bounds, local_day, today_in
from telehealth.errors import Conflict, Forbidden, NotFound, ValidationFailed
from telehealth.extensions import db
from telehealth.models.accounts.accounts import Role, User
from telehealth.models.billing.billing import Diagnosis, Order, OrderStatus
from telehealth.services.platform import audit
from telehealth.services.platform.authz import Scope, authorize_patient, deny, require_role
from telehealth.services.accounts.care_team import get_patient
from telehealth.services.platform.documents import (
    address_lines, clinic_name, format_cents, format_date, format_moment, legal_name, local_date, new_pdf, npi_of,
    pdf_heading, pdf_line, pdf_pairs, pdf_row, pdf_wrapped,
)

ICD10_CM = re.compile(r"^[A-TV-Z][0-9][0-9AB](\.[0-9A-TV-Z]{1,4})?$")
MAX_SUPERBILL_DAYS = 366  # inclusive: a leap year fits, one day more does not
# Bounds for superbill dates: no claim reaches outside them, and the day arithmetic stays in range.
EARLIEST_DATE, LATEST_DATE = date(2000, 1, 1), date(2100, 12, 31)
NO_DIAGNOSIS_NOTICE = "A physician has not yet recorded a diagnosis."
RECEIPT_ROLES = (Role.PATIENT, Role.OPS, Role.ADMIN)
_PAID_STATUSES = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED)


# ----------------------------------------------------------------------------- documents


@dataclass(frozen=True)
class ReceiptRefund:
    amount_cents: int
    refunded_at: datetime


@dataclass(frozen=True)
class Receipt:
    number: str                 # R-000123
    order_id: int
    clinic_name: str
    patient_id: int
    patient_name: str           # legal name
    product_name: str
    product_description: str
    status: str                 # paid, partially_refunded, refunded
    amount_cents: int           # what was paid
    refunds: tuple[ReceiptRefund, ...]
    refunded_cents: int
    net_cents: int              # paid net of refunds
    currency: str               # ISO 4217, upper case
    paid_at: datetime           # aware UTC
    payment_reference: str | None  # the Stripe PaymentIntent or Invoice id
    time_zone: str              # the patient's: dates on the document are shown in it


@dataclass(frozen=True)
class SuperbillPatient:
    id: int
    name: str
    date_of_birth: date
    address: dict


@dataclass(frozen=True)
class SuperbillProvider:
    name: str
    npi: str


@dataclass(frozen=True)
class SuperbillDiagnosis:
    code: str
    description: str
    recorded_on: date


@dataclass(frozen=True)
class SuperbillLine:
    order_id: int
    receipt_number: str
    service_date: date          # the payment's day, in the patient's zone
    description: str            # the product's name
    charged_cents: int
    refunded_cents: int
    net_cents: int


@dataclass(frozen=True)
class Superbill:
    clinic_name: str
    patient: SuperbillPatient
    provider: SuperbillProvider | None  # None until a physician records a diagnosis
    notice: str | None                  # why the provider is missing
    diagnoses: tuple[SuperbillDiagnosis, ...]  # most recent first, one per code
    lines: tuple[SuperbillLine, ...]
    start: date
    end: date
    issued_on: date
    currency: str
    total_charged_cents: int
    total_refunded_cents: int
    total_net_cents: int
    time_zone: str


# ----------------------------------------------------------------------------- diagnoses


def normalize_icd10(code: str) -> str:
    """`code` upper-cased if it looks like an ICD-10-CM code; ValidationFailed (field `code`) if not."""
    value = (code or "").strip().upper()
    if not ICD10_CM.match(value):
        raise ValidationFailed("Some fields are missing or invalid.", fields={
            "code": ["Use an ICD-10-CM code, such as F33.2."]})
    return value


def record_diagnosis(physician: User, patient_id: int, code: str, description: str) -> Diagnosis:
    """A physician on the patient's care team records a diagnosis code (used on superbills)."""
    require_role(physician, (Role.PHYSICIAN,))
    authorize_patient(physician, patient_id, Scope.CLINICAL)
    clean_code = normalize_icd10(code)
    clean_description = (description or "").strip()
    if not 1 <= len(clean_description) <= 200:
        raise ValidationFailed("Some fields are missing or invalid.", fields={
            "description": ["Describe the diagnosis in 1 to 200 characters."]})
    diagnosis = Diagnosis(patient_id=patient_id, physician_id=physician.id, code=clean_code,
                          description=clean_description, recorded_on=today_in(physician.time_zone))
    db.session.add(diagnosis)
    db.session.flush()
    audit.record(physician, "create", "diagnosis", diagnosis.id, patient_id=patient_id)
    db.session.commit()
    return diagnosis


# ----------------------------------------------------------------------------- receipts


def receipt_number(order_id: int) -> str:
    return f"R-{order_id:06d}"


def receipt(actor: User, order_id: int) -> Receipt:
    """The receipt of a paid order: the patient's own, or any for ops and admin. Audited."""
    require_role(actor, None)
    order = db.session.get(Order, order_id)
    try:
        require_role(actor, RECEIPT_ROLES)  # billing is not the care team's business
    except Forbidden:
        audit.record(actor, "denied", "receipt", order_id, patient_id=order.patient_id if order else None)
        db.session.commit()  # a refusal is kept like any other
        raise
    if order is None:
        raise NotFound("No such order.")
    if actor.role is Role.PATIENT and order.patient_id != actor.id:
        deny(actor, "receipt", order_id, patient_id=order.patient_id, message="This is not your order.",
             not_found="No such order.")
    if order.paid_at is None or order.status not in _PAID_STATUSES:
        raise Conflict("Only paid orders have a receipt.")
    patient = db.session.get(User, order.patient_id)
    refunds = tuple(ReceiptRefund(amount_cents=r.amount_cents, refunded_at=r.created_at) for r in order.refunds)
    result = Receipt(
        number=receipt_number(order.id), order_id=order.id, clinic_name=clinic_name(), patient_id=patient.id,
        patient_name=legal_name(patient), product_name=order.product.name,
        product_description=order.product.description or "", status=order.status.value,
        amount_cents=order.amount_cents, refunds=refunds, refunded_cents=order.refunded_cents,
        net_cents=order.amount_cents - order.refunded_cents, currency=order.currency.upper(),
        paid_at=order.paid_at, payment_reference=order.stripe_payment_intent_id or order.stripe_invoice_id,
        time_zone=patient.time_zone,
    )
    audit.record(actor, "read", "receipt", order.id, patient_id=order.patient_id)
    db.session.commit()
    return result


# ----------------------------------------------------------------------------- superbills


def _check_range(start: date, end: date) -> None:
    fields: dict[str, list[str]] = {}
    for name, value in (("start", start), ("end", end)):
        if not EARLIEST_DATE <= value <= LATEST_DATE:
            fields[name] = [f"Choose a date between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}."]
    if not fields:
        if start > end:
            fields["end"] = ["The end date must be on or after the start date."]
        elif (end - start).days + 1 > MAX_SUPERBILL_DAYS:
            fields["end"] = [f"A superbill covers at most {MAX_SUPERBILL_DAYS} days."]
    if fields:
        raise ValidationFailed("Some query parameters are invalid.", fields=fields)


def superbill(actor: User, patient_id: int, start: date, end: date) -> Superbill:
    """The patient's superbill for [start, end] (inclusive, in their zone): the patient and the
    physicians on their care team only, since it names diagnoses. Audited."""
    authorize_patient(actor, patient_id, Scope.CLINICAL)
    _check_range(start, end)
    patient = get_patient(patient_id, require_profile=True)
    zone = patient.time_zone
    profile = patient.patient_profile

    rows = list(db.session.scalars(select(Diagnosis).where(
        Diagnosis.patient_id == patient_id, Diagnosis.recorded_on <= end,
    ).order_by(Diagnosis.recorded_on.desc(), Diagnosis.id.desc())))
    diagnoses: dict[str, SuperbillDiagnosis] = {}
    for row in rows:  # newest first: the latest wording of each code wins
        diagnoses.setdefault(row.code, SuperbillDiagnosis(row.code, row.description, row.recorded_on))
    provider = None
    if rows:
        physician = db.session.get(User, rows[0].physician_id)
        provider = SuperbillProvider(name=physician.display_name, npi=npi_of(physician))

    since, until = day_bounds(start, end, zone)
    orders = db.session.scalars(select(Order).where(
        Order.patient_id == patient_id, Order.paid_at.is_not(None), Order.status.in_(_PAID_STATUSES),
        Order.paid_at >= since, Order.paid_at < until,
    ).order_by(Order.paid_at, Order.id))
    lines = tuple(
        SuperbillLine(order_id=o.id, receipt_number=receipt_number(o.id),
                      service_date=local_day(o.paid_at, zone), description=o.product.name,
                      charged_cents=o.amount_cents, refunded_cents=o.refunded_cents,
                      net_cents=o.amount_cents - o.refunded_cents)
        for o in orders
        if o.amount_cents > o.refunded_cents  # a fully refunded order was not paid for: nothing to claim
    )
    result = Superbill(
        clinic_name=clinic_name(),
        patient=SuperbillPatient(id=patient.id, name=legal_name(patient), date_of_birth=profile.date_of_birth,
                                 address=dict(profile.shipping_address or {})),
        provider=provider, notice=None if provider else NO_DIAGNOSIS_NOTICE,
        diagnoses=tuple(diagnoses.values()), lines=lines, start=start, end=end, issued_on=today_in(zone),
        currency="USD", total_charged_cents=sum(line.charged_cents for line in lines),
        total_refunded_cents=sum(line.refunded_cents for line in lines),
        total_net_cents=sum(line.net_cents for line in lines), time_zone=zone,
    )
    audit.record(actor, "read", "superbill", patient_id, patient_id=patient_id)
    db.session.commit()
    return result


# ----------------------------------------------------------------------------- HTML


def _helpers(zone: str) -> dict:
    return {"money": format_cents, "day": format_date, "moment": lambda m: format_moment(m, zone),
            "local_date": lambda m: local_date(m, zone), "address_lines": address_lines}


def receipt_html(r: Receipt) -> str:
    return render_template("billing/receipt.html", r=r, **_helpers(r.time_zone))


def superbill_html(s: Superbill) -> str:
    return render_template("billing/superbill.html", s=s, **_helpers(s.time_zone))


# ----------------------------------------------------------------------------- PDF


def receipt_pdf(r: Receipt) -> bytes:
    pdf = new_pdf(f"Receipt {r.number}", r.clinic_name)
    pdf.set_font("Helvetica", "", 10)
    pdf_pairs(pdf, [("Receipt number", r.number), ("Billed to", r.patient_name),
                    ("Date paid", format_moment(r.paid_at, r.time_zone)),
                    ("Payment reference", r.payment_reference or "-"), ("Currency", r.currency)])
    pdf_heading(pdf, "Details")
    width = pdf.epw
    pdf_row(pdf, [("Description", width - 40, "L"), ("Amount", 40, "R")], bold=True, border="B")
    pdf_row(pdf, [(r.product_name, width - 40, "L"), (format_cents(r.amount_cents), 40, "R")])
    if r.product_description:
        pdf.set_font("Helvetica", "", 9)
        pdf_wrapped(pdf, r.product_description, width - 40)
        pdf.set_font("Helvetica", "", 10)
    for refund in r.refunds:
        pdf_row(pdf, [(f"Refund on {local_date(refund.refunded_at, r.time_zone)}", width - 40, "L"),
                      (format_cents(-refund.amount_cents), 40, "R")])
    pdf_row(pdf, [("Amount paid", width - 40, "L"), (format_cents(r.amount_cents), 40, "R")], border="T")
    if r.refunded_cents:
        pdf_row(pdf, [("Refunded", width - 40, "L"), (format_cents(-r.refunded_cents), 40, "R")])
    pdf_row(pdf, [("Net paid", width - 40, "L"), (format_cents(r.net_cents), 40, "R")], bold=True)
    pdf.ln(6)
    pdf.set_font("Helvetica", "", 9)
    pdf_line(pdf, "Keep this receipt for your records and for HSA/FSA reimbursement. "
                  "For an out-of-network claim, ask for a superbill.", height=5)
    return bytes(pdf.output())


def superbill_pdf(s: Superbill) -> bytes:
    pdf = new_pdf(f"Superbill, {format_date(s.start)} to {format_date(s.end)}", s.clinic_name)
    pdf.set_font("Helvetica", "", 10)
    pdf_pairs(pdf, [("Statement period", f"{format_date(s.start)} to {format_date(s.end)}"),
                    ("Issued on", format_date(s.issued_on))])
    pdf_heading(pdf, "Patient")
    pdf_pairs(pdf, [("Name", s.patient.name), ("Date of birth", format_date(s.patient.date_of_birth)),
                    ("Address", "\n".join(address_lines(s.patient.address)) or "-")])
    pdf_heading(pdf, "Provider")
    if s.provider is not None:
        pdf_pairs(pdf, [("Physician", s.provider.name), ("NPI", s.provider.npi)])
    else:
        pdf_line(pdf, s.notice or NO_DIAGNOSIS_NOTICE)
    pdf_heading(pdf, "Diagnoses (ICD-10-CM)")
    if s.diagnoses:
        for d in s.diagnoses:
            pdf_pairs(pdf, [(d.code, d.description)])
    else:
        pdf_line(pdf, "None recorded.")
    pdf_heading(pdf, "Services")
    width = pdf.epw
    cols = (28, width - 28 - 3 * 27, 27, 27, 27)
    pdf_row(pdf, [("Date", cols[0], "L"), ("Description", cols[1], "L"), ("Charged", cols[2], "R"),
                  ("Refunded", cols[3], "R"), ("Paid", cols[4], "R")], bold=True, border="B")
    if not s.lines:
        pdf_line(pdf, "No paid services in this period.")
    for line in s.lines:
        pdf_row(pdf, [(line.service_date.isoformat(), cols[0], "L"), (line.description, cols[1], "L"),
                      (format_cents(line.charged_cents), cols[2], "R"),
                      (format_cents(-line.refunded_cents) if line.refunded_cents else "-", cols[3], "R"),
                      (format_cents(line.net_cents), cols[4], "R")])
    pdf_row(pdf, [("Total", cols[0] + cols[1], "L"), (format_cents(s.total_charged_cents), cols[2], "R"),
                  (format_cents(-s.total_refunded_cents) if s.total_refunded_cents else "-", cols[3], "R"),
                  (format_cents(s.total_net_cents), cols[4], "R")], bold=True, border="T")
    pdf.ln(6)
    pdf.set_font("Helvetica", "", 9)
    pdf_line(pdf, f"Amounts are in {s.currency}, net of refunds. Services were provided by telehealth. "
                  "Submit this superbill to your insurer or HSA/FSA administrator with your receipts.", height=5)
    return bytes(pdf.output())

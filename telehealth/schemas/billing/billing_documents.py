"""Request and response bodies for receipts, superbills and physician-recorded diagnoses."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import StringConstraints

from telehealth.api import Schema, Timestamp
from telehealth.schemas.common import Address, Text200

DocumentFormat = Literal["json", "html", "pdf"]

# ------------------------------------------------------------------ input


class DiagnosisIn(Schema):
    # The ICD-10-CM shape (e.g. F33.2) is checked by the service, which upper-cases it.
    code: Annotated[str, StringConstraints(min_length=1, max_length=10)]
    description: Text200


class ReceiptQuery(Schema):
    format: DocumentFormat = "json"


class SuperbillQuery(Schema):
    start: date
    end: date
    format: DocumentFormat = "json"


# ------------------------------------------------------------------ output


class DiagnosisOut(Schema):
    id: int
    patient_id: int
    physician_id: int
    code: str
    description: str
    recorded_on: date
    created_at: Timestamp


class RefundLineOut(Schema):
    amount_cents: int
    refunded_at: Timestamp


class ReceiptOut(Schema):
    number: str
    order_id: int
    clinic_name: str
    patient_id: int
    patient_name: str
    product_name: str
    product_description: str
    status: str
    amount_cents: int
    refunds: list[RefundLineOut]
    refunded_cents: int
    net_cents: int
    currency: str
    paid_at: Timestamp
    payment_reference: str | None
    time_zone: str


class SuperbillPatientOut(Schema):
    id: int
    name: str
    date_of_birth: date
    address: Address


class SuperbillProviderOut(Schema):
    name: str
    npi: str


class SuperbillDiagnosisOut(Schema):
    code: str
    description: str
    recorded_on: date


class SuperbillLineOut(Schema):
    order_id: int
    receipt_number: str
    service_date: date
    description: str
    charged_cents: int
    refunded_cents: int
    net_cents: int


class SuperbillOut(Schema):
    clinic_name: str
    patient: SuperbillPatientOut
    provider: SuperbillProviderOut | None
    notice: str | None
    diagnoses: list[SuperbillDiagnosisOut]
    lines: list[SuperbillLineOut]
    start: date
    end: date
    issued_on: date
    currency: str
    total_charged_cents: int
    total_refunded_cents: int
    total_net_cents: int
    time_zone: str


# ------------------------------------------------------------------ presenters


def diagnosis_out(d) -> DiagnosisOut:
    return DiagnosisOut(id=d.id, patient_id=d.patient_id, physician_id=d.physician_id, code=d.code,
                        description=d.description, recorded_on=d.recorded_on, created_at=d.created_at)


def receipt_out(r) -> ReceiptOut:
    return ReceiptOut(
        number=r.number, order_id=r.order_id, clinic_name=r.clinic_name, patient_id=r.patient_id,
        patient_name=r.patient_name, product_name=r.product_name, product_description=r.product_description,
        status=r.status, amount_cents=r.amount_cents,
        refunds=[RefundLineOut(amount_cents=x.amount_cents, refunded_at=x.refunded_at) for x in r.refunds],
        refunded_cents=r.refunded_cents, net_cents=r.net_cents, currency=r.currency, paid_at=r.paid_at,
        payment_reference=r.payment_reference, time_zone=r.time_zone,
    )


def superbill_out(s) -> SuperbillOut:
    p = s.patient
    return SuperbillOut(
        clinic_name=s.clinic_name,
        patient=SuperbillPatientOut(id=p.id, name=p.name, date_of_birth=p.date_of_birth, address=p.address),
        provider=SuperbillProviderOut(name=s.provider.name, npi=s.provider.npi) if s.provider else None,
        notice=s.notice,
        diagnoses=[SuperbillDiagnosisOut(code=d.code, description=d.description, recorded_on=d.recorded_on)
                   for d in s.diagnoses],
        lines=[SuperbillLineOut(order_id=x.order_id, receipt_number=x.receipt_number, service_date=x.service_date,
                                description=x.description, charged_cents=x.charged_cents,
                                refunded_cents=x.refunded_cents, net_cents=x.net_cents) for x in s.lines],
        start=s.start, end=s.end, issued_on=s.issued_on, currency=s.currency,
        total_charged_cents=s.total_charged_cents, total_refunded_cents=s.total_refunded_cents,
        total_net_cents=s.total_net_cents, time_zone=s.time_zone,
    )

"""Receipts and superbills (JSON, printable HTML or PDF) and the diagnoses physicians record for them."""
from flask import Blueprint
from flask_login import current_user

from telehealth.api import endpoint
from telehealth.models.accounts.accounts import Role
from telehealth.routes.documents import HTML, PDF, html_response, pdf_response
from telehealth.schemas.billing.billing_documents import (
    DiagnosisIn, DiagnosisOut, ReceiptOut, ReceiptQuery, SuperbillOut, SuperbillQuery, diagnosis_out, receipt_out,
    superbill_out,
)
from telehealth.services.billing import billing_documents as documents

bp = Blueprint("billing_documents", __name__, url_prefix="/api/v1")


@bp.post("/patients/<int:patient_id>/diagnoses")
@endpoint("Record a diagnosis code (ICD-10-CM) for a patient in your care", tags=["billing"],
          auth=(Role.PHYSICIAN,), body=DiagnosisIn, response=DiagnosisOut, status=201)
def record_diagnosis(patient_id: int, body: DiagnosisIn):
    """Only a physician on the patient's care team; the code appears on the patient's superbills."""
    return diagnosis_out(documents.record_diagnosis(current_user, patient_id, body.code, body.description))


@bp.get("/orders/<int:order_id>/receipt")
@endpoint("The receipt of a paid order (JSON, or `format=html|pdf` for a printable document)", tags=["billing"],
          query=ReceiptQuery, response=ReceiptOut, errors=(403, 409), alternatives=(HTML, PDF))
def get_receipt(order_id: int, query: ReceiptQuery):
    """The patient's own receipts; ops and admin any. `format=html` answers text/html and `format=pdf`
    application/pdf instead of JSON."""
    receipt = documents.receipt(current_user, order_id)
    if query.format == "html":
        return html_response(documents.receipt_html(receipt))
    if query.format == "pdf":
        return pdf_response(documents.receipt_pdf(receipt), f"receipt-{receipt.number}.pdf")
    return receipt_out(receipt)


@bp.get("/patients/<int:patient_id>/superbill")
@endpoint("A superbill for HSA/FSA or out-of-network claims over a date range (at most 366 days)",
          tags=["billing"], query=SuperbillQuery, response=SuperbillOut, errors=(403,), alternatives=(HTML, PDF))
def get_superbill(patient_id: int, query: SuperbillQuery):
    """The patient themself or a physician on their care team (it names diagnoses). Dates are inclusive,
    in the patient's time zone. `format=html` answers text/html and `format=pdf` application/pdf."""
    superbill = documents.superbill(current_user, patient_id, query.start, query.end)
    if query.format == "html":
        return html_response(documents.superbill_html(superbill))
    if query.format == "pdf":
        return pdf_response(documents.superbill_pdf(superbill),
                    f"superbill-{query.start.isoformat()}-to-{query.end.isoformat()}.pdf")
    return superbill_out(superbill)

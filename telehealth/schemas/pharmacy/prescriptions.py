"""Request and response bodies for prescriptions."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from telehealth.api import Schema, Timestamp
from telehealth.schemas.common import text


class PrescriptionIn(Schema):
    medication: Literal["ketamine"] = "ketamine"
    form: Literal["sublingual_tablet", "troche"]
    strength_mg: int = Field(gt=0, le=1000)
    dose_per_session_mg: int = Field(gt=0, le=1000)
    sessions: int = Field(gt=0, le=24)
    refills: int = Field(ge=0, le=5, description="At most 5, within 6 months (Schedule III)")
    directions: text(2000, min_length=5)
    diagnosis_code: Annotated[str, StringConstraints(min_length=3, max_length=10)]


# The second factor at signing: a 6-digit code from the authenticator app, or a recovery code.
SecondFactorCode = Annotated[str, StringConstraints(max_length=20), Field(
    description="A fresh 6-digit code from the signer's authenticator app, or one of their recovery codes "
                "(required to sign or supersede: a controlled substance)")]


class SignPrescriptionIn(PrescriptionIn):
    """The terms, and the signer's second factor (not a term of the prescription)."""
    second_factor_code: SecondFactorCode | None = None

    def terms(self) -> dict:
        return self.model_dump(exclude={"second_factor_code"})


class PrescriptionOut(Schema):
    id: int
    patient_id: int
    physician_id: int
    version: int
    supersedes_id: int | None
    status: str
    medication: str
    form: str
    strength_mg: int
    dose_per_session_mg: int
    sessions: int
    refills: int
    refills_until: date
    directions: str
    diagnosis_code: str
    signed_at: Timestamp
    encounter_appointment_id: int
    license_state: str
    license_number: str
    dea_number: str


class PrescriptionListOut(Schema):
    items: list[PrescriptionOut]


def prescription_out(p) -> PrescriptionOut:
    return PrescriptionOut(
        id=p.id, patient_id=p.patient_id, physician_id=p.physician_id, version=p.version,
        supersedes_id=p.supersedes_id, status=p.status.value, medication=p.medication, form=p.form.value,
        strength_mg=p.strength_mg, dose_per_session_mg=p.dose_per_session_mg, sessions=p.sessions, refills=p.refills,
        refills_until=p.refills_until, directions=p.directions, diagnosis_code=p.diagnosis_code, signed_at=p.signed_at,
        encounter_appointment_id=p.encounter_appointment_id, license_state=p.license_state,
        license_number=p.license_number, dea_number=p.dea_number)

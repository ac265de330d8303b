"""The app keeps the contract its OpenAPI document states, checked by schemathesis: every
operation, called with generated valid and invalid input as a patient and as a physician, answers
no 5xx, only documented statuses, documented media types and bodies that fit their schemas.

Bounded to stay quick: a fixed seed, a few derandomized examples per operation, no shrinking, no
coverage phase. Outside systems are the suite's local servers (localstripe, the local Twilio and
pharmacy), so a generated purchase or text reaches nothing real; every request runs in the test's
rolled-back transaction.
"""
from __future__ import annotations

import contextvars

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_schema_conformance, status_code_conformance,
)

from telehealth import create_app
from telehealth.api import build_openapi
from telehealth.models import CareAssignment, CareRole

SEED = 20261203
MAX_EXAMPLES = 4
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

CONFIG = {
    "seed": SEED,
    "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True, "no-shrink": True},
    "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
}


def _document() -> dict:
    """The app's document, from an app built only to describe itself (a schema is needed at
    collection time, before the session's app and its local servers exist; the document depends
    on neither)."""
    describer = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with describer.test_request_context():
        document = build_openapi(describer)
    document["servers"] = [{"url": "/"}]
    return document


schema = schemathesis.openapi.from_dict(_document(), config=SchemathesisConfig.from_dict(CONFIG))


class Caller:
    """A logged-in user, and the patient whose record they may see (a patient's own; a physician's
    patient in their care), put in generated `patient_id`s so the record's real paths run (PDF,
    HTML, FHIR, SVG, calendars) and not only the 404s of random ids."""

    def __init__(self, app, auth, create_user, db, role: str):
        self.app = app
        user = auth.as_role(role)
        if role == "patient":
            self.patient_id = user.id
        else:
            patient = create_user("patient")
            db.session.add(CareAssignment(patient_id=patient.id, staff_id=user.id, care_role=CareRole.PHYSICIAN))
            db.session.commit()
            self.patient_id = patient.id
        cookie = auth._client.get_cookie(app.config["SESSION_COOKIE_NAME"])
        self.cookies = {cookie.key: cookie.value}

    def call_and_check(self, case) -> None:
        if isinstance(case.path_parameters, dict) and isinstance(case.path_parameters.get("patient_id"), int):
            case.path_parameters["patient_id"] = self.patient_id
        # A fresh context per request, as in production: the test holds an app context whose `g`
        # (and Flask-Login's cached user) must not leak into the request.
        response = contextvars.Context().run(case.call, app=self.app, cookies=self.cookies)
        case.validate_response(response, checks=CHECKS)


@pytest.fixture
def as_patient(app, auth, create_user, db):
    return Caller(app, auth, create_user, db, "patient")


@pytest.fixture
def as_physician(app, auth, create_user, db):
    return Caller(app, auth, create_user, db, "physician")


BOUNDED = settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
                   suppress_health_check=list(HealthCheck))


@schema.parametrize()
@BOUNDED
def test_every_operation_keeps_the_contract_for_a_patient(case, as_patient):
    as_patient.call_and_check(case)


@schema.parametrize()
@BOUNDED
def test_every_operation_keeps_the_contract_for_a_physician(case, as_physician):
    as_physician.call_and_check(case)

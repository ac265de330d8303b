"""The portal's texts page: the exact words of the SMS consent, agree, and withdraw in one step.

The same service as /api/v1/me/sms-consent (services/messaging/sms_consent.py): the words shown are the
words the service records with the time and version when the patient agrees.
"""
from flask import Blueprint, render_template, request
from flask_login import current_user

from telehealth.errors import ServiceError
from telehealth.models.accounts.accounts import Role
from telehealth.pages import done, form_body, page, refusal
from telehealth.schemas.messaging.messaging import SmsConsentIn
from telehealth.services.messaging import sms_consent

bp = Blueprint("messaging_pages", __name__)
PATIENT = (Role.PATIENT,)


@bp.get("/texts")
@page(roles=PATIENT)
def texts():
    return render_template("messaging/texts.html", consent=sms_consent.state(current_user), errors=None)


@bp.post("/texts")
@page(roles=PATIENT)
def agree():
    try:
        # a ticked box sends "true": the API's `agree: true`; anything else is refused by the schema
        form_body(SmsConsentIn, extra={"agree": True} if request.form.get("agree") == "true" else None)
        sms_consent.agree(current_user)
    except ServiceError as exc:
        errors = refusal(exc)
        if exc.code == "validation_error":
            errors["fields"] = {"agree": ["To get texts, tick the box to say you agree to the words above."]}
        return render_template("messaging/texts.html", consent=sms_consent.state(current_user),
                               errors=errors), exc.status
    return done("You are signed up for texts. We have sent a text to confirm.", "messaging_pages.texts")


@bp.post("/texts/withdraw")
@page(roles=PATIENT)
def withdraw():
    sms_consent.withdraw(current_user)
    return done("Texts are off. We will not text you about appointments, shipments or check-ins.",
                "messaging_pages.texts")

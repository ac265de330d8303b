"""Text messages: my SMS consent, the outbox as ops read it, and Twilio's inbound webhook."""
from flask import Blueprint, Response, request
from flask_login import current_user
from twilio.twiml.messaging_response import MessagingResponse

from telehealth.api import PUBLIC, Empty, endpoint
from telehealth.models.accounts.accounts import Role
from telehealth.schemas.messaging.messaging import (
    SmsConsentIn, SmsConsentOut, SmsOutboxOut, SmsOutboxQuery, outbox_item,
)
from telehealth.services.home_care import inbound
from telehealth.services.messaging import messages_admin, sms_consent

bp = Blueprint("messaging", __name__, url_prefix="/api/v1")
webhooks = Blueprint("twilio_webhooks", __name__, url_prefix="/webhooks")


@bp.get("/me/sms-consent")
@endpoint("The words to agree to for text messages, and my current consent", tags=["messaging"],
          auth=(Role.PATIENT,), response=SmsConsentOut, errors=(409,))
def get_consent():
    return SmsConsentOut(**sms_consent.state(current_user))


@bp.post("/me/sms-consent")
@endpoint("Agree to text messages (time, exact wording and version are recorded; a confirmation is texted)",
          tags=["messaging"], auth=(Role.PATIENT,), body=SmsConsentIn, response=SmsConsentOut, errors=(409,))
def agree(body: SmsConsentIn):
    return SmsConsentOut(**sms_consent.agree(current_user))


@bp.post("/me/sms-consent/withdraw")
@endpoint("Stop text messages (crisis texts excepted)", tags=["messaging"], auth=(Role.PATIENT,), body=Empty,
          response=SmsConsentOut, errors=(409,))
def withdraw(body: Empty):
    return SmsConsentOut(**sms_consent.withdraw(current_user))


@bp.get("/admin/sms-outbox")
@endpoint("Texts in the outbox, newest first (what was sent, is waiting, failed); audited", tags=["messaging"],
          auth=(Role.OPS, Role.ADMIN), query=SmsOutboxQuery, response=SmsOutboxOut)
def sms_outbox(query: SmsOutboxQuery):
    rows = messages_admin.outbox_page(current_user, status=query.status, before_id=query.before_id,
                                      limit=query.limit)
    return SmsOutboxOut(items=[outbox_item(m) for m in rows],
                        next_before_id=rows[-1].id if len(rows) == query.limit else None)


@webhooks.post("/twilio/sms")
@endpoint("Twilio's inbound text webhook (X-Twilio-Signature over PUBLIC_BASE_URL + path); empty TwiML",
          tags=["webhooks"], auth=PUBLIC, errors=(403, 422), content_type="text/xml")
def twilio_sms():
    inbound.receive(request.path, request.form, request.headers.get("X-Twilio-Signature", ""))
    return Response(str(MessagingResponse()), mimetype="text/xml")

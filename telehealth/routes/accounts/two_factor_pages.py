"""The staff's two-step verification page (/account/two-factor): why it is asked, enrolling an
authenticator app from a QR code drawn on the server (an inline SVG: no script, nothing loaded from
elsewhere) or its secret typed by hand, the recovery codes shown once, the status once enrolled and
new recovery codes. The same services as /api/v1/me/two-factor (services/accounts/two_factor.py).

Physicians and admins who have not enrolled are sent here from every other staff page (`page` in
telehealth/pages.py).
"""
from __future__ import annotations

import segno
from flask import Blueprint, render_template
from flask_login import current_user

from telehealth.errors import ServiceError
from telehealth.models.accounts.accounts import Role
from telehealth.pages import done, form_body, page, refusal
from telehealth.routes.accounts.pages import home_url
from telehealth.schemas.accounts.two_factor import TwoFactorCodeIn
from telehealth.services.accounts import two_factor

bp = Blueprint("two_factor_pages", __name__)
STAFF = (Role.PHYSICIAN, Role.COACH, Role.OPS, Role.ADMIN)


def qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG (attributes only, no style: the CSP allows it)."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, border=4, svgclass="qr-code", lineclass=None, omitsize=True,
                                                light="#fff", title="QR code for your authenticator app")
    return svg.replace("<svg ", '<svg role="img" aria-label="QR code for your authenticator app" ', 1)


def _form_refusal(exc: ServiceError) -> dict:
    """The service names its field `second_factor_code`; the form's input is `code`."""
    errors = refusal(exc)
    errors["fields"] = {("code" if name == two_factor.FIELD else name): messages
                        for name, messages in errors["fields"].items()}
    if not errors["fields"]:
        errors["fields"] = {"code": [exc.message]}
    return errors


def _render(*, errors=None, codes=None, status=200):
    state = two_factor.status(current_user)
    enrolment = None if codes or state.enrolled else two_factor.pending_enrolment(current_user)
    return render_template("accounts/two_factor.html", state=state, enrolment=enrolment,
                           qr=qr_svg(enrolment.uri) if enrolment else None, errors=errors, codes=codes,
                           continue_url=home_url()), status


@bp.get("/account/two-factor")
@page(roles=STAFF)
def enrol():
    return _render()


@bp.post("/account/two-factor/begin")
@page(roles=STAFF)
def begin():
    try:
        two_factor.begin_enrolment(current_user)
    except ServiceError as exc:
        return _render(errors=refusal(exc), status=exc.status)
    return done("Scan the QR code with your authenticator app, then enter the code it shows.",
                "two_factor_pages.enrol")


@bp.post("/account/two-factor/confirm")
@page(roles=STAFF)
def confirm():
    try:
        body = form_body(TwoFactorCodeIn)
        codes = two_factor.confirm_enrolment(current_user, body.code)
    except ServiceError as exc:
        return _render(errors=_form_refusal(exc), status=exc.status)
    return _render(codes=codes)


@bp.post("/account/two-factor/recovery-codes")
@page(roles=STAFF)
def recovery_codes():
    try:
        body = form_body(TwoFactorCodeIn)
        codes = two_factor.regenerate_recovery_codes(current_user, body.code)
    except ServiceError as exc:
        return _render(errors=_form_refusal(exc), status=exc.status)
    return _render(codes=codes)

"""Command-line tasks: `flask seed-demo`, `flask purge-drafts`, `flask pharmacy-reconcile`, `flask mail-outbox`,
`flask sms-outbox`, `flask sms-receive`, `flask scheduler run`, `flask outbox dispatch`."""
from __future__ import annotations

import contextlib
from datetime import date

import click
from flask import Flask, current_app
from sqlalchemy import select

from telehealth.schemas.common import luhn_ok

DEMO_PASSWORD = "demo-password-2026"


def _npi(base9: str) -> str:
    return next(base9 + str(d) for d in range(10) if luhn_ok("80840" + base9 + str(d)))


def _dea(prefix: str, base6: str) -> str:
    d = [int(c) for c in base6]
    return f"{prefix}{base6}{(d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10}"


def demo_staff() -> list[dict]:
    year = date.today().year + 2
    lic = lambda states: [{"state": s, "license_number": f"{s}-{1000 + i}", "expires_on": date(year, 6, 30)}  # noqa: E731
                          for i, s in enumerate(states)]
    return [
        {"email": "dr.adams@demo.telehealth", "role": "physician", "display_name": "Dr. Maya Adams",
         "time_zone": "America/Los_Angeles", "npi": _npi("123456789"), "dea_number": _dea("BA", "123456"),
         "dea_expires_on": date(year, 12, 31), "licenses": lic(["CA", "NY", "TX"])},
        {"email": "dr.brooks@demo.telehealth", "role": "physician", "display_name": "Dr. Samuel Brooks",
         "time_zone": "America/New_York", "npi": _npi("198765432"), "dea_number": _dea("BB", "654321"),
         "dea_expires_on": date(year, 12, 31), "licenses": lic(["FL", "NY", "WA"])},
        {"email": "dr.chen@demo.telehealth", "role": "physician", "display_name": "Dr. Priya Chen",
         "time_zone": "America/Denver", "npi": _npi("155512345"), "dea_number": _dea("BC", "246802"),
         "dea_expires_on": date(year, 12, 31), "licenses": lic(["AZ", "CO", "IL", "TX"])},
        {"email": "coach.lee@demo.telehealth", "role": "coach", "display_name": "Jordan Lee",
         "time_zone": "America/Chicago", "bio": "Trauma-informed integration coach."},
        {"email": "coach.rivera@demo.telehealth", "role": "coach", "display_name": "Alex Rivera",
         "time_zone": "America/New_York", "bio": "Integration coach, somatic practices."},
        {"email": "ops@demo.telehealth", "role": "ops", "display_name": "Casey Morgan",
         "time_zone": "America/New_York"},
        {"email": "admin@demo.telehealth", "role": "admin", "display_name": "Robin Patel",
         "time_zone": "America/New_York"},
    ]


DEMO_PATIENT = {
    "email": "patient@demo.telehealth", "password": DEMO_PASSWORD, "legal_first_name": "Taylor",
    "legal_last_name": "Demo", "date_of_birth": "1988-04-12", "state_of_residence": "NY",
    "time_zone": "America/New_York", "phone": "+12125550143",
    "shipping_address": {"line1": "12 Example Street", "city": "Brooklyn", "state": "NY", "postal_code": "11201"},
    "emergency_contact": {"name": "Jamie Demo", "relationship": "partner", "phone": "+12125550188"},
}


def seed_demo() -> list[tuple[str, str, str]]:
    """Create the demo staff and patient if missing; return (role, email, password) rows."""
    from telehealth.models.assessments import Decision
    from telehealth.schemas.accounts import PatientSignupIn, StaffCreateIn
    from telehealth.services import accounts, assessments, catalog, reviews, staff

    rows = []
    for spec in demo_staff():
        if accounts.find_by_email(spec["email"]) is None:
            staff.create_staff(None, StaffCreateIn.model_validate(spec), password=DEMO_PASSWORD)
        rows.append((spec["role"], spec["email"], DEMO_PASSWORD))
    if accounts.find_by_email(DEMO_PATIENT["email"]) is None:
        patient = accounts.sign_up_patient(PatientSignupIn.model_validate(DEMO_PATIENT))
        # The demo patient has taken the screening and been approved for a consult, so a person
        # trying `make run` can go on to buy a package.
        assessment, _ = assessments.submit(patient, "screening", 1, demo_screening_answers())
        reviewer = accounts.find_by_email("dr.brooks@demo.telehealth")
        reviews.decide(reviewer, assessment.id, Decision.APPROVE, message=None, note="Demo approval.")
    rows.append(("patient", DEMO_PATIENT["email"], DEMO_PASSWORD))
    catalog.seed_catalog()
    return rows


def demo_screening_answers() -> dict:
    """A likely candidate: moderate-to-severe depression, two adequate antidepressant trials."""
    return {
        "phq9": {f"q{i}": 2 for i in range(1, 9)} | {"q9": 0},
        "gad7": {f"q{i}": 2 for i in range(1, 7)} | {"q7": 0},
        "cssrs": {"q1": False, "q2": False, "q6": False},
        "treatment_history": {"antidepressant_trials": [
            {"name": "sertraline", "weeks": 10, "adequate_dose": True},
            {"name": "bupropion", "weeks": 8, "adequate_dose": True}], "therapy_tried": True},
        "medical": {"date_of_birth": DEMO_PATIENT["date_of_birth"], "state_of_residence": "NY",
                    "pregnant_or_breastfeeding": False, "psychosis_history": False,
                    "mania_or_bipolar_history": False, "active_substance_use_disorder": False,
                    "hypertension": "none", "blood_pressure": {"systolic": 122, "diastolic": 78},
                    "vascular_history": [], "raised_intracranial_pressure": False, "heart_disease": "none",
                    "liver_disease": False, "bladder_symptoms": False, "current_medications": ["ssri_snri"]},
    }


@contextlib.contextmanager
def _calling_the_server(url: str):
    """A command that calls the running server says in one line (exit 1, no traceback) when it does
    not answer, or answers with an error."""
    import urllib.error

    try:
        yield
    except urllib.error.HTTPError as exc:
        raise click.ClickException(f"the server at {url} answered {exc.code} {exc.reason}.") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise click.ClickException(
            f"no server answers at {url} ({reason}): is `make run` serving there? PUBLIC_BASE_URL follows "
            "HOST and PORT in development: give this command the same PORT (or PUBLIC_BASE_URL).") from None


def register_cli(app: Flask) -> None:
    @app.cli.command("seed-demo")
    def seed_demo_command():
        """Create demo staff and a demo patient (idempotent) and print their logins."""
        if current_app.config["ENV_NAME"] == "production":
            raise click.ClickException("refusing to seed demo accounts in production")
        rows = seed_demo()
        click.echo("Demo logins (all share one password):")
        for role, email, password in rows:
            click.echo(f"  {role:<10} {email:<30} {password}")

    @app.cli.command("purge-drafts")
    def purge_drafts():
        """Delete anonymous screening drafts older than ASSESSMENT_DRAFT_TTL_DAYS."""
        from telehealth.services.assessments import purge_expired_drafts

        click.echo(f"Deleted {purge_expired_drafts()} expired anonymous drafts.")

    @app.cli.command("pharmacy-reconcile")
    @click.option("--grace-seconds", default=30, show_default=True)
    def pharmacy_reconcile(grace_seconds: int):
        """Send stages still waiting for the pharmacy and finish asked cancellations (the scheduler
        runs this every minute)."""
        from telehealth.services.shipments import reconcile_pharmacy

        counts = reconcile_pharmacy(grace_seconds=grace_seconds)
        click.echo(f"Sent {counts['sent']} waiting stages; finished {counts['cancelled']} cancellations.")

    @app.cli.command("mail-outbox")
    @click.option("--limit", default=10, show_default=True)
    def mail_outbox(limit: int):
        """Print the newest mail kept by the outbox mail backend."""
        from telehealth.extensions import db
        from telehealth.models.mail import OutboxMail

        for mail in db.session.scalars(select(OutboxMail).order_by(OutboxMail.id.desc()).limit(limit)):
            click.echo(f"--- #{mail.id} {mail.created_at:%Y-%m-%d %H:%M} UTC to {mail.to_address}: {mail.subject}")
            click.echo(mail.body)

    @app.cli.command("sms-outbox")
    @click.option("--limit", default=10, show_default=True)
    def sms_outbox(limit: int):
        """Print the newest texts of the SMS outbox (what the console backend "sent")."""
        from telehealth.clock import now
        from telehealth.extensions import db
        from telehealth.models.messaging import OutboundMessage

        for m in db.session.scalars(select(OutboundMessage).order_by(OutboundMessage.id.desc()).limit(limit)):
            waiting = (f" (held until {m.not_before:%Y-%m-%d %H:%M} UTC: quiet hours or a retry)"
                       if m.status == "pending" and m.not_before > now() else "")
            why = f" ({m.last_error})" if m.status in ("suppressed", "failed", "cancelled") and m.last_error else ""
            click.echo(f"--- #{m.id} {m.created_at:%Y-%m-%d %H:%M} UTC to {m.to_phone} [{m.purpose}, {m.priority}] "
                       f"{m.status}{waiting}{why}" + (f" {m.provider_sid}" if m.provider_sid else ""))
            click.echo(m.body)

    @app.cli.command("sms-receive")
    @click.argument("from_phone")
    @click.argument("body")
    def sms_receive(from_phone: str, body: str):
        """Deliver a text as Twilio would: a signed POST to this app's /webhooks/twilio/sms at
        PUBLIC_BASE_URL (for `make run`, where the patient's phone is the console)."""
        import urllib.parse
        import urllib.request
        import uuid

        from twilio.request_validator import RequestValidator

        from telehealth.services.inbound import public_url

        cfg = current_app.config
        url = public_url()
        fields = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": cfg["TWILIO_ACCOUNT_SID"], "From": from_phone,
                  "To": cfg["TWILIO_FROM_NUMBER"], "Body": body, "NumMedia": "0"}
        signature = RequestValidator(cfg["TWILIO_AUTH_TOKEN"]).compute_signature(url, fields)
        request = urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode(), method="POST",
                                         headers={"X-Twilio-Signature": signature})
        with _calling_the_server(url), urllib.request.urlopen(request, timeout=10) as response:
            click.echo(f"{response.status}: delivered; the answer appears in `flask sms-outbox` after the next "
                       "dispatch (5 s)")

    scheduler_group = click.Group("scheduler", help="The background scheduler (one process, never in web workers).")

    @scheduler_group.command("run")
    @click.option("--once", is_flag=True, help="Run each job once, then exit (cron, tests).")
    def scheduler_run(once: bool):
        """Run the scheduled jobs: check-ins, SLA watch, pharmacy reconciliation, alerts, reminders, shipment
        notices, and dispatching texts."""
        from telehealth import scheduler

        app_obj = current_app._get_current_object()
        if once:
            results = scheduler.run_once(app_obj)
            for name, (ok, result) in results.items():
                click.echo(f"{name}: {'ok' if ok else 'FAILED'} {result if result is not None else ''}".rstrip())
            if not all(ok for ok, _ in results.values()):
                raise SystemExit(1)
            return
        scheduler.run_forever(app_obj)

    app.cli.add_command(scheduler_group)

    outbox_group = click.Group("outbox", help="The SMS outbox.")

    @outbox_group.command("dispatch")
    @click.option("--loop", is_flag=True, help="Keep dispatching until stopped.")
    @click.option("--limit", default=100, show_default=True, help="Texts claimed per batch.")
    @click.option("--interval", default=0.2, show_default=True, help="Seconds between empty batches (--loop).")
    def outbox_dispatch(loop: bool, limit: int, interval: float):
        """Send the texts due now, batch after batch (once, or in a loop)."""
        import time

        from telehealth.services import outbox

        worker = outbox.worker_name()
        while True:
            counts = outbox.drain(worker, limit)
            if not loop:
                click.echo(" ".join(f"{k}={v}" for k, v in counts.items()))
                return
            if counts["claimed"] == 0:
                time.sleep(interval)

    app.cli.add_command(outbox_group)

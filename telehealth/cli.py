"""Command-line tasks: `flask seed-demo`, `flask purge-drafts`, `flask pharmacy-reconcile`, `flask mail-outbox`,
`flask sms-outbox`, `flask sms-receive`, `flask scheduler run`, `flask outbox dispatch`."""
from __future__ import annotations

import contextlib

import click
from flask import Flask, current_app
from sqlalchemy import select


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
        """Create the demo staff with their hours and a patient at each stage (idempotent: see
        telehealth/demo.py) and print their logins."""
        if current_app.config["ENV_NAME"] == "production":
            raise click.ClickException("refusing to seed demo accounts in production")
        from telehealth.demo import seed_demo

        rows = seed_demo()
        click.echo("Demo logins (all share one password), with each physician's states and each patient's stage:")
        for row in rows:
            click.echo(f"  {row.role:<10} {row.email:<34} {row.password}  {row.note}".rstrip())
        from telehealth.demo import DEMO_TOTP_SECRET

        click.echo("Second factor (signing prescriptions; physicians and admins must have one): Dr. Adams enrols on "
                   "his first sign-in; Dr. Brooks, Dr. Chen and admin@ use the demo key "
                   f"{DEMO_TOTP_SECRET} (any authenticator app, or: python3 -c \"import pyotp; "
                   f"print(pyotp.TOTP('{DEMO_TOTP_SECRET}').now())\").")

    @app.cli.command("purge-drafts")
    def purge_drafts():
        """Delete anonymous screening drafts older than ASSESSMENT_DRAFT_TTL_DAYS."""
        from telehealth.services.screening.assessments import purge_expired_drafts

        click.echo(f"Deleted {purge_expired_drafts()} expired anonymous drafts.")

    @app.cli.command("pharmacy-reconcile")
    @click.option("--grace-seconds", default=30, show_default=True)
    def pharmacy_reconcile(grace_seconds: int):
        """Send stages still waiting for the pharmacy and finish asked cancellations (the scheduler
        runs this every minute)."""
        from telehealth.services.pharmacy.shipments import reconcile_pharmacy

        counts = reconcile_pharmacy(grace_seconds=grace_seconds)
        click.echo(f"Sent {counts['sent']} waiting stages; finished {counts['cancelled']} cancellations.")

    @app.cli.command("mail-outbox")
    @click.option("--limit", default=10, show_default=True)
    def mail_outbox(limit: int):
        """Print the newest mail kept by the outbox mail backend."""
        from telehealth.extensions import db
        from telehealth.models.messaging.mail import OutboxMail

        for mail in db.session.scalars(select(OutboxMail).order_by(OutboxMail.id.desc()).limit(limit)):
            click.echo(f"--- #{mail.id} {mail.created_at:%Y-%m-%d %H:%M} UTC to {mail.to_address}: {mail.subject}")
            click.echo(mail.body)

    @app.cli.command("sms-outbox")
    @click.option("--limit", default=10, show_default=True)
    def sms_outbox(limit: int):
        """Print the newest texts of the SMS outbox (what the console backend "sent")."""
        from telehealth.clock import now
        from telehealth.extensions import db
        from telehealth.models.messaging.messaging import OutboundMessage

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

        from telehealth.services.home_care.inbound import public_url

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

        from telehealth.services.messaging import outbox

        worker = outbox.worker_name()
        while True:
            counts = outbox.drain(worker, limit)
            if not loop:
                click.echo(" ".join(f"{k}={v}" for k, v in counts.items()))
                return
            if counts["claimed"] == 0:
                time.sleep(interval)

    app.cli.add_command(outbox_group)

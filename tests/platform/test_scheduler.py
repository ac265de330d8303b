"""The scheduler: every job of `flask scheduler run --once`, a failing job that stops nothing, and
(PostgreSQL) dispatcher processes that are killed or run side by side without sending anything twice."""
from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import func, select

from telehealth import scheduler
from telehealth.clock import now
from telehealth.models import (
    AlertStatus, Appointment, ClinicalAlert, MessageStatus, OutboundMessage, Reminder, ShipmentNotice, ShipmentStatus,
    SmsConsent, User,
)
from tests.conftest import wait_until
from tests.pharmacy.test_shipments import shipment  # noqa: F401  (the fixture)

ROOT = Path(__file__).resolve().parents[2]
ON_CALL = "+13125550100"
# 17:00 UTC on 15 January: noon in New York, inside the hours routine texts may be sent.
NOON_NY = datetime(2026, 1, 15, 17, 0, tzinfo=timezone.utc)


def test_every_job_of_scheduler_run_once(app, db, runner, twilio, shipment, create_user, monkeypatch):  # noqa: F811
    monkeypatch.setitem(app.config, "ON_CALL_FALLBACK_PHONE", ON_CALL)
    patient = db.session.get(User, shipment.patient_id)
    phone = patient.patient_profile.phone_e164
    db.session.add(SmsConsent(user_id=patient.id, phone_e164=phone, opted_in_at=now(), wording="I agree.",
                              wording_version="test"))
    coach = create_user("coach")
    with time_machine.travel(NOON_NY, tick=True):
        starts = NOON_NY + timedelta(hours=1)
        appointment = Appointment(patient_id=patient.id, provider_id=coach.id, appointment_type="coaching_30",
                                  starts_at=starts, ends_at=starts + timedelta(minutes=30), blocks_from=starts,
                                  blocks_until=starts + timedelta(minutes=30), credit_kind="coaching_30",
                                  video_room="room-scheduler-test")
        db.session.add(appointment)
        db.session.flush()
        reminder = Reminder(appointment_id=appointment.id, lead="1h", due_at=NOON_NY - timedelta(minutes=1))
        later = Reminder(appointment_id=appointment.id, lead="24h", due_at=NOON_NY + timedelta(hours=1))
        shipment.apply(ShipmentStatus.SHIPPED, now(), source="pharmacy", strict=False,
                       details={"carrier": "UPS", "tracking_number": "1ZSCHED0001"})
        alert = ClinicalAlert(kind="crisis", urgency="urgent", patient_id=patient.id, summary="clinical words")
        db.session.add_all([reminder, later, alert])
        db.session.commit()

        result = runner.invoke(args=["scheduler", "run", "--once"])
        assert result.exit_code == 0, result.output
        for name in ("clinical_alerts", "appointment_reminders", "shipment_notices", "outbox_release_leases",
                     "outbox_dispatch"):
            assert f"{name}: ok" in result.output

        [to_patient_reminder] = [m for m in twilio.messages(to=phone) if "reminder" in m["body"]]
        assert "Thu, Jan 15 at 1:00 PM EST" in to_patient_reminder["body"]
        [shipped] = [m for m in twilio.messages(to=phone) if "shipped" in m["body"]]
        assert "https://www.ups.com/track?tracknum=1ZSCHED0001" in shipped["body"]
        [on_call] = twilio.messages(to=ON_CALL)
        assert on_call["body"] == "Urgent alert for a patient: log in to review."
        db.session.expire_all()
        assert db.session.get(Reminder, reminder.id).status == "sent"
        assert db.session.get(Reminder, later.id).status == "pending"  # not due yet
        assert db.session.scalar(select(ShipmentNotice.status).where(ShipmentNotice.shipment_id == shipment.id)) == "sent"
        assert db.session.get(ClinicalAlert, alert.id).status is AlertStatus.DELIVERED

        # Again: nothing new is sent.
        assert runner.invoke(args=["scheduler", "run", "--once"]).exit_code == 0
        assert len(twilio.messages()) == 3


def test_a_failing_job_is_logged_without_phi_and_stops_nothing(app, db, monkeypatch, caplog):
    ran = []

    def broken():
        raise RuntimeError("patient Jane Doe +12125550100")

    monkeypatch.setattr(scheduler, "JOBS", list(scheduler.JOBS))
    scheduler.register(scheduler.Job("broken", broken, 60))
    scheduler.register(scheduler.Job("after", lambda: ran.append(1), 60))
    with pytest.raises(ValueError):
        scheduler.register(scheduler.Job("after", lambda: None, 60))
    results = scheduler.run_once(app)
    assert results["broken"] == (False, None) and results["after"][0] and ran == [1]
    assert results["outbox_dispatch"][0]
    [failure] = [r for r in caplog.records if r.getMessage() == "scheduler job failed"]
    assert failure.exception == "RuntimeError" and "test_scheduler.py" in str(failure.where)  # type and where
    logged = json.dumps([r.__dict__ for r in caplog.records], default=str)
    assert "Jane" not in logged and "+1212" not in logged  # never the exception's text


def test_nothing_in_the_web_app_starts_the_scheduler(app):
    import apscheduler.schedulers.base as base

    assert not any(isinstance(v, base.BaseScheduler) for v in app.extensions.values())


# --------------------------------------------------------------------------- processes (PostgreSQL)


def _env(database_url: str, twilio_url: str, **extra) -> dict:
    return dict(os.environ, FLASK_APP="wsgi.py", TELEHEALTH_ENV="testing", TEST_DATABASE_URL=database_url,
                TWILIO_API_BASE=twilio_url, TWILIO_TIMEOUT_SECONDS="5", LOG_LEVEL="ERROR", **extra)


def _bulk(committed, n: int, tag: str) -> list[str]:
    bodies = [f"Bulk {tag} {i}" for i in range(n)]
    committed.session.add_all([OutboundMessage(to_phone=f"+1312555{i:04d}", body=body, purpose="alert",
                                               priority="staff", status=MessageStatus.PENDING, attempts=0,
                                               uncertain=False, not_before=now(), created_at=now())
                               for i, body in enumerate(bodies)])
    committed.session.commit()
    return bodies


def _sent(committed) -> int:
    return committed.session.scalar(select(func.count()).select_from(OutboundMessage)
                                    .where(OutboundMessage.status == MessageStatus.SENT))


def _stop(proc: subprocess.Popen, sig=signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=30)  # a job finishing its pass first: slower when the machine is busy
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def postgres_only(is_postgres):
    if not is_postgres:
        pytest.skip("SKIP LOCKED claims across processes: PostgreSQL only")


def test_two_dispatchers_one_killed_midway_send_every_text_exactly_once(
        postgres_only, database_url, twilio_url, twilio, committed):
    bodies = _bulk(committed, 1000, "kill")
    env = _env(database_url, twilio_url, OUTBOX_LEASE_SECONDS="2")
    cmd = [str(Path(sys.executable).parent / "flask"), "outbox", "dispatch", "--loop", "--limit", "25"]
    first = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    second = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: len(twilio.messages()) >= 300, timeout=30, interval=0.05)
        first.send_signal(signal.SIGKILL)  # mid-batch: claimed rows, maybe one sent and not recorded
        first.wait(timeout=10)
        wait_until(lambda: _sent(committed) == 1000, timeout=40, interval=0.2)
    finally:
        _stop(first, signal.SIGKILL)
        _stop(second)
    received = collections.Counter(m["body"] for m in twilio.messages())
    assert set(received) == set(bodies)
    assert [body for body, n in received.items() if n > 1] == []
    sids = committed.session.scalars(select(OutboundMessage.provider_sid)).all()
    assert len(set(sids)) == 1000 and None not in sids


def test_two_scheduler_processes_at_once_send_nothing_twice(postgres_only, database_url, twilio_url, twilio, committed):
    bodies = _bulk(committed, 200, "sched")
    committed.session.add_all([ClinicalAlert(kind="crisis", urgency="urgent", summary="clinical words")
                               for _ in range(5)])
    committed.session.commit()
    env = _env(database_url, twilio_url, OUTBOX_DISPATCH_INTERVAL_SECONDS="0.3", ON_CALL_FALLBACK_PHONE=ON_CALL)
    cmd = [str(Path(sys.executable).parent / "flask"), "scheduler", "run"]
    procs = [subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for _ in range(2)]
    try:
        wait_until(lambda: _sent(committed) == 205, timeout=30, interval=0.2)
        time.sleep(1)  # another pass of every job in both processes
    finally:
        for proc in procs:
            _stop(proc)
    assert [proc.returncode for proc in procs] == [0, 0]  # SIGTERM stops the scheduler cleanly
    received = collections.Counter(m["body"] for m in twilio.messages())
    assert all(received[body] == 1 for body in bodies)
    assert received["Urgent alert for a patient: log in to review."] == 5
    assert sum(received.values()) == 205

"""The scheduler: one process (`flask scheduler run`) that runs the background sweeps, never a
web worker (nothing in create_app starts it).

Jobs come from one registry, `JOBS`; add a sweep with `register(Job(name, func, every))`, where
`func()` runs inside an app context and `every` is seconds or a function of the app's config.
Each job runs with max_instances=1 and coalesce=True (a slow run is never doubled up, missed runs
collapse into one), and an exception is logged (its type, never its text: it may quote PHI) and
rolled back without stopping the process. Every sweep is safe to run in two processes at once:
outbox claims are leased, producers enqueue with dedupe keys.

`flask scheduler run --once` runs each job once, in registry order, for cron and tests.
"""
from __future__ import annotations

import logging
import signal
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from flask import Flask

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    func: Callable[[], Any]
    every: float | Callable[[dict], float]  # seconds, or a function of app.config

    def interval(self, config: dict) -> float:
        return float(self.every(config) if callable(self.every) else self.every)


def _dispatch_outbox() -> dict[str, int]:
    """Drain due texts in batches (for at most a minute per run)."""
    from telehealth.services.messaging import outbox

    return outbox.drain(limit=100, deadline_seconds=60)


def _release_leases() -> int:
    from telehealth.services.messaging import outbox

    return outbox.release_expired_leases()


def _clinical_alerts() -> int:
    from telehealth.services.messaging import notifications

    return notifications.deliver_clinical_alerts()


def _alert_repages() -> int:
    from telehealth.services.messaging import notifications

    return notifications.repage_unacknowledged()


def _reminders() -> int:
    from telehealth.services.messaging import notifications

    return notifications.enqueue_due_reminders()


def _shipment_notices() -> int:
    from telehealth.services.messaging import notifications

    return notifications.enqueue_shipment_notices()


def _follow_up_retakes() -> int:
    from telehealth.services.care import follow_ups

    return follow_ups.request_retakes()


def _check_ins() -> dict[str, int]:
    from telehealth.services.home_care import check_in_messages

    return check_in_messages.sweep()


def _sla_watch() -> dict[str, int]:
    from telehealth.services.care import sla_watch

    return sla_watch.flag_breaches()


def _pharmacy_reconcile() -> dict[str, int]:
    from telehealth.services.pharmacy import shipments

    return shipments.reconcile_pharmacy()


# In registry order: producers first, so `--once` sends what they enqueued.
def _care_team_sweep() -> int:
    from telehealth.services.accounts import care_team

    return care_team.end_lapsed_bookings()


JOBS: list[Job] = [
    Job("check_ins", _check_ins, 60),
    Job("sla_watch", _sla_watch, 300),
    Job("pharmacy_reconcile", _pharmacy_reconcile, 60),
    Job("clinical_alerts", _clinical_alerts, 10),
    Job("alert_repages", _alert_repages, 30),
    Job("appointment_reminders", _reminders, 60),
    Job("shipment_notices", _shipment_notices, 60),
    Job("follow_up_retakes", _follow_up_retakes, 300),
    Job("care_team_sweep", _care_team_sweep, 600),
    Job("outbox_release_leases", _release_leases, 30),
    Job("outbox_dispatch", _dispatch_outbox, lambda cfg: cfg["OUTBOX_DISPATCH_INTERVAL_SECONDS"]),
]


def register(job: Job) -> Job:
    """Add a sweep (another module's: check-in reminders, reconcilers); names are unique."""
    if any(existing.name == job.name for existing in JOBS):
        raise ValueError(f"a job named {job.name!r} is already registered")
    JOBS.insert(len(JOBS) - 1, job)  # before the dispatch, so what it enqueues goes out in the same pass
    return job


def _did_something(result: Any) -> bool:
    if isinstance(result, dict):
        return any(_did_something(value) for value in result.values())
    return bool(result)


def run_job(app: Flask, job: Job) -> tuple[bool, Any]:
    """Run one job in an app context; (ok, result). Never raises."""
    from telehealth.extensions import db

    with app.app_context():
        try:
            result = job.func()
            # a line when a run did something; idle runs (most of them) only at debug level
            level = logging.INFO if _did_something(result) else logging.DEBUG
            log.log(level, "scheduler job done", extra={"job": job.name, "result": result})
            return True, result
        except Exception as exc:  # noqa: BLE001 - a failing sweep must not stop the others
            db.session.rollback()
            log.error("scheduler job failed", extra={"job": job.name, "exception": type(exc).__name__,
                                                     "where": [f"{frame.filename}:{frame.lineno} in {frame.name}"
                                                               for frame in traceback.extract_tb(exc.__traceback__)[-3:]]})
            return False, None
        finally:
            db.session.remove()


def run_once(app: Flask) -> dict[str, tuple[bool, Any]]:
    return {job.name: run_job(app, job) for job in list(JOBS)}


def run_forever(app: Flask) -> None:
    """APScheduler's BlockingScheduler in this process until SIGTERM or Ctrl-C."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # not a line per run of every job
    scheduler = BlockingScheduler(timezone=timezone.utc)
    for job in list(JOBS):
        scheduler.add_job(run_job, "interval", args=(app, job), seconds=job.interval(app.config), id=job.name,
                          name=job.name, max_instances=1, coalesce=True, next_run_time=datetime.now(timezone.utc),
                          misfire_grace_time=None)

    def stop(signum, _frame):
        log.info("scheduler stopping", extra={"signal": signum})
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("scheduler started", extra={"jobs": [job.name for job in JOBS]})
    scheduler.start()

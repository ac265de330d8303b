"""`run_with_retry` against a real PostgreSQL deadlock: two connections lock two rows in opposite order."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from telehealth.extensions import db as _db
from telehealth.models import User
from telehealth.transactions import is_retryable, run_with_retry
from tests.conftest import _make_user, wait_until


def _deadlock_against(app, committed, work_attempts: int):
    """Run, in a thread, work that locks user A then user B, while this connection holds B and then
    asks for A once the work waits: PostgreSQL aborts the work's attempt (it waited first)."""
    first, second = _make_user(committed, "patient").id, _make_user(committed, "patient").id
    tries: list[int] = []
    outcome: dict = {}

    def work() -> int:
        tries.append(1)
        _db.session.execute(select(User.id).where(User.id == first).with_for_update())
        _db.session.execute(select(User.id).where(User.id == second).with_for_update())
        return len(tries)

    def run() -> None:
        with app.app_context():
            try:
                outcome["value"] = run_with_retry(work, attempts=work_attempts)
                _db.session.commit()
            except DBAPIError as exc:
                outcome["error"] = exc
                _db.session.rollback()
            finally:
                _db.session.remove()

    with _db.engine.connect() as other:
        transaction = other.begin()
        other.execute(text("SET LOCAL deadlock_timeout = '60s'"))  # the work's side finds the deadlock
        other.execute(select(User.id).where(User.id == second).with_for_update())
        mine = other.execute(text("SELECT pg_backend_pid()")).scalar()
        worker = threading.Thread(target=run)
        worker.start()
        wait_until(lambda: committed.session.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> :mine"), {"mine": mine}).scalar() == 1)
        time.sleep(0.2)
        other.execute(select(User.id).where(User.id == first).with_for_update())  # the opposite order
        transaction.commit()
    worker.join(timeout=30)
    return outcome, tries


@pytest.fixture
def postgres_only(is_postgres):
    if not is_postgres:
        pytest.skip("a deadlock between two connections needs PostgreSQL")


def test_work_aborted_to_break_a_deadlock_runs_again_and_succeeds(app, committed, postgres_only):
    outcome, tries = _deadlock_against(app, committed, work_attempts=2)
    assert outcome == {"value": 2} and len(tries) == 2


def test_the_deadlock_reaches_the_caller_when_no_attempt_is_left(app, committed, postgres_only):
    outcome, tries = _deadlock_against(app, committed, work_attempts=1)
    assert is_retryable(outcome["error"]) and len(tries) == 1

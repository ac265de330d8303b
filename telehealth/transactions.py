"""Database work that PostgreSQL may abort to let another transaction go on, run again:
`run_with_retry(work)`.

PostgreSQL ends one of two transactions that wait for each other (`deadlock detected`, SQLSTATE
40P01; psycopg's `errors.DeadlockDetected`) and, at stricter isolation levels, one that read what
another changed (`could not serialize access`, 40001; `errors.SerializationFailure`). Neither says
the work was wrong: trying it again either succeeds or meets the winner's committed rows and gets
the ordinary answer (a booking that lost the race finds the slot taken).

Each attempt runs in its own savepoint, so an aborted attempt is rolled back to where it began and
the caller's transaction (a reschedule's released old time, say) stands. That suits this app's
READ COMMITTED transactions, where each statement sees what others committed; work at REPEATABLE
READ or SERIALIZABLE must run the whole transaction again instead (its snapshot does not move).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

from telehealth.extensions import db

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure


def is_retryable(exc: BaseException) -> bool:
    """The database aborted this statement to break a deadlock or a serialization conflict."""
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def run_with_retry(work: Callable[[], T], *, attempts: int = 2) -> T:
    """`work()` in a savepoint; run again in a fresh one (up to `attempts` in all) when the database
    aborted it for a deadlock or a serialization failure. The last such error, and any other
    error at once, reaches the caller, whose transaction is still usable."""
    for attempt in range(1, attempts + 1):
        try:
            with db.session.begin_nested():
                return work()
        except DBAPIError as exc:
            if attempt == attempts or not is_retryable(exc):
                raise
            log.info("database work aborted to break a deadlock; trying it again",
                     extra={"sqlstate": exc.orig.sqlstate, "attempt": attempt})
    raise ValueError("attempts must be at least 1")

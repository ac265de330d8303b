"""Readiness: whether the database answers, and whether someone is on call now."""
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from telehealth.extensions import db


def database_answers() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError:
        db.session.rollback()
        return False


def someone_on_call() -> bool:
    """Whether a rota shift covers now. Nobody on call still serves (every active physician and the
    fallback number are paged), so readiness reports it as `degraded`, never as unavailable: a load
    balancer must not pull every server because a shift is missing."""
    from telehealth.services.platform import on_call

    return bool(on_call.on_call_at())

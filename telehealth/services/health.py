"""Readiness: whether the database answers."""
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

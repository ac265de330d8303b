"""Readiness: whether the database answers, whether someone is on call now, and how many active
physicians have no phone to be paged at."""
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from telehealth.errors import ServiceError
from telehealth.extensions import db


class Unavailable(ServiceError):
    status = 503
    code = "unavailable"


@dataclass(frozen=True)
class Readiness:
    status: str                    # ready, or degraded: serving, but nobody is on call
    on_call: str                   # covered or nobody
    physicians_without_phone: int


def readiness() -> Readiness:
    """The readiness probe's answer; raises Unavailable (503) when the database does not answer."""
    if not database_answers():
        raise Unavailable("The database is not reachable.")
    covered = someone_on_call()
    return Readiness(status="ready" if covered else "degraded", on_call="covered" if covered else "nobody",
                     physicians_without_phone=physicians_without_phone())


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


def physicians_without_phone() -> int:
    """Active physicians with no phone on file: paging skips them (the on-call shift has its own
    phone; everyone else is reached at their profile's). Reported as a count beside readiness, not
    as `degraded`: whoever is on call is still paged, only the escalation rounds reach fewer people."""
    from telehealth.models.accounts.accounts import PhysicianProfile, Role, User

    return db.session.scalar(select(func.count()).select_from(User)
                             .join(PhysicianProfile, PhysicianProfile.user_id == User.id)
                             .where(User.role == Role.PHYSICIAN, User.active.is_(True),
                                    PhysicianProfile.phone_e164.is_(None))) or 0

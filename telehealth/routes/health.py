"""Liveness and readiness probes."""
from flask import Blueprint
from sqlalchemy import text

from telehealth.api import PUBLIC, Schema, endpoint
from telehealth.errors import ServiceError
from telehealth.extensions import db

bp = Blueprint("health", __name__)


class Unavailable(ServiceError):
    status = 503
    code = "unavailable"


class HealthOut(Schema):
    status: str


@bp.get("/healthz")
@endpoint("Process is up", tags=["health"], auth=PUBLIC, response=HealthOut)
def healthz():
    return HealthOut(status="ok")


@bp.get("/readyz")
@endpoint("Ready to serve: the database answers", tags=["health"], auth=PUBLIC, response=HealthOut, errors=(503,))
def readyz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        db.session.rollback()
        raise Unavailable("The database is not reachable.") from None
    return HealthOut(status="ready")

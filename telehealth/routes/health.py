"""Liveness and readiness probes."""
from flask import Blueprint

from telehealth.api import PUBLIC, Schema, endpoint
from telehealth.errors import ServiceError
from telehealth.services import health

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
    if not health.database_answers():
        raise Unavailable("The database is not reachable.")
    return HealthOut(status="ready")

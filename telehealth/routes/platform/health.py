"""Liveness and readiness probes."""
from flask import Blueprint
from pydantic import Field

from telehealth.api import PUBLIC, Schema, endpoint
from telehealth.services.platform import health

bp = Blueprint("health", __name__)


class HealthOut(Schema):
    status: str


class ReadyOut(Schema):
    status: str = Field(description="ready; degraded: serving, but nobody is on call (see on_call)")
    on_call: str = Field(description="covered: a rota shift covers now; nobody: every active physician and the "
                                     "fallback number are paged until admin fills the rota")
    physicians_without_phone: int = Field(description="active physicians with no phone on file: never paged (not "
                                                      "counted as degraded; admin should add their phones)")


@bp.get("/healthz")
@endpoint("Process is up", tags=["health"], auth=PUBLIC, response=HealthOut)
def healthz():
    return HealthOut(status="ok")


@bp.get("/readyz")
@endpoint("Ready to serve: the database answers (503 otherwise); `degraded` (still 200) when nobody is on call",
          tags=["health"], auth=PUBLIC, response=ReadyOut, errors=(503,))
def readyz():
    ready = health.readiness()
    return ReadyOut(status=ready.status, on_call=ready.on_call, physicians_without_phone=ready.physicians_without_phone)

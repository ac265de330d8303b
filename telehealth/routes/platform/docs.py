"""The OpenAPI document, generated from the routes' own declarations."""
from flask import Blueprint, current_app, jsonify

from telehealth.api import PUBLIC, build_openapi, endpoint

bp = Blueprint("docs", __name__, url_prefix="/api/v1")


@bp.get("/openapi.json")
@endpoint("This OpenAPI 3.1 document", tags=["docs"], auth=PUBLIC)
def openapi():
    return jsonify(build_openapi(current_app))

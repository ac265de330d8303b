"""API conventions that hold for every endpoint: one error shape, validation of every body, role
checks on every protected route, and an OpenAPI document that lists exactly what the app serves."""
from __future__ import annotations

import json
import logging
import re

import pytest
from openapi_spec_validator import validate
from sqlalchemy import func, select

from telehealth.api import PUBLIC, route_specs
from telehealth.extensions import limiter
from telehealth.models import Role
from tests.conftest import error_of, make_test_app

ALL_ROLES = [r.value for r in Role]


def _endpoints(app):
    return [(path, method, rule, spec) for path, method, rule, spec in route_specs(app)]


def _concrete(rule) -> str:
    """A URL for the rule with placeholder values for its parameters."""
    return re.sub(r"<(?:[a-z_]+:)?(\w+)>", lambda m: "NY" if m.group(1) == "state" else "999999", rule.rule)


def _row_count(db) -> int:
    return sum(db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables)


def _allowed_role(spec) -> str | None:
    if spec.auth == PUBLIC:
        return None
    return spec.roles[0].value if spec.roles else "patient"


def _call(client, method, url, **kwargs):
    return client.open(url, method=method.upper(), **kwargs)


def test_every_route_is_declared_and_documented(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    validate(doc)
    served = {(path, method) for path, method, _, _ in _endpoints(app)}
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert served == documented
    assert all(spec is not None for *_, spec in _endpoints(app))
    # Every documented operation names its error responses with the shared error schema.
    for ops in doc["paths"].values():
        for op in ops.values():
            for code, response in op["responses"].items():
                if code.startswith(("4", "5")):
                    assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_openapi_describes_request_and_response_bodies(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    signup = doc["paths"]["/api/v1/auth/signup"]["post"]
    ref = signup["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"email", "password", "date_of_birth", "state_of_residence"} <= set(schema["required"])
    assert schema["additionalProperties"] is False
    assert "201" in signup["responses"] and "422" in signup["responses"]
    me = doc["paths"]["/api/v1/me"]["get"]
    assert me["security"] == [{"sessionCookie": []}]
    staff = doc["paths"]["/api/v1/admin/staff"]["post"]
    assert staff["x-roles"] == ["admin"] and "403" in staff["responses"]


def test_unknown_path_and_method_use_the_error_shape(client):
    r = client.get("/api/v1/nowhere")
    assert r.status_code == 404 and error_of(r)["code"] == "not_found"
    r = client.delete("/api/v1/me")
    assert r.status_code == 405 and error_of(r)["code"] == "method_not_allowed"
    assert "GET" in r.headers["Allow"]


def test_unexpected_error_is_a_500_without_a_trace(database_url, caplog):
    broken = make_test_app(database_url)

    @broken.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    with caplog.at_level(logging.ERROR):
        r = broken.test_client().get("/boom")
    assert r.status_code == 500
    err = error_of(r)
    assert err["code"] == "internal_error"
    assert "secret internals" not in r.get_data(as_text=True)
    assert "Traceback" not in r.get_data(as_text=True)


def test_health_and_readiness(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    # nobody on call (no rota in this test): still serving, reported as degraded (tests/platform/test_on_call.py)
    assert client.get("/readyz").get_json() == {"status": "degraded", "on_call": "nobody", "physicians_without_phone": 0}


def test_readiness_fails_when_the_database_is_unreachable():
    app = make_test_app("postgresql://nobody@127.0.0.1:1/nothing",
                        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 1}})
    r = app.test_client().get("/readyz")
    assert r.status_code == 503 and error_of(r)["code"] == "unavailable"
    assert app.test_client().get("/healthz").status_code == 200


def test_request_id_is_echoed_or_made(client):
    r = client.get("/healthz", headers={"X-Request-ID": "abc12345-req"})
    assert r.headers["X-Request-ID"] == "abc12345-req"
    r = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces; drop it"})
    assert len(r.headers["X-Request-ID"]) == 32 and " " not in r.headers["X-Request-ID"]


# --------------------------------------------------------------------------- sweeps over every route


def _protected(app):
    return [(m, rule, spec) for _, m, rule, spec in _endpoints(app) if spec.auth != PUBLIC]


def test_every_protected_route_needs_a_login(app, client):
    protected = _protected(app)
    assert len(protected) >= 10
    for method, rule, _ in protected:
        r = _call(client, method, _concrete(rule), json={})
        assert r.status_code == 401, (method, rule.rule, r.get_json())
        assert error_of(r)["code"] == "unauthenticated"


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_role_restricted_route_refuses_other_roles(app, client, auth, db, role):
    auth.as_role(role)
    refused = [(m, rule) for m, rule, spec in _protected(app) if spec.roles and Role(role) not in spec.roles]
    before = _row_count(db)
    for method, rule in refused:
        r = _call(client, method, _concrete(rule), json={})
        assert r.status_code == 403, (role, method, rule.rule, r.get_json())
        assert error_of(r)["code"] == "forbidden"
    assert _row_count(db) == before


def _body_endpoints(app):
    return [(m, rule, spec) for _, m, rule, spec in _endpoints(app) if spec.body is not None]


def _login_for(auth, spec):
    role = _allowed_role(spec)
    if role:
        auth.as_role(role)


@pytest.fixture
def body_endpoints(app):
    endpoints = _body_endpoints(app)
    assert len(endpoints) >= 8
    return endpoints


def test_bad_bodies_get_field_errors_and_write_nothing(app, client, auth, db, body_endpoints):
    for method, rule, spec in body_endpoints:
        limiter.reset()  # seven bad requests per route would trip the login rate limit
        _login_for(auth, spec)
        url = _concrete(rule)
        before = _row_count(db)
        fields = spec.body.model_fields

        # unknown field
        r = _call(client, method, url, json={"surprise": 1})
        assert r.status_code == 422, (rule.rule, r.get_json())
        assert error_of(r)["fields"]["surprise"] == ["Unknown field."]

        # missing required fields
        required = {name for name, f in fields.items() if f.is_required()}
        if required:
            r = _call(client, method, url, json={})
            assert r.status_code == 422, rule.rule
            assert required <= set(error_of(r)["fields"]), (rule.rule, error_of(r)["fields"])

        # wrong types: a list of lists fits no field of any body
        if fields:
            r = _call(client, method, url, json={name: [[]] for name in fields})
            assert r.status_code == 422, rule.rule
            assert set(fields) <= {k.split(".")[0] for k in error_of(r)["fields"]}, (rule.rule, error_of(r))

        # not an object
        r = _call(client, method, url, json=[1, 2])
        assert r.status_code == 422 and "body" in error_of(r)["fields"], rule.rule

        # malformed JSON
        r = _call(client, method, url, data="{not json", content_type="application/json")
        assert r.status_code == 400 and error_of(r)["code"] == "malformed_json", rule.rule

        # not JSON at all
        r = _call(client, method, url, data="a=1", content_type="application/x-www-form-urlencoded")
        assert r.status_code == 415 and error_of(r)["code"] == "unsupported_media_type", rule.rule

        # oversized
        big = json.dumps({"x": "a" * (app.config["MAX_CONTENT_LENGTH"] + 10)})
        r = _call(client, method, url, data=big, content_type="application/json")
        assert r.status_code == 413 and error_of(r)["code"] == "payload_too_large", rule.rule

        assert _row_count(db) == before, rule.rule
        auth.logout()


def test_bad_query_parameters_get_field_errors(client, auth):
    auth.as_role("admin")
    r = client.get("/api/v1/admin/audit?limit=abc")
    assert r.status_code == 422 and "limit" in error_of(r)["fields"]
    r = client.get("/api/v1/admin/staff?role=wizard")
    assert r.status_code == 422 and "role" in error_of(r)["fields"]
    r = client.get("/api/v1/admin/staff?colour=blue")
    assert r.status_code == 422 and error_of(r)["fields"]["colour"] == ["Unknown field."]


@pytest.mark.parametrize("sent, accepted", [(3, 3), (3.0, 3), (-0.0, 0), (3.5, None), ("3", None), (True, None),
                                            (1e30, None)])
def test_an_integer_field_takes_a_whole_number_written_as_a_float_as_json_schema_does(app, sent, accepted):
    """JSON Schema's "integer" is any number with a zero fractional part: 3.0 is one, 3.5 and "3" are not."""
    from pydantic import Field

    from telehealth.api import Schema, parse_body
    from telehealth.errors import ValidationFailed

    class Body(Schema):
        count: int = Field(ge=-10, le=10)
        maybe: int | None = None
        many: list[int] = []

    payload = json.dumps({"count": sent, "maybe": sent, "many": [sent]})
    with app.test_request_context(data=payload, content_type="application/json"):
        if accepted is None:
            with pytest.raises(ValidationFailed) as refused:
                parse_body(Body)
            assert set(refused.value.fields) >= {"count", "maybe"}
        else:
            body = parse_body(Body)
            assert (body.count, body.maybe, body.many) == (accepted, accepted, [accepted])
            assert all(type(v) is int for v in (body.count, body.maybe, *body.many))

"""The OpenAPI document says what the app does: every path parameter declared with its converter's
schema, every media type a success may take, every error an endpoint's declaration implies; and the
URL converters answer an id out of range with a 404 on every method."""
from __future__ import annotations

import re

import pytest

from telehealth.api import PUBLIC, route_specs
from telehealth.schemas.common import MAX_DB_ID, US_STATES
from tests.conftest import error_of

LICENSE = "/api/v1/admin/physicians/{physician_id}/licenses/{state}"


@pytest.fixture
def doc(client):
    return client.get("/api/v1/openapi.json").get_json()


def _param(op, name):
    return next(p for p in op["parameters"] if p["name"] == name and p["in"] == "path")


def test_every_path_template_names_declared_path_parameters(doc):
    assert LICENSE in doc["paths"]
    for path, ops in doc["paths"].items():
        assert "<" not in path and ":" not in path, path
        names = set(re.findall(r"{(\w+)}", path))
        for method, op in ops.items():
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == names, (method, path)


def test_path_parameters_carry_their_converter_schema(doc):
    put = doc["paths"][LICENSE]["put"]
    state = _param(put, "state")["schema"]
    assert state["type"] == "string"
    pattern = re.compile(state["pattern"])
    assert all(pattern.fullmatch(s) and pattern.fullmatch(s.lower()) for s in US_STATES)
    assert not pattern.fullmatch("ZZ") and not pattern.fullmatch("NYC")
    physician = _param(put, "physician_id")["schema"]
    assert physician == {"type": "integer", "minimum": 1, "maximum": MAX_DB_ID}
    question = _param(doc["paths"]["/api/v1/questionnaires/{qid}"]["get"], "qid")["schema"]
    assert question["type"] == "string"


def test_non_json_responses_declare_their_media_types(doc):
    fhir = doc["paths"]["/api/v1/patients/{patient_id}/fhir"]["get"]["responses"]["200"]["content"]
    assert fhir["application/fhir+json"]["schema"]["type"] == "object"
    receipt = doc["paths"]["/api/v1/orders/{order_id}/receipt"]["get"]["responses"]["200"]["content"]
    assert set(receipt) == {"application/json", "text/html", "application/pdf"}
    assert receipt["application/pdf"]["schema"] == {"type": "string", "format": "binary"}
    superbill = doc["paths"]["/api/v1/patients/{patient_id}/superbill"]["get"]["responses"]["200"]["content"]
    assert set(superbill) == {"application/json", "text/html", "application/pdf"}
    report = doc["paths"]["/api/v1/patients/{patient_id}/progress-report"]["get"]["responses"]["200"]["content"]
    assert set(report) == {"text/html", "application/pdf"}
    record = doc["paths"]["/api/v1/me/record"]["get"]["responses"]["200"]["content"]
    assert set(record) == {"application/json", "application/fhir+json"}
    ics = doc["paths"]["/api/v1/appointments/{appointment_id}/calendar.ics"]["get"]["responses"]["200"]["content"]
    assert set(ics) == {"text/calendar"}


def test_errors_follow_from_each_declaration(app, doc):
    for path, method, rule, spec in route_specs(app):
        responses = doc["paths"][path][method]["responses"]
        codes = {int(c) for c in responses}
        if spec.auth != PUBLIC:
            assert 401 in codes, (method, path)
        if spec.roles:
            assert 403 in codes, (method, path)
        if rule.arguments:
            assert 404 in codes, (method, path)
            if spec.auth != PUBLIC:
                assert 403 in codes, (method, path)  # someone else's record
        if spec.body is not None:
            assert {400, 413, 415, 422} <= codes, (method, path)
        if spec.query is not None:
            assert 422 in codes, (method, path)
        assert set(spec.errors) <= codes


@pytest.mark.parametrize("method, url", [
    ("GET", f"/api/v1/admin/staff/{MAX_DB_ID + 1}"),
    ("PATCH", f"/api/v1/admin/staff/{MAX_DB_ID + 1}"),
    ("PATCH", "/api/v1/admin/staff/99999999999999999999"),
    ("PATCH", "/api/v1/admin/staff/0"),
    ("DELETE", "/api/v1/admin/physicians/1/licenses/ZZ"),
    ("PUT", f"/api/v1/admin/physicians/{MAX_DB_ID + 1}/licenses/NY"),
    ("POST", f"/api/v1/me/sessions/{MAX_DB_ID + 1}/cancel"),
])
def test_an_id_out_of_range_is_a_404_on_every_method(client, auth, method, url):
    auth.as_role("admin")
    r = client.open(url, method=method, json={})
    assert r.status_code == 404, (method, url)
    assert error_of(r)["code"] == "not_found"


def test_the_largest_id_still_routes(client, auth):
    auth.as_role("admin")
    r = client.patch(f"/api/v1/admin/staff/{MAX_DB_ID}", json={})
    assert r.status_code == 404 and error_of(r)["code"] == "not_found"

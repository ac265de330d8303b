"""Staff administration: accounts created by an admin, physician credentials and licenses, care
team assignments and the audit trail."""
from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs, urlparse

from sqlalchemy import func, select

from telehealth.models import AuditEvent, OutboxMail
from tests.conftest import PASSWORD, _npi, error_of

PHYSICIAN = {
    "email": "new.doc@example.org", "role": "physician", "display_name": "Dr. New Doc",
    "time_zone": "America/Chicago", "npi": _npi(777), "dea_number": "AB1234563",
    "dea_expires_on": "2030-01-31",
    "licenses": [{"state": "il", "license_number": "IL-1", "expires_on": "2030-06-30"},
                 {"state": "WI", "license_number": "WI-9", "expires_on": "2029-06-30"}],
}


def test_admin_creates_a_physician_who_sets_a_password_by_invitation(client, auth, db, app):
    auth.as_role("admin")
    r = client.post("/api/v1/admin/staff", json=PHYSICIAN)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["role"] == "physician"
    assert [lic["state"] for lic in body["physician"]["licenses"]] == ["IL", "WI"]
    assert body["physician"]["dea_number"] == "AB1234563"

    mail = db.session.scalar(select(OutboxMail).where(OutboxMail.to_address == "new.doc@example.org"))
    assert mail.kind == "invitation"
    token = parse_qs(urlparse(next(l for l in mail.body.splitlines() if "token=" in l)).query)["token"][0]
    newcomer = app.test_client()
    r = newcomer.post("/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": "my own passphrase"})
    assert r.status_code == 204
    r = newcomer.post("/api/v1/auth/login", json={"email": "new.doc@example.org", "password": "my own passphrase"})
    assert r.status_code == 200 and r.get_json()["role"] == "physician"


def test_staff_creation_checks_credentials(client, auth, create_user):
    auth.as_role("admin")
    cases = [
        ({"npi": None}, "npi"),
        ({"npi": "1234567890"}, "npi"),  # wrong check digit
        ({"dea_number": "AB1234567"}, "dea_number"),
        ({"dea_expires_on": None}, "dea_expires_on"),
        ({"licenses": [PHYSICIAN["licenses"][0], PHYSICIAN["licenses"][0]]}, "licenses"),
        ({"licenses": [{"state": "XX", "license_number": "1", "expires_on": "2030-01-01"}]}, "licenses.0.state"),
        ({"role": "patient"}, "role"),
        ({"role": "wizard"}, "role"),
    ]
    for changes, field in cases:
        r = client.post("/api/v1/admin/staff", json={**PHYSICIAN, **changes})
        assert r.status_code == 422, (changes, r.get_json())
        assert field in error_of(r)["fields"], (changes, error_of(r))
    r = client.post("/api/v1/admin/staff", json={"email": "ops2@example.org", "role": "ops", "display_name": "Ops",
                                                 "time_zone": "America/New_York", "npi": PHYSICIAN["npi"]})
    assert r.status_code == 422 and "npi" in error_of(r)["fields"]


def test_duplicate_email_or_npi_is_refused(client, auth, create_user):
    auth.as_role("admin")
    existing = create_user("physician")
    r = client.post("/api/v1/admin/staff", json={**PHYSICIAN, "email": existing.email})
    assert r.status_code == 409
    r = client.post("/api/v1/admin/staff", json={**PHYSICIAN, "npi": existing.physician_profile.npi})
    assert r.status_code == 422 and "npi" in error_of(r)["fields"]


def test_list_and_get_staff(client, auth, create_user, count_queries):
    auth.as_role("admin")
    for states in (["NY"], ["CA", "TX"], ["FL"]):
        create_user("physician", states=states)
    create_user("coach")
    create_user("patient")
    r = client.get("/api/v1/admin/staff?role=physician")
    assert r.status_code == 200
    physicians = r.get_json()["items"]
    assert len(physicians) == 3 and all(p["role"] == "physician" for p in physicians)
    everyone = client.get("/api/v1/admin/staff").get_json()["items"]
    assert {u["role"] for u in everyone} == {"physician", "coach", "admin"}
    # listing does not run a query per staff member
    for _ in range(5):
        create_user("physician", states=["NY", "NJ"])
    with count_queries() as few:
        client.get("/api/v1/admin/staff?role=physician")
    for _ in range(10):
        create_user("physician", states=["NY", "NJ"])
    with count_queries() as many:
        client.get("/api/v1/admin/staff?role=physician")
    assert many.count == few.count
    one = physicians[0]
    assert client.get(f"/api/v1/admin/staff/{one['id']}").get_json()["email"] == one["email"]


def test_patients_are_not_staff(client, auth, create_user):
    auth.as_role("admin")
    patient = create_user("patient")
    assert client.get(f"/api/v1/admin/staff/{patient.id}").status_code == 404
    assert client.patch(f"/api/v1/admin/staff/{patient.id}", json={"active": False}).status_code == 404


def test_deactivating_staff_ends_their_sessions(client, app, auth, create_user, db):
    coach = create_user("coach")
    coach_client = app.test_client()
    coach_client.post("/api/v1/auth/login", json={"email": coach.email, "password": PASSWORD})
    assert coach_client.get("/api/v1/me").status_code == 200
    admin = auth.as_role("admin")
    r = client.patch(f"/api/v1/admin/staff/{coach.id}", json={"active": False})
    assert r.status_code == 200 and r.get_json()["active"] is False
    assert coach_client.get("/api/v1/me").status_code == 401
    assert coach_client.post("/api/v1/auth/login", json={"email": coach.email, "password": PASSWORD}).status_code == 401
    r = client.patch(f"/api/v1/admin/staff/{admin.id}", json={"active": False})
    assert r.status_code == 422 and "active" in error_of(r)["fields"]


def test_update_staff_fields_by_role(client, auth, create_user):
    auth.as_role("admin")
    doc = create_user("physician")
    coach = create_user("coach")
    r = client.patch(f"/api/v1/admin/staff/{doc.id}", json={"dea_number": "AB1234563", "dea_expires_on": "2031-01-01"})
    assert r.status_code == 200 and r.get_json()["physician"]["dea_number"] == "AB1234563"
    r = client.patch(f"/api/v1/admin/staff/{coach.id}", json={"dea_number": "AB1234563"})
    assert r.status_code == 422 and "dea_number" in error_of(r)["fields"]
    r = client.patch(f"/api/v1/admin/staff/{coach.id}", json={"bio": "Breathwork."})
    assert r.status_code == 200 and r.get_json()["coach"]["bio"] == "Breathwork."


def test_licenses_are_added_renewed_and_removed(client, auth, create_user):
    auth.as_role("admin")
    doc = create_user("physician", states=["NY"])
    r = client.put(f"/api/v1/admin/physicians/{doc.id}/licenses/ca",
                   json={"license_number": "CA-77", "expires_on": "2031-12-31"})
    assert r.status_code == 200 and r.get_json()["state"] == "CA"
    r = client.put(f"/api/v1/admin/physicians/{doc.id}/licenses/CA",
                   json={"license_number": "CA-78", "expires_on": "2032-12-31"})
    assert r.get_json()["license_number"] == "CA-78"
    licenses = client.get(f"/api/v1/admin/staff/{doc.id}").get_json()["physician"]["licenses"]
    assert [lic["state"] for lic in licenses] == ["CA", "NY"] and licenses[0]["license_number"] == "CA-78"
    assert client.delete(f"/api/v1/admin/physicians/{doc.id}/licenses/NY").status_code == 204
    assert client.delete(f"/api/v1/admin/physicians/{doc.id}/licenses/NY").status_code == 404
    assert client.put(f"/api/v1/admin/physicians/{doc.id}/licenses/ZZ",
                      json={"license_number": "x", "expires_on": "2031-01-01"}).status_code == 404
    coach = create_user("coach")
    assert client.put(f"/api/v1/admin/physicians/{coach.id}/licenses/CA",
                      json={"license_number": "x", "expires_on": "2031-01-01"}).status_code == 404


def test_license_validity_by_date(create_user):
    doc = create_user("physician", states=["NY"], license_expires=date(2030, 6, 30))
    profile = doc.physician_profile
    assert profile.license_for("NY", date(2030, 6, 30)) is not None
    assert profile.license_for("NY", date(2030, 7, 1)) is None
    assert profile.license_for("CA", date(2029, 1, 1)) is None


def test_care_assignments(client, auth, create_user, db):
    auth.as_role("ops")
    patient, coach, doc, other = create_user("patient"), create_user("coach"), create_user("physician"), create_user("ops")
    r = client.post("/api/v1/admin/care-assignments", json={"patient_id": patient.id, "staff_id": coach.id})
    assert r.status_code == 201 and r.get_json()["care_role"] == "coach"
    assignment_id = r.get_json()["id"]
    r = client.post("/api/v1/admin/care-assignments", json={"patient_id": patient.id, "staff_id": coach.id})
    assert r.status_code == 409
    r = client.post("/api/v1/admin/care-assignments", json={"patient_id": patient.id, "staff_id": other.id})
    assert r.status_code == 422 and "staff_id" in error_of(r)["fields"]
    r = client.post("/api/v1/admin/care-assignments", json={"patient_id": coach.id, "staff_id": doc.id})
    assert r.status_code == 422 and "patient_id" in error_of(r)["fields"]
    r = client.delete(f"/api/v1/admin/care-assignments/{assignment_id}")
    assert r.status_code == 200 and r.get_json()["ended_at"] is not None
    assert client.delete(f"/api/v1/admin/care-assignments/{assignment_id}").status_code == 404
    r = client.post("/api/v1/admin/care-assignments", json={"patient_id": patient.id, "staff_id": coach.id})
    assert r.status_code == 201  # a new assignment after the old one ended


def test_audit_trail_records_changes_and_pages(client, auth, create_user, db):
    admin = auth.as_role("admin")
    patient = create_user("patient")
    coach = create_user("coach")
    client.post("/api/v1/admin/care-assignments", json={"patient_id": patient.id, "staff_id": coach.id})
    client.get(f"/api/v1/patients/{patient.id}")
    events = client.get(f"/api/v1/admin/audit?patient_id={patient.id}").get_json()["items"]
    assert [(e["action"], e["resource_type"], e["actor_id"]) for e in events] == [
        ("read", "patient_profile", admin.id), ("create", "care_assignment", admin.id)]
    assert all(e["request_id"] for e in events)
    total = db.session.scalar(select(func.count()).select_from(AuditEvent))
    page1 = client.get("/api/v1/admin/audit?limit=2").get_json()
    assert len(page1["items"]) == 2 and page1["next_before_id"] == page1["items"][-1]["id"]
    page2 = client.get(f"/api/v1/admin/audit?limit=2&before_id={page1['next_before_id']}").get_json()
    assert page2["items"][0]["id"] < page1["items"][-1]["id"]
    assert total == 3  # the admin's login, the assignment, the read

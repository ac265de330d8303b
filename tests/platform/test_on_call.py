"""Someone is always on call: the rota admin keeps (who, when, phone), paging whoever is on call (or
every active physician and the fallback number), re-paging and escalating an urgent alert nobody
acknowledged, /readyz when nobody is on call, and which physician sees which alert."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import func, select

from telehealth.clock import now
from telehealth.models import (
    AlertPage, AlertStatus, AuditEvent, CareAssignment, CareRole, ClinicalAlert, OnCallShift, OutboundMessage,
)
from telehealth.services.messaging import notifications
from telehealth.services.platform import on_call
from tests.conftest import error_of

FALLBACK = "+13125550190"
T0 = datetime(2026, 3, 10, 14, 0, tzinfo=timezone.utc)
URGENT_BODY = "Urgent alert for a patient: log in to review."


@pytest.fixture
def clock(app, monkeypatch):
    monkeypatch.setitem(app.config, "ON_CALL_FALLBACK_PHONE", FALLBACK)
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def physician(db, create_user):
    """physician(phone=None, **fields): an active physician, reachable at `phone`."""
    def make(phone: str | None = None, **fields):
        user = create_user("physician", **fields)
        user.physician_profile.phone_e164 = phone
        db.session.commit()
        return user
    return make


def shift(db, user, starts_at, ends_at, phone=None) -> OnCallShift:
    row = OnCallShift(physician_id=user.id, starts_at=starts_at, ends_at=ends_at,
                      phone_e164=phone or user.physician_profile.phone_e164, created_at=now())
    db.session.add(row)
    db.session.commit()
    return row


def texts_to(db, phone) -> list[OutboundMessage]:
    return list(db.session.scalars(select(OutboundMessage).where(OutboundMessage.to_phone == phone)
                                   .order_by(OutboundMessage.id)))


def paged_phones(db) -> list[str]:
    return sorted(db.session.scalars(select(OutboundMessage.to_phone).where(OutboundMessage.purpose == "alert")))


def urgent_alert(db, patient_id=None, urgency="urgent") -> ClinicalAlert:
    alert = ClinicalAlert(kind="crisis", urgency=urgency, patient_id=patient_id, summary="clinical words")
    db.session.add(alert)
    db.session.commit()
    return alert


def on_team(db, physician_user, patient) -> None:
    db.session.add(CareAssignment(patient_id=patient.id, staff_id=physician_user.id, care_role=CareRole.PHYSICIAN))
    db.session.commit()


# --------------------------------------------------------------------------- the rota (admin)


def test_admin_keeps_the_rota_and_every_change_is_audited(client, auth, db, physician, clock):
    dr_a, dr_b = physician("+13125550101"), physician()
    admin = auth.as_role("admin")
    r = client.post("/api/v1/admin/on-call/shifts", json={
        "physician_id": dr_a.id, "starts_at": T0.isoformat(), "ends_at": (T0 + timedelta(hours=12)).isoformat()})
    assert r.status_code == 201, r.get_json()
    first = r.get_json()
    assert first["phone"] == "+13125550101" and first["created_by"] == admin.id  # the physician's own phone
    # half-open: the next shift may start the instant the first ends; an overlapping one is refused
    r = client.post("/api/v1/admin/on-call/shifts", json={
        "physician_id": dr_b.id, "starts_at": (T0 + timedelta(hours=11)).isoformat(),
        "ends_at": (T0 + timedelta(hours=24)).isoformat(), "phone": "(312) 555-0102"})
    assert r.status_code == 409 and "starts_at" in error_of(r)["fields"]
    r = client.post("/api/v1/admin/on-call/shifts", json={
        "physician_id": dr_b.id, "starts_at": (T0 + timedelta(hours=12)).isoformat(),
        "ends_at": (T0 + timedelta(hours=24)).isoformat(), "phone": "(312) 555-0102"})
    assert r.status_code == 201 and r.get_json()["phone"] == "+13125550102"
    second = r.get_json()

    items = client.get("/api/v1/admin/on-call/shifts").get_json()["items"]
    assert [(i["id"], i["physician_id"]) for i in items] == [(first["id"], dr_a.id), (second["id"], dr_b.id)]
    later = client.get("/api/v1/admin/on-call/shifts", query_string={
        "since": (T0 + timedelta(hours=13)).isoformat(), "until": (T0 + timedelta(days=2)).isoformat()})
    assert [i["id"] for i in later.get_json()["items"]] == [second["id"]]

    clock.shift(timedelta(minutes=10))  # (within the staff idle logoff)
    assert client.delete(f"/api/v1/admin/on-call/shifts/{first['id']}").status_code == 204  # under way: ends now
    assert db.session.get(OnCallShift, first["id"]).ends_at == now()
    assert client.delete(f"/api/v1/admin/on-call/shifts/{second['id']}").status_code == 204  # not started: gone
    assert db.session.get(OnCallShift, second["id"]) is None
    assert client.delete(f"/api/v1/admin/on-call/shifts/{first['id']}").status_code == 409  # already over
    assert client.delete("/api/v1/admin/on-call/shifts/999999").status_code == 404
    audited = db.session.execute(select(AuditEvent.action, AuditEvent.resource_id).where(
        AuditEvent.resource_type == "on_call_shift", AuditEvent.actor_id == admin.id)
        .order_by(AuditEvent.id)).all()
    assert audited == [("create", str(first["id"])), ("create", str(second["id"])),
                       ("update", str(first["id"])), ("delete", str(second["id"]))]


@pytest.mark.parametrize("change, field", [
    ({"phone": "555"}, "phone"),
    ({"ends_at": "2026-03-10T13:00:00+00:00"}, "ends_at"),                       # before it starts
    ({"starts_at": "2026-03-09T10:00:00+00:00", "ends_at": "2026-03-09T12:00:00+00:00"}, "ends_at"),  # over
    ({"starts_at": "2026-03-10T14:00:00"}, "starts_at"),                          # no offset
    ({"physician_id": "coach"}, "physician_id"),
    ({"physician_id": "no_phone", "phone": None}, "phone"),
    ({"physician_id": 0}, "physician_id"),
])
def test_a_bad_shift_is_a_field_error(client, auth, db, physician, create_user, clock, change, field):
    ids = {"coach": create_user("coach").id, "no_phone": physician().id}
    body = {"physician_id": physician("+13125550101").id, "starts_at": T0.isoformat(),
            "ends_at": (T0 + timedelta(hours=8)).isoformat(), "phone": "+13125550103"}
    body.update({k: ids.get(v, v) if k == "physician_id" else v for k, v in change.items()})
    auth.as_role("admin")
    r = client.post("/api/v1/admin/on-call/shifts", json=body)
    assert r.status_code == 422 and field in error_of(r)["fields"], r.get_json()
    assert db.session.scalar(select(func.count()).select_from(OnCallShift)) == 0


def test_only_admin_keeps_the_rota_and_staff_see_who_is_on_call(client, auth, db, physician, clock):
    dr_a, dr_b = physician("+13125550101"), physician("+13125550102")
    now_shift = shift(db, dr_a, T0 - timedelta(hours=2), T0 + timedelta(hours=6))
    shift(db, dr_b, T0 + timedelta(hours=6), T0 + timedelta(hours=18))
    auth.as_role("ops")
    assert client.post("/api/v1/admin/on-call/shifts", json={}).status_code == 403
    body = client.get("/api/v1/on-call/now").get_json()
    assert [s["id"] for s in body["on_call"]] == [now_shift.id] and body["on_call"][0]["phone"] == "+13125550101"
    assert body["next"]["physician_id"] == dr_b.id
    r = client.get("/api/v1/admin/on-call/shifts", query_string={"since": T0.isoformat(),
                                                                   "until": (T0 - timedelta(hours=1)).isoformat()})
    assert r.status_code == 403  # not admin
    auth.logout()
    auth.as_role("patient")
    assert client.get("/api/v1/on-call/now").status_code == 403


def test_listing_the_rota_checks_its_window(client, auth, clock):
    auth.as_role("admin")
    r = client.get("/api/v1/admin/on-call/shifts", query_string={"since": T0.isoformat(),
                                                                   "until": (T0 - timedelta(hours=1)).isoformat()})
    assert r.status_code == 422 and "until" in error_of(r)["fields"]
    r = client.get("/api/v1/admin/on-call/shifts", query_string={"since": T0.isoformat(),
                                                                   "until": (T0 + timedelta(days=200)).isoformat()})
    assert r.status_code == 422 and "until" in error_of(r)["fields"]


def test_admin_records_a_physicians_phone_and_only_a_physicians(client, auth, db, physician, create_user):
    dr = physician()
    coach = create_user("coach")
    auth.as_role("admin")
    r = client.patch(f"/api/v1/admin/staff/{dr.id}", json={"phone": "312 555 0107"})
    assert r.status_code == 200 and r.get_json()["physician"]["phone"] == "+13125550107"
    r = client.patch(f"/api/v1/admin/staff/{coach.id}", json={"phone": "312 555 0107"})
    assert r.status_code == 422 and "phone" in error_of(r)["fields"]
    r = client.patch(f"/api/v1/admin/staff/{dr.id}", json={"phone": "12"})
    assert r.status_code == 422 and "phone" in error_of(r)["fields"]


# --------------------------------------------------------------------------- paging


def test_an_urgent_alert_pages_whoever_is_on_call_at_their_shift_phone(db, physician, clock):
    dr_a = physician("+13125550101")
    physician("+13125550102")  # another active physician: not paged while someone is on call
    shift(db, dr_a, T0 - timedelta(hours=1), T0 + timedelta(hours=8), phone="+13125550111")  # a pager, not their own
    alert = urgent_alert(db)
    assert notifications.deliver_clinical_alerts() == 1
    assert paged_phones(db) == ["+13125550111"]
    assert texts_to(db, "+13125550111")[0].body == URGENT_BODY
    db.session.expire_all()
    alert = db.session.get(ClinicalAlert, alert.id)
    assert alert.status is AlertStatus.DELIVERED and alert.page_rounds == 1 and alert.last_paged_at == T0
    [page] = db.session.scalars(select(AlertPage)).all()
    assert (page.user_id, page.reason, page.round, page.paged_at) == (dr_a.id, "on_call", 0, T0)


def test_with_nobody_on_call_every_active_physician_and_the_fallback_are_paged(db, physician, clock):
    dr_a, dr_b = physician("+13125550101"), physician("+13125550102")
    physician("+13125550103", active=False)  # deactivated: never paged
    physician()                              # no phone on file
    over = physician("+13125550104")
    shift(db, over, T0 - timedelta(hours=8), T0)  # ended at T0: half-open, not on call now
    urgent_alert(db)
    urgent_alert(db, urgency="routine")  # waits in the list, pages nobody
    assert notifications.deliver_clinical_alerts() == 1
    assert paged_phones(db) == sorted(["+13125550101", "+13125550102", "+13125550104", FALLBACK])
    reasons = {p.phone_e164: (p.user_id, p.reason) for p in db.session.scalars(select(AlertPage))}
    assert reasons[FALLBACK] == (None, "fallback") and reasons["+13125550101"] == (dr_a.id, "everyone")
    assert reasons["+13125550102"] == (dr_b.id, "everyone")


def test_an_alert_nobody_can_be_paged_for_stays_pending(db, app, monkeypatch, clock, caplog):
    monkeypatch.setitem(app.config, "ON_CALL_FALLBACK_PHONE", None)
    alert = urgent_alert(db)
    assert notifications.deliver_clinical_alerts() == 0
    assert db.session.get(ClinicalAlert, alert.id).status is AlertStatus.PENDING
    assert "nobody can be paged" in caplog.text


def test_an_unacknowledged_alert_is_paged_again_after_5_minutes_one_rung_up(client, auth, db, physician,
                                                                            create_user, clock):
    on_now, on_next = physician("+13125550101"), physician("+13125550102")
    own, other = physician("+13125550103"), physician("+13125550104")
    shift(db, on_now, T0 - timedelta(hours=1), T0 + timedelta(hours=8))
    shift(db, on_next, T0 + timedelta(hours=8), T0 + timedelta(hours=20))
    patient = create_user("patient")
    on_team(db, own, patient)
    alert = urgent_alert(db, patient.id)
    assert notifications.deliver_clinical_alerts() == 1
    assert paged_phones(db) == ["+13125550101"]

    clock.shift(timedelta(minutes=4, seconds=59))
    assert notifications.repage_unacknowledged() == 0  # not yet
    clock.shift(timedelta(seconds=1))
    assert notifications.repage_unacknowledged() == 1  # round 1: again, plus the care team and the next shift
    assert paged_phones(db) == ["+13125550101", "+13125550101", "+13125550102", "+13125550103"]
    round_1 = {(p.user_id, p.reason) for p in db.session.scalars(select(AlertPage).where(AlertPage.round == 1))}
    assert round_1 == {(on_now.id, "on_call"), (own.id, "care_team"), (on_next.id, "next_shift")}

    clock.shift(timedelta(minutes=5))
    assert notifications.repage_unacknowledged() == 1  # round 2: everyone, and the fallback number
    round_2 = {p.phone_e164 for p in db.session.scalars(select(AlertPage).where(AlertPage.round == 2))}
    assert round_2 == {"+13125550101", "+13125550102", "+13125550103", "+13125550104", FALLBACK}
    assert other.id in set(db.session.scalars(select(AlertPage.user_id).where(AlertPage.round == 2)))

    auth.login(on_now)
    assert client.post(f"/api/v1/alerts/{alert.id}/acknowledge").status_code == 200
    sent = len(paged_phones(db))
    clock.shift(timedelta(minutes=30))
    assert notifications.repage_unacknowledged() == 0  # acknowledged: the paging stops
    assert len(paged_phones(db)) == sent


def test_two_sweeps_at_once_page_each_round_once(db, physician, clock):
    dr = physician("+13125550101")
    shift(db, dr, T0 - timedelta(hours=1), T0 + timedelta(hours=8))
    alert = urgent_alert(db)
    assert notifications.deliver_clinical_alerts() == 1
    assert notifications.deliver_clinical_alerts() == 0  # delivered: not paged twice
    clock.shift(timedelta(minutes=5))
    seen_by_the_other_process = db.session.get(ClinicalAlert, alert.id).page_rounds
    assert notifications.repage_unacknowledged() == 1
    assert notifications.repage_unacknowledged() == 0
    # a second process that read the alert before the first claimed the round loses the claim
    assert notifications._page_round(alert, seen_by_the_other_process, now()) is False
    assert paged_phones(db) == ["+13125550101", "+13125550101"]
    assert db.session.scalar(select(func.count()).select_from(AlertPage)) == 2


# --------------------------------------------------------------------------- readiness


def test_readiness_is_degraded_but_serving_when_nobody_is_on_call(client, db, physician, clock):
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.get_json() == {"status": "degraded", "on_call": "nobody", "physicians_without_phone": 0}
    shift(db, physician("+13125550101"), T0, T0 + timedelta(hours=1))
    assert client.get("/readyz").get_json() == {"status": "ready", "on_call": "covered", "physicians_without_phone": 0}
    clock.shift(timedelta(hours=1))
    assert client.get("/readyz").get_json()["status"] == "degraded"


def test_readiness_counts_active_physicians_who_cannot_be_paged(client, db, physician, create_user, clock):
    """A physician with no phone is left out of every page: readiness says how many (still serving,
    and not degraded while someone is on call: the escalation rounds just reach fewer people)."""
    on_call_doctor = physician("+13125550101")
    shift(db, on_call_doctor, T0, T0 + timedelta(hours=1))
    create_user("physician", states=["NY"])  # no phone
    gone = create_user("physician", states=["NY"])
    gone.active = False  # an inactive physician is never paged anyway
    db.session.commit()
    body = client.get("/readyz").get_json()
    assert body == {"status": "ready", "on_call": "covered", "physicians_without_phone": 1}


# --------------------------------------------------------------------------- who sees which alert


def _listed(client, **query) -> list[int]:
    r = client.get("/api/v1/alerts", query_string=query)
    assert r.status_code == 200, r.get_json()
    return [a["id"] for a in r.get_json()["items"]]


def test_a_physician_sees_their_patients_alerts_and_urgent_ones_only_while_on_call(client, auth, db, physician,
                                                                                   create_user, clock):
    dr_a, dr_b, dr_c = physician("+13125550101"), physician("+13125550102"), physician("+13125550103")
    patient_b = create_user("patient")
    on_team(db, dr_b, patient_b)
    c_shift = shift(db, dr_c, T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    routine = urgent_alert(db, patient_b.id, urgency="routine")
    urgent = urgent_alert(db, patient_b.id)
    unowned = urgent_alert(db, create_user("patient").id, urgency="routine")  # no physician yet: the team's

    auth.login(dr_a)
    assert _listed(client) == [unowned.id]  # B's patient: neither alert (C is on call, not A)
    r = client.post(f"/api/v1/alerts/{routine.id}/acknowledge")
    assert r.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "denied", AuditEvent.actor_id == dr_a.id)) == 1
    assert client.post(f"/api/v1/alerts/{urgent.id}/acknowledge").status_code == 403

    c_shift.ends_at = T0  # C's shift ends; A takes over
    db.session.commit()
    shift(db, dr_a, T0, T0 + timedelta(hours=8))
    assert set(_listed(client)) == {urgent.id, unowned.id}  # on call: every urgent one, never the routine one
    r = client.post(f"/api/v1/alerts/{urgent.id}/acknowledge")
    assert r.status_code == 200
    acked = r.get_json()
    assert acked["acknowledged_by"] == dr_a.id and datetime.fromisoformat(acked["acknowledged_at"]) == T0
    assert client.post(f"/api/v1/alerts/{routine.id}/acknowledge").status_code == 403

    auth.logout()
    auth.login(dr_b)  # the patient's own physician still sees it, with who acknowledged it and when
    assert set(_listed(client)) == {routine.id, unowned.id}  # open ones
    [seen] = [a for a in client.get("/api/v1/alerts", query_string={"status": "all"}).get_json()["items"]
              if a["id"] == urgent.id]
    assert seen["status"] == "acknowledged" and seen["acknowledged_by"] == dr_a.id
    assert _listed(client, status="acknowledged") == [urgent.id]
    assert client.get("/api/v1/alerts", query_string={"status": "mine"}).status_code == 422


def test_with_nobody_on_call_every_physician_sees_urgent_alerts(client, auth, db, physician, create_user, clock):
    dr_a, dr_b = physician(), physician()
    patient_b = create_user("patient")
    on_team(db, dr_b, patient_b)
    urgent = urgent_alert(db, patient_b.id)
    urgent_alert(db, patient_b.id, urgency="routine")
    auth.login(dr_a)
    assert _listed(client) == [urgent.id]  # every physician is paged then, so every physician may act


def test_ops_alerts_are_unaffected_by_the_rota(client, auth, db, physician, clock):
    ops_alert = ClinicalAlert(kind="shipment_ship_breach", urgency="urgent", recipient="ops", summary="late")
    db.session.add(ops_alert)
    db.session.commit()
    assert notifications.deliver_clinical_alerts() == 0  # never paged
    auth.as_role("ops")
    assert [a["id"] for a in client.get("/api/v1/ops/alerts").get_json()["items"]] == [ops_alert.id]
    auth.logout()
    auth.login(physician())
    assert _listed(client) == []


# --------------------------------------------------------------------------- the demo


def test_seed_demo_fills_the_rota_for_the_next_14_days(runner, db, clock):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    for hours in range(0, 14 * 24, 6):
        assert len(on_call.on_call_at(T0 + timedelta(hours=hours))) == 1, hours
    physicians = set(db.session.scalars(select(OnCallShift.physician_id)))
    assert len(physicians) >= 2  # taken in turn across the demo physicians
    count = db.session.scalar(select(func.count()).select_from(OnCallShift))
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(OnCallShift)) == count  # idempotent
    clock.shift(timedelta(hours=30, minutes=20))  # a day later, mid-shift: topped up with no gap
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    for hours in range(0, 14 * 24):
        assert len(on_call.on_call_at(now() + timedelta(hours=hours))) == 1, hours


def test_postgresql_itself_refuses_overlapping_shifts(db, physician, is_postgres, clock):
    """Two admins adding overlapping shifts at once: the exclusion constraint keeps the rota whole."""
    if not is_postgres:
        pytest.skip("SQLite runs writes one at a time; the service's check covers it")
    from sqlalchemy.exc import IntegrityError

    dr_a, dr_b = physician("+13125550101"), physician("+13125550102")
    shift(db, dr_a, T0, T0 + timedelta(hours=8))
    shift(db, dr_b, T0 + timedelta(hours=8), T0 + timedelta(hours=9))  # touching is fine (half-open)
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(OnCallShift(physician_id=dr_b.id, starts_at=T0 + timedelta(hours=7),
                                   ends_at=T0 + timedelta(hours=10), phone_e164="+13125550102", created_at=now()))
        db.session.flush()

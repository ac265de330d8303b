"""Drive the whole journey over HTTP, as its users would, against a running `make run`.

    .venv/bin/python scripts/demo_journey.py [--base-url URL] [--pharmacy-url URL]

Screening to follow-up, as in the README: a new person screens anonymously and signs up; a physician
licensed in NY approves; the patient agrees to texts, buys the Starter, books the earliest consult and
downloads its .ics. The consult itself needs 12 h notice, so the journey goes on with the seeded
patients: `patient.consult@` (its consult with Dr. Brooks began at seeding: video, the encounter from
the consult's start until now, then, with no admin step, since booking and holding the consult made
Dr. Brooks the patient's physician, the prescription and stage 1 driven through the local pharmacy to
delivered), `patient.ready@` (a session behind its
gates, the post check-in), a crisis text from that patient's phone to the on-call physician, and
`patient.treatment@` (a PHQ-9 retake, Dr. Chen's work list, outcomes and a follow-up decision).

Only the HTTP API (ids from its answers, never the database). Standard library only. One line per
step with the figure it checked; the first failing step exits 1 with what went wrong. A second run
against the same server passes too: what the seeded patients did in an earlier run (their consult is
held once, sessions are 72 h apart) is found through the API and said so.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.cookiejar
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone

PASSWORD = "demo-password-2026"
DOMAIN = "demo.telehealth"
# config/settings.py's development default (the signed Twilio webhook, as `flask sms-receive` signs it)
TWILIO_DEV_TOKEN = "development-twilio-auth-token"


class StepFailed(Exception):
    pass


def now() -> datetime:
    return datetime.now(timezone.utc)


def when(moment: str) -> datetime:
    return datetime.fromisoformat(moment)


def minute(moment: str) -> str:
    """An API timestamp to the minute, with its offset (the viewer's zone)."""
    return when(moment).isoformat(timespec="minutes")


def span(delta: timedelta) -> str:
    if delta < timedelta(0):
        return f"-{span(-delta)}"
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes else f"{delta.total_seconds():.0f} s"


# The demo's published authenticator secret of the staff enrolled before the demo (telehealth/demo.py).
DEMO_TOTP_SECRET = "DEMOTELEHEALTHDEMOTELEHEALTH2345"


def totp_code(secret: str = DEMO_TOTP_SECRET, at: float | None = None) -> str:
    """The authenticator app's 6-digit code now (RFC 6238: HMAC-SHA1 of the 30-second step)."""
    step = int(time.time() if at is None else at) // 30
    digest = hmac.new(base64.b32decode(secret), step.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(int.from_bytes(digest[offset:offset + 4], 'big') & 0x7FFFFFFF) % 1_000_000:06d}"


def check(ok: bool, message: str) -> None:
    if not ok:
        raise StepFailed(message)


class Client:
    """One user's session: a cookie jar and JSON calls under the API root (or to a full URL)."""

    def __init__(self, base: str, who: str):
        self.base, self.who, self.me = base, who, None
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def call(self, method: str, path: str, body=None, *, query: dict | None = None, ok=(200, 201, 204),
             raw: bool = False, form: dict | None = None, headers: dict | None = None):
        url = (path if path.startswith("http") else self.base + "/api/v1" + path) + (
            "?" + urllib.parse.urlencode(query) if query else "")
        data, sent = None, dict(headers or {})
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None or method == "POST":
            data, sent["Content-Type"] = json.dumps(body or {}).encode(), "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=sent)
        try:
            with self.opener.open(request, timeout=30) as response:
                status, text = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, text = exc.code, exc.read()
        except (urllib.error.URLError, OSError) as exc:
            raise StepFailed(f"{method} {url}: no answer ({getattr(exc, 'reason', exc)}); is `make run` serving "
                             "there? (--base-url, --pharmacy-url)") from None
        if status not in ok:
            raise StepFailed(f"{method} {path} as {self.who} answered {status}: {text[:600].decode(errors='replace')}")
        if raw:
            return text.decode()
        return json.loads(text) if text else None


class Journey:
    def __init__(self, base: str, pharmacy: str, twilio_token: str):
        self.base, self.pharmacy, self.twilio_token = base.rstrip("/"), pharmacy.rstrip("/"), twilio_token
        self.sessions: dict[str, Client] = {}
        self.state: dict = {}

    def login(self, local: str) -> Client:
        """The demo user `local@demo.telehealth`, logged in once per run (logins are rate limited)."""
        if local not in self.sessions:
            client = Client(self.base, local)
            for attempt in range(5):
                try:
                    client.call("POST", "/auth/login", {"email": f"{local}@{DOMAIN}", "password": PASSWORD})
                    break
                except StepFailed as exc:
                    if " answered 429" not in str(exc) or attempt == 4:
                        raise
                    print(f"  (login rate limit reached: waiting 20 s before logging in {local})", flush=True)
                    time.sleep(20)
            client.me = client.call("GET", "/me")
            self.sessions[local] = client
        return self.sessions[local]


def say(step: str, text: str) -> None:
    print(f"{step}: {text}", flush=True)


# ------------------------------------------------------------------ 1. screening and sign-up


def items(total: int, scored: int) -> dict:
    values = [total // scored + (1 if i < total % scored else 0) for i in range(scored)]
    return {f"q{i + 1}": v for i, v in enumerate(values)}


def screening_answers(date_of_birth: str, state: str) -> dict:
    """A likely candidate (telehealth/demo.py's `demo_screening_answers`): PHQ-9 16, GAD-7 12, two
    adequate antidepressant trials, nothing in the medical screen."""
    return {
        "phq9": items(16, 8) | {"q9": 0}, "gad7": items(12, 7), "cssrs": {"q1": False, "q2": False, "q6": False},
        "treatment_history": {"antidepressant_trials": [{"name": "sertraline", "weeks": 8, "adequate_dose": True},
                                                        {"name": "bupropion", "weeks": 9, "adequate_dose": True}],
                              "therapy_tried": True},
        "medical": {"date_of_birth": date_of_birth, "state_of_residence": state, "pregnant_or_breastfeeding": False,
                    "psychosis_history": False, "mania_or_bipolar_history": False,
                    "active_substance_use_disorder": False, "hypertension": "none",
                    "blood_pressure": {"systolic": 122, "diastolic": 78}, "vascular_history": [],
                    "raised_intracranial_pressure": False, "heart_disease": "none", "liver_disease": False,
                    "bladder_symptoms": False, "current_medications": ["ssri_snri"]},
    }


def step_screening(j: Journey) -> None:
    visitor = Client(j.base, "an anonymous visitor")
    result = visitor.call("POST", "/assessments", {"questionnaire": "screening", "version": 1,
                                                   "answers": screening_answers("1990-03-15", "NY")})
    check(result["outcome"] == "likely_candidate", f"screening outcome {result['outcome']}, not likely_candidate: "
                                                   f"{result['reasons']}")
    check(bool(result.get("claim_token")), "an anonymous screening came back without a claim token")
    due = when(result["review"]["due_at"]) - now()
    say("screening", f"likely_candidate (PHQ-9 {result['scores']['phq9']['total']}, GAD-7 "
                     f"{result['scores']['gad7']['total']}), review due in {span(due)}")
    email = f"journey.{datetime.now():%Y%m%d%H%M%S}.{uuid.uuid4().hex[:6]}@example.com"
    # a fictional 555 number of its own: a phone is signed up for texts by one account only
    pick = uuid.uuid4().int
    phone = f"+1{('212', '646', '718', '917', '347', '929')[pick % 6]}555{pick // 6 % 10000:04d}"
    patient = Client(j.base, email)
    patient.call("POST", "/auth/signup", {
        "email": email, "password": PASSWORD, "legal_first_name": "Jo", "legal_last_name": "Journey",
        "date_of_birth": "1990-03-15", "state_of_residence": "NY", "time_zone": "America/New_York",
        "phone": phone, "assessment_claim_token": result["claim_token"],
        "shipping_address": {"line1": "1 Journey Lane", "city": "Brooklyn", "state": "NY", "postal_code": "11201"},
        "emergency_contact": {"name": "Sam Journey", "relationship": "sibling", "phone": "+12125550178"}})
    patient.me = patient.call("GET", "/me")
    mine = patient.call("GET", "/me/assessments")["items"]
    check(any(a["id"] == result["id"] for a in mine), f"screening {result['id']} is not in the new account's "
                                                     "/me/assessments after sign-up with its claim token")
    j.state.update(patient=patient, assessment_id=result["id"])
    say("sign-up", f"{email} (patient {patient.me['id']}) holds screening {result['id']}")


# ------------------------------------------------------------------ 2. clinical review


def step_review(j: Journey) -> None:
    doctor = j.login("dr.adams")  # licensed in CA, NY, TX
    queue = doctor.call("GET", "/reviews", query={"limit": 500})["items"]
    mine = next((i for i in queue if i["assessment_id"] == j.state["assessment_id"]), None)
    check(mine is not None, f"screening {j.state['assessment_id']} is not in Dr. Adams's review queue")
    check(mine["patient_id"] == j.state["patient"].me["id"], "the queue shows the screening under another patient")
    doctor.call("POST", f"/reviews/{mine['assessment_id']}/decision",
                {"decision": "approve", "note": "Journey script: approved for a consult."})
    seen = j.state["patient"].call("GET", f"/assessments/{mine['assessment_id']}")
    check(seen["review"]["status"] == "approved", f"the patient sees the review as {seen['review']['status']}")
    say("review", f"Dr. Adams approved screening {mine['assessment_id']} (position {queue.index(mine) + 1} of "
                  f"{len(queue)} in the queue, {span(timedelta(seconds=mine['seconds_left']))} left on the SLA)")


# ------------------------------------------------------------------ 3. texts, Starter, consult booked


def step_purchase_and_book(j: Journey) -> None:
    patient = j.state["patient"]
    patient.call("GET", "/me/sms-consent")  # the words agreed to
    consent = patient.call("POST", "/me/sms-consent", {"agree": True})
    check(consent.get("opted_in") is True, f"texts not agreed to after agreeing: {consent}")
    say("texts", f"agreed to texts (wording {consent['agreed_wording_version']})")
    order = patient.call("POST", "/orders", {"product": "starter"})["order"]
    paid = patient.call("POST", f"/orders/{order['id']}/confirm", {"payment_method": "pm_card_visa"})
    deadline = time.monotonic() + 30
    while True:
        credits = patient.call("GET", "/me/credits")["balances"]
        if credits.get("consult", 0) >= 1:
            break
        check(time.monotonic() < deadline, f"no consult credit 30 s after paying order {order['id']} (order "
                                           f"{paid.get('status', paid)}): did localstripe's webhook reach the app?")
        time.sleep(0.5)
    say("starter", f"order {order['id']} paid ${order['amount_cents'] / 100:.2f}; credits: "
                   + ", ".join(f"{k} {v}" for k, v in sorted(credits.items()) if v))
    start = now()
    slots = patient.call("GET", "/slots", query={"type": "consult", "start": start.isoformat(),
                                                 "end": (start + timedelta(days=14)).isoformat()})["items"]
    check(bool(slots), "no consult slot in the next 14 days")
    first = min(slots, key=lambda s: when(s["starts_at"]))
    booked = patient.call("POST", "/appointments", {"type": "consult", "provider_id": first["provider_id"],
                                                    "starts_at": first["starts_at"]})
    ahead = when(booked["starts_at"]) - now()
    check(ahead >= timedelta(hours=12), f"the consult was booked only {span(ahead)} ahead (12 h notice)")
    ics = patient.call("GET", f"/appointments/{booked['id']}/calendar.ics", raw=True)
    check(ics.startswith("BEGIN:VCALENDAR") and "DTSTART" in ics, "the .ics is not an iCalendar event")
    dtstart = next(line for line in ics.splitlines() if line.startswith("DTSTART"))
    say("consult booked", f"appointment {booked['id']} with {first['provider_name']} at "
                          f"{minute(booked['starts_at'])} (earliest of {len(slots)} slots, in {span(ahead)}); "
                          f".ics {dtstart}")


# ------------------------------------------------------------------ 4. consult, prescription, pharmacy


def step_consult_and_prescribe(j: Journey) -> None:
    patient, doctor = j.login("patient.consult"), j.login("dr.brooks")
    pid = patient.me["id"]
    consults = [a for a in patient.call("GET", "/me/appointments")["items"]
                if a["type"] == "consult" and a["provider_id"] == doctor.me["id"]]
    held = next((a for a in consults if a["status"] == "completed"), None)
    if held is None:
        booked = [a for a in consults if a["status"] == "booked"]
        check(bool(booked), "patient.consult@ has no consult with Dr. Brooks booked: restart `make run` (its seed "
                            "books one for now)")
        consult = max(booked, key=lambda a: a["starts_at"])
        starts = when(consult["starts_at"])
        # the encounter must overlap the booked time: the seed books it from the last 5-minute boundary
        wait = starts + timedelta(seconds=30) - now()
        if wait > timedelta(0):
            check(wait <= timedelta(minutes=15), f"the seeded consult starts at {minute(consult['starts_at'])}, in "
                                                 f"{span(wait)}: too long to wait; restart `make run` to book it for now")
            print(f"  (the consult starts at {minute(consult['starts_at'])}: waiting {span(wait)} for it to begin)",
                  flush=True)
            time.sleep(wait.total_seconds())
        try:
            token = doctor.call("POST", f"/appointments/{consult['id']}/video-token")
            patient.call("POST", f"/appointments/{consult['id']}/video-token")
        except StepFailed as exc:
            raise StepFailed(f"{exc}\n  the seeded consult (starts {consult['starts_at']}) is not open now: restart "
                             "`make run` to book it again for now") from None
        # the encounter: from the appointment's start (or 20 min ago, if later) until now, never in the future
        ended = now() - timedelta(seconds=2)
        started = max(starts, ended - timedelta(minutes=20))
        held = doctor.call("POST", f"/appointments/{consult['id']}/complete", {
            "started_at": started.isoformat(), "ended_at": ended.isoformat(),
            "notes": "Journey script: video consult held; candidate for sublingual ketamine."})
        check(held["status"] == "completed", f"the consult is {held['status']} after recording the encounter")
        say("consult", f"Dr. Brooks joined room {token['room']} and recorded the encounter of appointment "
                       f"{held['id']} ({span(ended - started)})")
    else:
        say("consult", f"appointment {held['id']} was held in an earlier run (its encounter is recorded)")
    # no admin step: booking the consult put Dr. Brooks on the care team, holding it keeps him there
    record = doctor.call("GET", f"/patients/{pid}")
    check("clinical" in record["scopes"], f"Dr. Brooks sees patient.consult@'s record without clinical data "
                                          f"(scopes {record['scopes']})")
    say("care team", f"Dr. Brooks reads patient.consult@'s record (scopes {', '.join(record['scopes'])}) as the "
                     "physician of the consult held: no admin assignment")
    versions = doctor.call("GET", f"/patients/{pid}/prescriptions")["items"]
    rx = next((p for p in versions if p["status"] == "active"), None)
    if rx is None:
        rx = doctor.call("POST", f"/patients/{pid}/prescriptions", {
            "form": "sublingual_tablet", "strength_mg": 100, "dose_per_session_mg": 200, "sessions": 6,
            "refills": 0, "diagnosis_code": "F33.2", "directions": "Dissolve two 100 mg tablets under the tongue "
                                                                   "at the start of the session.",
            "second_factor_code": totp_code()})  # Dr. Brooks's authenticator: a controlled substance
        say("prescription", f"Dr. Brooks signed prescription {rx['id']} ({rx['sessions']} sessions of "
                            f"{rx['dose_per_session_mg']} mg, {rx['form']}, {rx['diagnosis_code']})")
    else:
        say("prescription", f"prescription {rx['id']} was signed in an earlier run (active, {rx['sessions']} sessions)")
    shipments = patient.call("GET", "/me/shipments")["items"]
    shipment = next((s for s in shipments if s["stage"] == 1), None)
    if shipment is None:
        shipment = doctor.call("POST", f"/prescriptions/{rx['id']}/shipments", {"sessions": 1})
        say("stage 1", f"shipment {shipment['id']} sent to the pharmacy ({shipment['sessions']} session, "
                       f"{shipment['status']})")
    if shipment["status"] != "delivered":
        drive_pharmacy(j, shipment["id"])
    delivered = next(s for s in patient.call("GET", "/me/shipments")["items"] if s["id"] == shipment["id"])
    check(delivered["status"] == "delivered", f"the patient sees shipment {shipment['id']} {delivered['status']}")
    say("delivery", f"patient.consult@ sees shipment {delivered['id']} delivered ({delivered['carrier']} "
                    f"{delivered['tracking_number']}, {len(delivered['history'])} events)")


def drive_pharmacy(j: Journey, shipment_id: int) -> None:
    """The local pharmacy reports filled, shipped, delivered (its order id from the ops board)."""
    ops = j.login("ops")
    board = ops.call("GET", "/ops/shipments", query={"limit": 500})["items"]
    row = next((s for s in board if s["id"] == shipment_id), None)
    check(row is not None and row["pharmacy_order_id"], f"shipment {shipment_id} has no pharmacy order on the ops "
                                                        f"board ({row and row['status']})")
    driver = Client(j.pharmacy, "the local pharmacy")
    steps = [("filled", {}), ("shipped", {"carrier": "UPS", "tracking_number": f"1ZJOURNEY{shipment_id:08d}"}),
             ("delivered", {})]
    for status, extra in steps:
        reply = driver.call("POST", f"{j.pharmacy}/_drive/{row['pharmacy_order_id']}", {"status": status, **extra})
        check(reply["app_status"] == 200, f"the app answered the pharmacy's '{status}' webhook with "
                                          f"{reply['app_status']}: {reply['app_reply']}")
    say("pharmacy", f"order {row['pharmacy_order_id']} reported " + ", ".join(s for s, _ in steps))


# ------------------------------------------------------------------ 5. a session at home


def step_session(j: Journey) -> None:
    patient = j.login("patient.ready")
    sessions = patient.call("GET", "/me/sessions")["items"]
    taken = [s for s in sessions if s["started_at"]]
    last = max(taken, key=lambda s: s["started_at"], default=None)
    if last and now() - when(last["started_at"]) < timedelta(hours=72):
        post = next(c for c in last["check_ins"] if c["kind"] == "post")
        check(post["status"] == "answered", f"session {last['id']}'s post check-in is {post['status']}")
        after = (when(last["started_at"]) + timedelta(hours=72)).isoformat(timespec="minutes")
        say("session", f"session {last['number']} was taken in an earlier run at {minute(last['started_at'])} (post "
                       f"check-in answered); sessions are 72 h apart: the next may start at {after}")
        return
    session = next((s for s in sessions if s["status"] == "scheduled"), None)
    if session is None:
        session = patient.call("POST", "/me/sessions", {
            "scheduled_for": (now() + timedelta(minutes=2)).isoformat(), "sitter_name": "Jamie Ready",
            "sitter_phone": "+16025550188"})
    sid = session["id"]
    detail = patient.call("GET", f"/me/sessions/{sid}")
    needs = [g["id"] for g in detail["gates"] if not g["ok"]]
    check(set(needs) <= {"sitter", "blood_pressure"}, "gates other than the sitter and the blood pressure fail: "
          + "; ".join(g["reason"] for g in detail["gates"] if not g["ok"]))
    say("session", f"session {detail['number']} scheduled for {minute(detail['scheduled_for'])}; gates still "
                   f"needed: {', '.join(needs) or 'none'}")
    patient.call("POST", f"/me/sessions/{sid}/check-ins/pre", {"mood": 5})
    patient.call("POST", f"/me/sessions/{sid}/sitter", {"confirmed": True})
    reading = patient.call("POST", f"/me/sessions/{sid}/blood-pressure", {"systolic": 124, "diastolic": 78})
    check(reading["band"] == "go", f"a 124/78 reading is {reading['band']}: {reading['advice']}")
    started = patient.call("POST", f"/me/sessions/{sid}/start")
    done = patient.call("POST", f"/me/sessions/{sid}/complete")
    check(done["status"] == "completed", f"session {sid} is {done['status']} after completing it")
    answer = patient.call("POST", f"/me/sessions/{sid}/check-ins/post", {"mood": 7, "side_effects": []})
    check(answer["check_in"]["status"] == "answered", f"the post check-in is {answer['check_in']['status']}")
    say("session", f"sitter confirmed, BP 124/78 {reading['band']}, started {minute(started['started_at'])}, "
                   f"{done['status']}; post check-in answered (mood 7, no side effects)")


# ------------------------------------------------------------------ 6. a crisis text


def step_crisis(j: Journey) -> None:
    patient = j.login("patient.ready")
    phone = patient.me["patient"]["phone"]
    url = j.base + "/webhooks/twilio/sms"
    fields = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "0" * 32, "From": phone,
              "To": "+15005550006", "Body": "i dont feel safe tonight", "NumMedia": "0"}
    payload = url + "".join(k + fields[k] for k in sorted(fields))  # Twilio's X-Twilio-Signature
    signature = base64.b64encode(hmac.new(j.twilio_token.encode(), payload.encode(), hashlib.sha1).digest()).decode()
    sent_at = now()
    Client(j.base, "Twilio").call("POST", url, form=fields, headers={"X-Twilio-Signature": signature}, raw=True)
    say("crisis text", f"'{fields['Body']}' from {phone} delivered, signed as Twilio signs it")
    staff = {local: j.login(local) for local in ("dr.chen", "dr.brooks", "dr.adams")}
    shifts = staff["dr.chen"].call("GET", "/on-call/now")["on_call"]
    check(bool(shifts), "nobody is on call now (GET /api/v1/on-call/now is empty)")
    on_call = next((c for c in staff.values() if c.me["id"] == shifts[0]["physician_id"]), None)
    check(on_call is not None, f"the on-call physician ({shifts[0]['physician_name']}) is not a demo physician")
    alerts = on_call.call("GET", "/alerts", query={"status": "open"})["items"]
    mine = [a for a in alerts if a["patient_id"] == patient.me["id"] and a["urgency"] == "urgent"
            and when(a["created_at"]) >= sent_at - timedelta(seconds=5)]
    check(bool(mine), f"{shifts[0]['physician_name']} (on call) sees no new urgent alert for patient.ready@ "
                      f"among {len(alerts)} open alerts")
    alert = max(mine, key=lambda a: a["id"])
    acked = on_call.call("POST", f"/alerts/{alert['id']}/acknowledge")
    check(acked["status"] == "acknowledged", f"alert {alert['id']} is {acked['status']} after acknowledging it")
    lag = (when(alert["created_at"]) - sent_at).total_seconds()
    say("crisis alert", f"{shifts[0]['physician_name']} (on call) saw urgent {alert['kind']} alert {alert['id']} "
                        f"(raised {lag:.0f} s after the text) and acknowledged it")


# ------------------------------------------------------------------ 7. follow-up


def step_follow_up(j: Journey) -> None:
    patient, doctor = j.login("patient.treatment"), j.login("dr.chen")
    pid = patient.me["id"]
    measure = patient.call("POST", "/me/measures", {"instrument": "phq9", "version": 1,
                                                    "answers": {"phq9": items(6, 8) | {"q9": 0}}})
    check(not measure["crisis"], "a PHQ-9 of 6 with item 9 at 0 took the crisis path")
    say("PHQ-9 retake", f"{measure['measure']['total']} ({measure['measure']['band']})")
    work = doctor.call("GET", "/me/worklist")
    item = next((i for i in work["items"] if i["patient_id"] == pid), None)
    reasons = ", ".join(r["code"] for r in item["reasons"]) if item else "not on it"
    say("work list", f"Dr. Chen's patients needing action: {work['total']}; patient.treatment@: {reasons}")
    phq9 = next(o for o in doctor.call("GET", f"/patients/{pid}/outcomes")["instruments"]
                if o["instrument"] == "phq9")
    check(phq9["latest"]["total"] == measure["measure"]["total"], f"the outcomes' latest PHQ-9 is "
                                                                  f"{phq9['latest']['total']}, not the retake")
    check(phq9["response"] is True, f"PHQ-9 {phq9['baseline']['total']} -> {phq9['latest']['total']}: no response")
    say("outcomes", f"PHQ-9 baseline {phq9['baseline']['total']} -> latest {phq9['latest']['total']} "
                    f"({phq9['change_percent']:+.0f} %): response {phq9['response']}, remission {phq9['remission']}")
    result = doctor.call("POST", f"/patients/{pid}/follow-up-decisions",
                         {"decision": "continue", "note": "Journey script: good response, continue the series."})
    check(result["decision"]["decision"] == "continue", f"the decision recorded is {result['decision']}")
    say("follow-up", f"Dr. Chen recorded decision {result['decision']['id']}: continue (treatment "
                     f"{result['treatment_status']})")


STEPS = (step_screening, step_review, step_purchase_and_book, step_consult_and_prescribe, step_session,
         step_crisis, step_follow_up)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default=os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000"),
                        help="the running app (default: PUBLIC_BASE_URL, else http://127.0.0.1:5000)")
    parser.add_argument("--pharmacy-url", default=os.environ.get("PHARMACY_API_BASE", "http://127.0.0.1:8430"),
                        help="the local pharmacy `make run` started (default: PHARMACY_API_BASE, else "
                             "http://127.0.0.1:8430)")
    args = parser.parse_args(argv)
    journey = Journey(args.base_url, args.pharmacy_url, os.environ.get("TWILIO_AUTH_TOKEN", TWILIO_DEV_TOKEN))
    print(f"journey against {journey.base} (pharmacy {journey.pharmacy})", flush=True)
    for step in STEPS:
        try:
            step(journey)
        except StepFailed as exc:
            print(f"FAILED at {step.__name__.removeprefix('step_').replace('_', ' ')}: {exc}", file=sys.stderr)
            return 1
    print("journey complete: screening to follow-up over HTTP, no database edit")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The `scenarios` group: the app's request paths measured against the bare route, booking,
and the racing step with its double-booking count.

GET /readyz, GET /api/v1/me, an anonymous assessment, the portal's home and slot-picker pages, a signed Stripe event and a signed Twilio
text sent again and again (duplicates and redeliveries), a week's slot search and booking. The
set-up gives the demo patient coaching credits (`grant_credits`, always run: it also reads the
booking settings) and the two demo coaches weekly availability (through the API); "booking" books
a different slot with every request (bench/book_slots.lua) and counts 201s and 409s; the racing
step then fires concurrent bookings at the same 20 slots and counts double bookings in PostgreSQL
(must be 0: otherwise the run exits 1).
"""
from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import snippets
from runner import (  # also puts the repository on sys.path, for tests.screening_data
    BENCH_DIR,
    DATABASE_URL,
    DEMO_EMAIL,
    OUT_DIR,
    BenchError,
    Runner,
    Scenario,
    Server,
    answer_key,
    answers_text,
    baseline_scenario,
    cookie_header,
    log_in,
    python_snippet,
    request,
)

from tests.screening_data import valid_screening_answers  # the same valid answers the tests use

BOOK_SLOTS_LUA = BENCH_DIR / "book_slots.lua"
DEMO_COACHES = ("coach.lee@demo.telehealth", "coach.rivera@demo.telehealth")
BOOKING_TYPE = "coaching_30"
CREDITS_GRANTED = 100_000
RACE_SLOTS = 20          # the racing step: this many slots ...
RACE_REQUESTS = 200      # ... this many booking requests at them in all ...
RACE_THREADS = 32        # ... from at most this many client threads at once
# Booking needs a fresh slot per request, and the two coaches have 24 non-overlapping 30-minute
# slots a day (08:00-20:00, one an hour with the buffers). The app's 30-day horizon holds ~700:
# too few for a run, so the bench moves the horizon out far enough for BOOKINGS_PER_WORKER_SECOND
# (an overestimate) over warm-up and run. A booking re-checks only its own slot, so the horizon
# does not change the work per request.
BOOKINGS_PER_WORKER_SECOND = 250
SLOTS_PER_DAY = 2 * 12


def build_scenarios(session_cookie: str, scheduling: SchedulingSetup) -> list[Scenario]:
    """The measured scenarios, in order; the first one is the baseline every ratio refers to."""
    auth = cookie_header(session_cookie)
    return [
        baseline_scenario(),
        Scenario("app /readyz", "app", "/readyz"),
        Scenario("app /api/v1/me (patient)", "app", "/api/v1/me", headers=auth),
        # A complete, valid anonymous screening: validated, scored, evaluated, stored, queued for review.
        Scenario("app POST /api/v1/assessments", "app", "/api/v1/assessments", method="POST",
                 body=json.dumps({"questionnaire": "screening", "version": 1, "answers": valid_screening_answers()}),
                 expect_status=(201,)),
        # One signed Stripe event sent over and over: the first is applied, every other is a
        # duplicate, as when Stripe retries. Signature check, event lookup and storage each time.
        stripe_webhook_scenario(),
        # One signed inbound text sent over and over: the first is handled, the rest are redeliveries.
        twilio_webhook_scenario(),
        # Free 30-minute coaching slots in the coming week across both demo coaches (08:00-20:00
        # every day in their own zones): eligibility, windows, bookings, stepping, in the patient's zone.
        Scenario("app slot search (a week)", "app", scheduling.slot_search_path, headers=auth),
        # The portal: the patient's home (the next step from every domain's state, the checklist, the
        # layout) and the slot picker page (this week's days and the first day's free coaching
        # times, rendered): server time, the same session cookie.
        Scenario("page /home (patient)", "app", "/home", headers=auth),
        Scenario("page slot picker (coaching, a week)", "app", "/appointments/book?type=" + BOOKING_TYPE, headers=auth),
        # Every request books another free slot (credit debited, reminders, audit); see
        # book_slots.lua. 409s are valid (the list ran out, or a slot was taken) and counted apart.
        Scenario("app booking", "app", "/api/v1/appointments", headers=auth, method="POST",
                 body=scheduling.check_body, script=BOOK_SLOTS_LUA, expect_status=(201,),
                 script_env={"BENCH_BODIES_FILE": str(scheduling.measured_file)},
                 warmup_script_env={"BENCH_BODIES_FILE": str(scheduling.warmup_file)},
                 valid_answers=("201 ok", "409 slot_taken"),
                 distinct_requests=scheduling.counts["measured_slots"]),
    ]


def stripe_webhook_scenario() -> Scenario:
    import hashlib
    import hmac

    body = json.dumps({"id": "evt_bench_duplicate", "type": "payment_intent.succeeded", "object": "event",
                       "data": {"object": {"id": "pi_bench", "object": "payment_intent", "metadata": {}}}})
    at = int(time.time())
    secret = os.environ.get("STRIPE_WEBHOOK_SECRET", "whsec_localstripe_development")
    signature = hmac.new(secret.encode(), f"{at}.{body}".encode(), hashlib.sha256).hexdigest()
    return Scenario("app POST /webhooks/stripe (duplicates)", "app", "/webhooks/stripe", method="POST", body=body,
                    headers={"Stripe-Signature": f"t={at},v1={signature}"})


def twilio_webhook_scenario() -> Scenario:
    from twilio.request_validator import RequestValidator

    from config.settings import DEFAULT_TWILIO_AUTH_TOKEN

    path = "/webhooks/twilio/sms"
    sid = "SMbench" + "0" * 27
    fields = {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "0" * 32, "From": "+13125550142",
              "To": "+15005550006", "Body": "hello", "NumMedia": "0", "ApiVersion": "2010-04-01"}
    public = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/") + path
    token = os.environ.get("TWILIO_AUTH_TOKEN", DEFAULT_TWILIO_AUTH_TOKEN)
    signature = RequestValidator(token).compute_signature(public, fields)
    return Scenario("app POST /webhooks/twilio/sms (signed, redelivered)", "app", path, method="POST",
                    body=urllib.parse.urlencode(fields), content_type="application/x-www-form-urlencoded",
                    headers={"X-Twilio-Signature": signature})


def booking_horizon_days(workers: int, seconds: int) -> int:
    return max(30, -(-BOOKINGS_PER_WORKER_SECOND * workers * seconds // SLOTS_PER_DAY) + 2)


def grant_credits(env: dict[str, str]) -> dict[str, Any]:
    """CREDITS_GRANTED coaching credits for the demo patient; returns the app's booking settings."""
    return python_snippet(snippets.GRANT_CREDITS, env, "bench-settings", DEMO_EMAIL, BOOKING_TYPE,
                          str(CREDITS_GRANTED), timeout=120,
                          what=f"granting {BOOKING_TYPE} credits to {DEMO_EMAIL}")


# ---------------------------------------------------------------------------------------------
# Scheduling: availability, the slots the booking runs walk through, the race, double bookings


@dataclass
class SchedulingSetup:
    slot_search_path: str      # the "slot search (a week)" scenario
    check_body: str            # the booking scenario's check request: one slot of its own
    warmup_file: Path          # JSON bodies for the booking warm-up, one per line ...
    measured_file: Path        # ... and for the measured run: no slot in both
    race_bodies: list[str]     # RACE_SLOTS slots that nothing else books
    counts: dict[str, int]     # for the report


def prepare_scheduling(app: Server, patient_cookie: str, settings: dict[str, Any],
                       warmup: int, duration: int) -> SchedulingSetup:
    windows = [{"weekday": d, "start_time": "08:00:00", "end_time": "20:00:00"} for d in range(7)]
    for email in DEMO_COACHES:
        status, _, content = request(app.base_url + "/api/v1/me/availability", method="PUT",
                                     headers=cookie_header(log_in(app, email)), body=json.dumps({"windows": windows}))
        if status != 200:
            raise BenchError(f"PUT /api/v1/me/availability as {email} answered HTTP {status}: {content[:300]!r}")

    now = datetime.now(timezone.utc).replace(microsecond=0)
    week = urllib.parse.urlencode({"type": BOOKING_TYPE, "start": (now + timedelta(days=1)).isoformat(),
                                   "end": (now + timedelta(days=8)).isoformat()})
    # Every slot bookable now, an hour clear of both ends of the bookable range (it moves on
    # while the bench runs), four weeks per search.
    offered: dict[tuple[int, str], dict[str, Any]] = {}
    start = now + timedelta(hours=settings["min_notice_hours"] + 1)
    last = now + timedelta(days=settings["horizon_days"], hours=-1)
    while start < last:
        end = min(start + timedelta(days=28), last)
        query = urllib.parse.urlencode({"type": BOOKING_TYPE, "start": start.isoformat(), "end": end.isoformat()})
        status, _, content = request(app.base_url + "/api/v1/slots?" + query, headers=cookie_header(patient_cookie))
        if status != 200:
            raise BenchError(f"slot search as {DEMO_EMAIL} answered HTTP {status}: {content[:300]!r}")
        for slot in json.loads(content)["items"]:
            offered[(slot["provider_id"], slot["starts_at"])] = slot
        start = end

    # Slots whose blocked time (the slot plus a buffer on each side) does not overlap, per
    # provider: each of them can be booked, whatever else is booked.
    gap = timedelta(minutes=2 * settings["buffer_minutes"])
    last_end: dict[int, datetime] = {}
    chosen = []
    for slot in sorted(offered.values(), key=lambda s: (s["provider_id"], datetime.fromisoformat(s["starts_at"]))):
        starts, ends = datetime.fromisoformat(slot["starts_at"]), datetime.fromisoformat(slot["ends_at"])
        if slot["provider_id"] in last_end and starts < last_end[slot["provider_id"]] + gap:
            continue
        last_end[slot["provider_id"]] = ends
        chosen.append(slot)
    chosen.sort(key=lambda s: (datetime.fromisoformat(s["starts_at"]), s["provider_id"]))
    bodies = [json.dumps({"type": BOOKING_TYPE, "provider_id": s["provider_id"], "starts_at": s["starts_at"]})
              for s in chosen]
    if len(bodies) < RACE_SLOTS + 3:
        raise BenchError(f"only {len(bodies)} bookable {BOOKING_TYPE} slots found (from {len(offered)} offered); "
                         f"availability of {', '.join(DEMO_COACHES)} not set?")

    race, check, rest = bodies[-RACE_SLOTS:], bodies[0], bodies[1:-RACE_SLOTS]
    # The warm-up gets its share by time, so both runs run out (if ever) at the same rate.
    split = max(1, round(len(rest) * warmup / (warmup + duration))) if warmup else 0
    warmup_file, measured_file = OUT_DIR / "booking-warmup.jsonl", OUT_DIR / "booking-measured.jsonl"
    warmup_file.write_text("".join(b + "\n" for b in rest[:split]))
    measured_file.write_text("".join(b + "\n" for b in rest[split:]))
    return SchedulingSetup(slot_search_path="/api/v1/slots?" + week, check_body=check, warmup_file=warmup_file,
                           measured_file=measured_file, race_bodies=race,
                           counts={"horizon_days": settings["horizon_days"], "slots_offered": len(offered),
                                   "bookable_without_overlap": len(bodies),
                                   "warmup_slots": split, "measured_slots": len(rest) - split})


def race_bookings(app: Server, patient_cookie: str, bodies: list[str]) -> dict[str, int]:
    """RACE_REQUESTS bookings of the same slots from RACE_THREADS threads, released together;
    requests for one slot are neighbours in the queue, so they meet in the two workers."""
    url, headers = app.base_url + "/api/v1/appointments", cookie_header(patient_cookie)
    jobs = [body for body in bodies for _ in range(RACE_REQUESTS // len(bodies))]
    gate = threading.Event()

    def book(body: str) -> str:
        gate.wait()
        try:
            status, _, content = request(url, method="POST", headers=headers, body=body)
        except (urllib.error.URLError, OSError) as exc:
            return f"error {type(exc).__name__}"
        return answer_key(status, content)

    with ThreadPoolExecutor(max_workers=RACE_THREADS) as pool:
        futures = [pool.submit(book, body) for body in jobs]
        gate.set()
        answers = [f.result() for f in futures]
    return {key: answers.count(key) for key in sorted(set(answers))}


DOUBLE_BOOKINGS_SQL = """
SELECT count(*) FROM appointments a JOIN appointments b
  ON a.provider_id = b.provider_id AND a.id < b.id AND a.status = 'booked' AND b.status = 'booked'
 AND a.blocks_from < b.blocks_until AND b.blocks_from < a.blocks_until
"""


def count_double_bookings() -> tuple[int, int]:
    """(pairs of booked appointments of one provider whose blocked times overlap, booked appointments)."""
    import psycopg

    with psycopg.connect(DATABASE_URL, connect_timeout=5) as conn:
        pairs = conn.execute(DOUBLE_BOOKINGS_SQL).fetchone()[0]
        booked = conn.execute("SELECT count(*) FROM appointments WHERE status = 'booked'").fetchone()[0]
    return pairs, booked


def run_race(runner: Runner, patient_cookie: str, scheduling: SchedulingSetup) -> dict[str, Any]:
    """The racing step, then the double-booking count over every appointment of the run."""
    print(f"bench: racing: {RACE_REQUESTS} bookings of the same {RACE_SLOTS} slots from "
          f"{RACE_THREADS} threads ...", flush=True)
    result: dict[str, Any] = {"answers": race_bookings(runner.app, patient_cookie, scheduling.race_bodies)}
    result["double_bookings"], result["booked_appointments"] = count_double_bookings()
    return result


def report_race(result: dict[str, Any]) -> bool:
    """Prints the race's answers and double bookings (adding the verdict to `result`); False: FAIL."""
    created = result["answers"].get("201 ok", 0)
    ok = result["double_bookings"] == 0 and created <= RACE_SLOTS
    result.update({"slots": RACE_SLOTS, "requests": RACE_REQUESTS, "threads": RACE_THREADS, "ok": ok})
    print(f"racing: {RACE_REQUESTS} bookings of {RACE_SLOTS} slots: {answers_text(result['answers'])}; "
          f"201s: {result['answers'].get('201 ok', 0)} (must be at most {RACE_SLOTS})")
    print(f"double bookings found: {result['double_bookings']} "
          f"(among {result['booked_appointments']} booked appointments; must be 0)")
    if not ok:
        print("FAIL: a slot was booked twice; see DOUBLE_BOOKINGS_SQL in bench/scenarios.py")
    return ok

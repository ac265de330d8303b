"""`make bench`: throughput and latency of the app as ratios to a bare Flask route.

Both the app (wsgi:app) and the baseline (bench/bare_app.py) are served by gunicorn with the same
worker settings, on PostgreSQL, and loaded with wrk. Absolute numbers depend on the machine, so the
figures that matter are ratios against the baseline measured in the same run. Nothing here asserts
on timings; a scenario is only *invalid* when some of its responses were not 2xx/3xx or wrk failed.

Add a scenario by appending to `build_scenarios()`. A scenario with a `body` is sent with
bench/post_json.lua (method and body passed through the environment), and is checked once with
urllib before it is measured, like every other scenario.

Scheduling: the set-up gives the demo patient coaching credits and the two demo coaches weekly
availability (through the API); "booking" books a different slot with every request
(bench/book_slots.lua) and counts 201s and 409s; a racing step then fires concurrent bookings at
the same 20 slots and counts double bookings in PostgreSQL (must be 0: otherwise exit 1).

Ops board: after the race, shipments are bulk-inserted with SQL (one prescription per patient, a
few hundred patients copied from the demo patient) up to SHIPMENTS_SMALL, the board's three
queries are measured, the table is topped up to SHIPMENTS_LARGE and they are measured again; the
report gives each query's p95 (bench/p95.lua) and the ratio p95(large)/p95(small), which should
stay near 1 (indexes, no full scans).

Messaging: "POST /webhooks/twilio/sms" is one signed inbound text (form-encoded, X-Twilio-Signature
over PUBLIC_BASE_URL + path) sent again and again: the first is handled (a reply is queued), the
rest are redeliveries (signature check and MessageSid lookup). After the ops board, OUTBOX_MESSAGES
texts are queued and two `flask outbox dispatch --loop` processes send them to a local Twilio
(scripts/twilio_server.py); the report gives texts per second and the ratio to the bare route's
requests per second, and checks that the local Twilio received each text exactly once.

Care team: after the ops board, CARE_PATIENTS patients on one physician's care team, each with a
few months of history, are bulk-inserted with SQL; the physician's work list and one patient's
timeline (first page and the next) are measured, and the SQL statements of one request of each are
counted in-process (an engine listener); the timeline's count must not change with its page size.

`--only GROUP` (repeatable: scenarios, ops-board, care, outbox, crisis) runs only those groups; the
baseline always runs, except for `--only crisis` alone, which needs no server: crisis detection's
recall and precision on the labelled corpus tests/crisis_corpus.py (bench/crisis_detection.py; exit 1 when
recall is below 100%).

Environment: BENCH_DURATION (seconds per scenario, default 8), BENCH_WARMUP (seconds, default 2,
0 to skip), BENCH_CONNECTIONS (default 16), BENCH_THREADS (default 2), BENCH_WORKERS (gunicorn
workers for both servers, default 2), BENCH_DATABASE_ADMIN_URL (default
postgresql://postgres@127.0.0.1:5432/postgres), BENCH_DATABASE_NAME (default telehealth_bench).
"""
from __future__ import annotations

import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from tests.screening_data import valid_screening_answers  # noqa: E402  (the same valid answers the tests use)
BENCH_DIR = REPO / "bench"
OUT_DIR = REPO / ".bench"
BIN = Path(sys.executable).parent  # the venv's bin when run as .venv/bin/python
POST_JSON_LUA = BENCH_DIR / "post_json.lua"
BOOK_SLOTS_LUA = BENCH_DIR / "book_slots.lua"
P95_LUA = BENCH_DIR / "p95.lua"

# Another name lets two runs share one PostgreSQL server without dropping each other's database.
DB_NAME = os.environ.get("BENCH_DATABASE_NAME", "telehealth_bench")
if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", DB_NAME):
    sys.exit(f"bench: error: BENCH_DATABASE_NAME must be a plain lower-case identifier, not {DB_NAME!r}")
ADMIN_URL = os.environ.get("BENCH_DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DATABASE_URL = ADMIN_URL.rsplit("/", 1)[0] + "/" + DB_NAME
SESSION_COOKIE = "telehealth_session"
DEMO_EMAIL = "patient@demo.telehealth"
DEMO_PASSWORD = "demo-password-2026"
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
# The ops board (GET /api/v1/ops/shipments): measured with this many shipments, then this many.
OPS_EMAIL = "ops@demo.telehealth"
BENCH_PHYSICIAN = "dr.adams@demo.telehealth"
BENCH_PATIENTS = 300          # the demo patient and copies of it; one prescription each
SHIPMENTS_SMALL = 10_000
SHIPMENTS_LARGE = 100_000
SEARCH_SHIPMENT = 7           # the q= scenario searches this shipment's tracking number (delivered)
OUTBOX_MESSAGES = 2000        # texts queued for the outbox dispatch measurement
# The care team (GET /api/v1/me/worklist, GET /api/v1/patients/{id}/timeline): CARE_PATIENTS patients
# on CARE_PHYSICIAN's care team, each with a few months of history (see CARE_SQL).
CARE_PHYSICIAN = "dr.brooks@demo.telehealth"
CARE_PATIENTS = 10_000
CARE_SESSIONS = 4             # sessions (each with a reading and a check-in), measures and texts per patient
CARE_TIMELINE_LIMIT = 20      # the timeline scenarios' page size (a patient has about 23 events)
CARE_SCENARIOS = ("worklist", "timeline", "timeline page 2")
GROUPS = ("scenarios", "ops-board", "care", "outbox", "crisis")  # what --only can pick (the baseline always runs)
OFFLINE_GROUPS = ("crisis",)  # need no server: `--only crisis` runs without wrk, gunicorn or PostgreSQL
OUTBOX_DISPATCHERS = 2


class BenchError(RuntimeError):
    """A setup step failed; the message says which and what to do."""


def _env_number(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BenchError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise BenchError(f"{name} must be at least {minimum}, not {value}")
    return value


# ---------------------------------------------------------------------------------------------
# Scenarios


@dataclass
class Scenario:
    name: str
    target: str                       # "bare" or "app": which server the path is requested from
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "GET"
    body: str | None = None           # JSON text (or `content_type`); implies the POST Lua script
    content_type: str = "application/json"
    script: Path | None = None        # a wrk Lua script; defaults to post_json.lua when body is set
    expect_status: tuple[int, ...] = (200,)  # of the one check request before wrk
    # Extra environment for the Lua script, and for the warm-up run when it must differ (a
    # booking scenario gives the warm-up its own slots so the measured run gets fresh ones).
    script_env: dict[str, str] = field(default_factory=dict)
    warmup_script_env: dict[str, str] | None = None
    # Answers that keep the wrk run valid, as counted by a script that prints "bench-status"
    # lines (book_slots.lua): "<status> <error code>" or "<status> ok". None: only 2xx/3xx.
    valid_answers: tuple[str, ...] | None = None
    # How many different requests the script sends before it repeats itself (booking: slots).
    distinct_requests: int | None = None

    def lua_script(self) -> Path | None:
        if self.script is not None:
            return self.script
        return POST_JSON_LUA if self.body is not None or self.method != "GET" else None

    def lua_env(self, warmup: bool = False) -> dict[str, str]:
        if self.lua_script() is None:
            return {}
        extra = self.warmup_script_env if warmup and self.warmup_script_env is not None else self.script_env
        return {"BENCH_METHOD": self.method, "BENCH_BODY": self.body if self.body is not None else "{}",
                "BENCH_CONTENT_TYPE": self.content_type, **extra}


BASELINE = "bare /bare"


def build_scenarios(session_cookie: str, scheduling: SchedulingSetup) -> list[Scenario]:
    """The measured scenarios, in order; the first one is the baseline every ratio refers to."""
    auth = {"Cookie": f"{SESSION_COOKIE}={session_cookie}"}
    return [
        Scenario(BASELINE, "bare", "/bare", script=P95_LUA),  # p95.lua: the care scenarios' p95 ratio
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


# ---------------------------------------------------------------------------------------------
# Database and app preparation


def recreate_database() -> None:
    try:
        import psycopg
    except ImportError:
        raise BenchError("psycopg is not installed in this Python; run `make install`") from None
    try:
        with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {DB_NAME}")
    except psycopg.OperationalError as exc:
        raise BenchError(
            f"PostgreSQL does not answer at {ADMIN_URL} ({str(exc).strip().splitlines()[0]}).\n"
            "  make bench needs PostgreSQL on 127.0.0.1:5432 with trust auth for user postgres;\n"
            "  start it (e.g. `pg_ctlcluster 15 main start`) and rerun."
        ) from None


def booking_horizon_days(workers: int, seconds: int) -> int:
    return max(30, -(-BOOKINGS_PER_WORKER_SECOND * workers * seconds // SLOTS_PER_DAY) + 2)


def app_environment(horizon_days: int = 30) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "TELEHEALTH_ENV": "development",
        "DATABASE_URL": DATABASE_URL,
        "LOGIN_RATE_LIMIT": "1000000 per minute",
        "ASSESSMENT_RATE_LIMIT": "1000000 per minute",
        "BOOKING_HORIZON_DAYS": str(horizon_days),
        "LOG_LEVEL": "WARNING",
        "FLASK_APP": "wsgi.py",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def run_flask(env: dict[str, str], *args: str) -> None:
    cmd = [str(BIN / "flask"), *args]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise BenchError(f"`flask {' '.join(args)}` failed (exit {proc.returncode}):\n"
                         f"{proc.stdout}{proc.stderr}".rstrip())


# The demo patient starts without credits; booking debits one per appointment. Run with the
# venv's python and the bench environment (DATABASE_URL); prints the settings run.py needs.
GRANT_CREDITS = f"""
import json
from telehealth import create_app
from telehealth.extensions import db
from telehealth.models import CreditKind
from telehealth.services import accounts, ledger

app = create_app()
with app.app_context():
    patient = accounts.find_by_email({DEMO_EMAIL!r})
    ledger.grant(patient.id, CreditKind({BOOKING_TYPE!r}), {CREDITS_GRANTED}, key="bench:{BOOKING_TYPE}")
    db.session.commit()
    print("bench-settings " + json.dumps({{
        "patient_id": patient.id,
        "buffer_minutes": app.config["APPOINTMENT_BUFFER_MINUTES"],
        "min_notice_hours": app.config["BOOKING_MIN_NOTICE_HOURS"],
        "horizon_days": app.config["BOOKING_HORIZON_DAYS"],
    }}))
"""


def grant_credits(env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-c", GRANT_CREDITS], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)
    found = re.search(r"^bench-settings (\{.*\})$", proc.stdout, re.M)
    if proc.returncode != 0 or not found:
        raise BenchError(f"granting {BOOKING_TYPE} credits to {DEMO_EMAIL} failed (exit {proc.returncode}):\n"
                         f"{proc.stdout}{proc.stderr}".rstrip())
    return json.loads(found.group(1))


# ---------------------------------------------------------------------------------------------
# Servers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A gunicorn process group started by us, and only ever stopped by its own pid."""

    def __init__(self, name: str, app_spec: str, ready_path: str, env: dict[str, str],
                 workers: int, chdir: Path | None = None):
        self.name = name
        self.app_spec = app_spec
        self.ready_path = ready_path
        self.env = env
        self.workers = workers
        self.chdir = chdir
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.log_path = OUT_DIR / f"gunicorn-{name}.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        cmd = [str(BIN / "gunicorn"), "--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}",
               "--log-level", "warning"]
        if self.chdir is not None:
            cmd += ["--chdir", str(self.chdir)]
        cmd.append(self.app_spec)
        log = open(self.log_path, "wb")
        try:
            # Own session: a Ctrl-C in the terminal does not reach gunicorn; stop() ends it.
            self.proc = subprocess.Popen(cmd, cwd=REPO, env=self.env, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            log.close()

    def wait_ready(self, timeout: float = 30.0) -> None:
        assert self.proc is not None
        url = self.base_url + self.ready_path
        deadline = time.monotonic() + timeout
        last_error = "no answer yet"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"gunicorn ({self.name}) exited with {self.proc.returncode} before answering "
                                 f"{self.ready_path}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    if resp.status == 200:
                        return
                    last_error = f"HTTP {resp.status}"
            except urllib.error.HTTPError as exc:
                last_error = f"HTTP {exc.code}"
            except (urllib.error.URLError, OSError) as exc:
                last_error = str(exc)
            time.sleep(0.2)
        raise BenchError(f"gunicorn ({self.name}) did not answer 200 on {url} within {timeout:.0f}s "
                         f"(last: {last_error}):\n{self.log_tail()}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        # The group is the one start_new_session created for this gunicorn: master and its workers.
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        # Workers orphaned by a master that died first are still in the group.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "  (no log)"
        tail = text.strip().splitlines()[-lines:]
        return "\n".join("  | " + line for line in tail) or "  (log is empty)"


# ---------------------------------------------------------------------------------------------
# HTTP checks with urllib


def request(url: str, *, method: str = "GET", headers: dict[str, str] | None = None,
            body: str | None = None, content_type: str = "application/json") -> tuple[int, Any, bytes]:
    data = body.encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def log_in(app: Server, email: str = DEMO_EMAIL) -> str:
    body = json.dumps({"email": email, "password": DEMO_PASSWORD})
    status, headers, content = request(app.base_url + "/api/v1/auth/login", method="POST", body=body)
    if status != 200:
        raise BenchError(f"login as {email} answered HTTP {status}: {content[:300]!r}")
    for raw in headers.get_all("Set-Cookie") or []:
        cookie = SimpleCookie()
        cookie.load(raw)
        if SESSION_COOKIE in cookie:
            return cookie[SESSION_COOKIE].value
    raise BenchError(f"login answered 200 but set no {SESSION_COOKIE} cookie")


def cookie_header(session_cookie: str) -> dict[str, str]:
    return {"Cookie": f"{SESSION_COOKIE}={session_cookie}"}


def error_code(content: bytes) -> str:
    try:
        return str(json.loads(content)["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return "?"


def answer_key(status: int, content: bytes) -> str:
    """How answers are counted, the same as book_slots.lua: "201 ok", "409 slot_taken"."""
    return f"{status} ok" if status < 400 else f"{status} {error_code(content)}"


def check_scenario(scenario: Scenario, base_url: str) -> None:
    status, _, content = request(base_url + scenario.path, method=scenario.method,
                                 headers=scenario.headers, body=scenario.body, content_type=scenario.content_type)
    if status not in scenario.expect_status:
        raise BenchError(f"scenario {scenario.name!r}: {scenario.method} {scenario.path} answered HTTP {status}, "
                         f"expected {'/'.join(map(str, scenario.expect_status))}: {content[:300]!r}")


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


def _answers(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} x{n}" for key, n in sorted(counts.items())) or "none"


# ---------------------------------------------------------------------------------------------
# Ops board: shipments bulk-inserted with SQL, the board measured at two table sizes

# The encrypted columns (prescriptions.directions, shipments.shipping_address) hold ciphertext
# made with the app's keys: made once here, then copied into every row by the SQL below.
CIPHERTEXTS = """
import json
from telehealth import create_app, crypto

app = create_app()
with app.app_context():
    address = {"line1": "1 Bench Street", "line2": "", "city": "Portland", "state": "OR", "postal_code": "97201"}
    print("bench-ciphertexts " + json.dumps({
        "directions": crypto.encrypt("Dissolve one tablet under the tongue at the start of a session."),
        "address": crypto.encrypt(json.dumps(address, sort_keys=True)),
    }))
"""

# Patients copied from the demo patient (same profile, other names), one completed consult that
# every prescription refers to as its encounter, and one prescription per patient.
PRESCRIPTIONS_SQL = """
INSERT INTO users (email, password_hash, role, display_name, time_zone, active, failed_login_count, created_at)
SELECT 'bench.patient' || g || '@bench.telehealth', u.password_hash, 'patient', 'Bench Patient ' || g,
       u.time_zone, true, 0, now()
  FROM users u, generate_series(1, %(copies)s) g WHERE u.email = %(demo)s;

INSERT INTO patient_profiles (user_id, legal_first_name, legal_last_name, date_of_birth, state_of_residence,
                              phone_e164, shipping_address, emergency_contact, mental_health_provider)
SELECT c.id, p.legal_first_name, 'Bench' || c.id, p.date_of_birth, p.state_of_residence, p.phone_e164,
       p.shipping_address, p.emergency_contact, p.mental_health_provider
  FROM users c, users d JOIN patient_profiles p ON p.user_id = d.id
 WHERE c.email LIKE 'bench.patient%%@bench.telehealth' AND d.email = %(demo)s;

INSERT INTO appointments (patient_id, provider_id, appointment_type, starts_at, ends_at, blocks_from, blocks_until,
                          status, credit_kind, video_room, created_at, late_cancellation)
SELECT d.id, ph.id, 'consult', now() - interval '100 days', now() - interval '100 days' + interval '30 minutes',
       now() - interval '100 days', now() - interval '100 days' + interval '30 minutes',
       'completed', 'consult', 'bench-encounter', now(), false
  FROM users d, users ph WHERE d.email = %(demo)s AND ph.email = %(physician)s;

INSERT INTO prescriptions (patient_id, physician_id, version, status, medication, form, strength_mg,
                           dose_per_session_mg, sessions, refills, directions, diagnosis_code, signed_at,
                           refills_until, encounter_appointment_id, license_state, license_number, dea_number)
SELECT pt.id, a.provider_id, 1, 'active', 'ketamine', 'sublingual_tablet', 100, 200, 6, 0, %(directions)s,
       'F33.1', now() - interval '99 days', current_date + 80, a.id, 'OR', 'BENCH-LICENSE', 'AB1234563'
  FROM users pt, appointments a
 WHERE a.video_room = 'bench-encounter' AND (pt.email = %(demo)s OR pt.email LIKE 'bench.patient%%@bench.telehealth');

UPDATE prescriptions SET lineage_id = id WHERE lineage_id IS NULL;
"""

# Shipments number `first`..`last` (their ids, on a fresh table), spread over the prescriptions,
# one a minute up to now. By n % 20: 0 created (overdue to ship after 3 days: breach=ship), 1
# filled, 2 shipped, 3 out for delivery, 4 exception, the rest delivered; everything from
# "shipped" on has a tracking number BENCH1Z<n, 10 digits>.
SHIPMENTS_SQL = """
WITH rx AS (SELECT id, patient_id, row_number() OVER (ORDER BY id) - 1 AS k FROM prescriptions),
     n AS (SELECT count(*) AS total FROM prescriptions),
     g AS (SELECT g, now() - interval '1 minute' * (%(last)s::int - g) AS at,
                  CASE g %% 20 WHEN 0 THEN 'created' WHEN 1 THEN 'filled' WHEN 2 THEN 'shipped'
                       WHEN 3 THEN 'out_for_delivery' WHEN 4 THEN 'exception' ELSE 'delivered' END AS status
             FROM generate_series(%(first)s::int, %(last)s::int) g)
INSERT INTO shipments (prescription_id, patient_id, stage, sessions, status, pharmacy_order_id, shipping_address,
                       carrier, tracking_number, exception_reason, created_at, ship_by, deliver_by, shipped_at,
                       delivered_at, signature_name, pharmacy_reference, send_attempts)
SELECT rx.id, rx.patient_id, 1, 2, g.status, 'bench-order-' || g.g, %(address)s,
       CASE WHEN g.g %% 20 >= 2 THEN 'UPS' END,
       CASE WHEN g.g %% 20 >= 2 THEN 'BENCH1Z' || lpad(g.g::text, 10, '0') END,
       CASE WHEN g.status = 'exception' THEN 'Address not found' END,
       g.at, g.at + interval '3 days', g.at + interval '6 days',
       CASE WHEN g.g %% 20 >= 2 THEN g.at + interval '1 day' END,
       CASE WHEN g.status = 'delivered' THEN g.at + interval '3 days' END,
       CASE WHEN g.status = 'delivered' THEN 'B. Patient' END,
       'bench-stage-' || g.g, 1
  FROM g JOIN rx ON rx.k = g.g %% (SELECT total FROM n)
"""


def tracking_number(n: int) -> str:
    return f"BENCH1Z{n:010d}"


def prepare_prescriptions(env: dict[str, str]) -> dict[str, str]:
    """The patients and prescriptions shipments need; returns the ciphertexts to copy."""
    import psycopg

    proc = subprocess.run([sys.executable, "-c", CIPHERTEXTS], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)
    found = re.search(r"^bench-ciphertexts (\{.*\})$", proc.stdout, re.M)
    if proc.returncode != 0 or not found:
        raise BenchError(f"encrypting the bench prescription and address failed (exit {proc.returncode}):\n"
                         f"{proc.stdout}{proc.stderr}".rstrip())
    ciphertexts = json.loads(found.group(1))
    with psycopg.connect(DATABASE_URL, connect_timeout=5) as conn:
        params = {"copies": BENCH_PATIENTS - 1, "demo": DEMO_EMAIL, "physician": BENCH_PHYSICIAN,
                  "directions": ciphertexts["directions"]}
        for statement in filter(str.strip, PRESCRIPTIONS_SQL.split(";\n")):  # one statement per execute
            conn.execute(statement, {k: v for k, v in params.items() if f"%({k})s" in statement})
        made = conn.execute("SELECT count(*) FROM prescriptions").fetchone()[0]
    if made < BENCH_PATIENTS:
        raise BenchError(f"only {made} bench prescriptions were made (expected {BENCH_PATIENTS})")
    return ciphertexts


def fill_shipments(upto: int, ciphertexts: dict[str, str]) -> tuple[int, float]:
    """Insert shipments until there are `upto`, then ANALYZE; (shipments now, seconds taken)."""
    import psycopg

    started = time.monotonic()
    with psycopg.connect(DATABASE_URL, connect_timeout=5) as conn:
        have = conn.execute("SELECT count(*) FROM shipments").fetchone()[0]
        if have < upto:
            conn.execute(SHIPMENTS_SQL, {"first": have + 1, "last": upto, "address": ciphertexts["address"]})
        conn.commit()
        conn.autocommit = True
        conn.execute("ANALYZE shipments")  # as autovacuum would after such a load
        total = conn.execute("SELECT count(*) FROM shipments").fetchone()[0]
    return total, time.monotonic() - started


BOARD_QUERIES = ("default", "breach=ship", "search")


def board_scenarios(ops_cookie: str, size: int) -> list[Scenario]:
    """The board's newest 50, the ship-by breaches and a search for one tracking number, as ops."""
    auth = cookie_header(ops_cookie)
    label = f"{size // 1000}k"
    paths = {"default": "/api/v1/ops/shipments",
             "breach=ship": "/api/v1/ops/shipments?breach=ship",
             "search": "/api/v1/ops/shipments?q=" + tracking_number(SEARCH_SHIPMENT)}
    return [Scenario(f"app ops board {query} ({label})", "app", paths[query], headers=auth, script=P95_LUA)
            for query in BOARD_QUERIES]


def check_board(scenario: Scenario, base_url: str, expect_items: bool = True) -> None:
    check_scenario(scenario, base_url)
    _, _, content = request(base_url + scenario.path, headers=scenario.headers)
    if expect_items and not json.loads(content).get("items"):
        raise BenchError(f"scenario {scenario.name!r}: {scenario.path} found no shipments")


# ---------------------------------------------------------------------------------------------
# Care team: the physician's work list and a patient's timeline with CARE_PATIENTS patients

# Ciphertexts for the encrypted columns the care data needs, made once with the app's keys.
CARE_CIPHERTEXTS = """
import json
from telehealth import create_app, crypto

app = create_app()
with app.app_context():
    gates = [{"id": g, "ok": True, "reason": "ok"} for g in ("prescription", "medication_delivered", "interval",
             "within_prescription", "consult", "consult_after_gap", "adverse_event", "pause", "sitter",
             "blood_pressure")]
    answers = {"mood": 7, "side_effects": [], "graded": []}
    address = {"line1": "1 Bench Street", "line2": "", "city": "Albany", "state": "NY", "postal_code": "12207"}
    print("bench-ciphertexts " + json.dumps({
        "empty": crypto.encrypt("{}"),
        "directions": crypto.encrypt("Dissolve one tablet under the tongue at the start of a session."),
        "address": crypto.encrypt(json.dumps(address, sort_keys=True)),
        "sitter_name": crypto.encrypt("Sam Sitter"),
        "sitter_phone": crypto.encrypt("+12125550123"),
        "gates": crypto.encrypt(json.dumps(gates, sort_keys=True)),
        "answers": crypto.encrypt(json.dumps(answers, sort_keys=True)),
        "body": crypto.encrypt("Telehealth Care: a reminder of your appointment."),
        "note": crypto.encrypt("Bench text."),
    }))
"""

# CARE_PATIENTS patients copied from the demo patient (care.patient<g>@bench.telehealth), all on
# the care team of CARE_PHYSICIAN, each with a history like a patient a few months in: one
# physician encounter (g % 35 days ago: 1 in 9 are overdue for a follow-up), a prescription,
# a delivered stage, CARE_SESSIONS completed sessions each with a reading and an answered check-in,
# CARE_SESSIONS measures and CARE_SESSIONS texts. Some need action: 1 in 3 holds a follow-up
# credit, 1 in 50 has a follow-up booked tomorrow, 1 in 40 an open adverse event (half serious),
# 1 in 60 a pause, 1 in 30 an unacknowledged alert, 1 in 20 a stage waiting for release.
CARE_SQL = """
INSERT INTO users (email, password_hash, role, display_name, time_zone, active, failed_login_count, created_at)
SELECT 'care.patient' || g || '@bench.telehealth', u.password_hash, 'patient', 'Care Patient ' || g,
       u.time_zone, true, 0, now()
  FROM users u, generate_series(1, %(patients)s) g WHERE u.email = %(demo)s;

CREATE TEMP TABLE care_bench AS
SELECT id AS patient_id, substring(email from 'care\\.patient([0-9]+)@')::int AS g
  FROM users WHERE email LIKE 'care.patient%%@bench.telehealth';

INSERT INTO patient_profiles (user_id, legal_first_name, legal_last_name, date_of_birth, state_of_residence,
                              phone_e164, shipping_address, emergency_contact, mental_health_provider)
SELECT c.patient_id, p.legal_first_name, 'Care' || c.g, p.date_of_birth, p.state_of_residence, p.phone_e164,
       p.shipping_address, p.emergency_contact, p.mental_health_provider
  FROM care_bench c, users d JOIN patient_profiles p ON p.user_id = d.id WHERE d.email = %(demo)s;

INSERT INTO care_assignments (patient_id, staff_id, care_role, started_at)
SELECT c.patient_id, ph.id, 'physician', now() FROM care_bench c, users ph WHERE ph.email = %(physician)s;

INSERT INTO appointments (patient_id, provider_id, appointment_type, starts_at, ends_at, blocks_from, blocks_until,
                          status, credit_kind, video_room, created_at, late_cancellation, encounter_started_at,
                          encounter_ended_at, encounter_modality)
SELECT c.patient_id, ph.id, t.kind, t.at, t.at + interval '30 minutes', t.at, t.at + interval '30 minutes',
       'completed', t.kind, 'care-encounter-' || c.g, t.at - interval '7 days', false, t.at,
       t.at + interval '25 minutes', 'video'
  FROM care_bench c, users ph,
       LATERAL (SELECT CASE WHEN c.g %% 2 = 0 THEN 'consult' ELSE 'follow_up' END AS kind,
                       now() - interval '1 day' * (c.g %% 35) - interval '2 hours' AS at) t
 WHERE ph.email = %(physician)s;

INSERT INTO appointments (patient_id, provider_id, appointment_type, starts_at, ends_at, blocks_from, blocks_until,
                          status, credit_kind, video_room, created_at, late_cancellation)
SELECT c.patient_id, ph.id, 'follow_up', t.at, t.at + interval '20 minutes', t.at, t.at + interval '20 minutes',
       'booked', 'follow_up', 'care-follow-up-' || c.g, now(), false
  FROM care_bench c, users ph,
       LATERAL (SELECT date_trunc('hour', now()) + interval '1 day' + interval '25 minutes' * (c.g / 50) AS at) t
 WHERE ph.email = %(physician)s AND c.g %% 50 = 0;

INSERT INTO credit_balances (patient_id, kind, balance)
SELECT patient_id, 'follow_up', 1 FROM care_bench WHERE g %% 3 = 0;

INSERT INTO prescriptions (patient_id, physician_id, version, status, medication, form, strength_mg,
                           dose_per_session_mg, sessions, refills, directions, diagnosis_code, signed_at,
                           refills_until, encounter_appointment_id, license_state, license_number, dea_number)
SELECT a.patient_id, a.provider_id, 1, 'active', 'ketamine', 'sublingual_tablet', 100, 200, 6, 0, %(directions)s,
       'F33.1', a.ends_at + interval '1 hour', current_date + 150, a.id, 'NY', 'BENCH-LICENSE', 'AB1234563'
  FROM appointments a WHERE a.video_room LIKE 'care-encounter-%%';

UPDATE prescriptions SET lineage_id = id WHERE lineage_id IS NULL;

INSERT INTO shipments (prescription_id, patient_id, stage, sessions, status, pharmacy_order_id, shipping_address,
                       carrier, tracking_number, created_at, ship_by, deliver_by, shipped_at, delivered_at,
                       signature_name, pharmacy_reference, send_attempts, sessions_completed_at)
SELECT rx.id, rx.patient_id, 1, 3, 'delivered', 'care-order-' || c.g, %(address)s, 'UPS',
       'CARE1Z' || lpad(c.g::text, 10, '0'), rx.signed_at, rx.signed_at + interval '3 days',
       rx.signed_at + interval '6 days', rx.signed_at + interval '1 day', rx.signed_at + interval '3 days',
       'C. Patient', 'care-stage-' || c.g, 1,
       CASE WHEN c.g %% 20 = 0 THEN now() - interval '1 day' END
  FROM care_bench c JOIN prescriptions rx ON rx.patient_id = c.patient_id;

INSERT INTO home_sessions (patient_id, prescription_id, number, scheduled_for, status, sitter_name, sitter_phone,
                           sitter_confirmed_at, started_at, completed_at, gate_results, created_at)
SELECT rx.patient_id, rx.id, n, t.at, 'completed', %(sitter_name)s, %(sitter_phone)s, t.at - interval '20 minutes',
       t.at, t.at + interval '2 hours', %(gates)s, t.at - interval '3 days'
  FROM care_bench c JOIN prescriptions rx ON rx.patient_id = c.patient_id, generate_series(1, %(sessions)s) n,
       LATERAL (SELECT now() - interval '4 days' * (%(sessions)s - n + 1) - interval '1 minute' * c.g AS at) t;

INSERT INTO check_ins (session_id, kind, due_at, status, prompted_at, answered_at, answers)
SELECT s.id, 'post', s.scheduled_for + interval '2 hours', 'answered', s.scheduled_for + interval '2 hours',
       s.scheduled_for + interval '130 minutes', %(answers)s
  FROM home_sessions s JOIN care_bench c ON c.patient_id = s.patient_id;

INSERT INTO blood_pressure_readings (patient_id, session_id, systolic, diastolic, taken_at, source, band)
SELECT s.patient_id, s.id, 118 + s.number, 76, s.scheduled_for - interval '30 minutes', 'app', 'go'
  FROM home_sessions s JOIN care_bench c ON c.patient_id = s.patient_id;

INSERT INTO measures (patient_id, instrument, questionnaire_version, answers, total, band, taken_at, source)
SELECT c.patient_id, CASE WHEN n %% 2 = 0 THEN 'gad7' ELSE 'phq9' END, 1, %(empty)s, 6 + n, 'mild',
       now() - interval '7 days' * n - interval '1 minute' * c.g, 'retake'
  FROM care_bench c, generate_series(1, %(sessions)s) n;

INSERT INTO outbound_messages (to_phone, body, purpose, priority, patient_id, not_before, status, attempts,
                               uncertain, created_at, sent_at)
SELECT '+12125550100', %(body)s, 'appointment_reminder', 'routine', c.patient_id, t.at, 'sent', 1, false, t.at, t.at
  FROM care_bench c, generate_series(1, %(sessions)s) n,
       LATERAL (SELECT now() - interval '3 days' * n - interval '1 minute' * c.g AS at) t;

INSERT INTO adverse_events (patient_id, grade, description, source, opened_at)
SELECT patient_id, CASE WHEN g %% 80 = 0 THEN 'serious' ELSE 'moderate' END, %(note)s, 'check_in',
       now() - interval '1 hour' * (g %% 48)
  FROM care_bench WHERE g %% 40 = 0;

INSERT INTO treatment_pauses (patient_id, reason, started_at)
SELECT patient_id, %(note)s, now() - interval '1 hour' * (g %% 72) FROM care_bench WHERE g %% 60 = 0;

INSERT INTO clinical_alerts (kind, urgency, recipient, status, patient_id, summary, created_at, acknowledged_at)
SELECT 'side_effect', CASE WHEN g %% 90 = 0 THEN 'urgent' ELSE 'routine' END, 'care_team',
       CASE WHEN g %% 30 = 0 THEN 'delivered' ELSE 'acknowledged' END, patient_id, %(note)s,
       now() - interval '1 hour' * (g %% 24), CASE WHEN g %% 30 <> 0 THEN now() END
  FROM care_bench WHERE g %% 3 = 0;

ANALYZE
"""

# Counted in-process (the app on the bench database, a test client, an engine listener): the SQL
# statements of one request of each care scenario, after one request to warm up.
CARE_QUERY_COUNT = """
import json, sys
from sqlalchemy import event
from telehealth import create_app
from telehealth.extensions import db

paths = json.loads(sys.argv[1])
app = create_app()
with app.app_context():
    engine = db.engine
client = app.test_client()
r = client.post("/api/v1/auth/login", json={"email": sys.argv[2], "password": sys.argv[3]})
assert r.status_code == 200, r.status_code
counted = {}
for name, path in paths.items():
    client.get(path)
    statements = []
    listener = lambda *args: statements.append(args[2])
    event.listen(engine, "before_cursor_execute", listener)
    try:
        r = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    counted[name] = {"status": r.status_code, "queries": len(statements)}
print("bench-queries " + json.dumps(counted))
"""


def _python_snippet(snippet: str, env: dict[str, str], tag: str, *args: str) -> Any:
    proc = subprocess.run([sys.executable, "-c", snippet, *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)
    found = re.search(rf"^{tag} (\{{.*\}})$", proc.stdout, re.M)
    if proc.returncode != 0 or not found:
        raise BenchError(f"a bench snippet ({tag}) failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}".rstrip())
    return json.loads(found.group(1))


def fill_care(env: dict[str, str]) -> tuple[dict[str, int], float]:
    """Insert the care team's CARE_PATIENTS patients and their histories; (rows made, seconds taken)."""
    import psycopg

    started = time.monotonic()
    params = {**_python_snippet(CARE_CIPHERTEXTS, env, "bench-ciphertexts"), "patients": CARE_PATIENTS,
              "sessions": CARE_SESSIONS, "demo": DEMO_EMAIL, "physician": CARE_PHYSICIAN}
    with psycopg.connect(DATABASE_URL, connect_timeout=5) as conn:
        for statement in filter(str.strip, CARE_SQL.split(";\n")):  # one statement per execute
            conn.execute(statement, {k: v for k, v in params.items() if f"%({k})s" in statement})
        conn.commit()
        counts = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 (constants)
                  for table in ("users", "care_assignments", "home_sessions", "measures", "outbound_messages",
                                "shipments")}
        pick = conn.execute("SELECT c.patient_id FROM care_bench c WHERE c.g = %s", (CARE_PATIENTS // 2,)).fetchone()
    if counts["care_assignments"] < CARE_PATIENTS or pick is None:
        raise BenchError(f"the care data was not made (counts: {counts})")
    counts["timeline_patient_id"] = pick[0]
    return counts, time.monotonic() - started


def care_paths(patient_id: int, before: str | None = None) -> dict[str, str]:
    timeline = f"/api/v1/patients/{patient_id}/timeline"
    paths = {"worklist": "/api/v1/me/worklist", "timeline": f"{timeline}?limit={CARE_TIMELINE_LIMIT}",
             "timeline limit=5": f"{timeline}?limit=5", "timeline limit=50": f"{timeline}?limit=50"}
    if before:
        paths["timeline page 2"] = f"{timeline}?limit={CARE_TIMELINE_LIMIT}&before={urllib.parse.quote(before)}"
    return paths


def care_scenarios(physician_cookie: str, paths: dict[str, str]) -> list[Scenario]:
    """The physician's work list and one patient's timeline (first page and the next), as the physician."""
    auth = cookie_header(physician_cookie)
    label = f"{CARE_PATIENTS // 1000}k patients"
    return [Scenario(f"app {name} ({label})", "app", paths[name], headers=auth, script=P95_LUA)
            for name in CARE_SCENARIOS]


# ---------------------------------------------------------------------------------------------
# Outbox dispatch: texts per second from two dispatcher processes to a local Twilio

QUEUE_TEXTS = """
import sys
from telehealth import create_app
from telehealth.extensions import db
from telehealth.services import outbox

app = create_app()
with app.app_context():
    for i in range(int(sys.argv[1])):
        outbox.enqueue(f"+1312555{i % 10000:04d}", f"Bench text {i}", "alert", priority="staff")
    db.session.commit()
"""


def measure_outbox(env: dict[str, str]) -> dict[str, Any]:
    """Queue OUTBOX_MESSAGES texts, send them with OUTBOX_DISPATCHERS processes; texts per second."""
    import psycopg

    port = free_port()
    twilio_url = f"http://127.0.0.1:{port}"
    fake = subprocess.Popen([sys.executable, str(REPO / "scripts" / "twilio_server.py"), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    dispatchers: list[subprocess.Popen] = []
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{twilio_url}/_control/messages", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise BenchError(f"the local Twilio did not answer on {twilio_url}") from None
                time.sleep(0.1)
        sms_env = dict(env, SMS_BACKEND="twilio", TWILIO_API_BASE=twilio_url, TWILIO_TIMEOUT_SECONDS="10")
        proc = subprocess.run([sys.executable, "-c", QUEUE_TEXTS, str(OUTBOX_MESSAGES)], cwd=REPO, env=sms_env,
                              capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            raise BenchError(f"queueing {OUTBOX_MESSAGES} texts failed:\n{proc.stdout}{proc.stderr}".rstrip())
        started = time.monotonic()
        for _ in range(OUTBOX_DISPATCHERS):
            dispatchers.append(subprocess.Popen([str(BIN / "flask"), "outbox", "dispatch", "--loop", "--limit", "50"],
                                                cwd=REPO, env=sms_env, stdout=subprocess.DEVNULL,
                                                stderr=subprocess.DEVNULL, start_new_session=True))
        with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
            while True:
                sent = conn.execute("SELECT count(*) FROM outbound_messages WHERE status = 'sent' "
                                    "AND body IS NOT NULL AND purpose = 'alert'").fetchone()[0]
                if sent >= OUTBOX_MESSAGES:
                    break
                if time.monotonic() - started > 300:
                    raise BenchError(f"the dispatchers sent only {sent} of {OUTBOX_MESSAGES} texts in 300 s")
                time.sleep(0.05)
        elapsed = time.monotonic() - started
        with urllib.request.urlopen(f"{twilio_url}/_control/messages", timeout=30) as resp:
            # only the queued texts: the Twilio webhook scenario's answer to its inbound text was
            # pending too, and the dispatchers send it as well (it is not a duplicate)
            bodies = [m["body"] for m in json.loads(resp.read())["messages"] if m["body"].startswith("Bench text ")]
    finally:
        for proc in [*dispatchers, fake]:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=10)
    return {"messages": OUTBOX_MESSAGES, "dispatchers": OUTBOX_DISPATCHERS, "seconds": round(elapsed, 2),
            "messages_per_sec": round(OUTBOX_MESSAGES / elapsed, 1), "received": len(bodies),
            "duplicates": len(bodies) - len(set(bodies))}


# ---------------------------------------------------------------------------------------------
# wrk

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _to_ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", value.strip())
    if not match:
        raise ValueError(f"unknown wrk duration {value!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> dict[str, Any]:
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    if not rps:
        raise BenchError(f"could not find Requests/sec in wrk output:\n{output}")
    percentiles = {}
    dist = output.split("Latency Distribution", 1)
    if len(dist) == 2:
        for pct, value in re.findall(r"^\s+(\d+(?:\.\d+)?)%\s+(\S+)\s*$", dist[1], re.M):
            percentiles[f"p{pct}"] = round(_to_ms(value), 3)
    for pct, micros in re.findall(r"^bench-latency p(\d+) (\d+)$", output, re.M):
        percentiles[f"p{pct}"] = round(int(micros) / 1000, 3)
    if "p50" not in percentiles or "p99" not in percentiles:
        raise BenchError(f"could not find the 50% and 99% latency in wrk output (was --latency given?):\n{output}")
    total = re.search(r"^\s*(\d+) requests in ([\d.]+\w+)", output, re.M)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return {
        "requests_per_sec": float(rps.group(1)),
        "latency_ms": percentiles,
        "requests": int(total.group(1)) if total else None,
        "non_2xx_3xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": (dict(zip(("connect", "read", "write", "timeout"), map(int, sock.groups())))
                          if sock else {"connect": 0, "read": 0, "write": 0, "timeout": 0}),
        # Printed by scripts that count answers (book_slots.lua): "bench-status 409 slot_taken 3".
        "answers": ({f"{status} {code}": int(n) for status, code, n in
                     re.findall(r"^bench-status (\d+) (\S+) (\d+)$", output, re.M)} or None),
    }


def run_wrk(url: str, *, duration: int, connections: int, threads: int,
            headers: dict[str, str] | None = None, script: Path | None = None,
            script_env: dict[str, str] | None = None) -> tuple[dict[str, Any], str]:
    """Run wrk once; return the parsed figures and the raw output."""
    cmd = ["wrk", "--latency", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s"]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    if script is not None:
        cmd += ["-s", str(script)]
    cmd.append(url)
    env = dict(os.environ, **(script_env or {}), BENCH_WRK_THREADS=str(threads))
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=duration + 60)
    except subprocess.TimeoutExpired:
        raise BenchError(f"wrk did not finish within {duration + 60}s on {url}") from None
    if proc.returncode != 0:
        raise BenchError(f"wrk failed (exit {proc.returncode}) on {url}:\n{proc.stdout}{proc.stderr}".rstrip())
    return parse_wrk(proc.stdout), proc.stdout


# ---------------------------------------------------------------------------------------------
# Report


def _ratio(value: float | None, base: float | None) -> float | None:
    if value is None or not base:
        return None
    return round(value / base, 3)


def print_table(results: list[dict[str, Any]]) -> None:
    header = ("scenario", "req/s", "p50 ms", "p95 ms", "p99 ms", "req/s vs bare", "p50 vs bare", "p95 vs bare",
              "SQL/req", "non-2xx")
    rows = []
    for r in results:
        rows.append((
            r["name"],
            f"{r['requests_per_sec']:.0f}",
            f"{r['latency_ms']['p50']:.2f}",
            f"{r['latency_ms']['p95']:.2f}" if "p95" in r["latency_ms"] else "-",
            f"{r['latency_ms']['p99']:.2f}",
            f"{r['rps_ratio']:.2f}x" if r["rps_ratio"] is not None else "-",
            f"{r['p50_ratio']:.2f}x" if r["p50_ratio"] is not None else "-",
            f"{r['p95_ratio']:.2f}x" if r.get("p95_ratio") is not None else "-",
            str(r.get("queries_per_request", "-")),
            str(r["non_2xx_3xx"]),
        ))
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    fmt = "  ".join(["{:<%d}" % widths[0]] + ["{:>%d}" % w for w in widths[1:]])
    print(fmt.format(*header))
    print(fmt.format(*("-" * w for w in widths)))
    for row in rows:
        print(fmt.format(*row))


# ---------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None):
    import argparse

    parser = argparse.ArgumentParser(description="make bench: the app's throughput and latency as ratios to a bare "
                                                 "Flask route (see bench/README.md)")
    parser.add_argument("--only", action="append", choices=GROUPS, metavar="GROUP",
                        help=f"run only this group (repeat for several; the baseline always runs): {', '.join(GROUPS)}")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    only = set(parse_args(argv).only or GROUPS)
    crisis_ok, crisis_result = True, None
    if "crisis" in only:
        import crisis_detection as crisis_bench  # bench/crisis_detection.py, beside this file

        crisis_result = crisis_bench.measure()
        crisis_ok = crisis_bench.report(crisis_result)
        if only <= set(OFFLINE_GROUPS):
            return 0 if crisis_ok else 1
    duration = _env_number("BENCH_DURATION", 8, 1)
    warmup = _env_number("BENCH_WARMUP", 2, 0)
    connections = _env_number("BENCH_CONNECTIONS", 16, 1)
    threads = _env_number("BENCH_THREADS", 2, 1)
    workers = _env_number("BENCH_WORKERS", 2, 1)
    if connections < threads:
        raise BenchError(f"BENCH_CONNECTIONS ({connections}) must be at least BENCH_THREADS ({threads})")
    if shutil.which("wrk") is None:
        raise BenchError("wrk is not on PATH; run `bash bench/ensure_wrk.sh` (make bench does)")
    for tool in ("flask", "gunicorn"):
        if not (BIN / tool).exists():
            raise BenchError(f"{BIN / tool} not found; run bench/run.py with the venv python (.venv/bin/python)")
    OUT_DIR.mkdir(exist_ok=True)

    print(f"bench: recreating database {DB_NAME} (groups: {', '.join(g for g in GROUPS if g in only)})", flush=True)
    recreate_database()
    env = app_environment(booking_horizon_days(workers, warmup + duration))
    run_flask(env, "db", "upgrade")
    run_flask(env, "seed-demo")
    settings = grant_credits(env)

    servers = {
        "bare": Server("bare", "bare_app:app", "/bare", env, workers, chdir=BENCH_DIR),
        "app": Server("app", "wsgi:app", "/healthz", env, workers),
    }
    results: list[dict[str, Any]] = []
    race: dict[str, Any] = {}
    board: dict[str, Any] = {"shipments": [SHIPMENTS_SMALL, SHIPMENTS_LARGE], "patients": BENCH_PATIENTS,
                             "search": tracking_number(SEARCH_SHIPMENT), "fill_seconds": {}, "p95_ms": {}}
    care: dict[str, Any] = {"patients": CARE_PATIENTS, "physician": CARE_PHYSICIAN, "p95_ms": {}, "queries": {}}
    scheduling: SchedulingSetup | None = None
    outbox_result: dict[str, Any] | None = None
    try:
        for server in servers.values():
            server.start()
        for server in servers.values():
            server.wait_ready()
        print(f"bench: gunicorn --workers {workers}: app on :{servers['app'].port}, "
              f"bare on :{servers['bare'].port}; wrk -t{threads} -c{connections} -d{duration}s "
              f"(+{warmup}s warm-up each)", flush=True)

        cookie = log_in(servers["app"])
        if "scenarios" in only:
            scheduling = prepare_scheduling(servers["app"], cookie, settings, warmup, duration)
            scenarios = build_scenarios(cookie, scheduling)
        else:
            scenarios = [Scenario(BASELINE, "bare", "/bare", script=P95_LUA)]
        for scenario in scenarios:
            check_scenario(scenario, servers[scenario.target].base_url)

        def measure(scenario: Scenario) -> dict[str, Any]:
            url = servers[scenario.target].base_url + scenario.path
            wrk_args = dict(connections=connections, threads=threads, headers=scenario.headers,
                            script=scenario.lua_script())
            print(f"bench: {scenario.name} ...", flush=True)
            if warmup:
                run_wrk(url, duration=warmup, script_env=scenario.lua_env(warmup=True), **wrk_args)
            figures, raw = run_wrk(url, duration=duration, script_env=scenario.lua_env(), **wrk_args)
            result = {"name": scenario.name, "target": scenario.target, "method": scenario.method,
                      "path": scenario.path, "valid_answers": scenario.valid_answers,
                      "distinct_requests": scenario.distinct_requests, **figures, "wrk_output": raw}
            results.append(result)
            return result

        for scenario in scenarios:
            measure(scenario)

        if scheduling is not None:
            print(f"bench: racing: {RACE_REQUESTS} bookings of the same {RACE_SLOTS} slots from "
                  f"{RACE_THREADS} threads ...", flush=True)
            race["answers"] = race_bookings(servers["app"], cookie, scheduling.race_bodies)
            race["double_bookings"], race["booked_appointments"] = count_double_bookings()

        if "ops-board" in only:
            # The ops board at SHIPMENTS_SMALL, then SHIPMENTS_LARGE shipments: same queries, p95 each.
            ciphertexts = prepare_prescriptions(env)
            ops_cookie = log_in(servers["app"], OPS_EMAIL)
            for size in (SHIPMENTS_SMALL, SHIPMENTS_LARGE):
                total, took = fill_shipments(size, ciphertexts)
                print(f"bench: ops board: {total} shipments in the database ({took:.1f}s to insert and analyze)",
                      flush=True)
                board["fill_seconds"][str(size)] = round(took, 1)
                for query, scenario in zip(BOARD_QUERIES, board_scenarios(ops_cookie, size), strict=True):
                    check_board(scenario, servers["app"].base_url)
                    board["p95_ms"].setdefault(query, {})[str(size)] = measure(scenario)["latency_ms"]["p95"]

        if "care" in only:
            # The physician's work list and a patient's timeline with CARE_PATIENTS patients in the database.
            counts, took = fill_care(env)
            care.update(rows=counts, fill_seconds=round(took, 1))
            print(f"bench: care team: {CARE_PATIENTS} patients on {CARE_PHYSICIAN}'s care team "
                  f"({took:.1f}s to insert and analyze)", flush=True)
            physician_cookie = log_in(servers["app"], CARE_PHYSICIAN)
            first = care_paths(counts["timeline_patient_id"])
            status, _, content = request(servers["app"].base_url + first["timeline"],
                                         headers=cookie_header(physician_cookie))
            before = json.loads(content).get("next_before") if status == 200 else None
            if not before:
                raise BenchError(f"the bench patient's timeline answered HTTP {status} without a next page: "
                                 f"{content[:300]!r}")
            paths = care_paths(counts["timeline_patient_id"], before)
            care["queries"] = _python_snippet(CARE_QUERY_COUNT, env, "bench-queries", json.dumps(paths),
                                              CARE_PHYSICIAN, DEMO_PASSWORD)
            for name, scenario in zip(CARE_SCENARIOS, care_scenarios(physician_cookie, paths), strict=True):
                check_board(scenario, servers["app"].base_url)
                figures = measure(scenario)
                figures["queries_per_request"] = care["queries"][name]["queries"]
                care["p95_ms"][name] = figures["latency_ms"]["p95"]

        if "outbox" in only:
            print(f"bench: outbox: {OUTBOX_MESSAGES} texts, {OUTBOX_DISPATCHERS} dispatcher processes, "
                  "local Twilio ...", flush=True)
            outbox_result = measure_outbox(env)
    finally:
        for server in servers.values():
            server.stop()

    base = results[0]
    for r in results:
        r["rps_ratio"] = _ratio(r["requests_per_sec"], base["requests_per_sec"])
        r["p50_ratio"] = _ratio(r["latency_ms"]["p50"], base["latency_ms"]["p50"])
        r["p95_ratio"] = _ratio(r["latency_ms"].get("p95"), base["latency_ms"].get("p95"))
        r["p99_ratio"] = _ratio(r["latency_ms"]["p99"], base["latency_ms"]["p99"])
        errors = sum(r["socket_errors"].values())
        if r["valid_answers"] is None:
            r["valid"] = r["non_2xx_3xx"] == 0 and errors == 0
        else:  # the script counted every answer; each must be one of the valid ones
            counted = r["answers"] or {}
            r["valid"] = (errors == 0 and sum(counted.values()) == r["requests"]
                          and all(key in r["valid_answers"] for key in counted))

    print()
    print_table(results)
    print()
    for r in results:
        if r["valid_answers"] is not None:
            print(f"{r['name']}: answers {_answers(r['answers'] or {})} "
                  f"(valid: {', '.join(r['valid_answers'])})")
            if not r["valid"] and not any(r["socket_errors"].values()):
                print(f"WARNING: {r['name']}: answers other than {', '.join(r['valid_answers'])} (or not all "
                      "counted); this result is not valid")
        elif r["non_2xx_3xx"]:
            print(f"WARNING: {r['name']}: {r['non_2xx_3xx']} non-2xx/3xx responses; this result is not valid")
        if r["distinct_requests"] is not None and (r["requests"] or 0) > r["distinct_requests"]:
            print(f"note: {r['name']}: {r['requests']} requests for {r['distinct_requests']} different ones: "
                  "the list ran out and the rest repeated it (for booking: 409s; raise "
                  "BOOKINGS_PER_WORKER_SECOND in bench/run.py)")
        if any(r["socket_errors"].values()):
            errs = ", ".join(f"{k} {v}" for k, v in r["socket_errors"].items())
            print(f"WARNING: {r['name']}: socket errors ({errs}); this result is not valid")
    race_ok = outbox_ok = True
    if race:
        created = race["answers"].get("201 ok", 0)
        race_ok = race["double_bookings"] == 0 and created <= RACE_SLOTS
        race.update({"slots": RACE_SLOTS, "requests": RACE_REQUESTS, "threads": RACE_THREADS, "ok": race_ok})
    if board["p95_ms"]:
        board["ratio_large_small"] = {
            query: _ratio(p95[str(SHIPMENTS_LARGE)], p95[str(SHIPMENTS_SMALL)])
            for query, p95 in board["p95_ms"].items()}
        print(f"ops board p95 ratio {SHIPMENTS_LARGE // 1000}k/{SHIPMENTS_SMALL // 1000}k: " + ", ".join(
            f"{query} {ratio:.2f}x" for query, ratio in board["ratio_large_small"].items())
            + " (near 1: the board does not slow down as shipments pile up)")
    if care["p95_ms"]:
        base_p95 = base["latency_ms"].get("p95")
        care["p95_ratio_to_bare"] = {name: _ratio(p95, base_p95) for name, p95 in care["p95_ms"].items()}
        print(f"care team ({CARE_PATIENTS} patients on one physician's care team): " + "; ".join(
            f"{name} p95 {care['p95_ms'][name]:.1f} ms ({care['p95_ratio_to_bare'][name] or 0:.1f}x bare), "
            f"{care['queries'][name]['queries']} SQL queries" for name in CARE_SCENARIOS))
        limits = [care["queries"][k]["queries"] for k in ("timeline limit=5", "timeline", "timeline limit=50")]
        care["timeline_queries_by_limit"] = dict(zip((5, CARE_TIMELINE_LIMIT, 50), limits, strict=True))
        print(f"care team: timeline SQL queries at limit 5 / {CARE_TIMELINE_LIMIT} / 50: "
              f"{' / '.join(map(str, limits))} (must not grow with the page: no N+1)")
        if len(set(limits)) != 1:
            print("WARNING: the timeline's query count grows with its page size (an N+1)")
    if outbox_result is not None:
        outbox_result["ratio_to_bare_rps"] = _ratio(outbox_result["messages_per_sec"], base["requests_per_sec"])
        print(f"outbox dispatch: {outbox_result['messages_per_sec']:.0f} texts/s with {OUTBOX_DISPATCHERS} "
              f"dispatchers ({outbox_result['ratio_to_bare_rps']:.3f}x the bare route's req/s); the local Twilio "
              f"received {outbox_result['received']} texts, {outbox_result['duplicates']} duplicates (must be 0)")
        outbox_ok = outbox_result["duplicates"] == 0 and outbox_result["received"] == OUTBOX_MESSAGES
        if not outbox_ok:
            print("FAIL: the outbox sent a text twice or lost one")
    if race:
        print(f"racing: {RACE_REQUESTS} bookings of {RACE_SLOTS} slots: {_answers(race['answers'])}; "
              f"201s: {race['answers'].get('201 ok', 0)} (must be at most {RACE_SLOTS})")
        print(f"double bookings found: {race['double_bookings']} "
              f"(among {race['booked_appointments']} booked appointments; must be 0)")
        if not race_ok:
            print("FAIL: a slot was booked twice; see DOUBLE_BOOKINGS_SQL in bench/run.py")
    for server in servers.values():
        if server.log_path.exists() and server.log_path.stat().st_size:
            print(f"note: gunicorn ({server.name}) logged warnings or errors; see {server.log_path.relative_to(REPO)}")

    report = {
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "baseline": BASELINE,
        "groups": [g for g in GROUPS if g in only],
        "settings": {"duration_s": duration, "warmup_s": warmup, "connections": connections,
                     "threads": threads, "gunicorn_workers": workers, "database": DATABASE_URL},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version()},
        "scheduling": scheduling.counts if scheduling else None,
        "scenarios": results,
        "race": race or None,
        "ops_board": board if board["p95_ms"] else None,
        "care": care if care["p95_ms"] else None,
        "outbox": outbox_result,
        "crisis": crisis_result if "crisis" in only else None,
    }
    out = OUT_DIR / "results.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"Ratios are against {BASELINE!r} in this run (req/s: higher is better; p50: lower is better).")
    print(f"Results: {out.relative_to(REPO)}")
    # An invalid scenario is reported above (WARNING lines, "valid" in the JSON), not fatal; a
    # double booking is a bug.
    return 0 if race_ok and outbox_ok and crisis_ok else 1


def _terminate(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


if __name__ == "__main__":
    # Ctrl-C and SIGTERM both unwind through main()'s finally, which stops the servers; SIGINT is
    # reset explicitly because a shell without job control starts background jobs with it ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("bench: interrupted; servers stopped", file=sys.stderr)
        sys.exit(130)

"""The `care` group: the care team's work list and a patient's timeline, and the physician's Today
page and that patient's chart (the portal's pages), with CARE_PATIENTS patients on one physician's
care team.

The patients, each with a few months of history (CARE_SQL; encrypted columns get ciphertext made
once by snippets.CARE_CIPHERTEXTS), are bulk-inserted with SQL; the physician's work list and one
patient's timeline (first page and the next) are measured with p95.lua, and the SQL statements of
one request of each are counted in-process (snippets.CARE_QUERY_COUNT, an engine listener); the
timeline's count must not change with its page size (no N+1).
"""
from __future__ import annotations

import json
import time
import urllib.parse
from typing import Any

import snippets
from report import ratio
from runner import (
    DATABASE_URL,
    DEMO_EMAIL,
    DEMO_PASSWORD,
    P95_LUA,
    BenchError,
    Runner,
    Scenario,
    check_items,
    check_scenario,
    cookie_header,
    log_in,
    python_snippet,
    request,
)

CARE_PHYSICIAN = "dr.brooks@demo.telehealth"
CARE_PATIENTS = 10_000
CARE_SESSIONS = 4             # sessions (each with a reading and a check-in), measures and texts per patient
CARE_TIMELINE_LIMIT = 20      # the timeline scenarios' page size (a patient has about 23 events)
CARE_SCENARIOS = ("worklist", "timeline", "timeline page 2", "page /today", "page chart")
# The portal's pages for the same physician: the Today page (alerts, review queue, appointments, work
# list) and the bench patient's chart; they answer HTML, so they are checked by status alone.
CARE_PAGES = ("page /today", "page chart")


def run(runner: Runner, env: dict[str, str]) -> dict[str, Any]:
    """Fill, count the queries, measure; the `care` part of results.json (without the ratios)."""
    care: dict[str, Any] = {"patients": CARE_PATIENTS, "physician": CARE_PHYSICIAN, "p95_ms": {}, "queries": {}}
    counts, took = fill_care(env)
    care.update(rows=counts, fill_seconds=round(took, 1))
    print(f"bench: care team: {CARE_PATIENTS} patients on {CARE_PHYSICIAN}'s care team "
          f"({took:.1f}s to insert and analyze)", flush=True)
    physician_cookie = log_in(runner.app, CARE_PHYSICIAN)
    first = care_paths(counts["timeline_patient_id"])
    status, _, content = request(runner.app.base_url + first["timeline"], headers=cookie_header(physician_cookie))
    before = json.loads(content).get("next_before") if status == 200 else None
    if not before:
        raise BenchError(f"the bench patient's timeline answered HTTP {status} without a next page: "
                         f"{content[:300]!r}")
    paths = care_paths(counts["timeline_patient_id"], before)
    care["queries"] = python_snippet(snippets.CARE_QUERY_COUNT, env, "bench-queries", json.dumps(paths),
                                     CARE_PHYSICIAN, DEMO_PASSWORD)
    for name, scenario in zip(CARE_SCENARIOS, care_scenarios(physician_cookie, paths), strict=True):
        if name in CARE_PAGES:
            check_scenario(scenario, runner.app.base_url)
        else:
            check_items(scenario, runner.app.base_url)
        figures = runner.measure(scenario)
        figures["queries_per_request"] = care["queries"][name]["queries"]
        care["p95_ms"][name] = figures["latency_ms"]["p95"]
    return care


def report(care: dict[str, Any], base: dict[str, Any]) -> None:
    """Prints p95s (as ratios to the baseline `base`) and query counts, adding them to `care`."""
    base_p95 = base["latency_ms"].get("p95")
    care["p95_ratio_to_bare"] = {name: ratio(p95, base_p95) for name, p95 in care["p95_ms"].items()}
    print(f"care team ({CARE_PATIENTS} patients on one physician's care team): " + "; ".join(
        f"{name} p95 {care['p95_ms'][name]:.1f} ms ({care['p95_ratio_to_bare'][name] or 0:.1f}x bare), "
        f"{care['queries'][name]['queries']} SQL queries" for name in CARE_SCENARIOS))
    limits = [care["queries"][k]["queries"] for k in ("timeline limit=5", "timeline", "timeline limit=50")]
    care["timeline_queries_by_limit"] = dict(zip((5, CARE_TIMELINE_LIMIT, 50), limits, strict=True))
    print(f"care team: timeline SQL queries at limit 5 / {CARE_TIMELINE_LIMIT} / 50: "
          f"{' / '.join(map(str, limits))} (must not grow with the page: no N+1)")
    if len(set(limits)) != 1:
        print("WARNING: the timeline's query count grows with its page size (an N+1)")


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


def fill_care(env: dict[str, str]) -> tuple[dict[str, int], float]:
    """Insert the care team's CARE_PATIENTS patients and their histories; (rows made, seconds taken)."""
    import psycopg

    started = time.monotonic()
    params = {**python_snippet(snippets.CARE_CIPHERTEXTS, env, "bench-ciphertexts"), "patients": CARE_PATIENTS,
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
             "timeline limit=5": f"{timeline}?limit=5", "timeline limit=50": f"{timeline}?limit=50",
             "page /today": "/today", "page chart": f"/patients/{patient_id}"}
    if before:
        paths["timeline page 2"] = f"{timeline}?limit={CARE_TIMELINE_LIMIT}&before={urllib.parse.quote(before)}"
    return paths


def care_scenarios(physician_cookie: str, paths: dict[str, str]) -> list[Scenario]:
    """The physician's work list and one patient's timeline (first page and the next), as the physician."""
    auth = cookie_header(physician_cookie)
    label = f"{CARE_PATIENTS // 1000}k patients"
    return [Scenario(f"app {name} ({label})", "app", paths[name], headers=auth, script=P95_LUA)
            for name in CARE_SCENARIOS]

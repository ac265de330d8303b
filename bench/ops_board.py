"""The `ops-board` group: GET /api/v1/ops/shipments as ops, with SHIPMENTS_SMALL and then
SHIPMENTS_LARGE shipments in the database.

Shipments are bulk-inserted with SQL (one prescription per patient, BENCH_PATIENTS patients copied
from the demo patient; encrypted columns get ciphertext made once by snippets.CIPHERTEXTS), the
board's three queries (default page, breach=ship, a tracking-number search) are measured, the table
is topped up to SHIPMENTS_LARGE and they are measured again. The report gives each query's p95
(bench/p95.lua) and the ratio p95(large)/p95(small), which should stay near 1 (indexes, no full
scans).
"""
from __future__ import annotations

import time
from typing import Any

import snippets
from report import ratio
from runner import (
    DATABASE_URL,
    DEMO_EMAIL,
    P95_LUA,
    BenchError,
    Runner,
    Scenario,
    check_items,
    cookie_header,
    log_in,
    python_snippet,
)

OPS_EMAIL = "ops@demo.telehealth"
BENCH_PHYSICIAN = "dr.adams@demo.telehealth"
BENCH_PATIENTS = 300          # the demo patient and copies of it; one prescription each
SHIPMENTS_SMALL = 10_000
SHIPMENTS_LARGE = 100_000
SEARCH_SHIPMENT = 7           # the q= scenario searches this shipment's tracking number (delivered)
BOARD_QUERIES = ("default", "breach=ship", "search")


def run(runner: Runner, env: dict[str, str]) -> dict[str, Any]:
    """Fill and measure at both sizes; the `ops_board` part of results.json (without the ratios)."""
    board: dict[str, Any] = {"shipments": [SHIPMENTS_SMALL, SHIPMENTS_LARGE], "patients": BENCH_PATIENTS,
                             "search": tracking_number(SEARCH_SHIPMENT), "fill_seconds": {}, "p95_ms": {}}
    ciphertexts = prepare_prescriptions(env)
    ops_cookie = log_in(runner.app, OPS_EMAIL)
    for size in (SHIPMENTS_SMALL, SHIPMENTS_LARGE):
        total, took = fill_shipments(size, ciphertexts)
        print(f"bench: ops board: {total} shipments in the database ({took:.1f}s to insert and analyze)",
              flush=True)
        board["fill_seconds"][str(size)] = round(took, 1)
        for query, scenario in zip(BOARD_QUERIES, board_scenarios(ops_cookie, size), strict=True):
            check_items(scenario, runner.app.base_url)
            board["p95_ms"].setdefault(query, {})[str(size)] = runner.measure(scenario)["latency_ms"]["p95"]
    return board


def report(board: dict[str, Any]) -> None:
    """Prints each query's p95 ratio large/small and adds them to `board`."""
    board["ratio_large_small"] = {
        query: ratio(p95[str(SHIPMENTS_LARGE)], p95[str(SHIPMENTS_SMALL)])
        for query, p95 in board["p95_ms"].items()}
    print(f"ops board p95 ratio {SHIPMENTS_LARGE // 1000}k/{SHIPMENTS_SMALL // 1000}k: " + ", ".join(
        f"{query} {value:.2f}x" for query, value in board["ratio_large_small"].items())
        + " (near 1: the board does not slow down as shipments pile up)")


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

    ciphertexts = python_snippet(snippets.CIPHERTEXTS, env, "bench-ciphertexts", timeout=120,
                                 what="encrypting the bench prescription and address")
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


def board_scenarios(ops_cookie: str, size: int) -> list[Scenario]:
    """The board's newest 50, the ship-by breaches and a search for one tracking number, as ops."""
    auth = cookie_header(ops_cookie)
    label = f"{size // 1000}k"
    paths = {"default": "/api/v1/ops/shipments",
             "breach=ship": "/api/v1/ops/shipments?breach=ship",
             "search": "/api/v1/ops/shipments?q=" + tracking_number(SEARCH_SHIPMENT)}
    return [Scenario(f"app ops board {query} ({label})", "app", paths[query], headers=auth, script=P95_LUA)
            for query in BOARD_QUERIES]


"""`make bench`: throughput and latency of the app as ratios to a bare Flask route.

Both the app (wsgi:app) and the baseline (bench/bare_app.py) are served by gunicorn with the same
worker settings, on PostgreSQL, and loaded with wrk. Absolute numbers depend on the machine, so the
figures that matter are ratios against the baseline measured in the same run. Nothing here asserts
on timings; a scenario is only *invalid* when some of its responses were not 2xx/3xx or wrk failed.

This file is the entry point and the order of a run (`main`); the work is in one module per group:

- scenarios.py  `scenarios`: bare, readyz, me, assessments, webhooks, slots, booking, the race
- ops_board.py  `ops-board`: the ops board at 10,000 and at 100,000 shipments
- care.py       `care`: the care team's work list and timeline with 10,000 patients
- outbox.py     `outbox`: SMS outbox dispatch to a local Twilio
- crisis_detection.py  `crisis`: crisis detection's recall and precision (no server)

and the shared pieces: runner.py (settings, database, gunicorn servers, requests, wrk),
report.py (ratios, validity, the table) and snippets.py (every snippet that imports the app).

`--only GROUP` (repeatable: scenarios, ops-board, care, outbox, crisis) runs only those groups; the
baseline always runs, except for `--only crisis` alone, which needs no server: crisis detection's
recall and precision on the labelled corpus tests/screening/crisis_corpus.py (exit 1 when recall is below
100%).

Environment: BENCH_DURATION (seconds per scenario, default 8), BENCH_WARMUP (seconds, default 2,
0 to skip), BENCH_CONNECTIONS (default 16), BENCH_THREADS (default 2), BENCH_WORKERS (gunicorn
workers for both servers, default 2), BENCH_DATABASE_ADMIN_URL (default
postgresql://postgres@127.0.0.1:5432/postgres), BENCH_DATABASE_NAME (default telehealth_bench).
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import sys
from datetime import datetime, timezone
from typing import Any

import care
import ops_board
import outbox
import report
import scenarios
from runner import (
    BASELINE,
    BIN,
    DATABASE_URL,
    DB_NAME,
    OUT_DIR,
    REPO,
    BenchError,
    Runner,
    Settings,
    app_environment,
    baseline_scenario,
    log_in,
    recreate_database,
    run_flask,
)

GROUPS = ("scenarios", "ops-board", "care", "outbox", "crisis")  # what --only can pick (the baseline always runs)
OFFLINE_GROUPS = ("crisis",)  # need no server: `--only crisis` runs without wrk, gunicorn or PostgreSQL


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
    settings = Settings.from_environment()
    if shutil.which("wrk") is None:
        raise BenchError("wrk is not on PATH; run `bash bench/ensure_wrk.sh` (make bench does)")
    for tool in ("flask", "gunicorn"):
        if not (BIN / tool).exists():
            raise BenchError(f"{BIN / tool} not found; run bench/run.py with the venv python (.venv/bin/python)")
    OUT_DIR.mkdir(exist_ok=True)

    print(f"bench: recreating database {DB_NAME} (groups: {', '.join(g for g in GROUPS if g in only)})", flush=True)
    recreate_database()
    env = app_environment(scenarios.booking_horizon_days(settings.workers, settings.warmup + settings.duration))
    run_flask(env, "db", "upgrade")
    run_flask(env, "seed-demo")
    booking_settings = scenarios.grant_credits(env)

    runner = Runner(env, settings)
    scheduling: scenarios.SchedulingSetup | None = None
    race: dict[str, Any] | None = None
    board: dict[str, Any] | None = None
    care_result: dict[str, Any] | None = None
    outbox_result: dict[str, Any] | None = None
    try:
        runner.start()
        cookie = log_in(runner.app)
        if "scenarios" in only:
            scheduling = scenarios.prepare_scheduling(runner.app, cookie, booking_settings, settings.warmup,
                                                      settings.duration)
            measured = scenarios.build_scenarios(cookie, scheduling)
        else:
            measured = [baseline_scenario()]
        for scenario in measured:
            runner.check(scenario)
        for scenario in measured:
            runner.measure(scenario)
        if scheduling is not None:
            race = scenarios.run_race(runner, cookie, scheduling)
        if "ops-board" in only:
            board = ops_board.run(runner, env)
        if "care" in only:
            care_result = care.run(runner, env)
        if "outbox" in only:
            outbox_result = outbox.run(env)
    finally:
        runner.stop()

    results = runner.results
    report.score(results)
    print()
    report.print_table(results)
    print()
    report.print_notes(results)
    race_ok = outbox_ok = True
    if board is not None:
        ops_board.report(board)
    if care_result is not None:
        care.report(care_result, results[0])
    if outbox_result is not None:
        outbox_ok = outbox.report(outbox_result, results[0])
    if race is not None:
        race_ok = scenarios.report_race(race)
    runner.gunicorn_notes()

    results_json = {
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "baseline": BASELINE,
        "groups": [g for g in GROUPS if g in only],
        "settings": {"duration_s": settings.duration, "warmup_s": settings.warmup,
                     "connections": settings.connections, "threads": settings.threads,
                     "gunicorn_workers": settings.workers, "database": DATABASE_URL},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version()},
        "scheduling": scheduling.counts if scheduling else None,
        "scenarios": results,
        "race": race,
        "ops_board": board,
        "care": care_result,
        "outbox": outbox_result,
        "crisis": crisis_result if "crisis" in only else None,
    }
    out = OUT_DIR / "results.json"
    out.write_text(json.dumps(results_json, indent=2) + "\n")
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

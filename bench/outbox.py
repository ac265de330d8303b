"""The `outbox` group: how many texts per second two `flask outbox dispatch --loop` processes
send to a local Twilio.

OUTBOX_MESSAGES staff texts are queued (snippets.QUEUE_TEXTS), OUTBOX_DISPATCHERS dispatchers are
started with SMS_BACKEND=twilio pointed at scripts/twilio_server.py on a free port, and timed
until PostgreSQL counts every text sent (process start-up included). The report gives texts per
second and the ratio to the bare route's requests per second, and checks that the local Twilio
received each text exactly once (otherwise the run exits 1).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from typing import Any

import snippets
from report import ratio
from runner import BIN, DATABASE_URL, REPO, BenchError, free_port

OUTBOX_MESSAGES = 2000        # texts queued for the outbox dispatch measurement
OUTBOX_DISPATCHERS = 2


def run(env: dict[str, str]) -> dict[str, Any]:
    """The `outbox` part of results.json (without the ratio)."""
    print(f"bench: outbox: {OUTBOX_MESSAGES} texts, {OUTBOX_DISPATCHERS} dispatcher processes, "
          "local Twilio ...", flush=True)
    return measure_outbox(env)


def report(result: dict[str, Any], base: dict[str, Any]) -> bool:
    """Prints texts per second (as a ratio to the baseline `base`'s req/s); False: a duplicate or a lost text."""
    result["ratio_to_bare_rps"] = ratio(result["messages_per_sec"], base["requests_per_sec"])
    print(f"outbox dispatch: {result['messages_per_sec']:.0f} texts/s with {OUTBOX_DISPATCHERS} "
          f"dispatchers ({result['ratio_to_bare_rps']:.3f}x the bare route's req/s); the local Twilio "
          f"received {result['received']} texts, {result['duplicates']} duplicates (must be 0)")
    ok = result["duplicates"] == 0 and result["received"] == OUTBOX_MESSAGES
    if not ok:
        print("FAIL: the outbox sent a text twice or lost one")
    return ok


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
        proc = subprocess.run([sys.executable, "-c", snippets.QUEUE_TEXTS, str(OUTBOX_MESSAGES)], cwd=REPO, env=sms_env,
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

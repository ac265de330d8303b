"""`make run`: the web server on SQLite with a local Stripe (localstripe) and a local partner
pharmacy (scripts/pharmacy_server.py), whose webhooks reach it, and the scheduler process
(`flask scheduler run`) beside it, sending texts to the console backend (`flask sms-outbox`).

Starts each on its configured port (unless something already answers there), points their webhooks
at this app, runs gunicorn in the foreground, and stops them when gunicorn stops.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from config import config_for

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(urllib.request.Request(f"{url}/v1/customers",
                                                      headers={"Authorization": "Bearer sk_test_x"}), timeout=1)
        return True
    except (urllib.error.URLError, OSError):
        return False


def pharmacy_answers(url: str) -> bool:
    try:
        urllib.request.urlopen(f"{url}/orders/none", timeout=1)
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False
    return True


def main() -> int:
    settings = config_for()
    host, port = os.environ.get("HOST", "127.0.0.1"), os.environ.get("PORT", "5000")
    stripe_url = settings.STRIPE_API_BASE
    localstripe = None
    if stripe_url and not answers(stripe_url):
        stripe_port = urllib.parse.urlparse(stripe_url).port or 8420
        localstripe = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "localstripe_server.py"),
                                        "--port", str(stripe_port)], stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
        for _ in range(100):
            if answers(stripe_url):
                break
            time.sleep(0.1)
    if stripe_url:
        data = urllib.parse.urlencode({"url": f"http://{host}:{port}/webhooks/stripe",
                                       "secret": settings.STRIPE_WEBHOOK_SECRET}).encode()
        urllib.request.urlopen(urllib.request.Request(f"{stripe_url}/_config/webhooks/telehealth", data=data,
                                                      method="POST"), timeout=5)
        print(f"Local Stripe (localstripe) at {stripe_url}; its webhooks go to http://{host}:{port}/webhooks/stripe")
    pharmacy = None
    pharmacy_url = settings.PHARMACY_API_BASE
    if pharmacy_url and not pharmacy_answers(pharmacy_url):
        pharmacy = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "pharmacy_server.py"), "--port",
                                     str(urllib.parse.urlparse(pharmacy_url).port or 8430)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if pharmacy_answers(pharmacy_url):
                break
            time.sleep(0.1)
    if pharmacy_url:
        body = json.dumps({"webhook_url": f"http://{host}:{port}/webhooks/pharmacy",
                           "secret": settings.PHARMACY_WEBHOOK_SECRET}).encode()
        urllib.request.urlopen(urllib.request.Request(f"{pharmacy_url}/_config", data=body, method="POST",
                                                      headers={"Content-Type": "application/json"}), timeout=5)
        print(f"Local pharmacy at {pharmacy_url}: POST {pharmacy_url}/_drive/<order id> "
              '{"status": "shipped"} to make it report')
    print(f"\ntelehealth is at http://{host}:{port}  -- open it in a browser: the patient portal starts there "
          f"(sign in at http://{host}:{port}/login as patient@demo.telehealth, password demo-password-2026, "
          "or take the free screening as a new patient)")
    print(f"API: http://{host}:{port}/api/v1, OpenAPI: /api/v1/openapi.json; links in mail and texts use "
          f"{settings.PUBLIC_BASE_URL}")
    print(f"Mail (password resets, invitations, notices): {BIN / 'flask'} mail-outbox\n", flush=True)
    # the demo's fallback on-call phone (texts go to the console; `flask seed-demo` fills the rota);
    # the web workers and the scheduler build links with the same public address as this process
    env = dict(os.environ, SMS_BACKEND="console", HOST=host, PORT=port)
    env.setdefault("PUBLIC_BASE_URL", settings.PUBLIC_BASE_URL)
    env.setdefault("ON_CALL_FALLBACK_PHONE", "+15005550100")
    print(f"Texts (SMS_BACKEND=console, sent by the scheduler process; urgent alerts page the rota's "
          f"on-call physician, or everyone and {env['ON_CALL_FALLBACK_PHONE']}): {BIN / 'flask'} sms-outbox\n",
          flush=True)
    # a command run from another shell must reach this server too: it needs the same address
    same_address = ("" if settings.PUBLIC_BASE_URL == "http://127.0.0.1:5000"
                    else f"PUBLIC_BASE_URL={settings.PUBLIC_BASE_URL} ")
    print(f"A patient's text (signed, as Twilio sends it): {same_address}{BIN / 'flask'} sms-receive +12125550143 "
          "'128/82 yes'\n", flush=True)
    web = subprocess.Popen([str(BIN / "gunicorn"), "--bind", f"{host}:{port}", "--workers", "2", "wsgi:app"],
                           cwd=ROOT, env=env)
    scheduler = subprocess.Popen([str(BIN / "flask"), "--app", "wsgi.py", "scheduler", "run"], cwd=ROOT, env=env)
    try:
        return web.wait()
    except KeyboardInterrupt:
        web.send_signal(signal.SIGTERM)
        return web.wait()
    finally:
        if scheduler.poll() is None:
            scheduler.send_signal(signal.SIGTERM)
            scheduler.wait(timeout=10)
        for helper in (localstripe, pharmacy):
            if helper is not None:
                helper.terminate()
                helper.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())

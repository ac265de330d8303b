"""`make run`: the web server on SQLite with a local Stripe (localstripe) whose webhooks reach it.

Starts localstripe on STRIPE_API_BASE's port (unless something already answers there), points its
webhooks at this app, runs gunicorn in the foreground, and stops localstripe when gunicorn stops.
"""
from __future__ import annotations

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
    print(f"\ntelehealth is at http://{host}:{port}  (API: /api/v1, OpenAPI: /api/v1/openapi.json)")
    print(f"Mail (password resets, invitations, notices): {BIN / 'flask'} mail-outbox\n", flush=True)
    web = subprocess.Popen([str(BIN / "gunicorn"), "--bind", f"{host}:{port}", "--workers", "2", "wsgi:app"],
                           cwd=ROOT)
    try:
        return web.wait()
    except KeyboardInterrupt:
        web.send_signal(signal.SIGTERM)
        return web.wait()
    finally:
        if localstripe is not None:
            localstripe.terminate()
            localstripe.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())

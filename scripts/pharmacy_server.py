"""A local partner pharmacy, for tests and the demo: it speaks the pharmacy protocol the app uses.

- `POST /orders` (JSON, signed like the webhooks: X-Pharmacy-Timestamp and X-Pharmacy-Signature,
  HMAC-SHA256 over "timestamp.body" with the shared secret) creates an order and answers its id.
  Its `reference` is an idempotency key: the same reference answers the same order (200), so a
  sender whose answer was lost can safely send again; a cancelled reference is refused (409).
- `POST /references/<reference>/cancel` (signed) cancels the order of that reference if it has not
  shipped (409 if it has), and voids the reference even when no order came yet, so an order still
  on its way is refused when it arrives.
- `POST /orders/<id>/address` (signed, JSON {"address"}) changes where one that has not shipped goes.
- `POST /_faults` with JSON {"lose_answers": n}: the next n signed requests are carried out and
  then answered 502, as if the answer were lost on the way (tests of the app's reconciliation).
  With {"reject_orders": n}: the next n signed `POST /orders` are answered 422 and nothing is made,
  as the real pharmacy rejects an order it will not take as it is (tests of the app's alerts).
- `GET /_orders?reference=R`: the ids of the orders made under a reference (tests).
- `POST /_config` with JSON {"webhook_url", "secret"} tells it where to report, and the secret.
- `POST /_drive/<id>` with JSON {"status", ...} makes it report that status for the order, as a
  signed webhook to the app, the way the real system calls back. It answers with the app's reply.

    python scripts/pharmacy_server.py --port 8430
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.error
import urllib.request

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

ORDERS: dict[str, dict] = {}
BY_REFERENCE: dict[str, str] = {}
VOID_REFERENCES: set[str] = set()
FAULTS = {"lose_answers": 0, "reject_orders": 0}
CONFIG = {"webhook_url": None, "secret": "pharmacy-development-secret"}
_ids = itertools.count(1001)
_events = itertools.count(1)
_lock = threading.Lock()


def sign(secret: str, ts: str, body: bytes) -> str:
    return hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()


def _json(data, status=200):
    return Response(json.dumps(data), status=status, mimetype="application/json")


def _signed(request: Request) -> bool:
    ts, sig = request.headers.get("X-Pharmacy-Timestamp", ""), request.headers.get("X-Pharmacy-Signature", "")
    if not ts.isdigit() or abs(time.time() - int(ts)) > 300:
        return False
    return hmac.compare_digest(sign(CONFIG["secret"], ts, request.get_data()), sig)


def report(order_id: str, status: str, extra: dict) -> tuple[int, dict]:
    event = {"event_id": f"PE-{next(_events)}", "order_id": order_id, "status": status,
             "occurred_at": int(time.time()), **extra}
    body = json.dumps(event).encode()
    ts = str(int(time.time()))
    request = urllib.request.Request(CONFIG["webhook_url"], data=body, method="POST", headers={
        "Content-Type": "application/json", "X-Pharmacy-Timestamp": ts,
        "X-Pharmacy-Signature": sign(CONFIG["secret"], ts, body)})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


@Request.application
def app(request: Request) -> Response:
    response = _serve(request)
    if request.path.startswith(("/orders", "/references")) and response.status_code < 300:
        with _lock:
            if FAULTS["lose_answers"] > 0:
                FAULTS["lose_answers"] -= 1
                return _json({"error": "bad gateway"}, 502)  # done, but the sender never hears so
    return response


def _serve(request: Request) -> Response:
    path = request.path.rstrip("/")
    if request.method == "POST" and path == "/_faults":
        FAULTS.update(request.get_json())
        return _json({"ok": True})
    if request.method == "GET" and path == "/_orders":
        reference = request.args.get("reference")
        return _json({"order_ids": [oid for oid, o in ORDERS.items()
                                    if o.get("reference") == reference and o["status"] != "cancelled"]
                      if reference not in VOID_REFERENCES else []})
    if request.method == "POST" and path == "/_config":
        CONFIG.update(request.get_json())
        return _json({"ok": True})
    if request.method == "POST" and path == "/orders":
        if not _signed(request):
            return _json({"error": "bad signature"}, 401)
        data = request.get_json()
        reference = data.get("reference")
        with _lock:
            if FAULTS["reject_orders"] > 0:
                FAULTS["reject_orders"] -= 1
                return _json({"error": "order rejected"}, 422)
            if reference in VOID_REFERENCES:
                return _json({"error": "this reference was cancelled"}, 409)
            if reference in BY_REFERENCE:
                return _json({"order_id": BY_REFERENCE[reference]}, 200)
            order_id = f"PH-{next(_ids)}"
            ORDERS[order_id] = {**data, "status": "received"}
            if reference:
                BY_REFERENCE[reference] = order_id
        return _json({"order_id": order_id}, 201)
    if request.method == "POST" and path.startswith("/references/") and path.endswith("/cancel"):
        if not _signed(request):
            return _json({"error": "bad signature"}, 401)
        reference = path.split("/")[2]
        with _lock:
            order = ORDERS.get(BY_REFERENCE.get(reference, ""))
            if order is not None and order["status"] in ("shipped", "out_for_delivery", "delivered"):
                return _json({"error": "already shipped"}, 409)
            VOID_REFERENCES.add(reference)
            if order is not None:
                order["status"] = "cancelled"
        return _json({"ok": True, "order_id": BY_REFERENCE.get(reference)})
    if request.method == "POST" and path.startswith("/orders/") and path.endswith("/address"):
        if not _signed(request):
            return _json({"error": "bad signature"}, 401)
        order = ORDERS.get(path.split("/")[2])
        if order is None:
            return _json({"error": "no such order"}, 404)
        if order["status"] in ("shipped", "out_for_delivery", "delivered", "cancelled"):
            return _json({"error": "already shipped"}, 409)
        order["address"] = request.get_json()["address"]
        return _json({"ok": True})
    if request.method == "POST" and path.startswith("/_drive/"):
        order_id = path.split("/")[2]
        if order_id not in ORDERS:
            return _json({"error": "no such order"}, 404)
        data = request.get_json()
        ORDERS[order_id]["status"] = data["status"]
        status, reply = report(order_id, data.pop("status"), data)
        return _json({"app_status": status, "app_reply": reply})
    if request.method == "GET" and path.startswith("/orders/"):
        order = ORDERS.get(path.split("/")[2])
        return _json(order) if order else _json({"error": "no such order"}, 404)
    return _json({"error": "not found"}, 404)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8430)
    args = parser.parse_args()
    make_server("127.0.0.1", args.port, app, threaded=True).serve_forever()


if __name__ == "__main__":
    main()
